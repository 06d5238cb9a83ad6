/**
 * `GarbageCollector`: unreferenced blocks go after the grace period, and only through the
 * node's lock-protected delete; nothing a live file, a put under way or a recent push needs is
 * ever lost, also when puts, deletes, receptions and passes race.
 */
import assert from "node:assert/strict";
import { AbortedError, InvalidArgumentError, IoError } from "../../../src/errors.ts";
import type { Clock } from "../../../src/dht/clock.ts";
import { ContentId } from "../../../src/id/content_id.ts";
import { MemoryFileSystem } from "../../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../../src/store/block_store.ts";
import type { BlockStore } from "../../../src/store/types.ts";
import { KeyedMutex } from "../../../src/util/keyed_mutex.ts";
import { GarbageCollector } from "../../../src/node/durability/gc.ts";
import { VirtualClock } from "../../sim/virtual_clock.ts";
import { randomBytes, Rng, testSeed, withSeed } from "../../util/prng.ts";

const SEED = testSeed(0x6c6c);
const GRACE = 60_000;

/** A clock whose time only moves when the test says so (GC passes read `now()` only). */
class ManualClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  setTimeout(): unknown {
    throw new Error("ManualClock has no timers");
  }
  clearTimeout(): void {}
}

const macrotask = () => new Promise((r) => setTimeout(r, 0));

async function memoryStore(): Promise<FsBlockStore> {
  return await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/s", durability: "none" });
}

/** Content-addressed entries in the store, as id texts. */
async function contentIds(store: BlockStore): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const e of store.list()) if (e.key === e.id.toString()) out.add(e.key);
  return out;
}

/** A collector over `store` whose live set and delete the test controls. */
function collector(store: BlockStore, clock: Clock, live: Set<string>, refuse = new Set<string>()) {
  const proposed: string[] = [];
  const gc = new GarbageCollector({
    store,
    clock,
    graceMs: GRACE,
    live: () => Promise.resolve(new Set(live)),
    deleteIfUnused: async (id) => {
      proposed.push(id.toString());
      if (refuse.has(id.toString()) || live.has(id.toString())) return false;
      return await store.delete(id);
    },
  });
  return { gc, proposed };
}

Deno.test("gc_removes_an_unreferenced_block_only_after_the_grace_period", async () => {
  const store = await memoryStore();
  const clock = new ManualClock();
  const kept = (await store.put(randomBytes(100, SEED))).toString();
  const garbage = (await store.put(randomBytes(100, SEED + 1))).toString();
  const { gc, proposed } = collector(store, clock, new Set([kept]));
  assert.deepEqual(await gc.runPass(), {
    scanned: 2,
    unreferenced: 1,
    removed: 0,
    refused: 0,
    errors: 0,
  });
  assert.equal(gc.stats().tracked, 1);
  clock.t = GRACE - 1;
  assert.equal((await gc.runPass()).removed, 0, "one ms before the grace ends, it stays");
  assert.equal(await store.has(garbage), true);
  assert.deepEqual(proposed, []);
  clock.t = GRACE;
  assert.equal((await gc.runPass()).removed, 1);
  assert.deepEqual(proposed, [garbage], "only the unreferenced block was ever proposed");
  assert.equal(await store.has(garbage), false);
  assert.equal(await store.has(kept), true);
  const s = gc.stats();
  assert.equal(s.passes, 3);
  assert.equal(s.removed, 1);
  assert.equal(s.tracked, 0);
  assert.equal(s.lastPassEndedAt, GRACE);
  assert.deepEqual(s.lastPass, { scanned: 2, unreferenced: 1, removed: 1, refused: 0, errors: 0 });
  await store.close();
});

