/**
 * Loopback throughput, raw Deno sockets next to the dfs adapters' Connection streams:
 *
 *     deno bench -A bench/loopback_bench.ts
 *
 * Each iteration opens one connection and moves 64 MiB in 64 KiB chunks to a receiver that
 * counts bytes. The memory network is measured too, for the simulation budget.
 *
 * @module
 */

import { denoNetwork } from "../src/runtime/deno/net.ts";
import { MemoryNetwork } from "../src/runtime/memory/net.ts";
import type { Network } from "../src/runtime/types.ts";
import { adapterTransfer, rawDenoTransfer } from "./loopback_common.ts";

const TOTAL = 64 * 1024 * 1024;
async function rawDeno(): Promise<void> {
  await rawDenoTransfer(TOTAL);
}

async function throughAdapter(net: Network): Promise<void> {
  await adapterTransfer(net, TOTAL);
}

const deno = denoNetwork();
const memory = new MemoryNetwork();

Deno.bench({
  name: "raw Deno.connect/listen, 64 MiB",
  group: "loopback",
  baseline: true,
  n: 20,
  warmup: 3,
  fn: rawDeno,
});
Deno.bench({
  name: "denoNetwork() Connection streams, 64 MiB",
  group: "loopback",
  n: 20,
  warmup: 3,
  // Deno.bench awaits only `async` functions, so no bare arrow returning a promise.
  fn: async () => await throughAdapter(deno),
});
Deno.bench({
  name: "MemoryNetwork Connection streams, 64 MiB",
  group: "loopback",
  n: 20,
  warmup: 3,
  fn: async () => await throughAdapter(memory),
});
