/**
 * Repair pushes refused as corrupt (issue 12): a repair reads the local copy of each block
 * without hashing it and lets the receiving `blocks/2` node's check on arrival be the one hash
 * pass. A copy that rotted here is refused by the target, checked here, quarantined, and the
 * repair of that file fails with a typed error (nothing corrupt is stored at the target); a
 * target that falsely refuses repair pushes cannot make the repairer drop its good copies, and
 * the checks it causes stay within the bad-block rates; a block the repair fetched (verified)
 * from another holder because the local copy was missing is not blamed on a local copy when
 * the target refuses it; and a copy found rotten is brought back from another holder, so the
 * next repair completes.
 *
 * Real nodes on the in-memory network (the peer layer verifies pushes on arrival); the repair
 * loop runs only when a test asks for a pass.
 */
import assert from "node:assert/strict";
import { type Cluster, randomBytes, readAll, startCluster } from "../cluster.ts";
import { ContentId } from "../../../src/id/content_id.ts";
import { IoError } from "../../../src/errors.ts";
import { PushSourceCorruptError } from "../../../src/node/errors.ts";
import type { Node } from "../../../src/node/node.ts";
import { compareDistance, xorDistance } from "../../../src/node/placement.ts";
import { MemoryFileSystem } from "../../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../../src/store/block_store.ts";
import { CorruptBlockError } from "../../../src/store/errors.ts";
import type {
  BlockStore,
  ReadOptions,
  StoreInput,
  StoreKey,
  WriteOptions,
} from "../../../src/store/types.ts";
import { fromHex } from "../../../src/util/hex.ts";
import type { Logger } from "../../../src/util/log.ts";
import { rotEntryOnDisk, rotOnFirstUnhashedRead, type RottingStore } from "../../util/rot_entry.ts";
import { testSeed, withSeed } from "../../util/prng.ts";

const BS = 1024;
const SEED = testSeed(0x4e9a1);

/** The per-peer bad-block rates of a node (`BadBlockReports`' defaults). */
const PER_PEER_BURST = 8;
const PER_PEER_PER_SECOND = 1;

/** One event, in the order it happened across the whole cluster. */
type Event =
  | { kind: "read"; node: number; key: string; verify: boolean }
  | { kind: "refused"; node: number; key: string };