Deno.test("gc_forgets_a_block_referenced_again_during_the_grace", async () => {
  const store = await memoryStore();
  const clock = new ManualClock();
  const block = (await store.put(randomBytes(100, SEED))).toString();
  const live = new Set<string>();
  const { gc, proposed } = collector(store, clock, live);
  await gc.runPass(); // first seen unreferenced at 0
  clock.t = GRACE / 2;
  live.add(block); // a file that uses it got indexed
  assert.equal((await gc.runPass()).unreferenced, 0);
  assert.equal(gc.stats().tracked, 0, "forgotten");
  clock.t = GRACE + 1;
  live.delete(block); // ... and deleted again
  await gc.runPass();
  assert.deepEqual(proposed, [], "its grace started over when it was unreferenced again");
  assert.equal(await store.has(block), true);
  clock.t = 2 * GRACE + 1;
  assert.equal((await gc.runPass()).removed, 1);
  assert.equal(await store.has(block), false);
  await store.close();
});

Deno.test("gc_keeps_a_block_the_node_refuses_and_starts_its_grace_over", async () => {
  const store = await memoryStore();
  const clock = new ManualClock();
  const block = (await store.put(randomBytes(100, SEED))).toString();
  const refuse = new Set([block]); // e.g. a put under way wrote it
  const { gc, proposed } = collector(store, clock, new Set(), refuse);
  await gc.runPass();
  clock.t = GRACE;
  const r = await gc.runPass();
  assert.equal(r.removed, 0);
  assert.equal(r.refused, 1);
  assert.deepEqual(proposed, [block]);
  assert.equal(await store.has(block), true);
  clock.t = GRACE + 10;
  await gc.runPass();
  assert.equal(proposed.length, 1, "not proposed again before a new grace period");
  refuse.clear();
  clock.t = 2 * GRACE;
  assert.equal((await gc.runPass()).removed, 1);
  assert.equal(await store.has(block), false);
  assert.equal(gc.stats().refused, 1);
  await store.close();
});

Deno.test("gc_never_touches_keyed_entries", async () => {
  const store = await memoryStore();
  const clock = new ManualClock();
  const keys = ["file:1220ab", "name:photos", "tomb:1220cd", "anything"];
  for (const k of keys) await store.write(k, new TextEncoder().encode(k));
  const garbage = (await store.put(randomBytes(10, SEED))).toString();
  const proposed: string[] = [];
  const gc = new GarbageCollector({
    store,
    clock,
    graceMs: 0,
    live: () => Promise.resolve(new Set()),
    deleteIfUnused: (id) => {
      proposed.push(id.toString());
      return store.delete(id);
    },
  });
  const r = await gc.runPass();
  assert.equal(r.scanned, 1, "only the content-addressed block is considered");
  assert.deepEqual(proposed, [garbage]);
  for (const k of keys) {
    assert.deepEqual(await store.readBytes(k), new TextEncoder().encode(k), `${k} is intact`);
  }
  await store.close();
});

Deno.test("gc_proposes_nothing_when_live_fails", async () => {
  const store = await memoryStore();
  const clock = new ManualClock();
  const block = await store.put(randomBytes(10, SEED));
  let fail = false;
  let calls = 0;
  const gc = new GarbageCollector({
    store,
    clock,
    graceMs: 0,
    live: () =>
      fail ? Promise.reject(new IoError("a manifest is missing")) : Promise.resolve(new Set()),
    deleteIfUnused: () => {
      calls++;
      return Promise.resolve(false);
    },
  });
  fail = true;
  await assert.rejects(gc.runPass(), IoError);
  assert.equal(calls, 0);
  assert.equal(await store.has(block), true);
  assert.equal(gc.stats().passes, 0);
  await store.close();
});

