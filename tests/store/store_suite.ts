/**
 * The block store's runtime-neutral behaviour suite: the same cases run over the Deno, Node and
 * Bun file systems (on a real disk) and over the in-memory one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AbortedError, NotFoundError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import type { FileSystem } from "../../src/runtime/types.ts";
import { FsBlockStore, type StoreOptions } from "../../src/store/block_store.ts";
import {
  CorruptBlockError,
  EntryTooLargeError,
  InvalidKeyError,
  StoreClosedError,
} from "../../src/store/errors.ts";
import { MAX_HEADER_BYTES } from "../../src/store/entry_header.ts";
import { casPathTransform } from "../../src/store/path_transform.ts";
import type { Case } from "../portable/harness.ts";
import { readAll } from "../util/bytes.ts";
import { Rng, withSeed } from "../util/prng.ts";

/** Options of {@linkcode storeSuite}. */
export interface StoreSuiteOptions {
  /** Seed of the randomized cases (printed when one fails). Default: fixed. */
  readonly seed?: number;
}

const BLOCK = 256 * 1024;
const te = new TextEncoder();

/** Reads a stream to one array. */
export const drain: (stream: ReadableStream<Uint8Array>) => Promise<Uint8Array> = readAll;

/** A stream handing out `data` in chunks of `size` bytes. */
export function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= data.length) return c.close();
      c.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

