/**
 * `FsBlockStore.stats()`: counted once by a walk, then kept up to date by writes and deletes
 * (exact, checked against a fresh count), through quarantines and clears too.
 */

import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import type { FileInfo, ReadStreamOptions } from "../../src/runtime/types.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { makeRng, testSeed, withSeed } from "../util/prng.ts";
import { filesUnder, overwrite } from "./store_suite.ts";

const SEED = testSeed(0x57a75);

/** A memory file system that counts directory listings (a walk lists every directory). */
class CountingFs extends MemoryFileSystem {
  listings = 0;
  override readDir(path: string): AsyncIterable<FileInfo> {
    this.listings++;
    return super.readDir(path);
  }
}

/** Removes the counts a clean close saved, so the next open counts by walking. */
async function forgetSavedCounts(fs: MemoryFileSystem): Promise<void> {
  await fs.remove("/s/counts.json");
}

/** What a store opened afresh on the same files counts by walking them. */
async function recount(fs: MemoryFileSystem): Promise<{ count: number; bytes: number }> {
  await forgetSavedCounts(fs);
  const fresh = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  const stats = await fresh.stats();
  await fresh.close();
  await forgetSavedCounts(fs);
  return stats;
}

Deno.test("stats_after_the_first_count_follow_every_write_and_delete_exactly", async () => {
  await withSeed(SEED, async () => {
    const rng = makeRng(SEED);
    const fs = new CountingFs();
    const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
    await store.put(rng.bytes(100));
    assert.deepEqual(await store.stats(), { count: 1, bytes: 100 }); // the first count
    const blocks: Uint8Array[] = [];
    const keys = ["file:a", "file:b", "name:c", "a key with spaces"];
    for (let round = 0; round < 200; round++) {
      const op = rng.int(6);
      if (op === 0) {
        const b = rng.bytes(rng.int(3000));
        blocks.push(b);
        await store.put(b);
      } else if (op === 1 && blocks.length > 0) {
        // The same block again, twice at once: one entry, counted once.
        const b = blocks[rng.int(blocks.length)];
        await Promise.all([store.put(b), store.put(b)]);
      } else if (op === 2) {
        // A keyed entry written (or replaced by one of another size), sometimes concurrently.
        const key = keys[rng.int(keys.length)];
        const writes = [store.write(key, rng.bytes(rng.int(2000)))];
        if (rng.int(2) === 0) writes.push(store.write(key, rng.bytes(rng.int(2000))));
        await Promise.all(writes);
      } else if (op === 3 && blocks.length > 0) {
        await store.delete(await ContentId.of(blocks[rng.int(blocks.length)]));
      } else if (op === 4) {
        await store.delete(keys[rng.int(keys.length)]);
      } else {
        // Deleting something that is not there changes nothing.
        await store.delete(await ContentId.of(rng.bytes(8)));
      }
    }
    const before = fs.listings;
    const kept = await store.stats();
    assert.equal(fs.listings, before, "stats() walked the store again");
    assert.deepEqual(kept, await recount(fs));
    await store.close();
  });
});

Deno.test("stats_stay_exact_through_a_quarantine_and_a_clear", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(await store.put(new TextEncoder().encode(`block ${i}`)));
  assert.equal((await store.stats()).count, 4);
  // Rot one entry on disk: the verified read quarantines it, the counts follow.
  const [path] = (await filesUnder(fs, "/s/data")).filter((p) => p.startsWith("ids/"));
  const rotten = new Uint8Array(await fs.readFile(`/s/data/${path}`));
  rotten[rotten.length - 1] ^= 1;
  await overwrite(fs, `/s/data/${path}`, rotten);
  const results = await Promise.allSettled(ids.map((id) => store.readBytes(id)));
  assert.equal(results.filter((r) => r.status === "rejected").length, 1);
  assert.deepEqual(await store.stats(), await recount(fs));
  assert.equal((await store.stats()).count, 3);
  await store.clear();
  assert.deepEqual(await store.stats(), { count: 0, bytes: 0 });
  await store.put(new TextEncoder().encode("after clear"));
  assert.deepEqual(await store.stats(), { count: 1, bytes: 11 });
  await store.close();
});