Deno.test("gc_drops_blocks_gone_from_the_store_and_retries_after_errors", async () => {
  const store = await memoryStore();
  const clock = new ManualClock();
  const a = await store.put(randomBytes(10, SEED));
  const b = await store.put(randomBytes(10, SEED + 1));
  let failNext = true;
  const gc = new GarbageCollector({
    store,
    clock,
    graceMs: GRACE,
    live: () => Promise.resolve(new Set()),
    deleteIfUnused: (id) => {
      if (id.equals(b) && failNext) {
        failNext = false;
        return Promise.reject(new IoError("busy"));
      }
      return store.delete(id);
    },
  });
  await gc.runPass();
  assert.equal(gc.stats().tracked, 2);
  await store.delete(a); // removed by someone else
  clock.t = 1;
  await gc.runPass();
  assert.equal(gc.stats().tracked, 1, "a block no longer listed is dropped");
  clock.t = GRACE;
  const r = await gc.runPass();
  assert.equal(r.errors, 1);
  assert.equal(await store.has(b), true);
  clock.t = GRACE + 1;
  assert.equal((await gc.runPass()).removed, 1, "retried at the next pass, grace kept");
  await store.close();
});

Deno.test("gc_tracks_at_most_max_tracked_blocks", async () => {
  const store = await memoryStore();
  const clock = new ManualClock();
  for (let i = 0; i < 10; i++) await store.put(randomBytes(10, SEED + i));
  const gc = new GarbageCollector({
    store,
    clock,
    graceMs: GRACE,
    maxTracked: 4,
    live: () => Promise.resolve(new Set()),
    deleteIfUnused: (id) => store.delete(id),
  });
  let removed = 0;
  for (let pass = 0; pass < 20 && (await contentIds(store)).size > 0; pass++) {
    removed += (await gc.runPass()).removed;
    assert.ok(gc.stats().tracked <= 4, `tracked ${gc.stats().tracked}`);
    clock.t += GRACE;
  }
  assert.equal(removed, 10, "every block goes eventually");
  await store.close();
});

Deno.test("gc_runs_in_the_background_and_stops", async () => {
  const clock = new VirtualClock();
  const store = await memoryStore();
  const garbage = await store.put(randomBytes(10, SEED));
  let passes = 0;
  let removedAt = -1;
  const gc = new GarbageCollector({
    store,
    clock,
    graceMs: GRACE,
    live: () => {
      passes++;
      return Promise.resolve(new Set());
    },
    deleteIfUnused: async (id) => {
      removedAt = clock.now();
      return await store.delete(id);
    },
  });
  gc.start(10_000);
  assert.equal(gc.stats().running, true);
  // Drive virtual time; the store's I/O is real promises, so yield when no timer is due.
  for (let i = 0; i < 100_000 && removedAt < 0; i++) {
    if (clock.pending > 0) await clock.run({ maxEvents: 1 });
    else await macrotask();
  }
  assert.ok(removedAt >= GRACE, `removed at ${removedAt}`);
  assert.ok(removedAt <= GRACE + 10_000, "within one interval after the grace");
  await gc.stop();
  assert.equal(gc.stats().running, false);
  assert.equal(clock.pending, 0, "stop() cleared the interval timer");
  assert.equal(await store.has(garbage), false);
  assert.ok(passes >= 7);
  // A pass aborted by its caller rejects with AbortedError.
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(gc.runPass(ctl.signal), AbortedError);
  await store.close();
});

Deno.test("gc_refuses_bad_options", async () => {
  const store = await memoryStore();
  const base = {
    store,
    live: () => Promise.resolve(new Set<string>()),
    deleteIfUnused: () => Promise.resolve(false),
  };
  for (const graceMs of [-1, NaN, Infinity]) {
    assert.throws(() => new GarbageCollector({ ...base, graceMs }), InvalidArgumentError);
  }
  for (const maxTracked of [0, 1.5]) {
    assert.throws(() => new GarbageCollector({ ...base, maxTracked }), InvalidArgumentError);
  }
  assert.throws(() => new GarbageCollector(base).start(-5), InvalidArgumentError);
  await store.close();
});

// ------------------------------------------------------------------------------------ race

/**
 * The node's side, as `src/node/node.ts` does it: puts count the blocks they touch as under way
 * (under each block's lock) until the file is indexed; a failed put drops the blocks it created;
 * pushes from peers are noted; `deleteIfUnused` re-checks all three under the block's lock.
 */