/** Every regular file under `dir`, as paths relative to it. */
export async function filesUnder(fs: FileSystem, dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of fs.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
      else out.push(r);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** Overwrites a file with `bytes` (for corrupting entries in tests). */
export async function overwrite(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const f = await fs.create(path);
  await f.write(bytes);
  await f.close();
}

/** The one entry file in the store's data directory. */
async function onlyEntryFile(fs: FileSystem, root: string): Promise<string> {
  const files = await filesUnder(fs, `${root}/data`);
  assert.equal(files.length, 1, `expected one entry file, found ${files.join(", ")}`);
  return `${root}/data/${files[0]}`;
}

/**
 * Builds the store suite for one runtime's file system. Each case uses a fresh directory
 * under `scratchDir`.
 *
 * @example
 * ```ts ignore
 * registerCases("store/memory", storeSuite({ fs: new MemoryFileSystem() }, "/scratch"));
 * ```
 */
export function storeSuite(
  runtime: { readonly fs: FileSystem },
  scratchDir: string,
  options: StoreSuiteOptions = {},
): Case[] {
  const fs = runtime.fs;
  const seed = options.seed ?? 20261126;
  let n = 0;
  const fresh = async (extra: Partial<StoreOptions> = {}) => {
    const root = `${scratchDir}/store-${++n}-${Math.floor(Math.random() * 1e9)}`;
    const store = await FsBlockStore.open({ fs, root, ...extra });
    return { store, root };
  };
  const seeded = (name: string, fn: (rng: Rng) => Promise<void>): Case => ({
    name,
    fn: () => withSeed(seed, () => fn(new Rng(seed))),
  });

  return [
    seeded("put_read_roundtrips_random_sizes", async (rng) => {
      const { store } = await fresh();
      const sizes = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 4 * 1024 * 1024, 1 + rng.int(100_000)];
      for (const size of sizes) {
        const data = rng.bytes(size);
        const id = await store.put(data);
        assert.ok(id.equals(await ContentId.of(data)), `id of ${size} bytes`);
        assert.deepEqual(await store.readBytes(id), data, `readBytes of ${size} bytes`);
        assert.deepEqual(await drain(await store.read(id)), data, `read of ${size} bytes`);
        const info = await store.info(id);
        assert.equal(info?.size, size);
      }
      assert.deepEqual(await store.stats(), {
        count: sizes.length,
        bytes: sizes.reduce((a, b) => a + b, 0),
      });
      await store.close();
    }),

    seeded("write_streamed_in_many_chunks_roundtrips", async (rng) => {
      const { store } = await fresh();
      for (
        const [size, chunk] of [[0, 7], [1, 1], [BLOCK + 1, 4096], [BLOCK, 1000 + rng.int(9000)]]
      ) {
        const data = rng.bytes(size);
        const id = await ContentId.of(data);
        const info = await store.write(id, chunked(data, chunk));
        assert.ok(info.id.equals(id));
        assert.equal(info.size, size);
        assert.deepEqual(await store.readBytes(id), data);
      }
      const single = rng.bytes(5000);
      const id = await store.put(chunked(single, 10_000));
      assert.deepEqual(await store.readBytes(id), single);
      await store.close();
    }),

    {
      name: "write_rejects_bytes_not_matching_content_id",
      fn: async () => {
        const { store, root } = await fresh();
        const id = await ContentId.of(te.encode("right"));
        await assert.rejects(store.write(id, te.encode("wrong")), (err) => {
          assert.ok(err instanceof CorruptBlockError);
          assert.equal(err.code, "CORRUPT_BLOCK");
          assert.equal(err.expected, id.toString());
          return true;
        });
        assert.equal(await store.has(id), false);
        assert.deepEqual(await filesUnder(fs, root), []);
        await store.close();
      },
    },

    {
      name: "keyed_entries_roundtrip_and_list_with_their_keys",
      fn: async () => {
        const { store } = await fresh();
        const a = await store.write("photos/cat.jpg", te.encode("meow"));
        assert.equal(a.key, "photos/cat.jpg");
        assert.ok(a.id.equals(await ContentId.of(te.encode("meow"))));
        await store.write("notes", te.encode("n"), { algorithm: "sha-1" });
        const id = await store.put(te.encode("block"));
        const listed = [];
        for await (const e of store.list()) listed.push(`${e.key}:${e.size}:${e.id.algorithm}`);
        assert.deepEqual(
          listed.sort(),
          [
            `${id}:5:sha-256`,
            "notes:1:sha-1",
            "photos/cat.jpg:4:sha-256",
          ].sort(),
        );
        assert.equal(new TextDecoder().decode(await store.readBytes("photos/cat.jpg")), "meow");
        // Overwriting a key replaces its entry.
        await store.write("photos/cat.jpg", te.encode("purr"));
        assert.equal(new TextDecoder().decode(await store.readBytes("photos/cat.jpg")), "purr");
        assert.equal((await store.stats()).count, 3);
        await store.close();
      },
    },

    {
      name: "content_id_keys_accept_text_in_any_case_and_sha1",
      fn: async () => {
        const { store } = await fresh();
        const data = te.encode("hello");
        const id1 = await store.put(data, { algorithm: "sha-1" });
        assert.equal(id1.algorithm, "sha-1");
        assert.ok(id1.toString().startsWith("1114"));
        assert.deepEqual(await store.readBytes(id1.toString().toUpperCase()), data);
        const id256 = await ContentId.of(data);
        const info = await store.write(id256.toString().toUpperCase(), data);
        assert.equal(info.key, id256.toString());
        assert.ok(await store.has(id256));
        assert.equal((await store.stats()).count, 2);
        await store.close();
      },
    },

    {
      name: "read_missing_rejects_not_found",
      fn: async () => {
        const { store } = await fresh();
        const id = await ContentId.of(te.encode("absent"));
        await assert.rejects(store.readBytes(id), NotFoundError);
        await assert.rejects(store.read("no-such-key"), NotFoundError);
        assert.equal(await store.has(id), false);
        assert.equal(await store.info(id), null);
        await store.close();
      },
    },

    {
      name: "delete_removes_entry_and_reports_whether_it_existed",
      fn: async () => {
        const { store } = await fresh();
        const id = await store.put(te.encode("x"));
        await store.write("k", te.encode("y"));
        assert.equal(await store.delete(id), true);
        assert.equal(await store.delete(id), false);
        assert.equal(await store.has(id), false);
        await assert.rejects(store.readBytes(id), NotFoundError);
        assert.equal(await store.delete("k"), true);
        assert.deepEqual(await store.stats(), { count: 0, bytes: 0 });
        await store.close();
      },
    },

    {
      name: "read_opened_before_delete_or_clear_completes_with_old_bytes",
      fn: async () => {
        const { store } = await fresh();
        const data = new Uint8Array(3 * BLOCK + 5).fill(7);
        const id = await store.put(data);
        const stream = await store.read(id);
        const stream2 = await store.read(id);
        assert.equal(await store.delete(id), true);
        assert.deepEqual(await drain(stream), data);
        await store.put(data);
        await store.clear();
        assert.deepEqual(await drain(stream2), data);
        await assert.rejects(store.read(id), NotFoundError);
        await store.close();
      },
    },

    {
      name: "clear_removes_every_entry_and_store_stays_usable",
      fn: async () => {
        const { store, root } = await fresh();
        for (let i = 0; i < 20; i++) await store.put(te.encode(`block ${i}`));
        await store.write("key", te.encode("v"));
        assert.equal((await store.stats()).count, 21);
        await store.clear();
        assert.deepEqual(await store.stats(), { count: 0, bytes: 0 });
        assert.deepEqual(await filesUnder(fs, root), []);
        const id = await store.put(te.encode("after"));
        assert.deepEqual(await store.readBytes(id), te.encode("after"));
        await store.close();
      },
    },

    {
      name: "write_over_max_entry_size_rejects_without_reading_past_bound",
      fn: async () => {
        const { store, root } = await fresh({ maxEntrySize: 10_000 });
        let pulled = 0;
        let cancelled = false;
        const endless = new ReadableStream<Uint8Array>({
          pull(c) {
            pulled += 4096;
            c.enqueue(new Uint8Array(4096));
          },
          cancel() {
            cancelled = true;
          },
        }, { highWaterMark: 0 });
        await assert.rejects(store.write("big", endless), (err) => {
          assert.ok(err instanceof EntryTooLargeError);
          assert.equal(err.code, "ENTRY_TOO_LARGE");
          assert.equal(err.limit, 10_000);
          return true;
        });
        assert.ok(pulled <= 10_000 + 4096, `pulled ${pulled} bytes`);
        assert.ok(cancelled, "the input stream is cancelled");
        await assert.rejects(store.put(new Uint8Array(10_001)), EntryTooLargeError);
        const ok = await store.put(new Uint8Array(10_000));
        assert.equal((await store.info(ok))?.size, 10_000);
        assert.deepEqual(await filesUnder(fs, `${root}/tmp`), []);
        assert.equal((await store.stats()).count, 1);
        await store.close();
      },
    },

    {
      name: "read_refuses_planted_oversized_file_as_entry_too_large",
      fn: async () => {
        const { store, root } = await fresh({ maxEntrySize: 10_000 });
        await store.write("k", te.encode("value"));
        const path = await onlyEntryFile(fs, root);
        const bound = 10_000 + MAX_HEADER_BYTES;
        // One byte over what any entry of this store can be: refused, not quarantined.
        await overwrite(fs, path, new Uint8Array(bound + 1).fill(7));
        for (const read of [() => store.readBytes("k"), () => store.read("k")]) {
          await assert.rejects(read(), (err) => {
            assert.ok(err instanceof EntryTooLargeError, String(err));
            assert.equal(err.code, "ENTRY_TOO_LARGE");
            assert.equal(err.limit, 10_000);
            assert.equal(err.size, bound + 1);
            return true;
          });
        }
        assert.equal(await store.has("k"), true);
        assert.deepEqual(await filesUnder(fs, `${root}/quarantine`), []);
        // Exactly at the bound it is loaded, and then found corrupt (garbage header).
        await overwrite(fs, path, new Uint8Array(bound).fill(7));
        await assert.rejects(store.readBytes("k"), CorruptBlockError);
        // A largest entry still reads back.
        const data = new Uint8Array(10_000).fill(3);
        await store.write("k", data);
        assert.deepEqual(await store.readBytes("k"), data);
        assert.deepEqual(await drain(await store.read("k")), data);
        await store.close();
      },
    },

    {
      name: "read_rejects_corrupt_block_and_quarantines_it",
      fn: async () => {
        const { store, root } = await fresh();
        const data = new Uint8Array(BLOCK).fill(1);
        const id = await store.put(data);
        const path = await onlyEntryFile(fs, root);
        const bytes = await fs.readFile(path);
        bytes[bytes.length - 100] ^= 0x01; // flip one bit of the data
        await overwrite(fs, path, bytes);
        await assert.rejects(store.readBytes(id), (err) => {
          assert.ok(err instanceof CorruptBlockError);
          assert.equal(err.key, id.toString());
          assert.equal(err.expected, id.toString());
          assert.notEqual(err.actual, id.toString());
          return true;
        });
        // Quarantined: no longer served nor listed, but kept for inspection.
        await assert.rejects(store.readBytes(id), NotFoundError);
        assert.equal(await store.has(id), false);
        assert.deepEqual(await store.stats(), { count: 0, bytes: 0 });
        assert.equal((await filesUnder(fs, `${root}/quarantine`)).length, 1);
        // A fresh write repairs it.
        await store.put(data);
        assert.deepEqual(await store.readBytes(id), data);
        await store.close();
      },
    },

    {
      name: "read_rejects_corrupt_header_truncation_and_wrong_key",
      fn: async () => {
        const { store, root } = await fresh();
        const keyed = await store.write("k", te.encode("value"));
        const path = await onlyEntryFile(fs, root);
        const good = await fs.readFile(path);

        const badHeader = good.slice();
        badHeader[20] ^= 0xff; // inside the id: header checksum fails
        await overwrite(fs, path, badHeader);
        await assert.rejects(store.readBytes("k"), CorruptBlockError);
        assert.equal(await store.has("k"), false);

        await overwrite(fs, path, good.subarray(0, good.length - 1)); // truncated
        await assert.rejects(store.read("k"), CorruptBlockError);

        const extended = new Uint8Array(good.length + 1);
        extended.set(good);
        await overwrite(fs, path, extended);
        await assert.rejects(store.info("k"), CorruptBlockError);

        await overwrite(fs, path, new Uint8Array(0)); // empty file
        await assert.rejects(store.readBytes("k"), CorruptBlockError);

        // An entry for another key (or a content id) found at this key's path.
        await store.write("other", te.encode("value"));
        const other = (await filesUnder(fs, `${root}/data`)).map((f) => `${root}/data/${f}`);
        await fs.rename(other[0], path);
        await assert.rejects(store.readBytes("k"), (err) => {
          assert.ok(err instanceof CorruptBlockError);
          assert.match(err.message, /another key/);
          return true;
        });
        assert.equal((await filesUnder(fs, `${root}/quarantine`)).length, 5);
        assert.ok(keyed.id);
        await store.close();
      },
    },

    {
      name: "list_quarantines_files_with_bad_headers",
      fn: async () => {
        const { store, root } = await fresh();
        const id = await store.put(te.encode("good"));
        await fs.mkdir(`${root}/data/zz`);
        await overwrite(fs, `${root}/data/zz/junk`, te.encode("not an entry"));
        const keys = [];
        for await (const e of store.list()) keys.push(e.key);
        assert.deepEqual(keys, [id.toString()]);
        assert.deepEqual(await filesUnder(fs, `${root}/quarantine`).then((q) => q.length), 1);
        await store.close();
      },
    },

    {
      name: "hostile_keys_stay_inside_the_root",
      fn: async () => {
        const parent = `${scratchDir}/hostile-${++n}`;
        await fs.mkdir(parent, { recursive: true });
        const root = `${parent}/store`;
        const store = await FsBlockStore.open({ fs, root });
        const hostile = [
          "../escape",
          "../../../../../../etc/passwd",
          "/absolute",
          "a/../../b",
          "nul\0byte",
          ".",
          "..",
          "\\windows\\..\\path",
          "k".repeat(4096),
          "ключ/💾",
        ];
        for (const [i, key] of hostile.entries()) {
          await store.write(key, te.encode(`v${i}`));
        }
        for (const [i, key] of hostile.entries()) {
          assert.deepEqual(await store.readBytes(key), te.encode(`v${i}`));
        }
        const listed = [];
        for await (const e of store.list()) listed.push(e.key);
        assert.deepEqual(listed.sort(), [...hostile].sort());
        // Nothing outside the root.
        const outside = await filesUnder(fs, parent);
        assert.ok(outside.every((f) => f.startsWith("store/data/keys/")), outside.join("\n"));
        // Invalid keys are refused.
        for (const bad of ["", "k".repeat(4097), "é".repeat(2049), "\ud800lone"]) {
          await assert.rejects(store.write(bad, te.encode("x")), InvalidKeyError);
          await assert.rejects(store.readBytes(bad), InvalidKeyError);
        }
        await store.close();

        // A naive transform that uses the key as a path is caught by segment validation.
        const naive = await FsBlockStore.open({
          fs,
          root,
          pathTransform: (key) => key.split("/"),
        });
        await naive.write("plain/name", te.encode("ok"));
        for (const bad of ["../x", "a/../../b", "/abs", "a//b", "nul\0", "x".repeat(256)]) {
          await assert.rejects(naive.write(bad, te.encode("x")), InvalidKeyError, bad);
          await assert.rejects(naive.has(bad), InvalidKeyError, bad);
        }
        assert.deepEqual(await naive.readBytes("plain/name"), te.encode("ok"));
        await naive.close();
        const after = await filesUnder(fs, parent);
        assert.ok(after.every((f) => f.startsWith("store/data/")), after.join("\n"));
      },
    },

    {
      name: "cas_path_transform_places_entries_like_the_original",
      fn: async () => {
        const { store, root } = await fresh({ pathTransform: casPathTransform });
        await store.write("momsbestpicture", te.encode("some jpg bytes"));
        const sha1 = new Uint8Array(
          await crypto.subtle.digest("SHA-1", te.encode("momsbestpicture")),
        );
        const hex = [...sha1].map((b) => b.toString(16).padStart(2, "0")).join("");
        const dirs = hex.match(/.{5}/g)!.join("/");
        assert.deepEqual(await filesUnder(fs, `${root}/data`), [`${dirs}/${hex}`]);
        assert.deepEqual(await store.readBytes("momsbestpicture"), te.encode("some jpg bytes"));
        await store.close();
      },
    },

    {
      name: "default_transform_shards_content_ids_by_digest",
      fn: async () => {
        const { store, root } = await fresh();
        const id = await store.put(te.encode("sharded"));
        const t = id.toString();
        assert.deepEqual(await filesUnder(fs, `${root}/data`), [
          `ids/${t.slice(4, 6)}/${t}`,
        ]);
        await store.close();
      },
    },

    {
      name: "open_removes_leftover_temp_files",
      fn: async () => {
        const { store, root } = await fresh();
        const id = await store.put(te.encode("kept"));
        await store.close();
        await overwrite(fs, `${root}/tmp/leftover.tmp`, te.encode("torn"));
        const again = await FsBlockStore.open({ fs, root });
        assert.deepEqual(await filesUnder(fs, `${root}/tmp`), []);
        assert.deepEqual(await again.readBytes(id), te.encode("kept"));
        await again.close();
      },
    },

    {
      name: "aborted_write_leaves_nothing_visible",
      fn: async () => {
        const { store, root } = await fresh();
        const ac = new AbortController();
        let sent = 0;
        const slow = new ReadableStream<Uint8Array>({
          pull(c) {
            sent++;
            if (sent === 3) ac.abort(new Error("stop"));
            c.enqueue(new Uint8Array(1000));
          },
        }, { highWaterMark: 0 });
        await assert.rejects(store.write("k", slow, { signal: ac.signal }), AbortedError);
        await assert.rejects(
          store.write("k2", te.encode("x"), { signal: AbortSignal.abort() }),
          AbortedError,
        );
        assert.equal(await store.has("k"), false);
        assert.equal(await store.has("k2"), false);
        assert.deepEqual(await filesUnder(fs, root), []);
        await store.close();
      },
    },

    seeded("concurrent_writers_and_readers_see_whole_entries", async (rng) => {
      const { store, root } = await fresh();
      const versions = Array.from({ length: 6 }, () => rng.bytes(BLOCK / 4 + rng.int(1000)));
      const known = new Set(versions.map((v) => v.join(",").slice(0, 64)));
      await store.write("shared", versions[0]);
      const ops: Promise<unknown>[] = [];
      for (let round = 0; round < 4; round++) {
        for (const v of versions) ops.push(store.write("shared", v));
        for (let r = 0; r < 6; r++) {
          ops.push(
            store.readBytes("shared").then((got) => {
              assert.ok(versions.some((v) => v.length === got.length), "whole version");
              assert.ok(known.has(got.join(",").slice(0, 64)), "known version");
            }),
          );
        }
      }
      // The same content-addressed block from many writers at once.
      const block = rng.bytes(BLOCK);
      for (let i = 0; i < 8; i++) ops.push(store.put(block));
      await Promise.all(ops);
      assert.equal((await store.stats()).count, 2);
      assert.deepEqual(await filesUnder(fs, `${root}/tmp`), []);
      await store.close();
    }),

    {
      name: "closed_store_rejects_use_and_close_waits_for_writes",
      fn: async () => {
        const { store } = await fresh();
        const pending = store.put(new Uint8Array(BLOCK));
        await store.close();
        const id = await pending;
        await store.close();
        await assert.rejects(store.readBytes(id), StoreClosedError);
        await assert.rejects(store.put(te.encode("x")), StoreClosedError);
        const again = await FsBlockStore.open({ fs, root: store.root });
        assert.equal(await again.has(id), true);
        await again.close();
      },
    },

    {
      name: "durability_none_stores_and_reads_the_same",
      fn: async () => {
        const { store } = await fresh({ durability: "none" });
        const id = await store.put(te.encode("fast"));
        assert.deepEqual(await store.readBytes(id), te.encode("fast"));
        await store.close();
      },
    },
  ];
}
