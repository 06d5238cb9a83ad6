/**
 * Raw loopback TCP throughput of the host runtime's native socket API, as one JSON line:
 * the physical baseline later transfer benches compare against.
 *
 *     deno run -A bench/loopback_raw.ts [MiB]
 *     bun bench/loopback_raw.ts [MiB]
 *     node bench/loopback_raw.ts [MiB]
 *
 * Deno uses `Deno.listen`/`Deno.connect` with `read`/`write`, Bun uses `Bun.listen`/
 * `Bun.connect` with partial writes and `drain`, Node uses `node:net` with `write`/`'drain'`.
 * One connection per run; the sender writes 64 KiB chunks; the time runs from connect to the
 * receiver counting the last byte. Five runs; the line gives every run and the median.
 *
 * @module
 */

import { argv, CHUNK, measure, rawNativeTransfer, rss } from "./loopback_common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

function runtimeName(): "deno" | "bun" | "node" {
  if (g.Deno) return "deno";
  if (g.Bun) return "bun";
  return "node";
}

function versionOf(name: string): string {
  if (name === "deno") return g.Deno.version.deno;
  if (name === "bun") return g.Bun.version;
  return g.process.versions.node;
}

async function main(): Promise<void> {
  const mib = Number(argv()[0] ?? "64");
  const total = Math.max(1, mib) * 1024 * 1024;
  const name = runtimeName();
  const { runs, medianMiBps } = await measure(rawNativeTransfer, total);
  console.log(JSON.stringify({
    bench: "loopback_raw",
    runtime: name,
    version: versionOf(name),
    api: name === "deno"
      ? "Deno.listen/connect"
      : name === "bun"
      ? "Bun.listen/connect"
      : "node:net",
    mib: total / 1024 / 1024,
    chunkBytes: CHUNK,
    runs,
    medianMiBps,
    rssMiB: Math.round(rss() / 1024 / 1024),
  }));
}

await main();
if (g.process?.exit && !g.Deno) g.process.exit(0);
