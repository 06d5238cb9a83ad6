/**
 * Pushes without the sender's re-verify (issue 12): replication reads each block without hashing
 * it and lets the receiving `blocks/2` node's check on arrival be the one hash pass. A copy that
 * rotted here is refused by the receiver, checked here, quarantined, and the push fails with a
 * typed error (nothing corrupt is stored anywhere); a receiver that falsely refuses good blocks
 * cannot make the pusher drop them, and the checks it causes stay within the bad-block rates.
 */
import assert from "node:assert/strict";
import { randomBytes, startCluster } from "./cluster.ts";
import { FakePeer, MemStore } from "./fakes.ts";
import type { ContentId } from "../../src/id/content_id.ts";
import { BadBlockReports, recheckCopy } from "../../src/node/bad_block_reports.ts";
import { PushSourceCorruptError } from "../../src/node/errors.ts";
import { replicateFile } from "../../src/node/replicator.ts";
import type { PushOptions } from "../../src/node/remote.ts";
import { PeerPushCorruptError } from "../../src/peer/errors.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { CorruptBlockError } from "../../src/store/errors.ts";
import type { BlockStore, ReadOptions, StoreInput, StoreKey } from "../../src/store/types.ts";
import { rotOnFirstUnhashedRead } from "../util/rot_entry.ts";
import { testSeed, withSeed } from "../util/prng.ts";

const BS = 1024;
const SEED = testSeed(0x9055);

