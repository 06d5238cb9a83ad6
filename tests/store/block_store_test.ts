/** Store behaviours that need a specific file system (the in-memory one counts syncs). */

import assert from "node:assert/strict";
import { FileTooLargeError, InvalidArgumentError, NotFoundError } from "../../src/errors.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import type { ReadFileOptions } from "../../src/runtime/types.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { casPathTransform } from "../../src/store/path_transform.ts";
import { MAX_HEADER_BYTES } from "../../src/store/entry_header.ts";
import { CorruptBlockError } from "../../src/store/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { filesUnder, overwrite } from "./store_suite.ts";

const te = new TextEncoder();

Deno.test("fsync_durability_syncs_file_and_directory", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s" });
  const files = fs.syncCount;
  const dirs = fs.syncDirCount;
  await store.put(te.encode("a"));
  assert.equal(fs.syncCount, files + 1, "one file sync per write");
  assert.ok(fs.syncDirCount >= dirs + 1, "the entry's directory is synced");
  await store.close();
});

Deno.test("durability_none_never_syncs", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  await store.put(te.encode("a"));
  await store.write("k", te.encode("b"));
  await store.delete("k");
  await store.clear();
  assert.equal(fs.syncCount, 0);
  assert.equal(fs.syncDirCount, 0);
  await store.close();
});

Deno.test("open_rejects_bad_options", async () => {
  const fs = new MemoryFileSystem();
  await assert.rejects(FsBlockStore.open({ fs, root: "" }), InvalidArgumentError);
  await assert.rejects(
    FsBlockStore.open({ fs, root: "/s", maxEntrySize: -1 }),
    InvalidArgumentError,
  );
  await assert.rejects(
    FsBlockStore.open({ fs, root: "/s", durability: "sometimes" as "none" }),
    InvalidArgumentError,
  );
  await assert.rejects(
    FsBlockStore.open({ fs, root: "/s", defaultAlgorithm: "md5" as "sha-1" }),
    InvalidArgumentError,
  );
});

Deno.test("default_algorithm_applies_to_put_and_keyed_writes", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", defaultAlgorithm: "sha-1" });
  assert.equal((await store.put(te.encode("a"))).algorithm, "sha-1");
  assert.equal((await store.write("k", te.encode("a"))).id.algorithm, "sha-1");
  assert.equal((await store.put(te.encode("a"), { algorithm: "sha-256" })).algorithm, "sha-256");
  await store.close();
});

Deno.test("writes_racing_clear_end_in_old_or_new_store_never_torn", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s" });
  const writes = Array.from({ length: 50 }, (_, i) => store.write(`k${i}`, te.encode(`v${i}`)));
  await store.clear();
  await Promise.all(writes);
  for await (const e of store.list()) {
    assert.equal(new TextDecoder().decode(await store.readBytes(e.key)), `v${e.key.slice(1)}`);
  }
  assert.deepEqual(await filesUnder(fs, "/s/tmp"), []);
  await store.close();
});

Deno.test("read_signal_aborts_before_loading", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s" });
  const id = await store.put(te.encode("a"));
  await assert.rejects(store.readBytes(id, { signal: AbortSignal.abort() }), { code: "ABORTED" });
  await store.delete(id);
  await assert.rejects(store.readBytes(id), NotFoundError);
  await store.close();
});

Deno.test("read_of_entry_over_a_smaller_bound_rejects_without_quarantine", async () => {
  const fs = new MemoryFileSystem();
  const big = await FsBlockStore.open({ fs, root: "/s", maxEntrySize: 100_000 });
  const id = await big.put(new Uint8Array(50_000));
  await big.close();
  const small = await FsBlockStore.open({ fs, root: "/s", maxEntrySize: 1000 });
  await assert.rejects(small.readBytes(id), { code: "ENTRY_TOO_LARGE" });
  assert.equal(await small.has(id), true, "still there for a store with a larger bound");
  assert.deepEqual(await filesUnder(fs, "/s/quarantine"), []);
  await small.close();
});

/** A memory file system that records what each `readFile` handed out (bytes or an error). */
class RecordingFileSystem extends MemoryFileSystem {
  /** One entry per `readFile` call: its limit and outcome. */
  readonly reads: { maxBytes?: number; bytes?: number; error?: unknown }[] = [];

  override async readFile(path: string, options?: ReadFileOptions): Promise<Uint8Array> {
    const entry: { maxBytes?: number; bytes?: number; error?: unknown } = {
      maxBytes: options?.maxBytes,
    };
    this.reads.push(entry);
    try {
      const bytes = await super.readFile(path, options);
      entry.bytes = bytes.length;
      return bytes;
    } catch (err) {
      entry.error = err;
      throw err;
    }
  }
}