class FakeNode {
  readonly files = new Map<string, readonly string[]>();
  readonly putting = new Map<string, number>();
  readonly received = new Map<string, number>();
  readonly locks = new KeyedMutex();
  readonly failures: string[] = [];

  readonly store: BlockStore;
  readonly clock: ManualClock;
  readonly receivedGraceMs: number;
  readonly pause: () => Promise<void>;

  constructor(
    store: BlockStore,
    clock: ManualClock,
    receivedGraceMs: number,
    pause: () => Promise<void>,
  ) {
    this.store = store;
    this.clock = clock;
    this.receivedGraceMs = receivedGraceMs;
    this.pause = pause;
  }

  live(): Promise<Set<string>> {
    const set = new Set<string>();
    for (const blocks of this.files.values()) for (const b of blocks) set.add(b);
    return Promise.resolve(set);
  }

  deleteIfUnused(id: ContentId, spareReceived: boolean): Promise<boolean> {
    const k = id.toString();
    return this.locks.run(k, async () => {
      if (this.putting.has(k)) return false;
      const at = this.received.get(k);
      if (spareReceived && at !== undefined && this.clock.now() - at < this.receivedGraceMs) {
        return false;
      }
      if ((await this.live()).has(k)) return false;
      return await this.store.delete(id);
    });
  }

  async put(file: string, blocks: readonly [ContentId, Uint8Array][], fail: boolean) {
    const touched = new Set<string>();
    const created = new Set<string>();
    let indexed = false;
    try {
      for (const [id, bytes] of blocks) {
        await this.pause();
        const k = id.toString();
        await this.locks.run(k, async () => {
          if (!touched.has(k)) {
            touched.add(k);
            this.putting.set(k, (this.putting.get(k) ?? 0) + 1);
          }
          const info = await this.store.write(id, bytes, { hashed: id, reportCreated: true });
          if (info.created) created.add(k);
        });
      }
      await this.pause();
      if (fail) return;
      for (const k of touched) {
        if (!(await this.store.has(k))) {
          this.failures.push(`put ${file}: lost ${k} before indexing`);
        }
      }
      this.files.set(file, [...touched]);
      indexed = true;
    } finally {
      for (const k of touched) {
        const n = this.putting.get(k)! - 1;
        if (n > 0) this.putting.set(k, n);
        else this.putting.delete(k);
      }
      if (!indexed) {
        for (const k of created) await this.deleteIfUnused(ContentId.parse(k), true);
      }
    }
  }

  /** A peer pushes a file's blocks; the root arrives last (or never: an interrupted push). */
  async receive(file: string, blocks: readonly [ContentId, Uint8Array][], complete: boolean) {
    const start = this.clock.now();
    for (const [id, bytes] of blocks) {
      await this.pause();
      const k = id.toString();
      await this.locks.run(k, async () => {
        await this.store.write(id, bytes, { hashed: id });
        this.received.set(k, this.clock.now());
      });
    }
    await this.pause();
    // A push slower than the received-notes' lifetime is not protected (a documented limit):
    // treat it as interrupted.
    if (!complete || this.clock.now() - start >= this.receivedGraceMs) return;
    const ks = blocks.map(([id]) => id.toString());
    for (const k of ks) {
      if (!(await this.store.has(k))) this.failures.push(`receive ${file}: lost ${k}`);
    }
    this.files.set(file, ks);
  }

  /**
   * Deletes a file here. Its blocks that a peer pushed lately are spared: another file's push
   * under way may need them (the collector takes them later if nothing does).
   */
  async deleteFile(file: string) {
    const blocks = this.files.get(file);
    if (!blocks) return;
    this.files.delete(file);
    for (const k of blocks) await this.deleteIfUnused(ContentId.parse(k), true);
  }

