import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { type Contact, contactOf } from "../../src/dht/contact.ts";
import { Dht } from "../../src/dht/dht.ts";
import { NoPeersError, RecordRejectedError } from "../../src/dht/errors.ts";
import { compareDistance } from "../../src/dht/key.ts";
import { sameRecord, signNameRecord } from "../../src/dht/name_record.ts";
import type { DhtTuning } from "../../src/dht/options.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { SimNetwork } from "../sim/sim_network.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";
import { advance, hexes } from "./helpers.ts";

const SEED = testSeed(0x5eed_0f01);
const START = 1_790_000_000_000;
const HOUR = 3600_000;
const K = 8;

/** Signing keys, made once (the nodes' ids come from the seed, not from these). */
const IDENTITIES = await Promise.all([0, 1, 2, 3].map(() => NodeIdentity.generate()));

interface Node {
  readonly contact: Contact;
  readonly dht: Dht;
}

interface World {
  readonly clock: VirtualClock;
  readonly sim: SimNetwork;
  readonly rng: Rng;
  readonly nodes: Node[];
  /** A node that is not part of the network yet (registered on it, table empty). */
  addNode(signer?: NodeIdentity): Node;
  /** Runs `promise` on the virtual clock. */
  run<T>(promise: Promise<T>): Promise<T>;
}

const TUNING: DhtTuning = {
  k: K,
  alpha: 3,
  requestTimeoutMs: 1_000,
  minRequestTimeoutMs: 500,
  stallMs: 500,
  lookupDeadlineMs: 20_000,
  providerTtlMs: 4 * HOUR,
  republishMs: 2 * HOUR,
  nameTtlMs: 4 * HOUR,
};

/**
 * `n` nodes on a SimNetwork: each with a public address in its own /24, and the first four
 * with a signing key. When `join` is set, every node but the first joins through the first's
 * address.
 */
async function world(seed: number, n: number, tuning: DhtTuning = {}, join = true) {
  const clock = new VirtualClock(START);
  const rng = new Rng(seed);
  const sim = new SimNetwork({
    clock,
    rng: new Rng(seed ^ 0x51),
    latency: { minMs: 5, maxMs: 80 },
  });
  const nodes: Node[] = [];
  const addNode = (signer?: NodeIdentity): Node => {
    const i = nodes.length;
    const contact = contactOf(rng.bytes(32), `${11 + (i >> 8)}.${i & 255}.7.1:4001`);
    const dht: Dht = new Dht({
      ...TUNING,
      ...tuning,
      self: contact,
      network: sim.add(contact, (from, request) => dht.handle(from, request)),
      clock,
      random: (len) => rng.bytes(len),
      signer: signer ?? IDENTITIES[i],
    });
    const node = { contact, dht };
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < n; i++) addNode();
  const w: World = {
    clock,
    sim,
    rng,
    nodes,
    addNode,
    run: (promise) => runOn(clock, promise),
  };
  if (join) {
    for (const node of nodes.slice(1)) {
      await w.run(node.dht.join([{ address: nodes[0].contact.address }]));
    }
  }
  return w;
}

/**
 * Web Crypto operations (name keys, record signatures) settle on the real event loop, outside
 * virtual time. Every one started while this module runs is noted here, and {@linkcode runOn}
 * lets them finish before the clock takes its next step, so that they take no virtual time.
 */
const cryptoInFlight = new Set<Promise<unknown>>();
for (const method of ["digest", "sign", "verify", "importKey"] as const) {
  const original = crypto.subtle[method] as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(crypto.subtle, method, {
    configurable: true,
    value: (...args: unknown[]) => {
      const op = original.apply(crypto.subtle, args);
      cryptoInFlight.add(op);
      const forget = () => cryptoInFlight.delete(op);
      op.then(forget, forget);
      return op;
    },
  });
}