/** `store` with every readBytes recorded (key, whether it verified). */
function recording(store: BlockStore, reads: { key: string; verify: boolean }[]): BlockStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "readBytes") {
        return (key: StoreKey, options?: ReadOptions) => {
          reads.push({ key: key.toString(), verify: options?.verify !== false });
          return target.readBytes(key, options);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

Deno.test("a_copy_that_rotted_before_its_push_is_refused_quarantined_and_the_put_fails_typed", async () => {
  await withSeed(SEED, async () => {
    const fs = new MemoryFileSystem();
    const store = await FsBlockStore.open({ fs, root: "/a/blocks", durability: "none" });
    const reads: { key: string; verify: boolean }[] = [];
    // The first block read to be pushed rots on disk just before it is read (bit rot between the
    // put's write and replication).
    const rotting = rotOnFirstUnhashedRead(recording(store, reads), fs, store.root);
    const storeB = await FsBlockStore.open({
      fs: new MemoryFileSystem(),
      root: "/b/blocks",
      durability: "none",
    });
    const c = await startCluster(2, {
      common: { replication: 1 },
      each: (i) => ({ store: i === 0 ? rotting.store : storeB }),
    });
    try {
      await c.settle();
      const [a, b] = c.nodes;
      const data = randomBytes(6 * BS + 10, SEED);
      const err = await a.put(data, { encrypt: false, copies: 2 }).then(() => null, (e) => e);
      assert.ok(err instanceof PushSourceCorruptError, `put rejected with ${err}`);
      assert.equal(err.code, "PUSH_SOURCE_CORRUPT");
      const rotted = rotting.rotted();
      assert.ok(rotted !== undefined);
      assert.equal(err.block, rotted);
      assert.ok(err.cause instanceof PeerPushCorruptError && err.cause.byPeer, `${err.cause}`);
      // The pusher read it unverified, was told, verified it (the check) and quarantined it.
      const own = reads.filter((r) => r.key === rotted).map((r) => r.verify);
      assert.ok(own.includes(false) && own.includes(true), JSON.stringify(own));
      assert.equal((await a.status()).quarantined, 1);
      assert.equal(await store.has(rotted), false, "out of service");
      // The receiver refused it: it does not hold it, and every entry it holds verifies.
      assert.equal((await b.status()).quarantined, 0);
      assert.equal(await storeB.has(rotted), false);
      for await (const e of storeB.list()) {
        await storeB.readBytes(e.key); // verified: rejects on a corrupt entry
      }
      assert.equal((await b.status()).files ?? 0, 0, "no file completes at the receiver");
    } finally {
      await c.close();
    }
  });
});

/** A store that refuses every content-addressed write as corrupt: a receiver that lies. */
function lying(store: BlockStore, refused: Set<string>): BlockStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "write") {
        return (key: StoreKey, _data: StoreInput) => {
          refused.add(key.toString());
          return Promise.reject(
            new CorruptBlockError({ key: key.toString(), expected: "x", actual: "y" }),
          );
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

Deno.test("a_receiver_that_falsely_refuses_pushes_as_corrupt_cannot_make_the_pusher_drop_its_copies", async () => {
  await withSeed(SEED, async () => {
    const reads: { key: string; verify: boolean }[] = [];
    const refused = new Set<string>();
    const c = await startCluster(2, {
      common: { replication: 1 },
      each: (i) => ({
        wrapStore: (s: BlockStore) => i === 0 ? recording(s, reads) : lying(s, refused),
      }),
    });
    try {
      await c.settle();
      const [a] = c.nodes;
      const files: { id: string; data: Uint8Array }[] = [];
      for (let i = 0; i < 3; i++) {
        const data = randomBytes(4 * BS + 3, SEED + i);
        const put = await a.put(data, { encrypt: false, copies: 2 });
        assert.equal(put.copies, 1, "the liar's copy does not count");
        files.push({ id: put.id, data });
      }
      assert.ok(refused.size >= 3, `${refused.size} pushes refused`);
      // Each refused block was read unverified to push it, and verified here after the refusal.
      const checked = [...refused].filter((k) =>
        reads.some((r) => r.key === k && !r.verify) && reads.some((r) => r.key === k && r.verify)
      );
      assert.ok(checked.length >= 3, `checked ${checked.length} of ${refused.size}`);
      // Nothing was dropped: every file reads back whole here.
      assert.equal((await a.status()).quarantined, 0);
      for (const f of files) {
        const got = await a.get(f.id);
        const chunks: Uint8Array[] = [];
        for await (const chunk of got.stream) chunks.push(chunk);
        assert.deepEqual(
          new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()),
          f.data,
        );
      }
    } finally {
      await c.close();
    }
  });
});

/** A target that refuses every unverified push as corrupt (a liar, as the connection reports it). */
class LyingPeer extends FakePeer {
  override async putBlock(id: ContentId, _bytes: Uint8Array): Promise<void> {
    this.puts++;
    await Promise.resolve();
    throw new PeerPushCorruptError(`peer refused ${id}`, true);
  }
}

Deno.test("checks_of_local_copies_caused_by_refused_pushes_stay_within_the_bad_block_rates", async () => {
  const store = new MemStore();
  const ids: ContentId[] = [];
  for (let i = 0; i < 4; i++) ids.push(await store.put(new TextEncoder().encode(`block ${i}`)));
  let verified = 0;
  const counted = new Proxy(store, {
    get(target, prop) {
      if (prop === "readBytes") {
        return (key: StoreKey, options?: ReadOptions) => {
          if (options?.verify !== false) verified++;
          return target.readBytes(key);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as BlockStore;
  let now = 5_000_000;
  const reports = new BadBlockReports({
    perPeerPerSecond: 1,
    perPeerBurst: 3,
    totalPerSecond: 100,
    totalBurst: 100,
    now: () => now,
  });
  const run = async () => {
    const liar = new LyingPeer("aa");
    const honest = new FakePeer("bb");
    const r = await replicateFile({
      fileId: ids[0],
      blockIds: async function* () {
        yield* ids;
      },
      readBlock: (id) => counted.readBytes(id),
      readUnverified: async (id) => ({
        bytes: await counted.readBytes(id, { verify: false }),
        verified: false,
      }),
      recheck: (id, from) => recheckCopy(counted, reports, id, from),
      targets: [liar, honest],
      concurrency: 1,
      timeoutMs: 1000,
    });
    assert.deepEqual(r.confirmed, [honest], "the honest target gets the file");
    assert.ok(r.outcomes[0].error instanceof PeerPushCorruptError);
    assert.equal(honest.store.map.size, ids.length);
  };
  for (let i = 0; i < 3; i++) await run();
  assert.equal(verified, 3, "one check of the local copy per refusal within the burst");
  for (let i = 0; i < 4; i++) await run();
  assert.equal(verified, 3, "refusals over the rate read nothing");
  now += 1000;
  await run();
  assert.equal(verified, 4, "one more check after a second");
  assert.equal(store.map.size, ids.length, "no copy dropped");
});

Deno.test("only_bytes_read_unhashed_go_out_unverified_and_only_they_have_the_local_copy_checked", async () => {
  const store = new MemStore();
  const ids: ContentId[] = [];
  for (let i = 0; i < 4; i++) ids.push(await store.put(new TextEncoder().encode(`b ${i}`)));
  // Blocks 1 and 3 are not held here: they come verified from elsewhere (as a repair fetches them).
  const elsewhere = new Set([ids[1].toString(), ids[3].toString()]);
  const seen = new Map<string, boolean>();
  class Recording extends FakePeer {
    override async putBlock(id: ContentId, bytes: Uint8Array, o?: PushOptions): Promise<void> {
      seen.set(id.toString(), o?.unverified === true);
      if (id.equals(ids[3])) throw new PeerPushCorruptError(`refused ${id}`, true);
      await super.putBlock(id, bytes, o);
    }
  }
  const checks: string[] = [];
  const target = new Recording("cc");
  const r = await replicateFile({
    fileId: ids[0],
    blockIds: async function* () {
      yield* ids;
    },
    readBlock: (id) => store.readBytes(id),
    readUnverified: async (id) => ({
      bytes: await store.readBytes(id),
      verified: elsewhere.has(id.toString()),
    }),
    recheck: (id) => (checks.push(id.toString()), Promise.resolve(true)),
    targets: [target],
    concurrency: 1,
    timeoutMs: 1000,
  });
  assert.deepEqual(
    [...seen.entries()].sort(),
    [[ids[1].toString(), false], [ids[2].toString(), true], [ids[3].toString(), false]].sort(),
  );
  assert.deepEqual(checks, [], "a refused block that was verified here is not blamed on a copy");
  assert.equal(r.outcomes[0].ok, false, "the refusing target fails");
});
