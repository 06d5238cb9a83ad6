/**
 * What reading a block back to push it costs the origin, per 128 MiB (512 blocks of 256 KiB), in
 * this process's CPU and wall time:
 *
 *     deno run -A bench/push_read_bench.ts [--runs 5]
 *
 * 1. verified reads (`readBytes`, the pusher's re-verify before this change);
 * 2. unverified reads (`readBytes` with `verify: false`, what a push to a `blocks/2` peer does);
 * 3. the baseline: one SHA-256 pass (`crypto.subtle.digest`) over the same blocks in memory.
 *
 * The blocks were just written (`durability none`), so the reads come from the page cache, as
 * replication's reads after a put do. (2) is what handing the put's bytes over in memory would
 * save at most. Each figure is the median of `--runs`; the CPU is user + system of this process.
 *
 * @module
 */

import { denoFileSystem } from "../src/runtime/deno/fs.ts";
import { FsBlockStore } from "../src/store/block_store.ts";
import type { ContentId } from "../src/id/content_id.ts";
import { flag, median } from "./bench_util.ts";

const BLOCK = 256 * 1024;
const COUNT = 512; // 128 MiB
const runs = Math.max(1, Math.min(15, Number(flag("runs") ?? "5")));
const dir = await Deno.makeTempDir({ prefix: "dfs-push-read-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** User + system CPU of this process, ms. */
function selfCpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime, stime in 1/100 s (USER_HZ)
}

const store = await FsBlockStore.open({
  fs: denoFileSystem(),
  root: `${dir}/s`,
  durability: "none",
});
const blocks: Uint8Array<ArrayBuffer>[] = [];
const ids: ContentId[] = [];
for (let i = 0; i < COUNT; i++) {
  const b = new Uint8Array(BLOCK);
  for (let at = 0; at < BLOCK; at += 65536) crypto.getRandomValues(b.subarray(at, at + 65536));
  blocks.push(b);
  ids.push(await store.put(b));
}

async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = selfCpuMs();
  const t0 = performance.now();
  await fn();
  return { wall: performance.now() - t0, cpu: selfCpuMs() - c0 };
}

const cases: Record<string, () => Promise<void>> = {
  "verified reads (readBytes)": async () => {
    for (const id of ids) await store.readBytes(id);
  },
  "unverified reads (readBytes, verify: false)": async () => {
    for (const id of ids) await store.readBytes(id, { verify: false });
  },
  "baseline: one SHA-256 pass in memory": async () => {
    for (const b of blocks) await crypto.subtle.digest("SHA-256", b);
  },
};
const results: Record<string, { wall: number[]; cpu: number[] }> = {};
for (let r = 0; r < runs; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const t = await timed(fn);
    (results[name] ??= { wall: [], cpu: [] }).wall.push(t.wall);
    results[name].cpu.push(t.cpu);
  }
}
console.log(`| 128 MiB (512 x 256 KiB), median of ${runs} | wall ms | CPU ms |`);
console.log(`| --- | --- | --- |`);
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${median(r.wall).toFixed(0)} | ${median(r.cpu).toFixed(0)} |`);
}
