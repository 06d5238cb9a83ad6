import assert from "node:assert/strict";
import { type Contact, contactOf } from "../../src/dht/contact.ts";
import { compareDistance, keyInBucket } from "../../src/dht/key.ts";
import {
  iterativeLookup,
  type LookupOptions,
  type LookupResult,
  type QueryAnswer,
} from "../../src/dht/lookup.ts";
import { RoutingTable } from "../../src/dht/routing_table.ts";
import { fromWirePeers, toWirePeers } from "../../src/dht/wire_peers.ts";
import { MAX_DHT_PEERS } from "../../src/wire/limits.ts";
import type { WirePeer } from "../../src/wire/messages.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";
import { hexes, loopback } from "./helpers.ts";

const SEED = testSeed(0x5eed_0b01);

/** Requests that get no answer are given up after this long (the query's own timeout). */
const REQUEST_TIMEOUT_MS = 1_000;
const DEADLINE_MS = 30_000;

/** What a node of the fake network does with a request: an answer, a timeout, or nothing. */
type Behaviour = (key: Uint8Array) => QueryAnswer | "timeout" | "never";

/**
 * A synthetic network for `iterativeLookup`: `n` nodes, each with a real routing table that
 * has seen every other node (in a random order), answering with the k closest contacts of its
 * own table after a per-node latency. Counts requests in flight and who was asked.
 */
class FakeNetwork {
  readonly clock = new VirtualClock();
  readonly rng: Rng;
  readonly k: number;
  readonly nodes: Contact[] = [];
  readonly tables = new Map<string, RoutingTable>();
  /** Overrides of the honest behaviour, by id hex. */
  readonly behaviour = new Map<string, Behaviour>();
  /** Contacts asked, in order. */
  readonly asked: Contact[] = [];
  /** Contacts that answered / failed. */
  readonly answered = new Set<string>();
  readonly failed = new Set<string>();
  /** Every contact the lookup heard of (seeds and answers). */
  readonly heard = new Map<string, Contact>();
  /** Signals handed to queries. */
  readonly signals: AbortSignal[] = [];
  inflight = 0;
  maxInflight = 0;

