/**
 * `Scrubber`: one pass finds rotten blocks on the (in-memory) disk and has them restored, at a
 * bounded rate, and stops promptly.
 */
import assert from "node:assert/strict";
import { AbortedError, InvalidArgumentError, IoError } from "../../../src/errors.ts";
import { MemoryFileSystem } from "../../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../../src/store/block_store.ts";
import { defaultPathTransform } from "../../../src/store/path_transform.ts";
import type { BlockStore, ReadOptions, StoreKey } from "../../../src/store/types.ts";
import { Scrubber } from "../../../src/node/durability/scrubber.ts";
import { RateLimiter } from "../../../src/util/rate_limiter.ts";
import { VirtualClock } from "../../sim/virtual_clock.ts";
import { randomBytes, testSeed } from "../../util/prng.ts";

const SEED = testSeed(0x5c2b);
const ROOT = "/s";

interface Fixture {
  readonly fs: MemoryFileSystem;
  readonly store: FsBlockStore;
  /** The blocks stored, by id text. */
  readonly blocks: Map<string, Uint8Array>;
}

/** A store holding `count` random blocks of `size` bytes and three keyed entries. */
async function fixture(count: number, size = 4096): Promise<Fixture> {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: ROOT, durability: "none" });
  const blocks = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const bytes = randomBytes(size, SEED + i);
    const id = await store.put(bytes);
    blocks.set(id.toString(), bytes);
  }
  for (const key of ["file:a", "name:b", "tomb:c"]) {
    await store.write(key, new TextEncoder().encode(key));
  }
  return { fs, store, blocks };
}

/** Flips the last byte of block `id`'s entry file, as bit rot on the disk would. */
async function rot(fs: MemoryFileSystem, id: string): Promise<void> {
  const path = `${ROOT}/data/${(await defaultPathTransform(id)).join("/")}`;
  const bytes = await fs.readFile(path);
  bytes[bytes.length - 1] ^= 0xff;
  const f = await fs.create(path);
  await f.write(bytes);
  await f.close();
}

/** A store that behaves as `inner` except for the methods in `over`. */
function wrap(inner: BlockStore, over: Partial<BlockStore>): BlockStore {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop in over) return (over as Record<PropertyKey, unknown>)[prop];
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Runs `clock` until `p` settles. The store's I/O and hashing are real promises, not timers, so
 * when no timer is due the loop yields a real macrotask instead of advancing virtual time.
 */
async function drive<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let settled = false;
  const watched = p.finally(() => (settled = true));
  watched.catch(() => {});
  for (let i = 0; i < 1_000_000 && !settled; i++) {
    if (clock.pending > 0) await clock.run({ maxEvents: 1 });
    else await new Promise((r) => setTimeout(r, 0));
  }
  if (!settled) throw new Error("drive: the promise did not settle");
  return await watched;
}

const macrotask = () => new Promise((r) => setTimeout(r, 0));

Deno.test("scrubber_finds_rotten_blocks_and_has_them_restored", async () => {
  const { fs, store, blocks } = await fixture(6);
  const ids = [...blocks.keys()];
  const bad = [ids[1], ids[4]];
  for (const id of bad) await rot(fs, id);
  const restored: string[] = [];
  const scrubber = new Scrubber({
    store,
    bytesPerSecond: Infinity,
    restore: async (id) => {
      restored.push(id.toString());
      // The node would fetch a verified copy from a peer; here the test kept one.
      await store.write(id, blocks.get(id.toString())!);
      return true;
    },
  });
  const r = await scrubber.runPass();
  assert.deepEqual(r, {
    scanned: 6,
    bytes: 6 * 4096,
    corrupt: 2,
    repaired: 2,
    failedRepairs: 0,
    errors: 0,
  });
  assert.deepEqual(restored.sort(), [...bad].sort());
  assert.equal(await store.quarantined(), 2, "the store took both bad copies out of service");
  for (const [id, bytes] of blocks) {
    assert.deepEqual(await store.readBytes(id), bytes, `block ${id} reads correctly afterwards`);
  }
  const again = await scrubber.runPass();
  assert.equal(again.corrupt, 0, "a second pass finds nothing");
  assert.equal(again.scanned, 6);
  const s = scrubber.stats();
  assert.equal(s.passes, 2);
  assert.equal(s.scanned, 12);
  assert.equal(s.corrupt, 2);
  assert.equal(s.repaired, 2);
  assert.equal(s.running, false);
  assert.equal(s.currentPass, undefined);
  assert.equal(typeof s.lastPassEndedAt, "number");
  // Keyed entries were neither counted nor touched.
  assert.deepEqual(await store.readBytes("file:a"), new TextEncoder().encode("file:a"));
  await store.close();
});

