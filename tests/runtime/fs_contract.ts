/**
 * The FileSystem contract, as runtime-neutral test cases. Every adapter (Deno, Node, Bun,
 * memory) must pass all of them; see `fs_contract_test.ts` and `tests/portable/suites.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AlreadyExistsError,
  DfsError,
  FileTooLargeError,
  NotFoundError,
} from "../../src/errors.ts";
import type { FileSystem } from "../../src/runtime/types.ts";
import type { Case } from "../portable/harness.ts";
import { readAll } from "../util/bytes.ts";
import { randomBytes } from "../util/prng.ts";

/** A fresh file system with an empty scratch directory `root`, and how to dispose of it. */
export type FsFixture = { fs: FileSystem; root: string; cleanup(): Promise<void> };

/** Deterministic bytes, so content mismatches show up at any offset. */
const pattern = randomBytes;

async function writeFile(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const f = await fs.create(path);
  await f.write(bytes);
  await f.close();
}

function collect(stream: ReadableStream<Uint8Array>, maxChunk?: number): Promise<Uint8Array> {
  return readAll(stream, (chunk) => {
    if (maxChunk !== undefined) assert.ok(chunk.length <= maxChunk, `chunk of ${chunk.length}`);
  });
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const utf8 = (s: string) => new TextEncoder().encode(s);

const isNotFound = (err: unknown) => err instanceof NotFoundError && err.code === "NOT_FOUND";
const isAlreadyExists = (err: unknown) =>
  err instanceof AlreadyExistsError && err.code === "ALREADY_EXISTS";

/**
 * Builds the FileSystem contract cases. `makeFs` is called once per case and its `cleanup`
 * always runs afterwards.
 *
 * @example
 * ```ts ignore
 * registerCases("fs/memory", fsContractSuite(async () => ({
 *   fs: new MemoryFileSystem(), root: "/scratch", cleanup: async () => {},
 * })));
 * ```
 */
export function fsContractSuite(makeFs: () => Promise<FsFixture>): Case[] {
  const withFs = (name: string, body: (fs: FileSystem, root: string) => Promise<void>): Case => ({
    name,
    fn: async () => {
      const { fs, root, cleanup } = await makeFs();
      try {
        await body(fs, root);
      } finally {
        await cleanup();
      }
    },
  });

  return [
    withFs("streamed_write_reads_back_in_bounded_chunks", async (fs, root) => {
      const data = pattern(300_000, 7);
      const f = await fs.create(`${root}/big.bin`, { exclusive: true });
      // Irregular chunk sizes, as a chunker would produce.
      for (let at = 0, step = 1; at < data.length; at += step, step = (step * 7 + 3) % 40_000 + 1) {
        await f.write(data.subarray(at, Math.min(data.length, at + step)));
      }
      await f.sync();
      await f.close();
      await f.close(); // idempotent
      const back = await collect(await fs.readStream(`${root}/big.bin`, { chunkSize: 4096 }), 4096);
      assert.deepEqual(back, data);
      assert.equal((await fs.stat(`${root}/big.bin`))?.size, data.length);
    }),

    withFs("read_stream_honours_offset_and_length", async (fs, root) => {
      const data = pattern(100_000, 11);
      await writeFile(fs, `${root}/f`, data);
      const mid = await collect(await fs.readStream(`${root}/f`, { offset: 1234, length: 50_000 }));
      assert.deepEqual(mid, data.subarray(1234, 51_234));
      const tail = await collect(await fs.readStream(`${root}/f`, { offset: 99_000 }));
      assert.deepEqual(tail, data.subarray(99_000));
      const over = await collect(await fs.readStream(`${root}/f`, { offset: 99_990, length: 100 }));
      assert.deepEqual(over, data.subarray(99_990));
      const past = await collect(await fs.readStream(`${root}/f`, { offset: 200_000 }));
      assert.equal(past.length, 0);
      const none = await collect(await fs.readStream(`${root}/f`, { offset: 10, length: 0 }));
      assert.equal(none.length, 0);
    }),

    withFs("read_file_returns_whole_content", async (fs, root) => {
      await writeFile(fs, `${root}/small.txt`, utf8("hello dfs"));
      assert.equal(text(await fs.readFile(`${root}/small.txt`)), "hello dfs");
      const empty = await fs.create(`${root}/empty`);
      await empty.close();
      assert.equal((await fs.readFile(`${root}/empty`)).length, 0);
    }),

    withFs("read_file_under_max_bytes_reads_fully", async (fs, root) => {
      const data = pattern(300_000, 13);
      await writeFile(fs, `${root}/f`, data);
      assert.deepEqual(await fs.readFile(`${root}/f`, { maxBytes: 300_000 }), data);
      assert.deepEqual(await fs.readFile(`${root}/f`, { maxBytes: 8 * 1024 * 1024 }), data);
      await writeFile(fs, `${root}/empty`, new Uint8Array(0));
      assert.equal((await fs.readFile(`${root}/empty`, { maxBytes: 0 })).length, 0);
      await writeFile(fs, `${root}/one`, utf8("x"));
      assert.equal(text(await fs.readFile(`${root}/one`, { maxBytes: 1 })), "x");
    }),

    withFs("read_file_over_max_bytes_rejects_file_too_large", async (fs, root) => {
      await writeFile(fs, `${root}/big`, pattern(300_000, 17));
      const tooLarge = (limit: number) => (err: unknown) => {
        assert.ok(err instanceof FileTooLargeError, String(err));
        assert.equal(err.code, "FILE_TOO_LARGE");
        assert.equal(err.size, 300_000);
        assert.equal(err.limit, limit);
        assert.equal(err.path, `${root}/big`);
        return true;
      };
      await assert.rejects(fs.readFile(`${root}/big`, { maxBytes: 299_999 }), tooLarge(299_999));
      await assert.rejects(fs.readFile(`${root}/big`, { maxBytes: 0 }), tooLarge(0));
      // The file is untouched and still reads without a limit.
      assert.equal((await fs.readFile(`${root}/big`)).length, 300_000);
    }),

    withFs("read_file_with_max_bytes_missing_rejects_not_found", async (fs, root) => {
      await assert.rejects(fs.readFile(`${root}/nope`, { maxBytes: 10 }), isNotFound);
      await fs.mkdir(`${root}/dir`);
      await assert.rejects(
        fs.readFile(`${root}/dir`, { maxBytes: 10 }),
        (err) => err instanceof DfsError && !(err instanceof FileTooLargeError),
      );
    }),

    withFs("read_file_into_buffer_that_fits_returns_a_view_of_it", async (fs, root) => {
      const big = pattern(300_000, 19);
      const small = pattern(1_000, 23);
      await writeFile(fs, `${root}/big`, big);
      await writeFile(fs, `${root}/small`, small);
      const buffer = new Uint8Array(300_100);
      const a = await fs.readFile(`${root}/big`, { maxBytes: 400_000, buffer });
      assert.equal(a.buffer, buffer.buffer);
      assert.equal(a.byteOffset, buffer.byteOffset);
      assert.deepEqual(a, big);
      // The same buffer again, for a smaller file, and without maxBytes.
      const b = await fs.readFile(`${root}/small`, { buffer });
      assert.equal(b.buffer, buffer.buffer);
      assert.deepEqual(b, small);
      // An exact fit.
      const exact = new Uint8Array(1_000);
      assert.equal((await fs.readFile(`${root}/small`, { buffer: exact })).buffer, exact.buffer);
    }),

    withFs("read_file_too_big_for_buffer_allocates_and_leaves_buffer_alone", async (fs, root) => {
      const data = pattern(300_000, 29);
      await writeFile(fs, `${root}/f`, data);
      const buffer = new Uint8Array(299_999).fill(7);
      const out = await fs.readFile(`${root}/f`, { maxBytes: 300_000, buffer });
      assert.notEqual(out.buffer, buffer.buffer);
      assert.deepEqual(out, data);
      assert.ok(buffer.every((b) => b === 7), "buffer was written to");
      // maxBytes still applies first.
      const limit = (err: unknown) => err instanceof FileTooLargeError && err.size === 300_000;
      await assert.rejects(fs.readFile(`${root}/f`, { maxBytes: 10, buffer }), limit);
      await assert.rejects(fs.readFile(`${root}/nope`, { buffer }), isNotFound);
      assert.ok(buffer.every((b) => b === 7), "buffer was written to");
    }),

    withFs("create_truncates_unless_exclusive", async (fs, root) => {
      await writeFile(fs, `${root}/t`, utf8("a long first version"));
      await writeFile(fs, `${root}/t`, utf8("short"));
      assert.equal(text(await fs.readFile(`${root}/t`)), "short");
    }),

    withFs("exclusive_create_conflict_rejects_already_exists", async (fs, root) => {
      await writeFile(fs, `${root}/x`, utf8("first"));
      await assert.rejects(fs.create(`${root}/x`, { exclusive: true }), isAlreadyExists);
      assert.equal(text(await fs.readFile(`${root}/x`)), "first");
    }),

    withFs("rename_replaces_target_atomically", async (fs, root) => {
      await writeFile(fs, `${root}/target`, utf8("old"));
      await writeFile(fs, `${root}/tmp`, utf8("new content"));
      const oldStream = await fs.readStream(`${root}/target`);
      await fs.rename(`${root}/tmp`, `${root}/target`);
      assert.equal(text(await fs.readFile(`${root}/target`)), "new content");
      assert.equal(await fs.stat(`${root}/tmp`), null);
      // A stream opened before the rename still sees the file it opened.
      assert.equal(text(await collect(oldStream)), "old");
    }),

    withFs("rename_moves_directories", async (fs, root) => {
      await fs.mkdir(`${root}/d1/sub`, { recursive: true });
      await writeFile(fs, `${root}/d1/sub/f`, utf8("x"));
      await fs.rename(`${root}/d1`, `${root}/d2`);
      assert.equal(await fs.stat(`${root}/d1`), null);
      assert.equal(text(await fs.readFile(`${root}/d2/sub/f`)), "x");
    }),

    withFs("stat_describes_files_and_directories_and_null_for_missing", async (fs, root) => {
      assert.equal(await fs.stat(`${root}/nope`), null);
      assert.equal(await fs.stat(`${root}/nope/deeper`), null);
      await writeFile(fs, `${root}/f.bin`, pattern(321, 3));
      const f = await fs.stat(`${root}/f.bin`);
      assert.ok(f);
      assert.equal(f.name, "f.bin");
      assert.equal(f.isFile, true);
      assert.equal(f.isDirectory, false);
      assert.equal(f.size, 321);
      assert.ok(f.mtimeMs > 0);
      await fs.mkdir(`${root}/dir`);
      const d = await fs.stat(`${root}/dir`);
      assert.ok(d);
      assert.equal(d.isDirectory, true);
      assert.equal(d.isFile, false);
    }),

    withFs("remove_recursive_deletes_tree_and_missing_is_fine", async (fs, root) => {
      await fs.mkdir(`${root}/tree/a/b`, { recursive: true });
      await writeFile(fs, `${root}/tree/a/b/leaf`, utf8("leaf"));
      await writeFile(fs, `${root}/tree/top`, utf8("top"));
      await assert.rejects(fs.remove(`${root}/tree`), (err) => err instanceof DfsError);
      await fs.remove(`${root}/tree`, { recursive: true });
      assert.equal(await fs.stat(`${root}/tree`), null);
      await fs.remove(`${root}/tree`);
      await fs.remove(`${root}/tree`, { recursive: true });
      await writeFile(fs, `${root}/single`, utf8("s"));
      await fs.remove(`${root}/single`);
      assert.equal(await fs.stat(`${root}/single`), null);
    }),

    withFs("read_dir_lists_direct_entries", async (fs, root) => {
      await fs.mkdir(`${root}/ls/sub/deep`, { recursive: true });
      await writeFile(fs, `${root}/ls/a`, pattern(10, 1));
      await writeFile(fs, `${root}/ls/b`, pattern(20, 2));
      const seen = new Map<string, { isFile: boolean; isDirectory: boolean; size: number }>();
      for await (const e of fs.readDir(`${root}/ls`)) seen.set(e.name, e);
      assert.deepEqual([...seen.keys()].sort(), ["a", "b", "sub"]);
      assert.equal(seen.get("a")?.isFile, true);
      assert.equal(seen.get("a")?.size, 10);
      assert.equal(seen.get("b")?.size, 20);
      assert.equal(seen.get("sub")?.isDirectory, true);
      const empty: string[] = [];
      for await (const e of fs.readDir(`${root}/ls/sub/deep`)) empty.push(e.name);
      assert.deepEqual(empty, []);
    }),

    withFs("mkdir_recursive_is_idempotent", async (fs, root) => {
      await fs.mkdir(`${root}/m/n/o`, { recursive: true });
      await fs.mkdir(`${root}/m/n/o`, { recursive: true });
      await fs.mkdir(`${root}/m/n`, { recursive: true });
      await fs.mkdir(`${root}/m/n/o`); // existing directory, not recursive: still fine
      assert.equal((await fs.stat(`${root}/m/n/o`))?.isDirectory, true);
      await assert.rejects(fs.mkdir(`${root}/missing/child`), isNotFound);
    }),

    withFs("missing_paths_reject_not_found", async (fs, root) => {
      await assert.rejects(fs.readStream(`${root}/nope`), isNotFound);
      await assert.rejects(fs.readFile(`${root}/nope`), isNotFound);
      await assert.rejects(fs.rename(`${root}/nope`, `${root}/other`), isNotFound);
      await assert.rejects(fs.create(`${root}/no-dir/f`), isNotFound);
      await assert.rejects(fs.create(`${root}/no-dir/f`, { exclusive: true }), isNotFound);
      await assert.rejects(async () => {
        for await (const _ of fs.readDir(`${root}/nope`)) { /* nothing */ }
      }, isNotFound);
      await assert.rejects(fs.syncDir(`${root}/nope`), isNotFound);
    }),

    withFs("stream_opened_before_remove_still_reads", async (fs, root) => {
      const data = pattern(150_000, 5);
      await writeFile(fs, `${root}/gone`, data);
      const stream = await fs.readStream(`${root}/gone`, { chunkSize: 8192 });
      await fs.remove(`${root}/gone`);
      assert.equal(await fs.stat(`${root}/gone`), null);
      assert.deepEqual(await collect(stream), data);
    }),

    withFs("cancelled_stream_releases_the_file", async (fs, root) => {
      await writeFile(fs, `${root}/c`, pattern(200_000, 9));
      const stream = await fs.readStream(`${root}/c`, { chunkSize: 1024 });
      const reader = stream.getReader();
      const first = await reader.read();
      assert.equal(first.done, false);
      await reader.cancel();
      await fs.remove(`${root}/c`);
      assert.equal(await fs.stat(`${root}/c`), null);
    }),

    withFs("sync_dir_after_rename_succeeds", async (fs, root) => {
      await fs.mkdir(`${root}/s`);
      await writeFile(fs, `${root}/s/tmp`, utf8("durable"));
      await fs.rename(`${root}/s/tmp`, `${root}/s/final`);
      await fs.syncDir(`${root}/s`);
      assert.equal(text(await fs.readFile(`${root}/s/final`)), "durable");
    }),
  ];
}