  constructor(seed: number, n: number, k: number) {
    this.rng = new Rng(seed);
    this.k = k;
    for (let i = 0; i < n; i++) this.nodes.push(contactOf(this.rng.bytes(32), loopback(i)));
    for (const node of this.nodes) {
      const table = new RoutingTable({
        self: node.id,
        k,
        clock: this.clock,
        ping: () => Promise.resolve(true),
      });
      const order = [...this.nodes];
      for (let i = order.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (const other of order) table.seen(other);
      this.tables.set(node.idHex, table);
    }
  }

  /** One-way latency to `c` (ms): 5 to 44, fixed per node. */
  latency(c: Contact): number {
    return 5 + (c.id[1] % 40);
  }

  /** The honest answer of node `c` for `key`. */
  honest(c: Contact, key: Uint8Array): QueryAnswer {
    const table = this.tables.get(c.idHex);
    return { closer: table ? table.closest(key, this.k) : [] };
  }

  /** A query function for `key`, as `iterativeLookup` takes it. */
  query(key: Uint8Array): LookupOptions["query"] {
    return (contact, signal) => {
      this.asked.push(contact);
      this.signals.push(signal);
      this.inflight++;
      this.maxInflight = Math.max(this.maxInflight, this.inflight);
      const behave = this.behaviour.get(contact.idHex) ??
        ((k: Uint8Array) => this.honest(contact, k));
      return new Promise<QueryAnswer>((resolve, reject) => {
        let done = false;
        const end = () => {
          done = true;
          this.inflight--;
          this.clock.clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
        };
        const onAbort = () => {
          if (done) return;
          end();
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const outcome = behave(key);
        let timer: unknown;
        if (outcome === "never") return; // holds its slot until aborted
        if (outcome === "timeout") {
          timer = this.clock.setTimeout(() => {
            end();
            this.failed.add(contact.idHex);
            reject(new Error(`no answer from ${contact.address}`));
          }, REQUEST_TIMEOUT_MS);
          return;
        }
        timer = this.clock.setTimeout(() => {
          end();
          this.answered.add(contact.idHex);
          for (const c of outcome.closer) this.heard.set(c.idHex, c);
          resolve(outcome);
        }, 2 * this.latency(contact));
      });
    };
  }

  /** Runs a lookup from node `from` for `key` on the virtual clock. */
  async lookup(
    from: Contact,
    key: Uint8Array,
    options: Partial<LookupOptions> = {},
  ): Promise<LookupResult> {
    const seeds = options.seeds ?? this.tables.get(from.idHex)!.closest(key, this.k);
    for (const s of seeds) this.heard.set(s.idHex, s);
    return await this.clock.runUntil(iterativeLookup({
      key,
      seeds,
      selfHex: from.idHex,
      k: this.k,
      alpha: 3,
      deadlineMs: DEADLINE_MS,
      clock: this.clock,
      query: this.query(key),
      ...options,
    }));
  }

  /** The true `count` closest nodes to `key`, `except` left out. */
  truth(key: Uint8Array, count: number, except: Contact): Contact[] {
    return this.nodes
      .filter((c) => c.idHex !== except.idHex)
      .sort((a, b) => compareDistance(key, a.id, b.id))
      .slice(0, count);
  }

  /** Clears the per-lookup counters. */
  reset(): void {
    this.asked.length = 0;
    this.signals.length = 0;
    this.answered.clear();
    this.failed.clear();
    this.heard.clear();
    this.maxInflight = 0;
  }
}

/** Fake contacts (unreachable ids: in no table), `n` of them, closest to `key` of all. */
function fakesNear(rng: Rng, key: Uint8Array, n: number, prefix = 40): Contact[] {
  const out: Contact[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      contactOf(keyInBucket(key, prefix + rng.int(100), rng.bytes(32)), loopback(60000 + i)),
    );
  }
  return out;
}

/** The k contacts closest to `key` that the lookup heard of and that pass `keep`. */
function closestHeard(
  net: FakeNetwork,
  key: Uint8Array,
  from: Contact,
  keep: (c: Contact) => boolean,
): Contact[] {
  return [...net.heard.values()]
    .filter((c) => c.idHex !== from.idHex && keep(c))
    .sort((a, b) => compareDistance(key, a.id, b.id))
    .slice(0, net.k);
}

/**
 * Asserts that the result is the k closest contacts that answered, and that it starts with the
 * true closest nodes but `missing` (which did not answer) that the lookup heard of. (Every answer
 * of 8 names `missing` and maybe the asker, so the lookup may hear of only 6 of the others.)
 */
function assertClosestAnswered(
  net: FakeNetwork,
  key: Uint8Array,
  from: Contact,
  result: LookupResult,
  missing: Contact,
): void {
  const answered = closestHeard(net, key, from, (c) => net.answered.has(c.idHex));
  assert.deepEqual(hexes(result.closest), hexes(answered));
  // A contact still waiting for its answer keeps its place among the k closest.
  const slots = net.failed.has(missing.idHex) ? net.k : net.k - 1;
  const heardTruth = net.truth(key, net.k + 1, from)
    .filter((c) => c.idHex !== missing.idHex && net.heard.has(c.idHex))
    .slice(0, slots);
  assert.ok(heardTruth.length >= 5, `heard of ${heardTruth.length} of the true closest`);
  assert.deepEqual(hexes(result.closest.slice(0, heardTruth.length)), hexes(heardTruth));
}

/** Asserts that no contact was asked twice. */
function assertNoRequery(net: FakeNetwork): void {
  const ids = net.asked.map((c) => c.idHex);
  assert.equal(new Set(ids).size, ids.length, "a contact was asked twice");
}

Deno.test("lookup_finds_the_true_k_closest_in_a_network_of_300_nodes", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED, 300, 8);
    for (let i = 0; i < 40; i++) {
      net.reset();
      const from = net.rng.pick(net.nodes);
      const key = i % 4 === 0 ? net.rng.pick(net.nodes).id : net.rng.bytes(32);
      const started = net.clock.now();
      const result = await net.lookup(from, key);
      assert.deepEqual(hexes(result.closest), hexes(net.truth(key, 8, from)), `lookup ${i}`);
      assert.equal(result.timedOut, false);
      assert.equal(result.done, false);
      assert.equal(result.failures, 0);
      assert.equal(result.messages, net.asked.length);
      assert.ok(result.rounds >= 1);
      assert.equal(result.durationMs, net.clock.now() - started);
      assert.ok(!net.asked.some((c) => c.idHex === from.idHex), "never asks itself");
      assertNoRequery(net);
      assert.ok(result.messages < 60, `${result.messages} messages`);
    }
  });
});