/** Header reads (a count walk reads every header) take `delay` ms. */
class SlowFs extends MemoryFileSystem {
  delay = 0;
  override async readStream(path: string, o?: ReadStreamOptions) {
    if (this.delay) await new Promise((r) => setTimeout(r, this.delay));
    return super.readStream(path, o);
  }
}

Deno.test("a_clear_during_the_first_count_leaves_no_stale_counts", async () => {
  const fs = new SlowFs();
  const filling = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  for (let i = 0; i < 20; i++) await filling.put(new TextEncoder().encode(`block ${i}`));
  await filling.close();
  await forgetSavedCounts(fs);
  fs.delay = 2;
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  const counting = store.stats();
  await new Promise((r) => setTimeout(r, 15)); // the walk has read some headers
  await store.clear();
  await counting;
  fs.delay = 0;
  assert.deepEqual(await store.stats(), await recount(fs));
  assert.deepEqual(await store.stats(), { count: 0, bytes: 0 });
  await store.close();
});

Deno.test("a_bounded_store_is_counted_when_open_resolves", async () => {
  const fs = new CountingFs();
  const filling = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  for (let i = 0; i < 10; i++) await filling.put(new TextEncoder().encode(`block ${i}`));
  await filling.close();
  await forgetSavedCounts(fs);
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none", maxBytes: 1e9 });
  const listed = fs.listings;
  assert.deepEqual(await store.stats(), { count: 10, bytes: 70 });
  assert.equal(fs.listings, listed, "stats() walked again: the count was not taken at open");
  await store.close();
  assert.equal(fs.listings, listed, "nothing walks the store after close");
});

Deno.test("a_clean_close_saves_the_counts_and_a_crash_means_a_fresh_count", async () => {
  const fs = new CountingFs();
  const first = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  for (let i = 0; i < 5; i++) await first.put(new TextEncoder().encode(`block ${i}`));
  assert.deepEqual(await first.stats(), { count: 5, bytes: 35 });
  await first.close(); // saves { count: 5, bytes: 35 }
  // The next open takes them without walking, and keeps them up to date.
  let listed = fs.listings;
  const second = await FsBlockStore.open({ fs, root: "/s", durability: "none", maxBytes: 1e9 });
  assert.equal(fs.listings, listed, "the saved counts were not used");
  await second.put(new TextEncoder().encode("one more"));
  assert.deepEqual(await second.stats(), { count: 6, bytes: 43 });
  // A crash: the store is never closed, so nothing is saved and the file was taken at open.
  assert.equal(await fs.stat("/s/counts.json"), null);
  listed = fs.listings;
  const third = await FsBlockStore.open({ fs, root: "/s", durability: "none", maxBytes: 1e9 });
  assert.ok(fs.listings > listed, "counted afresh after a crash");
  assert.deepEqual(await third.stats(), { count: 6, bytes: 43 });
  await third.close();
  await second.close(); // (the crashed one, closed here only to end the test cleanly)
  // An unusable file is ignored.
  const f = await fs.create("/s/counts.json");
  await f.write(new TextEncoder().encode('{"version":1,"count":-1,"bytes":"x"}'));
  await f.close();
  const fourth = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  assert.deepEqual(await fourth.stats(), await recount(fs));
  await fourth.close();
});

Deno.test("counts_taken_while_writes_ran_are_not_saved", async () => {
  const fs = new SlowFs();
  const filling = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  for (let i = 0; i < 10; i++) await filling.put(new TextEncoder().encode(`block ${i}`));
  await filling.close();
  await forgetSavedCounts(fs);
  fs.delay = 2;
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  const counting = store.stats();
  await store.put(new TextEncoder().encode("written during the count"));
  await counting;
  fs.delay = 0;
  await store.close();
  assert.equal(await fs.stat("/s/counts.json"), null, "possibly wrong counts were saved");
});