/** `store` (of node `node`) with every readBytes recorded in `events`. */
function recording(store: BlockStore, node: number, events: Event[]): BlockStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "readBytes") {
        return (key: StoreKey, options?: ReadOptions) => {
          events.push({
            kind: "read",
            node,
            key: key.toString(),
            verify: options?.verify !== false,
          });
          return target.readBytes(key, options);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/**
 * How a target's store takes content-addressed writes: `io` refuses them all as a broken disk
 * would (so a put leaves a file below its target without anything corrupt involved), `lie`
 * refuses those `lies` picks as corrupt whatever the bytes (a receiver that lies), `ok` stores.
 */
type Mode = "io" | "lie" | "ok";

function target(
  store: BlockStore,
  node: number,
  mode: () => Mode,
  lies: (key: string) => boolean,
  events: Event[],
): BlockStore {
  return new Proxy(store, {
    get(t, prop) {
      if (prop === "write") {
        return (key: StoreKey, data: StoreInput, options?: WriteOptions) => {
          const text = key.toString();
          if (ContentId.tryParse(text)) {
            if (mode() === "io") return Promise.reject(new IoError("disk refuses writes"));
            if (mode() === "lie" && lies(text)) {
              events.push({ kind: "refused", node, key: text });
              return Promise.reject(
                new CorruptBlockError({ key: text, expected: "x", actual: "y" }),
              );
            }
          }
          return t.write(key, data, options);
        };
      }
      const v = Reflect.get(t, prop, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

/** Upkeep only when asked; a file below its target is due 1 ms after a check first sees it. */
const UPKEEP = {
  repair: false,
  repairGraceMs: 1,
  scrubBytesPerSecond: 0,
  gcIntervalMs: 3_600_000,
};

/** Two repair passes on `node`: the first sees the file below target, the second repairs it. */
async function repairNow(node: Node): Promise<void> {
  await node.runUpkeep("repair");
  await new Promise((r) => setTimeout(r, 5));
  await node.runUpkeep("repair");
}

interface Setup {
  c: Cluster;
  /** Each node's store, under the test's wrappers. */
  stores: FsBlockStore[];
  fss: MemoryFileSystem[];
  events: Event[];
  logs: { node: number; message: string; fields?: Record<string, unknown> }[];
  setMode(m: Mode): void;
}

/**
 * `n` nodes; node `targetIndex` is the target (its store takes writes per the mode, `io` at
 * first), the others record their reads.
 */
async function setup(
  n: number,
  targetIndex: number,
  lies: (key: string) => boolean,
  before?: (i: number, store: FsBlockStore, fs: MemoryFileSystem) => BlockStore,
  upkeep: Record<string, number> = {},
): Promise<Setup> {
  const events: Event[] = [];
  const logs: Setup["logs"] = [];
  const stores: FsBlockStore[] = [];
  const fss: MemoryFileSystem[] = [];
  const wrapped: BlockStore[] = [];
  for (let i = 0; i < n; i++) {
    fss[i] = new MemoryFileSystem();
    stores[i] = await FsBlockStore.open({ fs: fss[i], root: `/n${i}/blocks`, durability: "none" });
    const inner = before ? before(i, stores[i], fss[i]) : stores[i];
    wrapped[i] = i === targetIndex
      ? target(inner, i, () => mode, lies, events)
      : recording(inner, i, events);
  }
  let mode: Mode = "io";
  const c = await startCluster(n, {
    common: { replication: 2, upkeep: { ...UPKEEP, ...upkeep } },
    each: (i) => ({
      store: wrapped[i],
      log: ((_level, message, fields) => logs.push({ node: i, message, fields })) as Logger,
    }),
  });
  await c.settle();
  return { c, stores, fss, events, logs, setMode: (m) => (mode = m) };
}

/** Every entry `store` holds reads back verified (a corrupt one rejects). */
async function allVerify(store: BlockStore): Promise<number> {
  let n = 0;
  for await (const e of store.list()) {
    await store.readBytes(e.key);
    n++;
  }
  return n;
}

/** `store`, whose reads of the keys `withheld` names fail (a disk away for a while). */
function withholding(store: BlockStore, withheld: (key: string) => boolean): BlockStore {
  return new Proxy(store, {
    get(t, prop) {
      if (prop === "readBytes") {
        return (key: StoreKey, options?: ReadOptions) =>
          withheld(key.toString())
            ? Promise.reject(new IoError("this disk is away for a while"))
            : t.readBytes(key, options);
      }
      const v = Reflect.get(t, prop, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

/**
 * Puts a file on node 0 of a 3-node setup whose target (node 1) refuses it: nodes 0 and 2 hold
 * it. `chosen` is the one of them closer to the file, which repairs it.
 */
async function putOnTwoHolders(s: Setup, seed: number) {
  const data = randomBytes(5 * BS + 9, seed);
  const put = await s.c.nodes[0].put(data, { encrypt: false, copies: 3 });
  assert.equal(put.copies, 2);
  const fileId = ContentId.parse(put.id);
  const distance = (i: number) => xorDistance(fromHex(s.c.nodes[i].nodeId)!, fileId.digest);
  const chosen = [0, 2].sort((x, y) => compareDistance(distance(x), distance(y)))[0];
  return { data, put, fileId, chosen };
}

/**
 * Lets the target take writes and runs two repair passes on node `chosen`: the first sees the
 * file below target; `arm` runs between them (so a copy rots only in the second, the repair).
 */
async function repairArmed(s: Setup, chosen: number, arm: () => void): Promise<void> {
  s.setMode("ok");
  await s.c.nodes[chosen].runUpkeep("repair");
  await new Promise((r) => setTimeout(r, 5));
  arm();
  await s.c.nodes[chosen].runUpkeep("repair");
}

Deno.test("a_repair_whose_local_copy_rotted_is_refused_quarantined_and_fails_typed", async () => {
  await withSeed(SEED, async () => {
    // Node 0 holds the file alone; the first block it reads unhashed after `armed` rots on disk
    // just before the read (bit rot between the put and the repair).
    let armed = false;
    let rotting: RottingStore<FsBlockStore> | undefined;
    const s = await setup(2, 1, () => false, (i, store, fs) => {
      if (i !== 0) return store;
      rotting = rotOnFirstUnhashedRead(store, fs, store.root, () => armed);
      return rotting.store;
    });
    try {
      const [a, b] = s.c.nodes;
      const data = randomBytes(6 * BS + 10, SEED);
      const put = await a.put(data, { encrypt: false, copies: 2 });
      assert.equal(put.copies, 1, "the target's disk refused the put's copy");
      s.setMode("ok");
      armed = true;
      const start = s.events.length;
      await repairNow(a);

      const rotted = rotting?.rotted();
      assert.ok(rotted !== undefined, "the repair read a block unhashed");
      const repair = (await a.status()).upkeep!.repair;
      assert.equal(repair.failed, 1, JSON.stringify(repair));
      assert.equal(repair.repaired, 0);
      const failed = s.logs.filter((l) => l.node === 0 && l.message === "repair failed");
      assert.equal(failed.length, 1, JSON.stringify(s.logs.map((l) => l.message)));
      // The repairer logs the error's name and message (`PushSourceCorruptError` is the one
      // a rotten push source fails with).
      assert.equal(
        failed[0].fields?.error,
        String(new PushSourceCorruptError(rotted)),
        JSON.stringify(failed[0].fields),
      );
      // Read unhashed to push it, refused, then checked here (a verified read) and quarantined.
      const own = s.events.slice(start).filter((e) =>
        e.kind === "read" && e.node === 0 && e.key === rotted
      ).map((e) => e.kind === "read" && e.verify);
      // (A restore from another holder may read it after: there is none to restore it from.)
      assert.deepEqual(own.slice(0, 2), [false, true], "one unhashed read, then one check");
      assert.equal((await a.status()).quarantined, 1);
      assert.equal(await s.stores[0].has(ContentId.parse(rotted)), false, "out of service");
      // Nothing corrupt at the target: it does not hold the block nor the file, and every
      // entry it holds verifies.
      assert.equal(await s.stores[1].has(ContentId.parse(rotted)), false);
      assert.equal(await s.stores[1].has(ContentId.parse(put.id)), false, "no root: no file");
      assert.equal((await b.status()).quarantined, 0);
      await allVerify(s.stores[1]);
      assert.ok(!(await b.list()).some((f) => f.id === put.id));
    } finally {
      await s.c.close();
    }
  });
});

Deno.test("a_target_that_falsely_refuses_repair_pushes_cannot_make_the_repairer_drop_its_copies", async () => {
  await withSeed(SEED + 1, async () => {
    const s = await setup(2, 1, () => true);
    try {
      const [a] = s.c.nodes;
      const files: { id: string; data: Uint8Array }[] = [];
      for (let i = 0; i < 4; i++) {
        const data = randomBytes(5 * BS + 7, SEED + 10 + i);
        const put = await a.put(data, { encrypt: false, copies: 2 });
        assert.equal(put.copies, 1);
        files.push({ id: put.id, data });
      }
      const fileIds = new Set(files.map((f) => f.id));
      s.setMode("lie");
      await a.runUpkeep("repair"); // sees them below target
      await new Promise((r) => setTimeout(r, 5));
      // At least three repair passes, and more until the liar refused well over what the
      // per-peer rate allows over the time they took (bounded in passes and time).
      const start = s.events.length;
      const began = Date.now();
      const bound = () => PER_PEER_BURST + PER_PEER_PER_SECOND * (Date.now() - began) / 1000;
      const refused = () => s.events.slice(start).filter((e) => e.kind === "refused");
      let passes = 0;
      while (
        passes < 3 ||
        (passes < 30 && Date.now() - began < 20_000 && refused().length < bound() + 8)
      ) {
        await a.runUpkeep("repair");
        passes++;
      }
      const elapsed = Date.now() - began;
      const limit = PER_PEER_BURST + PER_PEER_PER_SECOND * elapsed / 1000;
      const keys = new Set(refused().map((e) => e.key));
      assert.ok(refused().length > limit + 4, `${refused().length} refusals in ${passes} passes`);
      // Only blocks were refused (the root goes last, to a target that took everything else).
      for (const k of keys) assert.ok(!fileIds.has(k));
      // The checks: verified reads here of blocks the liar refused (a repair reads the blocks
      // it pushes unhashed; only the check of a refused copy reads them verified).
      const checks = s.events.slice(start).filter((e) =>
        e.kind === "read" && e.node === 0 && e.verify && keys.has(e.key)
      ).length;
      assert.ok(checks >= 1, "a refused copy is checked");
      assert.ok(
        checks <= limit,
        `${checks} checks for ${refused().length} refusals in ${elapsed} ms`,
      );
      // Nothing dropped, no repair failed on the liar's word, nothing stored at the liar.
      const status = await a.status();
      assert.equal(status.quarantined, 0);
      assert.equal(status.upkeep!.repair.failed, 0, JSON.stringify(status.upkeep));
      assert.equal(status.upkeep!.repair.repaired, 0);
      for (const k of keys) {
        assert.equal(await s.stores[0].has(ContentId.parse(k)), true);
      }
      for (const f of files) {
        assert.deepEqual(await readAll((await a.get(f.id)).stream), f.data);
      }
      assert.equal(await allVerify(s.stores[1]), 0);
    } finally {
      await s.c.close();
    }
  });
});

Deno.test("a_repair_block_fetched_from_another_holder_and_refused_puts_no_local_copy_under_suspicion", async () => {
  await withSeed(SEED + 2, async () => {
    // Node 1 is the target; nodes 0 and 2 hold the file. The repairer (the holder closest to
    // the file) lacks one block, fetches it verified from the other holder and pushes it; the
    // target refuses that block (and only it) as corrupt.
    let absent = "";
    const s = await setup(3, 1, (k) => k === absent);
    try {
      const [putter] = s.c.nodes;
      const data = randomBytes(5 * BS + 1, SEED + 2);
      const put = await putter.put(data, { encrypt: false, copies: 3 });
      assert.equal(put.copies, 2, "the target's disk refused the put's copy");
      const fileId = ContentId.parse(put.id);
      const holders = [0, 2];
      for (const i of holders) assert.ok(await s.stores[i].has(fileId), `node ${i} holds it`);
      const distance = (i: number) => xorDistance(fromHex(s.c.nodes[i].nodeId)!, fileId.digest);
      const leader = holders.sort((x, y) => compareDistance(distance(x), distance(y)))[0];
      const blocks: string[] = [];
      for await (const e of s.stores[leader].list()) {
        const id = ContentId.tryParse(e.key.toString());
        if (id && !id.equals(fileId)) blocks.push(id.toString());
      }
      assert.ok(blocks.length >= 5, `${blocks.length} blocks under the root`);
      absent = blocks[0];
      assert.equal(await s.stores[leader].delete(ContentId.parse(absent)), true);
      s.setMode("lie");
      const start = s.events.length;
      await repairNow(s.c.nodes[leader]);

      const events = s.events.slice(start);
      const refusal = events.findIndex((e) => e.kind === "refused" && e.key === absent);
      assert.ok(refusal >= 0, "the target refused the fetched block");
      // The repair tried the local copy first (unhashed: absent), then fetched it verified.
      const before = events.slice(0, refusal).filter((e) =>
        e.kind === "read" && e.node === leader && e.key === absent
      );
      assert.ok(before.some((e) => e.kind === "read" && !e.verify), JSON.stringify(before));
      // No check of a local copy after the refusal: the bytes sent were verified here.
      const after = events.slice(refusal).filter((e) =>
        e.kind === "read" && e.node === leader && e.key === absent && e.verify
      );
      assert.deepEqual(after, [], "a fetched block refused puts no local copy under suspicion");
      // The target failed; the repair did not fail as if a local copy were rotten.
      const status = await s.c.nodes[leader].status();
      assert.equal(status.upkeep!.repair.failed, 0, JSON.stringify(status.upkeep));
      assert.equal(status.upkeep!.repair.repaired, 0);
      assert.equal(status.quarantined, 0);
      assert.deepEqual(
        s.logs.filter((l) => l.node === leader && l.message === "repair failed"),
        [],
      );
      assert.equal(await s.stores[1].has(fileId), false, "the target did not get the file");
      assert.deepEqual(await readAll((await s.c.nodes[leader].get(put.id)).stream), data);
    } finally {
      await s.c.close();
    }
  });
});

Deno.test("a_copy_a_refused_repair_push_found_rotten_is_restored_from_another_holder", async () => {
  await withSeed(SEED + 3, async () => {
    // Nodes 0 and 2 hold the file, node 1 (the target) lost it. The repairer's copy of the
    // first block it pushes rots just before the read: the target refuses it, the check
    // quarantines it, this repair fails; the copy is then brought back from the other holder,
    // and the next repair completes the file at the target.
    let leader = -1;
    const rotting: RottingStore<FsBlockStore>[] = [];
    const s = await setup(3, 1, () => false, (i, store, fs) => {
      if (i === 1) return store;
      const r = rotOnFirstUnhashedRead(store, fs, store.root, () => i === leader);
      rotting.push(r);
      return r.store;
    });
    try {
      const { data, put, fileId, chosen } = await putOnTwoHolders(s, SEED + 3);
      const node = s.c.nodes[chosen];
      await repairArmed(s, chosen, () => leader = chosen);
      const rotted = rotting.map((r) => r.rotted()).find((k) => k !== undefined);
      assert.ok(rotted !== undefined);
      const block = ContentId.parse(rotted);
      assert.equal((await node.status()).upkeep!.repair.failed, 1);
      assert.equal((await node.status()).quarantined, 1);
      // Brought back (in the background) from the other holder, verified.
      const deadline = Date.now() + 10_000;
      while (!(await s.stores[chosen].has(block)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await s.stores[chosen].has(block), true, "the rotten copy was restored");
      await s.stores[chosen].readBytes(block); // verified
      // The next repair pushes the file whole to the target.
      await node.runUpkeep("repair");
      const status = await node.status();
      assert.equal(status.upkeep!.repair.repaired, 1, JSON.stringify(status.upkeep));
      assert.equal(await s.stores[1].has(fileId), true);
      assert.deepEqual(await readAll((await s.c.nodes[1].get(put.id)).stream), data);
    } finally {
      await s.c.close();
    }
  });
});

Deno.test("a_rotten_copy_with_no_good_copy_reachable_is_restored_by_a_later_try", async () => {
  await withSeed(SEED + 4, async () => {
    // As above, but the other holder cannot serve the block at first (its reads of it fail):
    // the first restore finds no good copy; a later try (after 40 ms, then 80...) restores it
    // once the other holder serves it again.
    let leader = -1;
    let other = -1;
    const rotting: RottingStore<FsBlockStore>[] = [];
    const rotted = () => rotting.map((r) => r.rotted()).find((k) => k !== undefined);
    let withheld = true;
    const s = await setup(3, 1, () => false, (i, store, fs) => {
      if (i === 1) return store;
      const r = rotOnFirstUnhashedRead(store, fs, store.root, () => i === leader);
      rotting.push(r);
      return withholding(r.store, (key) => i === other && withheld && key === rotted());
    }, { restoreRetryMs: 40 });
    try {
      const { chosen } = await putOnTwoHolders(s, SEED + 4);
      other = 2 - chosen;
      const node = s.c.nodes[chosen];
      await repairArmed(s, chosen, () => leader = chosen);
      const key = rotted();
      assert.ok(key !== undefined, "a block rotted before its push");
      const block = ContentId.parse(key);
      assert.equal((await node.status()).quarantined, 1);
      const failed = () =>
        s.logs.filter((l) => l.node === chosen && l.message.includes("could not restore"));
      const until = async (ok: () => Promise<boolean> | boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!(await ok())) {
          assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await until(() => failed().length >= 1, "a restore that finds no good copy");
      assert.equal(await s.stores[chosen].has(block), false);
      withheld = false;
      await until(() => s.stores[chosen].has(block), "a later try to restore the copy");
      await s.stores[chosen].readBytes(block); // verified
      assert.ok(
        s.logs.some((l) => l.node === chosen && l.message === "recheck: restored a corrupt block"),
      );
      assert.equal(
        s.logs.filter((l) => l.message.includes("gave up restoring")).length,
        0,
        "no try was given up",
      );
    } finally {
      await s.c.close();
    }
  });
});

Deno.test("a_rotten_copy_the_scrubber_could_not_restore_is_restored_by_a_later_try", async () => {
  await withSeed(SEED + 5, async () => {
    // Nodes 0 and 2 hold the file. A block of node 0 rots on disk while node 2 cannot serve
    // it (its reads of it fail): the scrub finds it, quarantines it, cannot restore it; a later
    // try restores it once node 2 serves it again.
    let withheld: string | undefined;
    const s = await setup(
      3,
      1,
      () => false,
      (i, store) => i !== 2 ? store : withholding(store, (key) => key === withheld),
      { restoreRetryMs: 40 },
    );
    try {
      const data = randomBytes(5 * BS + 9, SEED + 5);
      const put = await s.c.nodes[0].put(data, { encrypt: false, copies: 3 });
      assert.equal(put.copies, 2);
      assert.equal(await s.stores[2].has(ContentId.parse(put.id)), true);
      let key: string | undefined;
      for await (const e of s.stores[0].list()) {
        const k = e.key.toString();
        if (k !== put.id && !k.includes(":")) key = k; // a block (not the root, not a record)
      }
      assert.ok(key !== undefined);
      const block = ContentId.parse(key);
      const bytes = await s.stores[0].readBytes(block);
      withheld = key;
      await rotEntryOnDisk(s.fss[0], s.stores[0].root, bytes);
      const scrub = await s.c.nodes[0].runUpkeep("scrub");
      assert.equal(await s.stores[0].has(block), false, JSON.stringify(scrub));
      assert.ok(
        s.logs.some((l) => l.node === 0 && l.message.includes("could not restore")),
        "the scrub's restore found no good copy",
      );
      withheld = undefined;
      const deadline = Date.now() + 10_000;
      while (!(await s.stores[0].has(block))) {
        assert.ok(Date.now() < deadline, "timed out waiting for a later try");
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(await s.stores[0].readBytes(block), bytes);
    } finally {
      await s.c.close();
    }
  });
});