Deno.test("scrubber_counts_failed_restores_and_never_serves_the_bad_copy", async () => {
  const { fs, store, blocks } = await fixture(4);
  const ids = [...blocks.keys()];
  await rot(fs, ids[0]);
  await rot(fs, ids[2]);
  const logged: string[] = [];
  const scrubber = new Scrubber({
    store,
    bytesPerSecond: Infinity,
    // One restore finds no copy, the other fails outright.
    restore: (id) =>
      id.toString() === ids[0]
        ? Promise.resolve(false)
        : Promise.reject(new IoError("no peer answered")),
    log: (level, message) => logged.push(`${level}:${message}`),
  });
  const r = await scrubber.runPass();
  assert.equal(r.corrupt, 2);
  assert.equal(r.repaired, 0);
  assert.equal(r.failedRepairs, 2);
  assert.equal(r.scanned, 4);
  for (const id of [ids[0], ids[2]]) {
    await assert.rejects(store.readBytes(id), (err: Error) => err.name === "NotFoundError");
    assert.equal(await store.has(id), false, "quarantined: not served");
  }
  assert.ok(logged.filter((l) => l === "warn:scrub could not restore a block").length === 2);
  assert.equal(scrubber.stats().failedRepairs, 2);
  await store.close();
});

Deno.test("scrubber_pass_respects_the_rate", async () => {
  const clock = new VirtualClock();
  const { store } = await fixture(20, 10_000);
  const rate = 50_000; // bytes per second
  // The bucket holds one block: the pass over 200,000 bytes takes >= 190,000 / 50,000 s.
  const limiter = new RateLimiter({ bytesPerSecond: rate, burstBytes: 10_000, clock });
  const scrubber = new Scrubber({ store, limiter, clock, restore: () => Promise.resolve(false) });
  const r = await drive(clock, scrubber.runPass());
  assert.equal(r.bytes, 200_000);
  assert.ok(clock.now() >= 3800, `pass took ${clock.now()} virtual ms, under 3800`);
  assert.ok(clock.now() <= 3800 + 20, `pass took ${clock.now()} virtual ms, far over 3800`);
  assert.equal(scrubber.stats().lastPassEndedAt, clock.now());

  // The scrubber's own limiter, from bytesPerSecond (its bucket holds one second's worth).
  const clock2 = new VirtualClock();
  const own = new Scrubber({
    store,
    bytesPerSecond: 40_000,
    clock: clock2,
    restore: () => Promise.resolve(false),
  });
  await drive(clock2, own.runPass());
  assert.ok(clock2.now() >= ((200_000 - 40_000) / 40_000) * 1000, `took ${clock2.now()} ms`);
  await store.close();
});

Deno.test("scrubber_reuses_one_read_buffer", async () => {
  const { store } = await fixture(5);
  const buffers = new Set<Uint8Array | undefined>();
  const spy = wrap(store, {
    readBytes: (key: StoreKey, options?: ReadOptions) => {
      buffers.add(options?.into);
      return store.readBytes(key, options);
    },
  });
  const scrubber = new Scrubber({
    store: spy,
    bytesPerSecond: Infinity,
    restore: () => {
      throw new Error("nothing to restore");
    },
  });
  assert.equal((await scrubber.runPass()).scanned, 5);
  assert.equal(buffers.size, 1, "one buffer for every read");
  assert.ok([...buffers][0] instanceof Uint8Array);
  await store.close();
});

Deno.test("scrubber_skips_deleted_blocks_and_goes_on_after_read_errors", async () => {
  const { store, blocks } = await fixture(5);
  const ids = [...blocks.keys()];
  const gone = ids[1];
  const broken = ids[3];
  const spy = wrap(store, {
    list: async function* () {
      for await (const e of store.list()) {
        if (e.key === gone) await store.delete(e.id); // deleted between list and read
        yield e;
      }
    },
    readBytes: (key: StoreKey, options?: ReadOptions) =>
      String(key) === broken
        ? Promise.reject(new IoError("disk says no"))
        : store.readBytes(key, options),
  });
  const logged: Record<string, unknown>[] = [];
  const scrubber = new Scrubber({
    store: spy,
    bytesPerSecond: Infinity,
    restore: () => Promise.resolve(true),
    log: (_level, _message, fields) => logged.push(fields ?? {}),
  });
  const r = await scrubber.runPass();
  assert.equal(r.scanned, 3, "the deleted one is not counted, nor the unreadable one");
  assert.equal(r.errors, 1);
  assert.equal(r.corrupt, 0);
  assert.ok(logged.some((f) => f.block === broken), "the read error is logged with its block");
  await store.close();
});

