import assert from "node:assert/strict";
import { ConnectError, TimeoutError } from "../../src/errors.ts";
import { type Contact, contactOf } from "../../src/dht/contact.ts";
import type { DhtNetwork, DhtReply } from "../../src/dht/network.ts";
import { type Message, MessageType } from "../../src/wire/messages.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";
import {
  SimNetwork,
  type SimNetworkOptions,
  SimRemoteError,
  SimTimeoutError,
} from "./sim_network.ts";
import { VirtualClock } from "./virtual_clock.ts";

const SEED = testSeed(0x5eed_d475);

/** Answers a PING with a PONG; anything else with an ERROR. */
const pong = (_from: Contact, req: Message): Promise<Message> =>
  Promise.resolve(
    req.type === MessageType.PING
      ? { type: MessageType.PONG, requestId: req.requestId, timestamp: req.timestamp }
      : { type: MessageType.ERROR, requestId: req.requestId, code: 3, message: "ping only" },
  );

const ping = (timestamp: number) => ({ type: MessageType.PING, timestamp }) as const;

interface World {
  clock: VirtualClock;
  sim: SimNetwork;
  contacts: Contact[];
  nets: DhtNetwork[];
}

/** `n` nodes answering PINGs, ids and addresses from `seed`. */
function world(n: number, seed: number, options: Partial<SimNetworkOptions> = {}): World {
  const clock = new VirtualClock();
  const rng = new Rng(seed);
  const sim = new SimNetwork({ clock, rng, ...options });
  const contacts: Contact[] = [];
  const nets: DhtNetwork[] = [];
  for (let i = 0; i < n; i++) {
    const contact = contactOf(rng.bytes(32), `10.0.${i >> 8}.${i & 255}:4000`);
    contacts.push(contact);
    nets.push(sim.add(contact, pong));
  }
  return { clock, sim, contacts, nets };
}

Deno.test("sim_network_ping_gets_its_pong_after_two_latencies", async () => {
  const { clock, sim, contacts, nets } = world(2, SEED);
  const [a, b] = contacts;
  const lat = sim.latency(a.address, b.address);
  const reply = await clock.runUntil(nets[0].request(b, ping(1234), { timeoutMs: 1000 }));
  assert.equal(reply.from, b);
  assert.equal(reply.message.type, MessageType.PONG);
  assert.equal((reply.message as { timestamp: number }).timestamp, 1234);
  assert.ok(reply.message.requestId > 0);
  assert.equal(clock.now(), 2 * lat);
  // PING and PONG frames: 4 prefix + 3 header + 4 request id + 8 timestamp.
  assert.deepEqual(sim.stats(), { requests: 1, answers: 1, lost: 0, toDead: 0, bytes: 38 });
  assert.equal(clock.pending, 0, "the timeout timer was cleared");
  sim.resetStats();
  assert.deepEqual(sim.stats(), { requests: 0, answers: 0, lost: 0, toDead: 0, bytes: 0 });
});

Deno.test("sim_network_resolves_an_address_only_target_and_reports_the_sender", async () => {
  const { clock, contacts, nets, sim } = world(3, SEED);
  const seen: Contact[] = [];
  const spy = contactOf(new Uint8Array(32).fill(9), "10.9.9.9:1");
  sim.add(spy, (from, req) => {
    seen.push(from);
    return pong(from, req);
  });
  const reply: DhtReply = await clock.runUntil(
    nets[1].request({ address: spy.address }, ping(1), { timeoutMs: 1000 }),
  );
  assert.equal(reply.from, spy, "the registered contact, id included");
  assert.deepEqual(seen, [contacts[1]]);
  // A stale contact (old id) at a live address: the answer says who really answered.
  const stale = contactOf(new Uint8Array(32), spy.address);
  const again = await clock.runUntil(nets[0].request(stale, ping(2), { timeoutMs: 1000 }));
  assert.equal(again.from, spy);
});

Deno.test("sim_network_latency_is_seeded_symmetric_and_in_range", () => {
  const addresses = Array.from({ length: 60 }, (_, i) => `node-${i}:7000`);
  const draws = (seed: number, minMs = 10, maxMs = 150) => {
    const sim = new SimNetwork({
      clock: new VirtualClock(),
      rng: new Rng(seed),
      latency: { minMs, maxMs },
    });
    const out: number[] = [];
    for (const a of addresses) {
      for (const b of addresses) {
        const l = sim.latency(a, b);
        assert.equal(l, sim.latency(b, a), "same both ways");
        const [lo, hi] = [Math.max(1, minMs), Math.max(1, maxMs)];
        assert.ok(Number.isInteger(l) && l >= lo && l <= hi, `${l} out of range`);
        out.push(l);
      }
    }
    return out;
  };
  const first = draws(SEED);
  assert.deepEqual(draws(SEED), first, "same seed, same draws");
  assert.notDeepEqual(draws(SEED + 1), first, "another seed, other draws");
  assert.equal(new Set(first).size > 100, true, "spread over the range");
  assert.ok(draws(SEED, 0, 0).every((l) => l === 1), "at least 1 ms");
  assert.ok(draws(SEED, 5, 5).every((l) => l === 5));
  assert.throws(
    () =>
      new SimNetwork({
        clock: new VirtualClock(),
        rng: new Rng(1),
        latency: { minMs: 9, maxMs: 8 },
      }),
    RangeError,
  );
});