Deno.test("lookup_with_k_20_finds_the_true_closest", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0x20, 250, 20);
    for (let i = 0; i < 10; i++) {
      net.reset();
      const from = net.rng.pick(net.nodes);
      const key = net.rng.bytes(32);
      const result = await net.lookup(from, key);
      assert.deepEqual(hexes(result.closest), hexes(net.truth(key, 20, from)), `lookup ${i}`);
    }
  });
});

Deno.test("lookup_keeps_at_most_alpha_requests_in_flight", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0x30, 200, 8);
    for (const alpha of [1, 2, 3, 5]) {
      net.reset();
      const from = net.nodes[alpha];
      await net.lookup(from, net.rng.bytes(32), { alpha });
      assert.ok(net.maxInflight <= alpha, `alpha ${alpha}: ${net.maxInflight} in flight`);
      assert.equal(net.maxInflight, alpha, `alpha ${alpha} is used`);
      assert.equal(net.inflight, 0);
    }
  });
});

Deno.test("lookup_ends_once_the_k_closest_have_answered_or_failed", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0x40, 200, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    // Two of the true closest are dead.
    const dead = net.truth(key, 3, from).slice(1);
    for (const d of dead) net.behaviour.set(d.idHex, () => "timeout");
    const result = await net.lookup(from, key);
    const asked = net.asked.length;
    assert.equal(result.messages, asked);
    assert.equal(result.failures, 2);
    assert.ok(!result.closest.some((c) => dead.some((d) => d.idHex === c.idHex)));
    // The k closest live contacts it heard of all answered, and they are the result. (Every
    // answer names the two dead ones and the asker among its 8, so the lookup may hear of
    // fewer than 8 live ones.)
    const heardLive = closestHeard(net, key, from, (c) => !net.failed.has(c.idHex));
    for (const c of heardLive) assert.ok(net.answered.has(c.idHex), `${c.idHex} not asked`);
    assert.deepEqual(hexes(result.closest), hexes(heardLive));
    const live = net.truth(key, 8, from).filter((c) => !dead.some((d) => d.idHex === c.idHex));
    assert.deepEqual(hexes(result.closest.slice(0, live.length)), hexes(live));
    assert.equal(net.clock.pending, 0, "no timer left behind");
    await net.clock.run();
    assert.equal(net.asked.length, asked);
  });
});

Deno.test("lookup_without_seeds_ends_at_once_with_nothing", async () => {
  const net = new FakeNetwork(SEED, 10, 8);
  const result = await net.lookup(net.nodes[0], net.rng.bytes(32), { seeds: [] });
  assert.deepEqual(result.closest, []);
  assert.equal(result.messages, 0);
  assert.equal(result.timedOut, false);
  assert.equal(net.clock.now(), 0);
  assert.equal(net.clock.pending, 0);
});

Deno.test("lookup_never_asks_or_returns_itself", async () => {
  const net = new FakeNetwork(SEED ^ 0x50, 50, 8);
  const from = net.nodes[0];
  const result = await net.lookup(from, from.id, {
    seeds: [from, ...net.tables.get(from.idHex)!.closest(from.id, 8)],
  });
  assert.ok(!net.asked.some((c) => c.idHex === from.idHex));
  assert.ok(!result.closest.some((c) => c.idHex === from.idHex));
  assert.deepEqual(hexes(result.closest), hexes(net.truth(from.id, 8, from)));
});

// -- fromWirePeers: what a peer sends is checked --

