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

const CHUNK = 64 * 1024;
const RUNS = 5;

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

async function pickNetwork(): Promise<{ name: string; net: Network }> {
  if (g.Deno) {
    return { name: "deno", net: (await import("../src/runtime/deno/net.ts")).denoNetwork() };
  }
  if (g.Bun) return { name: "bun", net: (await import("../src/runtime/bun/net.ts")).bunNetwork() };
  return { name: "node", net: (await import("../src/runtime/node/net.ts")).nodeNetwork() };
}

async function once(net: Network, total: number): Promise<number> {
  let receiving: Promise<number> | undefined;
  let accepted!: () => void;
  const acceptedP = new Promise<void>((r) => (accepted = r));
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    receiving = (async () => {
      let got = 0;
      for await (const c of conn.readable) got += c.length;
      conn.close();
      return got;
    })();
    accepted();
  });
  const started = performance.now();
  const conn = await net.connect(listener.address);
  const writer = conn.writable.getWriter();
  const chunk = new Uint8Array(CHUNK).fill(1);
  for (let sent = 0; sent < total; sent += CHUNK) await writer.write(chunk);
  await writer.close();
  await acceptedP;
  const got = await receiving!;
  const ms = performance.now() - started;
  conn.close();
  await listener.close();
  if (got !== total) throw new Error(`received ${got} of ${total}`);
  return ms;
}

/** Resident set size now (bytes); the runs reuse one 64 KiB chunk, so this is near the peak. */
function rss(): number {
  return g.Deno ? g.Deno.memoryUsage().rss : g.process.memoryUsage().rss;
}

async function main(): Promise<void> {
  const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
  const total = Math.max(1, Number(args[0] ?? "64")) * 1024 * 1024;
  const { name, net } = await pickNetwork();
  await once(net, Math.min(total, 8 * 1024 * 1024)); // warm-up
  const mibPerSec: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ms = await once(net, total);
    mibPerSec.push(Math.round((total / 1024 / 1024) / (ms / 1000)));
  }
  const sorted = [...mibPerSec].sort((a, b) => a - b);
  console.log(JSON.stringify({
    bench: "loopback_adapter",
    runtime: name,
    mib: total / 1024 / 1024,
    chunkBytes: CHUNK,
    runs: mibPerSec,
    medianMiBps: sorted[Math.floor(sorted.length / 2)],
    rssMiB: Math.round(rss() / 1024 / 1024),
  }));
}

await main();
if (g.process?.exit && !g.Deno) g.process.exit(0);
