/**
 * Store throughput next to its physical baseline, in the same run: 64 MiB in 256 KiB blocks.
 *
 * - write: `FsBlockStore.put` (hash, header, temp file, rename, and with fsync: file and
 *   directory flush) vs a raw file write of the same bytes plus a raw SHA-256 digest, with
 *   the same fsync setting.
 * - read: `FsBlockStore.readBytes` / `read` (load, verify against the id) vs a raw
 *   `Deno.readFile` plus digest.
 *
 *     deno bench -A bench/store_bench.ts
 *
 * Each timed write stores new data (the first bytes of every block are restamped, untimed), so
 * both sides create new files, and the store's entries get new ids; the previous round's files
 * are removed untimed. Data lives in a temp directory on the default temp file system, removed at exit. Peak RSS is
 * printed to stderr at exit.
 */

import { denoFileSystem } from "../src/runtime/deno/fs.ts";
import { FsBlockStore } from "../src/store/block_store.ts";
import type { ContentId } from "../src/id/content_id.ts";

const BLOCK = 256 * 1024;
const COUNT = 256; // 64 MiB
const dir = await Deno.makeTempDir({ prefix: "dfs-store-bench-" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
  const hwm = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/)?.[1];
  if (hwm) console.error(`store_bench peak RSS: ${(Number(hwm) / 1024).toFixed(0)} MiB`);
});

const blocks: Uint8Array<ArrayBuffer>[] = [];
for (let i = 0; i < COUNT; i++) {
  const b = new Uint8Array(BLOCK);
  for (let at = 0; at < BLOCK; at += 65536) crypto.getRandomValues(b.subarray(at, at + 65536));
  blocks.push(b);
}

const fs = denoFileSystem();
const storeNone = await FsBlockStore.open({ fs, root: `${dir}/store-none`, durability: "none" });
const storeRead = await FsBlockStore.open({ fs, root: `${dir}/store-read`, durability: "none" });
const storeFsync = await FsBlockStore.open({ fs, root: `${dir}/store-fsync` });
await Deno.mkdir(`${dir}/raw-none`);
await Deno.mkdir(`${dir}/raw-fsync`);

let stamp = 0;
/** Makes every block new (fresh content ids, fresh raw names) for the next timed write. */
function restamp(): number {
  stamp++;
  for (const b of blocks) new DataView(b.buffer).setUint32(0, stamp);
  return stamp;
}

/** How the raw baseline flushes: not at all, the file, or the file and then its directory. */
type RawSync = "none" | "file" | "file+dir";

/** Runs `fn(i)` for every block index, `lanes` at a time. */
async function forBlocks(lanes: number, fn: (i: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    for (let i = lane; i < COUNT; i += lanes) await fn(i);
  }));
}

async function rawWrite(sub: string, sync: RawSync, tag: number, lanes = 1): Promise<string[]> {
  const paths: string[] = [];
  await forBlocks(lanes, async (i) => {
    const data = blocks[i];
    await crypto.subtle.digest("SHA-256", data);
    const path = `${dir}/${sub}/${tag}-${i}`;
    const f = await Deno.open(path, { write: true, createNew: true });
    let done = 0;
    while (done < data.length) done += await f.write(data.subarray(done));
    if (sync !== "none") await f.sync();
    f.close();
    if (sync === "file+dir") {
      const d = await Deno.open(`${dir}/${sub}`, { read: true });
      await d.sync();
      d.close();
    }
    paths.push(path);
  });
  return paths;
}

async function storeWrite(store: FsBlockStore, lanes = 1): Promise<ContentId[]> {
  const ids: ContentId[] = [];
  await forBlocks(lanes, async (i) => void ids.push(await store.put(blocks[i])));
  return ids;
}

/** One timed write of all blocks as new data; the previous round's files are removed untimed. */
function rawWriteBench(sub: string, sync: RawSync, lanes = 1) {
  let previous: string[] = [];
  return async (b: Deno.BenchContext) => {
    for (const p of previous) await Deno.remove(p);
    const tag = restamp();
    b.start();
    previous = await rawWrite(sub, sync, tag, lanes);
    b.end();
  };
}

function storeWriteBench(store: FsBlockStore, lanes = 1) {
  let previous: ContentId[] = [];
  return async (b: Deno.BenchContext) => {
    for (const id of previous) await store.delete(id);
    restamp();
    b.start();
    previous = await storeWrite(store, lanes);
    b.end();
  };
}

// Populate for the read benches.
const rawPaths = await rawWrite("raw-none", "none", restamp());
const ids = await storeWrite(storeRead);

Deno.bench({
  name: "raw write + digest, 64 MiB (none)",
  group: "write 64 MiB, durability none",
  baseline: true,
  n: 20,
  warmup: 3,
  fn: rawWriteBench("raw-none", "none"),
});
Deno.bench({
  name: "store put, 64 MiB (none)",
  group: "write 64 MiB, durability none",
  n: 20,
  warmup: 3,
  fn: storeWriteBench(storeNone),
});

Deno.bench({
  name: "raw write + digest + fsync, 64 MiB",
  group: "write 64 MiB, durability fsync",
  baseline: true,
  n: 8,
  warmup: 1,
  fn: rawWriteBench("raw-fsync", "file"),
});
Deno.bench({
  name: "raw write + digest + fsync + dir fsync, 64 MiB",
  group: "write 64 MiB, durability fsync",
  n: 8,
  warmup: 1,
  fn: rawWriteBench("raw-fsync", "file+dir"),
});
Deno.bench({
  name: "store put, 64 MiB (fsync)",
  group: "write 64 MiB, durability fsync",
  n: 8,
  warmup: 1,
  fn: storeWriteBench(storeFsync),
});

Deno.bench({
  name: "raw write + digest + fsync, 64 MiB, 8 in flight",
  group: "write 64 MiB, durability fsync, 8 writes in flight",
  baseline: true,
  n: 8,
  warmup: 1,
  fn: rawWriteBench("raw-fsync", "file", 8),
});
Deno.bench({
  name: "store put, 64 MiB (fsync), 8 in flight",
  group: "write 64 MiB, durability fsync, 8 writes in flight",
  n: 8,
  warmup: 1,
  fn: storeWriteBench(storeFsync, 8),
});

Deno.bench({
  name: "raw readFile + digest, 64 MiB",
  group: "read 64 MiB",
  baseline: true,
  n: 30,
  warmup: 3,
  async fn() {
    for (const path of rawPaths) await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  },
});
Deno.bench({
  name: "store readBytes (verified), 64 MiB",
  group: "read 64 MiB",
  n: 30,
  warmup: 3,
  async fn() {
    for (const id of ids) await storeRead.readBytes(id);
  },
});
Deno.bench({
  name: "store read stream (verified), 64 MiB",
  group: "read 64 MiB",
  n: 30,
  warmup: 3,
  async fn() {
    for (const id of ids) {
      for await (const _ of await storeRead.read(id)) {
        // drain
      }
    }
  },
});
