/**
 * Loopback throughput through the dfs TCP adapter of the host runtime (its `Connection`
 * streams), as one JSON line, to set next to `bench/loopback_raw.ts` from the same runtime:
 *
 *     deno run -A bench/loopback_adapter.ts [MiB]
 *     bun bench/loopback_adapter.ts [MiB]
 *     node bench/loopback_adapter.ts [MiB]
 *
 * One connection per run; the sender writes 64 KiB chunks through `writable`, the receiver
 * counts bytes from `readable`; the time runs from connect to the receiver's end of stream.
 * Five runs after a warm-up; the line gives every run and the median.
 *
 * @module
 */

import type { Network } from "../src/runtime/types.ts";
import { adapterTransfer, argv, CHUNK, measure, rss } from "./loopback_common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

async function pickNetwork(): Promise<{ name: string; net: Network }> {
  if (g.Deno) {
    return { name: "deno", net: (await import("../src/runtime/deno/net.ts")).denoNetwork() };
  }
  if (g.Bun) return { name: "bun", net: (await import("../src/runtime/bun/net.ts")).bunNetwork() };
  return { name: "node", net: (await import("../src/runtime/node/net.ts")).nodeNetwork() };
}

async function main(): Promise<void> {
  const total = Math.max(1, Number(argv()[0] ?? "64")) * 1024 * 1024;
  const { name, net } = await pickNetwork();
  const { runs, medianMiBps } = await measure((n) => adapterTransfer(net, n), total);
  console.log(JSON.stringify({
    bench: "loopback_adapter",
    runtime: name,
    mib: total / 1024 / 1024,
    chunkBytes: CHUNK,
    runs,
    medianMiBps,
    rssMiB: Math.round(rss() / 1024 / 1024),
  }));
}

await main();
if (g.process?.exit && !g.Deno) g.process.exit(0);