/** A lossy run of 2,000 pings between 200 nodes; its counts and outcome trace. */
async function lossyRun(seed: number) {
  const { clock, sim, contacts, nets } = world(200, seed, { loss: 0.2 });
  const pick = new Rng(seed ^ 0xabcdef);
  const trace: string[] = [];
  const all: Promise<void>[] = [];
  for (let i = 0; i < 2000; i++) {
    const from = pick.int(200);
    const to = contacts[pick.int(200)];
    all.push(
      nets[from].request(to, ping(i), { timeoutMs: 400 }).then(
        (r) => void trace.push(`${i}:ok@${clock.now()}:${r.message.requestId}`),
        (e) => void trace.push(`${i}:${e.code}@${clock.now()}`),
      ),
    );
  }
  await clock.runUntil(Promise.all(all));
  return { stats: sim.stats(), trace, now: clock.now(), pending: clock.pending };
}

Deno.test("sim_network_same_seed_same_run", async () => {
  await withSeed(SEED, async () => {
    const a = await lossyRun(SEED);
    const b = await lossyRun(SEED);
    assert.deepEqual(b, a);
    assert.equal(a.stats.requests, 2000);
    assert.ok(a.stats.lost > 400 && a.stats.lost < 1000, `lost ${a.stats.lost}`);
    assert.ok(a.trace.some((t) => t.includes("TIMEOUT")));
    assert.ok(a.trace.some((t) => t.includes(":ok@")));
    const c = await lossyRun(SEED + 1);
    assert.notDeepEqual(c.trace, a.trace);
  });
});

Deno.test("sim_network_total_loss_times_every_request_out", async () => {
  const { clock, sim, contacts, nets } = world(20, SEED, { loss: 1 });
  const results = await clock.runUntil(Promise.allSettled(
    contacts.map((c, i) => nets[(i + 1) % 20].request(c, ping(i), { timeoutMs: 5_000 })),
  ));
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.ok(r.reason instanceof SimTimeoutError);
    assert.ok(r.reason instanceof TimeoutError, "the DHT can catch it as a TimeoutError");
    assert.equal(r.reason.code, "TIMEOUT");
  }
  assert.equal(clock.now(), 5_000);
  assert.deepEqual(sim.stats(), { requests: 20, answers: 0, lost: 20, toDead: 0, bytes: 380 });
  assert.equal(clock.pending, 0);
});

Deno.test("sim_network_killed_node_goes_silent", async () => {
  const { clock, sim, contacts, nets } = world(3, SEED);
  const [a, b, c] = contacts;
  sim.kill(b.address);
  assert.equal(sim.isAlive(b.address), false);
  assert.equal(sim.isAlive(a.address), true);
  assert.equal(sim.isAlive("nowhere:1"), false);
  await assert.rejects(
    clock.runUntil(nets[0].request(b, ping(1), { timeoutMs: 2_000 })),
    SimTimeoutError,
  );
  assert.equal(clock.now(), 2_000);
  assert.equal(sim.stats().toDead, 1);
  // Requests the dead node sends fail at once.
  await assert.rejects(nets[1].request(c, ping(2), { timeoutMs: 2_000 }), ConnectError);

  // A node killed while handling: its answer vanishes.
  let release!: () => void;
  const slow = contactOf(new Uint8Array(32).fill(7), "10.7.7.7:1");
  sim.add(slow, (from, req) => new Promise<void>((r) => (release = r)).then(() => pong(from, req)));
  const asked = nets[2].request(slow, ping(3), { timeoutMs: 1_000 });
  clock.setTimeout(() => {
    sim.kill(slow.address);
    release();
  }, 500);
  await assert.rejects(clock.runUntil(asked), SimTimeoutError);
  assert.equal(sim.stats().answers, 0);
  assert.equal(sim.stats().toDead, 2);

  // The address can be reused by a new node (a restart).
  const reborn = contactOf(new Uint8Array(32).fill(8), b.address);
  sim.add(reborn, pong);
  assert.throws(() => sim.add(reborn, pong), /already registered/);
  const reply = await clock.runUntil(nets[0].request(b, ping(4), { timeoutMs: 2_000 }));
  assert.equal(reply.from, reborn);
});

Deno.test("sim_network_unknown_address_times_out", async () => {
  const { clock, sim, nets } = world(1, SEED);
  const started = clock.now();
  await assert.rejects(
    clock.runUntil(nets[0].request({ address: "10.99.0.1:1" }, ping(1), { timeoutMs: 3_000 })),
    (err: unknown) => err instanceof SimTimeoutError && /10\.99\.0\.1:1/.test(err.message),
  );
  assert.equal(clock.now() - started, 3_000);
  assert.equal(sim.stats().toDead, 1);
});

