/**
 * Kept counts and the store bound against races and failures (found in review): nothing a
 * crash, a close, a clear or a count walk overlaps may leave counts that the next open trusts
 * wrongly, or let a bounded store go past its bound.
 */

import assert from "node:assert/strict";
import { IoError } from "../../src/errors.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import type { ReadFileOptions } from "../../src/runtime/types.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { StoreFullError } from "../../src/store/errors.ts";

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Renames of finished entries into the data directory, and removals there, can be slowed. */
class SlowFs extends MemoryFileSystem {
  renameDelay = 0;
  removeDelay = 0;
  failCountsRead = false;
  override async rename(from: string, to: string) {
    if (this.renameDelay && from.endsWith(".tmp") && to.includes("/data/")) {
      await tick(this.renameDelay);
    }
    return super.rename(from, to);
  }
  override async remove(path: string, o?: { readonly recursive?: boolean }) {
    if (this.removeDelay && path.includes("/data/")) await tick(this.removeDelay);
    return super.remove(path, o);
  }
  override readFile(path: string, o?: ReadFileOptions) {
    if (this.failCountsRead && path.endsWith("counts.json")) {
      this.failCountsRead = false;
      return Promise.reject(new IoError("EIO (transient)"));
    }
    return super.readFile(path, o);
  }
}

const open = (fs: MemoryFileSystem, maxBytes?: number) =>
  FsBlockStore.open({ fs, root: "/s", durability: "none", maxBytes });

Deno.test("an_unreadable_counts_file_is_removed_so_a_later_crash_cannot_bring_it_back", async () => {
  const fs = new SlowFs();
  await (await open(fs, 1000)).close(); // saves { 0, 0 }
  fs.failCountsRead = true;
  await open(fs, 1000).then((s) => s.put(new Uint8Array(900).fill(1))); // then a crash: no close
  assert.equal(await fs.stat("/s/counts.json"), null);
  const after = await open(fs, 1000);
  assert.deepEqual(await after.stats(), { count: 1, bytes: 900 });
  await assert.rejects(after.put(new Uint8Array(900).fill(2)), StoreFullError);
  await after.close();
});

Deno.test("close_waits_for_a_delete_before_it_saves_the_counts", async () => {
  const fs = new SlowFs();
  const s = await open(fs, 1000);
  const id = await s.put(new Uint8Array(600));
  fs.removeDelay = 20;
  const deleting = s.delete(id);
  await s.close();
  assert.equal(await deleting, true);
  fs.removeDelay = 0;
  const t = await open(fs, 1000);
  assert.deepEqual(await t.stats(), { count: 0, bytes: 0 });
  await t.put(new Uint8Array(600).fill(1));
  await t.close();
});

Deno.test("counts_of_a_walk_that_a_write_overlapped_are_not_saved", async () => {
  const fs = new SlowFs();
  const s = await open(fs); // unbounded: counted by the first stats()
  fs.renameDelay = 20;
  const writing = s.put(new Uint8Array(900).fill(1));
  await tick(5);
  await s.stats(); // the walk may or may not see the write under way
  await writing;
  fs.renameDelay = 0;
  await s.close();
  const t = await open(fs, 1000); // so this one counts afresh
  assert.deepEqual(await t.stats(), { count: 1, bytes: 900 });
  await assert.rejects(t.put(new Uint8Array(900).fill(2)), StoreFullError);
  await t.close();
});

Deno.test("a_write_racing_a_clear_lands_counted_and_the_bound_holds", async () => {
  const fs = new SlowFs();
  const s = await open(fs, 1000);
  await s.put(new Uint8Array(600).fill(1));
  fs.renameDelay = 20;
  // The same entry again: measured as already there (grows by 0), then renamed after the clear.
  const writing = s.put(new Uint8Array(600).fill(1));
  await tick(5);
  await s.clear();
  await writing;
  fs.renameDelay = 0;
  // The entry is in the new store and counted: a second 600 bytes would pass the bound.
  assert.ok((await s.stats()).bytes >= 600);
  await assert.rejects(s.put(new Uint8Array(600).fill(2)), StoreFullError);
  await s.close();
});
