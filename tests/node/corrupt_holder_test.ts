/**
 * A holder whose own copy of a block rotted on disk (real peer layer, in-memory network): a
 * reader that asks it first still gets the right bytes (from the other holder), the holder
 * quarantines the entry (`status().quarantined`), and the reader counts the holder under
 * `corruptHolders`, not `badBlocks`. B sends whole blocks to C unverified (both announce
 * `blocks/2`): C's hash catches the rotten one and reports it (BAD_BLOCK); B verifies its copy,
 * quarantines it and confirms, so C counts B as a holder with a rotten disk, not a liar.
 */
import assert from "node:assert/strict";
import { randomBytes, readAll, startCluster } from "./cluster.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import type { FileSystem } from "../../src/runtime/types.ts";
import type { ReadOptions, StoreKey } from "../../src/store/types.ts";
import { testSeed, withSeed } from "../util/prng.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { BlockFetcher } from "../../src/node/fetcher.ts";
import { PeerRemoteError } from "../../src/peer/errors.ts";
import { WireErrorCode } from "../../src/wire/messages.ts";
import { FakePeer, MemStore } from "./fakes.ts";

const BS = 1024;
const SEED = testSeed(99);

/** Every regular file under `dir` (bounded depth), with its size. */
async function filesUnder(fs: FileSystem, dir: string, depth = 0) {
  const out: { path: string; size: number }[] = [];
  if (depth > 8) return out;
  for await (const e of fs.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(fs, path, depth + 1));
    else if (e.isFile) out.push({ path, size: e.size });
  }
  return out;
}

/** Flips one bit near the end of a file (in the entry's bytes, past its header). */
async function flipByte(fs: FileSystem, path: string): Promise<void> {
  const bytes = await fs.readFile(path);
  bytes[bytes.length - 10] ^= 0x01;
  const f = await fs.create(path);
  try {
    await f.write(bytes);
  } finally {
    await f.close();
  }
}

Deno.test("rotten_copy_on_a_holder_is_quarantined_reported_and_the_read_uses_the_good_copy", async () => {
  await withSeed(SEED, async () => {
    const fs = new MemoryFileSystem();
    const holderStore = await FsBlockStore.open({ fs, root: "/b/blocks", durability: "none" });
    // B's reads that skipped the hash (whole blocks sent to a verifying peer, `blocks/2`).
    let unverified = 0;
    const recorded = new Proxy(holderStore, {
      get(target, prop) {
        if (prop === "readBytes") {
          return (key: StoreKey, options?: ReadOptions) => {
            if (options?.verify === false) unverified++;
            return target.readBytes(key, options);
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    // Node 0 (A) puts; node 1 (B) is the second holder, its disk is `fs`.
    const c = await startCluster(2, {
      common: { replication: 2 },
      each: (i) => (i === 1 ? { store: recorded } : {}),
    });
    try {
      await c.settle();
      const [a, b] = c.nodes;
      const data = randomBytes(8 * BS + 100, SEED);
      const put = await a.put(data, { encrypt: false, copies: 2 });
      assert.equal(put.copies, 2);
      assert.equal(await b.has(put.id), true);

      // One full data block on B's disk gets a flipped bit.
      const entries = await filesUnder(fs, `${holderStore.root}/data`);
      const full = entries.filter((e) => e.size > BS && e.size < BS + 512);
      assert.equal(full.length, 8, JSON.stringify(entries));
      await flipByte(fs, full[3].path);

      // C asks B first for every block, so the read must meet B's rotten copy.
      const reader = await c.add({ preferPeers: [b.nodeId] });
      await c.settle(2);
      for (let i = 0; i < 3; i++) {
        const got = await reader.get(put.id);
        assert.deepEqual(await readAll(got.stream), data, `get ${i}`);
      }

      // B sent its copies unhashed; C's hash caught the rotten one, C reported it (BAD_BLOCK),
      // B verified and quarantined it, and C took the block from A. B then brought a good copy
      // back from A (in the background).
      assert.ok(unverified >= 8, `B served ${unverified} blocks unverified`);
      const deadline = Date.now() + 10_000;
      while ((await b.status()).store.count < entries.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const holderStatus = await b.status();
      assert.equal(holderStatus.quarantined, 1, "B quarantined its rotten entry");
      assert.equal(holderStatus.store.count, entries.length, "and restored a good copy");
      for await (const e of holderStore.list()) await holderStore.readBytes(e.key); // verified
      assert.equal((await a.status()).quarantined, 0);
      const readerStatus = await reader.status();
      assert.deepEqual(readerStatus.corruptHolders, { [b.nodeId]: 1 }, "reported once");
      assert.deepEqual(readerStatus.badBlocks, {}, "B never sent the bad bytes");
      assert.equal(readerStatus.quarantined, 0);
    } finally {
      await c.close();
    }
  });
});

/** A holder whose copies of `rotten` blocks fail its own verification: refused once, then gone. */
class RottenHolder extends FakePeer {
  readonly rotten = new Set<string>();
  override async getBlock(id: ContentId): Promise<Uint8Array> {
    if (this.rotten.delete(id.toString())) {
      this.gets++;
      await this.store.delete(id); // quarantined: no longer held
      throw new PeerRemoteError(WireErrorCode.CORRUPT, `block ${id} failed verification`);
    }
    return await super.getBlock(id);
  }
}

Deno.test("fetcher_asks_preferred_peers_first_and_reports_a_holder_refusing_its_rotten_copy", async () => {
  const good = new FakePeer("aa");
  const rotten = new RottenHolder("bb");
  const blocks = await Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      const bytes = new TextEncoder().encode(`block ${i}`);
      return { id: await ContentId.of(bytes), bytes };
    }),
  );
  for (const { id, bytes } of blocks) {
    await good.store.write(id, bytes);
    await rotten.store.write(id, bytes);
  }
  rotten.rotten.add(blocks[1].id.toString());
  const corrupt: string[] = [];
  const bad: string[] = [];
  const f = new BlockFetcher({
    store: new MemStore(),
    peers: () => [good, rotten],
    timeoutMs: 1000,
    prefer: [rotten.nodeId],
    onCorruptHolder: (peer, block) => corrupt.push(`${peer} ${block}`),
    onBadBlock: (peer) => bad.push(peer),
  });
  for (const { id, bytes } of blocks) assert.deepEqual(await f.getBlock(id), bytes);
  assert.deepEqual(corrupt, [`bb ${blocks[1].id}`]);
  assert.deepEqual(bad, []);
  assert.equal(rotten.gets, 4, "asked first for every block, still a holder after refusing one");
  assert.equal(good.gets, 1, "only the rotten block came from the other holder");
});