Deno.test("from_wire_peers_drops_wrong_length_ids_and_bad_addresses", () => {
  const id = (b: number, n = 32) => new Uint8Array(n).fill(b);
  const peers = [
    { nodeId: id(1), address: "127.0.0.1:4001" },
    { nodeId: id(2, 31), address: "127.0.0.1:4002" },
    { nodeId: id(3, 33), address: "127.0.0.1:4003" },
    { nodeId: id(4, 0), address: "127.0.0.1:4004" },
    { nodeId: id(5), address: "" },
    { nodeId: id(6), address: "no-port" },
    { nodeId: id(7), address: "127.0.0.1:0" },
    { nodeId: id(8), address: 4008 },
    { nodeId: [9, 9, 9], address: "127.0.0.1:4009" },
    null,
    { address: "127.0.0.1:4010" },
    { nodeId: id(11), address: "[::1]:4011" },
  ] as unknown as WirePeer[];
  const out = fromWirePeers(peers, MAX_DHT_PEERS);
  assert.deepEqual(out.map((c) => c.address), ["127.0.0.1:4001", "[::1]:4011"]);
  assert.deepEqual(out[0].id, id(1));
  assert.equal(out[0].idHex, "01".repeat(32));
});

Deno.test("from_wire_peers_keeps_each_id_once_and_copies_it", () => {
  const a = new Uint8Array(32).fill(0xaa);
  const peers: WirePeer[] = [
    { nodeId: a, address: "127.0.0.1:1" },
    { nodeId: a.slice(), address: "127.0.0.1:2" },
    { nodeId: new Uint8Array(32).fill(0xbb), address: "127.0.0.1:3" },
  ];
  const out = fromWirePeers(peers, 20);
  assert.deepEqual(out.map((c) => c.address), ["127.0.0.1:1", "127.0.0.1:3"]);
  a[0] = 0;
  assert.equal(out[0].id[0], 0xaa, "the contact does not share the message's bytes");
});

Deno.test("from_wire_peers_takes_at_most_max", () => {
  const peers: WirePeer[] = [];
  for (let i = 0; i < 100; i++) {
    peers.push({ nodeId: new Uint8Array(32).fill(i), address: loopback(i) });
  }
  assert.equal(fromWirePeers(peers, 20).length, 20);
  assert.equal(fromWirePeers(peers, 3).length, 3);
  assert.deepEqual(fromWirePeers(peers, 0), []);
  assert.equal(fromWirePeers(peers, 1000).length, 100);
});

Deno.test("to_wire_peers_round_trips_through_from_wire_peers", () => {
  const rng = new Rng(SEED);
  const contacts = [0, 1, 2].map((i) => contactOf(rng.bytes(32), loopback(i)));
  assert.deepEqual(hexes(fromWirePeers(toWirePeers(contacts), 20)), hexes(contacts));
});

// -- hostile peers: the lookup ends by its deadline, with a bounded number of messages --

Deno.test("hostile_peer_answering_garbage_does_not_derail_the_lookup", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0x60, 200, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    const garbage = [
      { nodeId: new Uint8Array(31), address: "127.0.0.1:1" },
      { nodeId: new Uint8Array(1000), address: "127.0.0.1:2" },
      { nodeId: new Uint8Array(32), address: "x".repeat(300) },
      { nodeId: "not bytes", address: "127.0.0.1:3" },
    ] as unknown as WirePeer[];
    for (const seed of net.tables.get(from.idHex)!.closest(key, 8).slice(0, 4)) {
      net.behaviour.set(seed.idHex, () => ({ closer: fromWirePeers(garbage, MAX_DHT_PEERS) }));
    }
    const result = await net.lookup(from, key);
    assert.deepEqual(hexes(result.closest), hexes(net.truth(key, 8, from)));
    assert.equal(result.timedOut, false);
    assertNoRequery(net);
  });
});

Deno.test("hostile_peer_answering_with_thousands_of_contacts_is_bounded", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0x70, 200, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    // Over the wire, fromWirePeers takes at most MAX_DHT_PEERS of them.
    const flood = fakesNear(net.rng, key, 5_000, 20);
    assert.equal(fromWirePeers(toWirePeers(flood), MAX_DHT_PEERS).length, MAX_DHT_PEERS);
    // Given to the lookup directly, all 5,000 (none of which answers).
    for (const f of flood) net.behaviour.set(f.idHex, () => "timeout");
    const hostile = net.tables.get(from.idHex)!.closest(key, 1)[0];
    net.behaviour.set(hostile.idHex, () => ({ closer: flood }));
    const maxCandidates = 16;
    const started = net.clock.now();
    const result = await net.lookup(from, key, { maxCandidates });
    assert.ok(net.clock.now() - started <= DEADLINE_MS);
    assertNoRequery(net);
    assert.ok(
      result.messages <= maxCandidates + 8,
      `${result.messages} messages: only candidates kept are asked`,
    );
    assert.ok(result.closest.length <= 8);
    assert.ok(!result.closest.some((c) => net.behaviour.get(c.idHex)?.(key) === "timeout"));
    assert.equal(net.clock.pending, 0);
  });
});