Deno.test("read_of_planted_oversized_file_never_loads_it", async () => {
  const fs = new RecordingFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", maxEntrySize: 1000 });
  const id = await store.put(te.encode("small"));
  const [entry] = await filesUnder(fs, "/s/data");
  const planted = await fs.create(`/s/data/${entry}`);
  await planted.write(new Uint8Array(5 * 1024 * 1024)); // far over the bound
  await planted.close();
  fs.reads.length = 0;
  await assert.rejects(store.readBytes(id), { code: "ENTRY_TOO_LARGE" });
  assert.equal(fs.reads.length, 1);
  const [read] = fs.reads;
  assert.equal(read.maxBytes, 1000 + MAX_HEADER_BYTES, "the read is bounded");
  assert.equal(read.bytes, undefined, "no bytes were handed out");
  assert.ok(read.error instanceof FileTooLargeError);
  assert.equal(read.error.size, 5 * 1024 * 1024);
  await store.close();
});

Deno.test("listing_while_writing_and_deleting_never_throws", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  const ids = await Promise.all(
    Array.from({ length: 40 }, (_, i) => store.put(te.encode(`b${i}`))),
  );
  const churn = (async () => {
    for (let i = 0; i < 40; i++) {
      await store.delete(ids[i]);
      await store.put(te.encode(`c${i}`));
    }
  })();
  let seen = 0;
  for (let round = 0; round < 5; round++) {
    for await (const _ of store.list()) seen++;
  }
  await churn;
  assert.ok(seen > 0);
  assert.equal((await store.stats()).count, 40);
  assert.deepEqual(await filesUnder(fs, "/s/quarantine"), []);
  await store.close();
});

Deno.test("put_trusts_a_hashed_id_and_reads_still_catch_a_wrong_one", async () => {
  const store = await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/s" });
  const bytes = new TextEncoder().encode("payload");
  const real = await ContentId.of(bytes);
  // A correct promise: stored under it and read back, verified.
  assert.ok((await store.put(bytes, { hashed: real })).equals(real));
  assert.deepEqual(await store.readBytes(real), bytes);
  // A wrong promise is taken at its word (the store did not hash again)...
  const wrong = await ContentId.of(new TextEncoder().encode("something else"));
  assert.ok((await store.put(bytes, { hashed: wrong })).equals(wrong));
  // ...and the verified read refuses the entry and quarantines it.
  await assert.rejects(store.readBytes(wrong), CorruptBlockError);
  assert.equal(await store.has(wrong), false);
  assert.equal(await store.quarantined(), 1);
  // A promise for another algorithm is ignored: the store hashes with the one it writes.
  const sha1 = await ContentId.of(bytes, "sha-1");
  assert.ok((await store.put(bytes, { hashed: sha1 })).equals(real));
  await store.close();
});

Deno.test("list_keyed_yields_only_keyed_entries_without_visiting_blocks", async () => {
  for (const pathTransform of [undefined, casPathTransform]) {
    const fs = new MemoryFileSystem();
    const store = await FsBlockStore.open({ fs, root: "/s", durability: "none", pathTransform });
    const blocks: string[] = [];
    for (let i = 0; i < 5; i++) {
      blocks.push((await store.put(new TextEncoder().encode(`block ${i}`))).toString());
    }
    await store.write("file:a", new TextEncoder().encode("a"));
    await store.write("name:b", new TextEncoder().encode("b"));
    const keyed: string[] = [];
    for await (const e of store.list({ keyed: true })) keyed.push(e.key);
    assert.deepEqual(keyed.sort(), ["file:a", "name:b"]);
    const all: string[] = [];
    for await (const e of store.list()) all.push(e.key);
    assert.deepEqual(all.sort(), [...blocks, "file:a", "name:b"].sort());
  }
  // The default layout keeps keyed entries apart: a keyed listing does not even open a block
  // (a block file with a broken header is left alone, where a full listing quarantines it).
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  await store.put(new TextEncoder().encode("block"));
  await store.write("file:a", new TextEncoder().encode("a"));
  const [blockPath] = (await filesUnder(fs, "/s/data")).filter((p) => p.startsWith("ids/"));
  await overwrite(fs, `/s/data/${blockPath}`, new TextEncoder().encode("not a header"));
  for await (const _ of store.list({ keyed: true })) { /* walk */ }
  assert.equal(await store.quarantined(), 0);
  for await (const _ of store.list()) { /* walk */ }
  assert.equal(await store.quarantined(), 1);
});

Deno.test("a_write_asked_to_report_says_whether_it_created_the_entry", async () => {
  for (const counted of [false, true]) {
    const store = await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/s" });
    if (counted) await store.stats(); // the counted path looks at the entry anyway
    const bytes = new TextEncoder().encode("block");
    const id = await ContentId.of(bytes);
    assert.equal((await store.write(id, bytes, { reportCreated: true })).created, true);
    assert.equal((await store.write(id, bytes, { reportCreated: true })).created, false);
    assert.equal((await store.write(id, bytes)).created, undefined);
    assert.equal((await store.write("name:x", bytes, { reportCreated: true })).created, true);
    assert.equal((await store.write("name:x", bytes, { reportCreated: true })).created, false);
    await store.close();
  }
});