/** Runs `promise` on `clock`; before each time step, waits for the crypto under way. */
async function runOn<T>(clock: VirtualClock, promise: Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await clock.runUntil(promise, { idle: () => cryptoInFlight.size > 0 });
    } catch (err) {
      const waiting = err instanceof Error &&
        /idle\(\) returned true|no timer left/.test(err.message);
      if (!waiting || (cryptoInFlight.size === 0 && attempt > 1000)) throw err;
      await Promise.allSettled([...cryptoInFlight]);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

/** The `count` live nodes closest to `key`, `except` left out. */
function closestLive(w: World, key: Uint8Array, count: number, except?: Node): Contact[] {
  return w.nodes
    .filter((n) => n !== except && w.sim.isAlive(n.contact.address))
    .map((n) => n.contact)
    .sort((a, b) => compareDistance(key, a.id, b.id))
    .slice(0, count);
}

/** A key whose closest nodes are far from `node` (the first bit of its id flipped). */
function keyFarFrom(w: World, node: Node): Uint8Array {
  const key = w.rng.bytes(32);
  key[0] = (key[0] & 0x7f) | (~node.contact.id[0] & 0x80);
  return key;
}

Deno.test("joining_through_one_bootstrap_address_fills_the_tables", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED, 40);
    for (const node of w.nodes) {
      assert.ok(node.dht.table.size >= K, `${node.contact.address}: ${node.dht.table.size}`);
      assert.ok(!node.dht.table.get(node.contact.idHex, node.contact.id), "never itself");
    }
    // Each node's table holds its own closest neighbour: the lookups reached the right place.
    for (const node of w.nodes) {
      const nearest = closestLive(w, node.contact.id, 1, node)[0];
      assert.ok(node.dht.table.get(nearest.idHex, nearest.id), `${node.contact.address}`);
    }
    // A lookup from anyone finds the true k closest.
    for (let i = 0; i < 10; i++) {
      const from = w.rng.pick(w.nodes);
      const key = w.rng.bytes(32);
      const result = await w.run(from.dht.findNode(key));
      assert.deepEqual(hexes(result.closest), hexes(closestLive(w, key, K, from)), `lookup ${i}`);
      assert.equal(result.timedOut, false);
    }
    assert.ok(w.nodes[5].dht.stats().lookups >= 1);
  });
});

Deno.test("joining_through_a_dead_bootstrap_address_is_no_peers", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED, 3, {}, false);
    const [a, b, newcomer] = w.nodes;
    w.sim.kill(a.contact.address);
    await assert.rejects(
      w.run(newcomer.dht.join([{ address: a.contact.address }])),
      NoPeersError,
    );
    await assert.rejects(
      w.run(newcomer.dht.join([{ address: "198.51.100.1:4001" }])),
      (err) => err instanceof NoPeersError && err.code === "DHT_NO_PEERS",
      "an address nobody listens on",
    );
    await assert.rejects(w.run(newcomer.dht.join([])), NoPeersError, "no bootstrap at all");
    // With one live bootstrap among dead ones it joins.
    const result = await w.run(
      newcomer.dht.join([{ address: a.contact.address }, { address: b.contact.address }]),
    );
    assert.ok(newcomer.dht.table.get(b.contact.idHex, b.contact.id));
    assert.equal(result.timedOut, false);
  });
});

Deno.test("a_provided_key_is_found_from_another_node", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 1, 40);
    const provider = w.nodes[7];
    const key = w.rng.bytes(32);
    const announced = await w.run(provider.dht.provide(key));
    assert.equal(announced.asked, K);
    assert.equal(announced.stored, K);
    assert.deepEqual(
      hexes(announced.lookup.closest),
      hexes(closestLive(w, key, K, provider)),
      "the records went to the k closest",
    );
    for (const seeker of [w.nodes[0], w.nodes[20], w.nodes[39]]) {
      const found = await w.run(seeker.dht.findProviders(key));
      assert.deepEqual(hexes(found.providers), [provider.contact.idHex]);
      assert.equal(found.providers[0].address, provider.contact.address);
    }
    const stranger = w.nodes.find((n) =>
      n !== provider && !announced.lookup.closest.some((c) => c.idHex === n.contact.idHex)
    )!;
    const one = await w.run(stranger.dht.findProviders(key, { count: 1 }));
    assert.equal(one.lookup.done, true, "a lookup for one provider stops at the first");
    assert.deepEqual(hexes(one.providers), [provider.contact.idHex]);
    const none = await w.run(stranger.dht.findProviders(w.rng.bytes(32)));
    assert.deepEqual(none.providers, []);
  });
});

