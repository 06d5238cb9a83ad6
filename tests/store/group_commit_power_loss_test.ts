/**
 * The store's group commit against power loss, on the in-memory file system: many writes run at
 * once (so their flushes are batched), and at random points between any two file operations
 * (between a write and its flush, between a flush and the rename, between the rename and the
 * directory flush, ...) the disk is cut as a power loss would leave it. On every such disk the
 * store must open, every write acknowledged before the cut must read back verified, and no
 * visible entry may be torn (none fails verification).
 *
 * Two power-loss models: the strict one (file bytes and directory entries as of their last
 * fsync) and one where renames reach the disk before the data does (directory entries as they
 * are, file bytes as of their last fsync), which is what catches an entry made visible before its
 * bytes were flushed.
 *
 * Seed: `DFS_SEED` or random, printed on failure. Bounded: 4 rounds of 48 writes, at most
 * 80 cuts per round.
 */

import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import type { CreateOptions, FileSystem, WritableFile } from "../../src/runtime/types.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import type { ContentId } from "../../src/id/content_id.ts";
import { Rng, seedFrom } from "../util/prng.ts";
import { filesUnder } from "./store_suite.ts";

/**
 * A file system that calls `hook` before and after every operation (and every file write and
 * sync), and awaits a random short pause inside each, so that concurrent writes interleave.
 */
class CutPointFs extends MemoryFileSystem {
  hook: () => void = () => {};
  rng: Rng | undefined;

  async #pause(): Promise<void> {
    const r = this.rng?.int(4) ?? 0;
    if (r === 0) await new Promise((res) => setTimeout(res, 0));
    else for (let i = 0; i < r; i++) await Promise.resolve();
  }

  async #around<T>(fn: () => Promise<T>): Promise<T> {
    this.hook();
    await this.#pause();
    const out = await fn();
    this.hook();
    return out;
  }

  /**
   * A flush covers what was there when it started (as `fsync` may), then takes a while: a
   * rename made meanwhile is not covered by it.
   */
  async #flush(fn: () => Promise<void>): Promise<void> {
    this.hook();
    await fn();
    await this.#pause();
    this.hook();
  }

  override async create(path: string, options?: CreateOptions): Promise<WritableFile> {
    const file = await this.#around(() => super.create(path, options));
    return {
      write: (chunk) => this.#around(() => file.write(chunk)),
      sync: () => this.#flush(() => file.sync()),
      close: () => this.#around(() => file.close()),
    };
  }
  override rename(from: string, to: string): Promise<void> {
    return this.#around(() => super.rename(from, to));
  }
  override syncDir(path: string): Promise<void> {
    return this.#flush(() => super.syncDir(path));
  }
}

/** Every entry goes into one of two directories, so renames share directory flushes. */
const twoDirs = (key: string) => [key.charCodeAt(key.length - 1) % 2 ? "odd" : "even", key];

interface Cut {
  disk: FileSystem;
  acked: Map<string, Uint8Array>;
  model: string;
}

async function checkCut(cut: Cut): Promise<void> {
  const store = await FsBlockStore.open({ fs: cut.disk, root: "/s", pathTransform: twoDirs });
  try {
    for (const [key, bytes] of cut.acked) {
      const got = await store.readBytes(key); // verified, or throws
      assert.deepEqual(got, bytes, `acknowledged ${key} (${cut.model})`);
    }
    for await (const entry of store.list()) {
      const got = await store.readBytes(entry.key); // a torn entry fails verification
      assert.equal(got.length, entry.size);
    }
    assert.deepEqual(
      await filesUnder(cut.disk, "/s/quarantine"),
      [],
      `no torn entry (${cut.model})`,
    );
  } finally {
    await store.close();
  }
}

Deno.test("group_commit_power_loss_keeps_every_acknowledged_write_and_tears_none", async () => {
  const seed = seedFrom(Deno.env.get("DFS_SEED"));
  const rng = new Rng(seed);
  let cuts = 0;
  try {
    for (let round = 0; round < 4; round++) {
      const fs = new CutPointFs();
      const store = await FsBlockStore.open({ fs, root: "/s", pathTransform: twoDirs });
      fs.rng = rng;
      const acked = new Map<string, Uint8Array>();
      const taken: Cut[] = [];
      fs.hook = () => {
        if (taken.length >= 80 || rng.int(4) !== 0) return;
        // What a power loss now would leave, and what was acknowledged before it.
        const snapshot = new Map(acked);
        taken.push({ disk: fs.powerLoss(), acked: snapshot, model: "strict" });
        taken.push({
          disk: fs.powerLoss({ keepUnsyncedEntries: true }),
          acked: snapshot,
          model: "renames before data",
        });
      };
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 48; i++) {
        const bytes = rng.bytes(1 + rng.int(3000));
        const keyed = rng.int(4) === 0;
        const p = keyed
          ? store.write(`key-${round}-${i}`, bytes).then(() =>
            acked.set(`key-${round}-${i}`, bytes)
          )
          : store.put(bytes).then((id: ContentId) => acked.set(id.toString(), bytes));
        writes.push(p);
      }
      await Promise.all(writes);
      fs.hook = () => {};
      // Batched: two directories, 48 renames, far fewer directory flushes than writes.
      assert.ok(fs.syncDirCount < 40, `directory flushes ${fs.syncDirCount} for 48 writes`);
      taken.push({ disk: fs.powerLoss(), acked: new Map(acked), model: "strict, at the end" });
      await store.close();
      for (const cut of taken) {
        await checkCut(cut);
        cuts++;
      }
      assert.equal(taken.at(-1)!.acked.size, 48);
    }
    assert.ok(cuts > 20, `only ${cuts} cuts taken`);
  } catch (err) {
    console.error(`power-loss test failed with seed ${seed} (rerun with DFS_SEED=${seed})`);
    throw err;
  }
});