Deno.test("sim_network_handler_rejection_arrives_as_remote_error", async () => {
  const { clock, sim, contacts, nets } = world(1, SEED);
  const bad = contactOf(new Uint8Array(32).fill(1), "10.1.1.1:1");
  const cause = new Error("disk on fire");
  sim.add(bad, () => Promise.reject(cause));
  const throwing = contactOf(new Uint8Array(32).fill(2), "10.2.2.2:1");
  sim.add(throwing, () => {
    throw new Error("sync throw");
  });
  const err = await clock.runUntil(
    nets[0].request(bad, ping(1), { timeoutMs: 10_000 }).catch((e) => e),
  );
  assert.ok(err instanceof SimRemoteError);
  assert.equal(err.code, "REMOTE_ERROR");
  assert.equal(err.cause, cause);
  assert.match(err.message, /disk on fire/);
  assert.equal(clock.now(), 2 * sim.latency(contacts[0].address, bad.address));
  await assert.rejects(
    clock.runUntil(nets[0].request(throwing, ping(2), { timeoutMs: 10_000 })),
    (e: unknown) => e instanceof SimRemoteError && /sync throw/.test(e.message),
  );
  // An answer the codec refuses is a remote error too.
  const sloppy = contactOf(new Uint8Array(32).fill(3), "10.3.3.3:1");
  sim.add(
    sloppy,
    (_from, req) =>
      Promise.resolve({ type: MessageType.PONG, requestId: req.requestId, timestamp: -1 }),
  );
  await assert.rejects(
    clock.runUntil(nets[0].request(sloppy, ping(3), { timeoutMs: 10_000 })),
    SimRemoteError,
  );
  await clock.run();
  assert.equal(clock.pending, 0);
});

Deno.test("sim_network_abort_rejects_with_the_reason_and_ignores_the_late_answer", async () => {
  const { clock, sim, contacts, nets } = world(2, SEED);
  const controller = new AbortController();
  const reason = new Error("lookup done");
  const asked = nets[0].request(contacts[1], ping(1), {
    timeoutMs: 10_000,
    signal: controller.signal,
  });
  clock.setTimeout(() => controller.abort(reason), 1);
  await assert.rejects(clock.runUntil(asked), (e) => e === reason);
  await clock.run(); // the answer still travels, and is ignored
  assert.equal(sim.stats().answers, 1);
  assert.ok(clock.now() < 10_000, "no timeout timer was left to fire");
  assert.equal(clock.pending, 0);
  await assert.rejects(
    nets[0].request(contacts[1], ping(2), { timeoutMs: 10, signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
});

Deno.test("sim_network_codec_bounds_apply_and_can_be_switched_off", async () => {
  const { clock, sim, contacts, nets } = world(2, SEED);
  await assert.rejects(
    nets[0].request(contacts[1], ping(-1), { timeoutMs: 10 }),
    (e: unknown) => (e as { code?: string }).code === "MALFORMED_MESSAGE",
  );
  assert.equal(sim.stats().requests, 0, "nothing was sent");
  const seen: Message[] = [];
  const plain = world(2, SEED, { codec: false });
  const sent = ping(5);
  const spy = contactOf(new Uint8Array(32).fill(4), "10.4.4.4:1");
  plain.sim.add(spy, (from, req) => {
    seen.push(req);
    return pong(from, req);
  });
  const reply = await plain.clock.runUntil(plain.nets[0].request(spy, sent, { timeoutMs: 1000 }));
  assert.equal(reply.message.type, MessageType.PONG);
  assert.equal(seen[0].requestId, reply.message.requestId);
  assert.equal(plain.sim.stats().bytes, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("sim_network_benchmark_100k_requests_between_1000_nodes", async () => {
  for (const codec of [true, false]) {
    const { clock, sim, contacts, nets } = world(1000, SEED, { codec });
    const pick = new Rng(SEED ^ 0x1234);
    const perNode = 100;
    let answered = 0;
    const loop = async (i: number) => {
      for (let k = 0; k < perNode; k++) {
        const to = contacts[pick.int(contacts.length)];
        await nets[i].request(to, ping(k), { timeoutMs: 5_000 });
        answered++;
      }
    };
    const started = performance.now();
    const all = Promise.all(nets.map((_, i) => loop(i)));
    // run() rather than runUntil, to read its stats; idle() stops it once every loop is done.
    let settled = false;
    all.then(() => (settled = true));
    const { events, macrotasks } = await clock.run({
      idle: () => settled,
      maxEvents: 10_000_000,
    });
    assert.ok(settled, "every loop finished within the run");
    await all;
    const wall = performance.now() - started;
    assert.equal(answered, 100_000);
    assert.equal(sim.stats().answers, 100_000);
    console.log(
      `codec=${codec}: 100,000 request/answer pairs, 1,000 nodes: ${wall.toFixed(0)} ms wall, ` +
        `${events} events (${(events / wall * 1000).toFixed(0)}/s), ${macrotasks} macrotasks, ` +
        `${(wall * 1000 / 100_000).toFixed(2)} µs per pair, ${clock.now()} virtual ms, ` +
        `${sim.stats().bytes} bytes`,
    );
  }
});