// BUG (src/dht/dht.ts findProviders() and src/dht/queries.ts getProvidersQuery(), working tree
// after 1f12189: `found` is filled from this node's own store but only providers met in answers
// are "credited", and one already in `found` is skipped without credit): a node that holds the
// record itself never reaches `count` and runs a whole lookup, against the doc ("the records this
// node holds first, then a lookup that stops once it has count"). Crediting the local records
// (credited = found.size at the start) or returning at once when they suffice fixes it. Fails
// until fixed.
Deno.test("find_providers_stops_at_once_when_this_node_holds_enough_records", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 1, 40);
    const provider = w.nodes[7];
    const key = w.rng.bytes(32);
    const announced = await w.run(provider.dht.provide(key));
    const holder = w.nodes.find((n) => n.contact.idHex === announced.lookup.closest[0].idHex)!;
    const one = await w.run(holder.dht.findProviders(key, { count: 1 }));
    assert.deepEqual(hexes(one.providers), [provider.contact.idHex]);
    assert.ok(one.lookup.messages <= 3, `${one.lookup.messages} requests for a record held here`);
  });
});

Deno.test("a_published_name_resolves_from_another_node", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 2, 40);
    const publisher = w.nodes[1];
    const value = new TextEncoder().encode("the file id");
    const published = await w.run(publisher.dht.publishName("docs", value));
    assert.equal(published.record.seq, 1);
    assert.equal(published.stored, K);
    const signedAt = published.record.expires - TUNING.nameTtlMs!;
    assert.ok(signedAt >= START && signedAt <= w.clock.now(), "lives nameTtlMs from its signing");
    for (const reader of [w.nodes[10], w.nodes[30]]) {
      const { record } = await w.run(reader.dht.resolveName("docs"));
      assert.ok(record && sameRecord(record, published.record));
      assert.deepEqual(record.value, value);
      assert.deepEqual(record.publicKey, IDENTITIES[1].publicKey);
    }
    const unknown = await w.run(w.nodes[10].dht.resolveName("nothing here"));
    assert.equal(unknown.record, null);
    // A second publish by the owner goes one sequence up.
    const again = await w.run(publisher.dht.publishName("docs", new Uint8Array([2])));
    assert.equal(again.record.seq, 2);
    const { record } = await w.run(w.nodes[30].dht.resolveName("docs"));
    assert.equal(record?.seq, 2);
  });
});

Deno.test("another_key_publishing_a_taken_name_is_refused_in_an_open_network", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 3, 40);
    const owner = w.nodes[1];
    const rival = w.nodes[2];
    const first = await w.run(owner.dht.publishName("docs", new Uint8Array([1])));
    await assert.rejects(
      w.run(rival.dht.publishName("docs", new Uint8Array([6, 6, 6]))),
      (err) => err instanceof RecordRejectedError && err.reason === "NOT_OWNER",
    );
    // Signed and sent anyway, the holders refuse it.
    const forced = await signNameRecord(IDENTITIES[2], {
      name: "docs",
      value: new Uint8Array([6, 6, 6]),
      seq: 99,
      expires: w.clock.now() + HOUR,
    });
    const put = await w.run(rival.dht.putRecord(forced));
    assert.equal(put.asked, K);
    assert.equal(put.stored, 0, "every holder refused it");
    for (const reader of [w.nodes[9], w.nodes[29], rival]) {
      const { record } = await w.run(reader.dht.resolveName("docs"));
      assert.ok(record && sameRecord(record, first.record), "the owner's record stands");
    }
  });
});

