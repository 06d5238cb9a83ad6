/**
 * The hashing baseline of a remote get: CPU time of one `crypto.subtle.digest("SHA-256")` pass
 * over SIZE bytes, in 256 KiB blocks (dfs's default block size), in whichever runtime runs it.
 *
 *     deno run -A bench/digest_cpu.ts [MiB]      (default 1024)
 *     node bench/digest_cpu.ts [MiB]
 *     bun bench/digest_cpu.ts [MiB]
 *
 * Prints one JSON line: `{ bench, runtime, mib, cpuMsPerGiB, wallMsPerGiB }`, the CPU (user +
 * system, `process.cpuUsage()`) and wall time one pass costs per GiB. `bench/e2e_bench.ts` and
 * `bench/peers_bench.ts` run it in the same sitting and put the nodes' CPU per GiB of remote get
 * beside it as a ratio.
 *
 * @module
 */

import process from "node:process";

const BLOCK = 256 * 1024;
const arg = globalThis.Deno?.args?.[0] ?? process.argv[2];
const mib = Math.max(16, Math.min(4096, Number(arg ?? "1024") || 1024));
const block = new Uint8Array(BLOCK);
for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
const blocks = (mib * 1024 * 1024) / BLOCK;

// Warm up (JIT, Web Crypto's first call), then the measured pass.
for (let i = 0; i < 16; i++) await crypto.subtle.digest("SHA-256", block);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < blocks; i++) {
  block[0] = i & 0xff; // a different block each time, as a real file has
  await crypto.subtle.digest("SHA-256", block);
}
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const perGiB = 1024 / mib;
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
console.log(JSON.stringify({
  bench: "digest_cpu",
  runtime,
  mib,
  cpuMsPerGiB: Math.round(((cpu.user + cpu.system) / 1000) * perGiB),
  wallMsPerGiB: Math.round(wall * perGiB),
}));