Deno.test("hostile_peer_repeating_itself_and_the_same_contacts_is_asked_once", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0x80, 200, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    const seeds = net.tables.get(from.idHex)!.closest(key, 8);
    const hostile = seeds[0];
    const same = seeds.slice(1, 6);
    net.behaviour.set(
      hostile.idHex,
      () => ({ closer: [hostile, hostile, from, ...same, ...same, hostile] }),
    );
    // Every seed repeats the hostile one and the same contacts, too.
    for (const s of seeds.slice(1)) {
      net.behaviour.set(s.idHex, () => ({ closer: [hostile, ...same, s, s] }));
    }
    const result = await net.lookup(from, key, { seeds });
    assertNoRequery(net);
    assert.equal(result.messages, seeds.length, "only the seeds were ever asked");
    assert.equal(result.timedOut, false);
    assert.ok(!net.asked.some((c) => c.idHex === from.idHex));
  });
});

Deno.test("hostile_peer_pointing_at_unreachable_addresses_costs_one_timeout_each", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0x90, 200, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    const fakes = fakesNear(net.rng, key, 20);
    for (const f of fakes) net.behaviour.set(f.idHex, () => "timeout");
    const hostile = net.tables.get(from.idHex)!.closest(key, 1)[0];
    net.behaviour.set(hostile.idHex, () => ({ closer: fakes }));
    const started = net.clock.now();
    const result = await net.lookup(from, key);
    const took = net.clock.now() - started;
    assert.ok(took <= DEADLINE_MS, `took ${took} ms`);
    assertNoRequery(net);
    const fakeAsks = net.asked.filter((c) => fakes.some((f) => f.idHex === c.idHex)).length;
    assert.ok(fakeAsks <= fakes.length);
    assert.equal(result.failures, fakeAsks, "each unreachable one failed once, by its timeout");
    // The unreachable contacts cost time, not the result: the truth is still found.
    assert.equal(result.timedOut, false);
    assert.deepEqual(hexes(result.closest), hexes(net.truth(key, 8, from)));
    assert.equal(net.clock.pending, 0);
  });
});

Deno.test("a_chain_of_peers_answering_ever_closer_fakes_is_cut_off_by_the_deadline", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0xa0, 100, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    // Every fake answers (fast) with 8 fresh fakes one bit closer to the key: a Sybil chain
    // with no end. Only the deadline stops it.
    const sybil = (depth: number): Behaviour => () => {
      const next: Contact[] = [];
      for (let i = 0; i < 8; i++) {
        const c = contactOf(keyInBucket(key, depth, net.rng.bytes(32)), loopback(i));
        net.behaviour.set(c.idHex, sybil(Math.min(depth + 1, 250)));
        next.push(c);
      }
      return { closer: next };
    };
    const hostile = net.tables.get(from.idHex)!.closest(key, 1)[0];
    net.behaviour.set(hostile.idHex, sybil(30));
    // One generation per round trip (10 ms at least): 200 at most, so the chain of fakes can
    // always go one bit deeper (from 30 to 230) before the deadline.
    const deadlineMs = 2_000;
    const maxCandidates = 40;
    const started = net.clock.now();
    const result = await net.lookup(from, key, { deadlineMs, maxCandidates });
    const took = net.clock.now() - started;
    assert.equal(result.timedOut, true, "the chain never ends by itself");
    assert.equal(took, deadlineMs);
    assert.equal(result.failures, 0);
    assertNoRequery(net);
    // At most alpha requests per shortest round trip (10 ms) until the deadline.
    assert.ok(result.messages <= 3 * (deadlineMs / 10) + 3, `${result.messages} messages`);
    assert.ok(result.closest.length <= 8);
    assert.equal(net.clock.pending, 0, "no timer left behind");
  });
});