Deno.test("another_key_may_update_a_name_in_a_private_cluster", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 4, 40, { anyKeyMayUpdate: true });
    await w.run(w.nodes[1].dht.publishName("docs", new Uint8Array([1])));
    const second = await w.run(w.nodes[2].dht.publishName("docs", new Uint8Array([2])));
    assert.equal(second.record.seq, 2, "one above the sequence it found");
    assert.equal(second.stored, K);
    const { record } = await w.run(w.nodes[20].dht.resolveName("docs"));
    assert.ok(record && sameRecord(record, second.record));
    assert.deepEqual(record.publicKey, IDENTITIES[2].publicKey);
  });
});

Deno.test("publishing_without_a_signer_is_an_invalid_argument", async () => {
  const w = await world(SEED ^ 5, 6);
  const unsigned = w.addNode();
  assert.equal(IDENTITIES[6], undefined, "node 6 has no signer");
  await assert.rejects(
    w.run(unsigned.dht.publishName("docs", new Uint8Array([1]))),
    InvalidArgumentError,
  );
});

Deno.test("republish_announces_again_after_the_holders_died", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 6, 40);
    const provider = w.nodes[5];
    const key = keyFarFrom(w, provider);
    const announced = await w.run(provider.dht.provide(key));
    const holders = announced.lookup.closest;
    assert.equal(holders.length, K);
    const seeker = w.nodes.find((n) =>
      n !== provider && !holders.some((h) => h.idHex === n.contact.idHex)
    )!;
    for (const h of holders) w.sim.kill(h.address);
    const liveRecords = () =>
      w.nodes
        .filter((n) => w.sim.isAlive(n.contact.address))
        .reduce((sum, n) => sum + n.dht.stats().providerRecords, 0);
    assert.equal(liveRecords(), 0, "every record was held by a now dead node");
    const republished = await w.run(provider.dht.republish());
    assert.equal(republished, 1);
    assert.ok(liveRecords() > 0, "live nodes hold records again");
    const found = await w.run(seeker.dht.findProviders(key, { count: 1 }));
    assert.deepEqual(hexes(found.providers), [provider.contact.idHex]);
  });
});

// BUG (src/dht/dht.ts, #lookup(): `seeds = [...this.table.closest(key, this.tuning.k), ...]`): a
// lookup is seeded with only the k contacts of the table closest to the key. When those are all
// dead (the holders of a key died: the case republish exists for), every seed fails and the
// lookup ends with nothing, although the table knows live nodes that lead to the key. A provide
// or republish then stores nowhere (seen with DFS_SEED=52 in the test above). Fails until fixed.
Deno.test("a_lookup_goes_on_with_the_rest_of_the_table_when_its_closest_contacts_are_dead", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 10, 40);
    const asker = w.nodes[6];
    const key = keyFarFrom(w, asker);
    const dead = asker.dht.table.closest(key, K);
    for (const c of dead) w.sim.kill(c.address);
    assert.ok(asker.dht.table.size > K, "the table knows more than the dead");
    const result = await w.run(asker.dht.findNode(key));
    // (Which live nodes it finds depends on what the others' tables still hold: their own
    // closest contacts to the key may be the same dead nodes.)
    assert.equal(result.closest.length, K, "it found k live nodes");
    assert.ok(result.closest.every((c) => w.sim.isAlive(c.address)));
  });
});

