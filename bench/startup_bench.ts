/**
 * Node startup and `status()` on a store that already holds many blocks (Deno, real disk).
 *
 *     deno run -A bench/startup_bench.ts [--blocks N] [--max-store]
 *
 * Writes N small blocks (default 20,000; 1 KiB each, durability none) and one indexed file
 * through a store in a temp directory, then times, on the same directory: `Node.start`, the
 * first `status()`, a second `status()`, `close()`, and a second `Node.start` after that clean
 * close. With `--max-store` the node is started with a (large) store bound, so it counts its
 * entries when it opens (the restart takes the counts the clean close saved). The physical baseline of
 * the same run: a raw walk of the store's directory tree (`Deno.readDir` + `Deno.lstat` of each
 * file, what any count must at least do) and a raw walk that also reads the first 128 bytes of
 * every file (what counting from headers does). Prints one JSON line.
 *
 * @module
 */

import { Node } from "../src/node/node.ts";
import { denoRuntime } from "../src/runtime/deno.ts";
import { FsBlockStore } from "../src/store/block_store.ts";

const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const blocks = Number(flag("blocks") ?? "20000");
const bounded = args.includes("--max-store");

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [Math.round(performance.now() - t0), value];
}

async function rawWalk(dir: string, readHeads: boolean): Promise<number> {
  let files = 0;
  const head = new Uint8Array(128);
  const walk = async (d: string): Promise<void> => {
    for await (const e of Deno.readDir(d)) {
      const path = `${d}/${e.name}`;
      const info = await Deno.lstat(path);
      if (info.isDirectory) await walk(path);
      else if (info.isFile) {
        files++;
        if (readHeads) {
          const f = await Deno.open(path);
          await f.read(head);
          f.close();
        }
      }
    }
  };
  await walk(dir);
  return files;
}

const dir = await Deno.makeTempDir({ prefix: "dfs-startup-" });
try {
  const runtime = denoRuntime();
  const store = await FsBlockStore.open({
    fs: runtime.fs,
    root: `${dir}/blocks`,
    durability: "none",
  });
  const block = new Uint8Array(1024);
  for (let i = 0; i < blocks; i++) {
    new DataView(block.buffer).setUint32(0, i);
    await store.put(block);
  }
  await store.close();
  // One indexed file, so startup has an index to load.
  const seed = await Node.start({
    runtime,
    dataDir: dir,
    listen: "127.0.0.1:0",
    durability: "none",
  });
  await seed.put(new TextEncoder().encode("an indexed file"), { copies: 1 });
  await seed.close();

  const [walkMs, files] = await timed(() => rawWalk(`${dir}/blocks/data`, false));
  const [walkHeadsMs] = await timed(() => rawWalk(`${dir}/blocks/data`, true));
  const start = () =>
    Node.start({
      runtime,
      dataDir: dir,
      listen: "127.0.0.1:0",
      durability: "none",
      ...(bounded ? { maxStoreBytes: 1024 ** 4 } : {}),
    });
  const [startMs, node] = await timed(start);
  const [firstStatusMs, status] = await timed(() => node.status());
  const [secondStatusMs] = await timed(() => node.status());
  const [closeMs] = await timed(() => node.close());
  const [restartMs, again] = await timed(start);
  const [restartStatusMs, restartStatus] = await timed(() => again.status());
  await again.close();
  console.log(JSON.stringify({
    bench: "startup",
    runtime: "deno",
    version: Deno.version.deno,
    blocks,
    entries: status.store.count,
    files: status.files,
    bounded,
    rawWalkMs: walkMs,
    rawWalkFiles: files,
    rawWalkReadingHeadsMs: walkHeadsMs,
    nodeStartMs: startMs,
    firstStatusMs,
    secondStatusMs,
    closeMs,
    restartMs,
    restartStatusMs,
    restartEntries: restartStatus.store.count,
  }));
} finally {
  await Deno.remove(dir, { recursive: true });
}