  /** Every block of every file indexed now and still indexed after the check is present. */
  async check(): Promise<void> {
    for (const [file, blocks] of [...this.files]) {
      for (const k of blocks) {
        if (!(await this.store.has(k)) && this.files.get(file) === blocks) {
          this.failures.push(`indexed file ${file} lost block ${k}`);
        }
      }
    }
  }
}

async function raceRound(rng: Rng, round: number): Promise<{ removed: number }> {
  const store = await memoryStore();
  const clock = new ManualClock();
  const graceMs = rng.pick([0, 1, 5, 20, 50]);
  const receivedGraceMs = 40;
  const pause = async () => {
    for (let n = rng.int(4); n > 0; n--) {
      if (rng.int(2) === 0) await macrotask();
      else await Promise.resolve();
    }
  };
  const node = new FakeNode(store, clock, receivedGraceMs, pause);
  const pool: [ContentId, Uint8Array][] = [];
  for (let i = 0; i < 24; i++) {
    const bytes = rng.bytes(64);
    pool.push([await ContentId.of(bytes), bytes]);
  }
  const some = () => Array.from({ length: 1 + rng.int(6) }, () => rng.pick(pool));
  // The collector's own promise: a block is proposed only after at least `graceMs` outside
  // every live set it was given.
  const lastLive = new Map<string, number>();
  const gc = new GarbageCollector({
    store,
    clock,
    graceMs,
    live: async () => {
      const now = clock.now();
      const set = await node.live();
      for (const k of set) lastLive.set(k, now);
      return set;
    },
    deleteIfUnused: (id) => {
      const seen = lastLive.get(id.toString());
      if (seen !== undefined && clock.now() - seen < graceMs) {
        node.failures.push(`proposed ${id} ${clock.now() - seen} ms after it was live`);
      }
      return node.deleteIfUnused(id, true);
    },
  });

  const tasks: Promise<void>[] = [];
  let files = 0;
  for (let i = 0; i < 30; i++) {
    const name = `put-${files++}`;
    tasks.push((async () => {
      for (let n = rng.int(20); n > 0; n--) await pause();
      await node.put(name, some(), rng.int(4) === 0);
    })());
  }
  for (let i = 0; i < 8; i++) {
    const name = `recv-${files++}`;
    tasks.push((async () => {
      for (let n = rng.int(20); n > 0; n--) await pause();
      await node.receive(name, some(), rng.int(2) === 0);
    })());
  }
  for (let i = 0; i < 12; i++) {
    tasks.push((async () => {
      for (let n = rng.int(40); n > 0; n--) await pause();
      const names = [...node.files.keys()];
      if (names.length > 0) await node.deleteFile(rng.pick(names));
    })());
  }
  let done = false;
  const all = Promise.all(tasks).finally(() => (done = true));
  let removed = 0;
  const collecting = (async () => {
    while (!done) {
      removed += (await gc.runPass()).removed;
      clock.t += rng.int(10);
      await pause();
    }
  })();
  const checking = (async () => {
    while (!done) {
      await node.check();
      await pause();
    }
  })();
  await Promise.all([all, collecting, checking]);

  // Quiet now: every block a live file needs is here, and two passes a grace apart (after the
  // received notes expired) leave exactly those.
  await node.check();
  clock.t += Math.max(graceMs, receivedGraceMs) + 1;
  removed += (await gc.runPass()).removed;
  clock.t += graceMs + 1;
  removed += (await gc.runPass()).removed;
  const live = await node.live();
  assert.deepEqual(node.failures, [], `round ${round}, grace ${graceMs}`);
  assert.deepEqual(await contentIds(store), live, `round ${round}: exactly the live blocks remain`);
  await store.close();
  return { removed };
}

Deno.test("gc_racing_puts_deletes_and_receptions_never_loses_a_live_block", async () => {
  await withSeed(SEED, async () => {
    let removed = 0;
    for (let round = 0; round < 8; round++) {
      removed += (await raceRound(new Rng(SEED + round), round)).removed;
    }
    assert.ok(removed > 0, "the rounds did collect garbage");
  });
});