Deno.test("provider_records_expire_after_provider_ttl_unless_republished", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 7, 30);
    const provider = w.nodes[4];
    const seeker = w.nodes[17];
    const kept = w.rng.bytes(32);
    const dropped = w.rng.bytes(32);
    await w.run(provider.dht.provide(kept));
    await w.run(provider.dht.provide(dropped));
    provider.dht.unprovide(dropped); // no longer announced, nor answered by the provider itself
    await advance(w.clock, TUNING.providerTtlMs! - HOUR);
    assert.equal((await w.run(seeker.dht.findProviders(dropped))).providers.length, 1);
    await w.run(provider.dht.republish()); // re-announces `kept` only
    await advance(w.clock, HOUR);
    assert.deepEqual((await w.run(seeker.dht.findProviders(dropped))).providers, []);
    const found = await w.run(seeker.dht.findProviders(kept));
    assert.deepEqual(hexes(found.providers), [provider.contact.idHex]);
  });
});

Deno.test("name_records_expire_when_not_republished", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 8, 20);
    const publisher = w.nodes[3];
    const { record } = await w.run(publisher.dht.publishName("soon gone", new Uint8Array([1])));
    w.sim.kill(publisher.contact.address); // it will not republish
    // A minute before it expires (a lookup takes a few hundred virtual ms) it still resolves.
    await advance(w.clock, record.expires - 60_000 - w.clock.now());
    assert.ok((await w.run(w.nodes[8].dht.resolveName("soon gone"))).record);
    await advance(w.clock, record.expires - w.clock.now());
    assert.equal((await w.run(w.nodes[8].dht.resolveName("soon gone"))).record, null);
  });
});

Deno.test("start_runs_refresh_and_republish_on_timers_until_stop", async () => {
  await withSeed(SEED, async () => {
    const w = await world(SEED ^ 9, 20, { refreshMs: HOUR });
    const provider = w.nodes[2];
    const key = w.rng.bytes(32);
    await w.run(provider.dht.provide(key));
    provider.dht.start();
    const before = provider.dht.stats().lookups;
    // Republish every 2 h keeps the record alive well past its 4 h lifetime.
    await advance(w.clock, 9 * HOUR);
    assert.ok(provider.dht.stats().lookups > before, "refresh and republish ran");
    provider.dht.unprovide(key);
    const found = await w.run(w.nodes[15].dht.findProviders(key));
    assert.deepEqual(hexes(found.providers), [provider.contact.idHex]);
    provider.dht.stop();
    const stopped = provider.dht.stats().lookups;
    await advance(w.clock, 9 * HOUR);
    assert.equal(provider.dht.stats().lookups, stopped, "no upkeep after stop");
    assert.deepEqual((await w.run(w.nodes[15].dht.findProviders(key))).providers, []);
  });
});

// BUG (src/dht/dht.ts, start(), the `.finally` of `tick`: `if (this.#running) ...setTimeout(tick)`):
// a tick whose upkeep is still running when stop() and start() are called sees #running true
// again when it ends and re-arms its timer, next to the one the new start() armed: from then on
// every upkeep runs twice as often (and stop() clears only the handles it knows of). A start
// generation checked in `tick` fixes it. Fails until fixed.
Deno.test("stop_then_start_during_an_upkeep_keeps_one_timer_per_task", async () => {
  const w = await world(SEED ^ 11, 1, { refreshMs: 4 * 60_000, republishMs: HOUR }, false);
  const dht = w.nodes[0].dht;
  let refreshes = 0;
  // An upkeep that takes 30 s of virtual time.
  dht.refresh = () => {
    refreshes++;
    return new Promise((resolve) => w.clock.setTimeout(() => resolve(0), 30_000));
  };
  dht.start();
  await advance(w.clock, 60_000 + 1); // the first refresh (every refreshMs / 4 = 1 min) runs
  assert.equal(refreshes, 1);
  dht.stop();
  dht.start();
  await advance(w.clock, 10 * 60_000);
  dht.stop();
  // One minute, then 30 s upkeep + 1 min each: at most 10 more in 10 minutes.
  assert.ok(refreshes <= 11, `${refreshes} refreshes in 11 minutes`);
  await advance(w.clock, 10 * 60_000);
  assert.equal(w.clock.pending, 0, "stop() leaves no timer behind");
});