Deno.test("scrubber_stop_mid_pass_waits_for_the_current_read_then_ends", async () => {
  const { store, blocks } = await fixture(10);
  let reads = 0;
  let release!: () => void;
  let entered!: () => void;
  const inRead = new Promise<void>((r) => (entered = r));
  const spy = wrap(store, {
    readBytes: async (key: StoreKey, options?: ReadOptions) => {
      reads++;
      if (reads === 3) {
        entered();
        await new Promise<void>((r) => (release = r));
      }
      return await store.readBytes(key, options);
    },
  });
  const scrubber = new Scrubber({
    store: spy,
    bytesPerSecond: Infinity,
    restore: () => Promise.resolve(true),
  });
  scrubber.start();
  assert.equal(scrubber.stats().running, true);
  await inRead;
  assert.deepEqual(scrubber.stats().currentPass, { scanned: 2, bytes: 2 * 4096 });
  let stopped = false;
  const stopping = scrubber.stop().then(() => (stopped = true));
  for (let i = 0; i < 5; i++) await macrotask();
  assert.equal(stopped, false, "stop() waits for the read under way");
  release();
  await stopping;
  assert.equal(reads, 3, "no read after stop()");
  const s = scrubber.stats();
  assert.equal(s.running, false);
  assert.equal(s.currentPass, undefined);
  assert.equal(s.passes, 0, "the interrupted pass is not counted as a pass");
  assert.ok(s.scanned >= 2 && s.scanned < blocks.size);
  // It can be used again after a stop.
  assert.equal((await scrubber.runPass()).scanned, blocks.size);
  await store.close();
});

Deno.test("scrubber_stop_aborts_a_run_pass_waiting_for_the_limiter", async () => {
  const clock = new VirtualClock();
  const { store } = await fixture(4, 1000);
  const scrubber = new Scrubber({
    store,
    limiter: new RateLimiter({ bytesPerSecond: 1, burstBytes: 1, clock }),
    clock,
    restore: () => Promise.resolve(true),
  });
  const pass = scrubber.runPass();
  const outcome = pass.then(() => "resolved", (err) => err);
  for (let i = 0; i < 20 && clock.pending === 0; i++) await macrotask();
  assert.equal(clock.pending, 1, "the pass waits for its bytes");
  await scrubber.stop();
  const err = await outcome;
  assert.ok(err instanceof AbortedError, `expected AbortedError, got ${err}`);
  assert.equal(clock.pending, 0, "no timer left behind");
  // A caller's own signal aborts a pass the same way.
  const ctl = new AbortController();
  const mine = scrubber.runPass(ctl.signal);
  ctl.abort();
  await assert.rejects(mine, AbortedError);
  await store.close();
});

Deno.test("scrubber_runs_passes_in_the_background_with_a_pause_between", async () => {
  const clock = new VirtualClock();
  const { store } = await fixture(3, 1000);
  const ends: number[] = [];
  const scrubber = new Scrubber({
    store,
    clock,
    bytesPerSecond: 1000,
    pauseBetweenPassesMs: 60_000,
    restore: () => Promise.resolve(true),
    log: (_l, message) => {
      if (message !== "scrub pass done") return;
      ends.push(clock.now());
      if (ends.length === 3) stopped = scrubber.stop(); // at once, before the next pass
    },
  });
  let stopped: Promise<void> | undefined;
  scrubber.start();
  scrubber.start(); // a second start is a no-op
  const threePasses = (async () => {
    while (stopped === undefined) await macrotask();
    await stopped;
  })();
  await drive(clock, threePasses);
  assert.equal(ends.length, 3);
  assert.equal(scrubber.stats().passes, 3);
  assert.equal(scrubber.stats().running, false);
  for (let i = 1; i < ends.length; i++) {
    // 3000 bytes at 1000 B/s with a 1000-byte bucket: 2 s of reading after each pause.
    assert.ok(ends[i] - ends[i - 1] >= 62_000, `passes ${ends[i] - ends[i - 1]} ms apart`);
  }
  assert.equal(scrubber.stats().scanned, 9);
  assert.equal(clock.pending, 0, "stop() cleared the pause timer");
  await store.close();
});

Deno.test("scrubber_rate_zero_turns_background_scrubbing_off", async () => {
  const { store } = await fixture(2);
  const scrubber = new Scrubber({ store, bytesPerSecond: 0, restore: () => Promise.resolve(true) });
  scrubber.start();
  assert.equal(scrubber.stats().running, false);
  await macrotask();
  assert.equal(scrubber.stats().passes, 0);
  assert.equal((await scrubber.runPass()).scanned, 2, "an explicit pass still runs");
  await scrubber.stop();
  await store.close();
});

Deno.test("scrubber_refuses_bad_options", async () => {
  const { store } = await fixture(0);
  const restore = () => Promise.resolve(true);
  for (const bytesPerSecond of [-1, NaN]) {
    assert.throws(() => new Scrubber({ store, restore, bytesPerSecond }), InvalidArgumentError);
  }
  for (const pauseBetweenPassesMs of [-1, Infinity]) {
    assert.throws(
      () => new Scrubber({ store, restore, pauseBetweenPassesMs }),
      InvalidArgumentError,
    );
  }
  await store.close();
});