Deno.test("a_query_that_never_settles_ends_the_lookup_at_its_deadline", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0xb0, 100, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    const blackhole = net.truth(key, 1, from)[0];
    net.behaviour.set(blackhole.idHex, () => "never");
    const seeds = net.tables.get(from.idHex)!.closest(key, 8);
    const started = net.clock.now();
    const result = await net.lookup(from, key, { seeds: [blackhole, ...seeds] });
    assert.equal(net.clock.now() - started, DEADLINE_MS);
    assert.equal(result.timedOut, true);
    assert.equal(result.durationMs, DEADLINE_MS);
    // What answered meanwhile is returned: the closest that answered, which are the true
    // closest after the one that hangs.
    assertClosestAnswered(net, key, from, result, blackhole);
    assert.equal(net.inflight, 0, "the hanging request was aborted");
    const i = net.asked.findIndex((c) => c.idHex === blackhole.idHex);
    assert.equal(net.signals[i].aborted, true, "its signal was aborted");
    assert.equal(net.clock.pending, 0);
  });
});

Deno.test("a_stalled_request_gives_its_slot_to_the_next_contact_after_stall_ms", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0xc0, 100, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    const slow = net.truth(key, 1, from)[0];
    net.behaviour.set(slow.idHex, () => "timeout"); // fails after 1,000 ms
    const seeds = [slow, ...net.tables.get(from.idHex)!.closest(key, 8)];
    const times: number[] = [];
    const base = net.query(key);
    const started = net.clock.now();
    const result = await net.lookup(from, key, {
      seeds,
      alpha: 1,
      stallMs: 100,
      query: (c, s) => {
        times.push(net.clock.now() - started);
        return base(c, s);
      },
    });
    assert.equal(net.asked[0].idHex, slow.idHex);
    assert.equal(times[1], 100, "the second request goes out once the first stalled");
    assert.equal(result.failures, 1);
    assertClosestAnswered(net, key, from, result, slow);
    assert.equal(net.clock.pending, 0);
  });
});

Deno.test("abort_rejects_the_lookup_with_the_signal_reason", async () => {
  const net = new FakeNetwork(SEED ^ 0xd0, 100, 8);
  const from = net.nodes[0];
  const ctrl = new AbortController();
  const reason = new Error("user stopped it");
  net.clock.setTimeout(() => ctrl.abort(reason), 15);
  await assert.rejects(
    net.lookup(from, net.rng.bytes(32), { signal: ctrl.signal }),
    (err) => err === reason,
  );
  assert.ok(net.asked.length > 0);
  assert.ok(net.signals.some((s) => s.aborted));
  assert.equal(net.inflight, 0, "requests in flight were aborted");
  assert.equal(net.clock.pending, 0, "no timer left behind");
});

Deno.test("an_aborted_signal_rejects_before_any_request", async () => {
  const net = new FakeNetwork(SEED ^ 0xd1, 20, 8);
  const ctrl = new AbortController();
  ctrl.abort("nope");
  await assert.rejects(
    net.lookup(net.nodes[0], net.rng.bytes(32), { signal: ctrl.signal }),
    (err) => err === "nope",
  );
  assert.equal(net.asked.length, 0);
  assert.equal(net.clock.pending, 0);
});

Deno.test("a_done_answer_stops_the_lookup_early", async () => {
  await withSeed(SEED, async () => {
    const net = new FakeNetwork(SEED ^ 0xe0, 300, 8);
    const from = net.nodes[0];
    const key = net.rng.bytes(32);
    const seeds = net.tables.get(from.idHex)!.closest(key, 8);
    const target = seeds[1];
    net.behaviour.set(target.idHex, (k) => ({ ...net.honest(target, k), done: true }));
    const full = await (async () => {
      const other = new FakeNetwork(SEED ^ 0xe0, 300, 8);
      return await other.lookup(other.nodes[0], key);
    })();
    const result = await net.lookup(from, key, { seeds });
    assert.equal(result.done, true);
    assert.equal(result.timedOut, false);
    assert.equal(result.rounds, 1, "the hop of the seed that answered done");
    assert.ok(result.messages < full.messages, `${result.messages} < ${full.messages}`);
    assert.ok(result.closest.some((c) => c.idHex === target.idHex));
    assert.equal(net.inflight, 0, "the other requests were aborted");
    const asked = net.asked.length;
    await net.clock.run();
    assert.equal(net.asked.length, asked, "nothing is asked after done");
    assert.equal(net.clock.pending, 0);
  });
});
