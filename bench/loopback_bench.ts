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

const TOTAL = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;

async function rawDeno(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const receiving = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(256 * 1024);
    let got = 0;
    while (got < TOTAL) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += n;
    }
    conn.close();
    return got;
  })();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const chunk = new Uint8Array(CHUNK).fill(1);
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    let off = 0;
    while (off < CHUNK) off += await conn.write(off === 0 ? chunk : chunk.subarray(off));
  }
  const got = await receiving;
  conn.close();
  listener.close();
  if (got !== TOTAL) throw new Error(`received ${got}`);
}

async function throughAdapter(net: Network): Promise<void> {
  let receiving!: Promise<number>;
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    receiving = (async () => {
      let got = 0;
      for await (const c of conn.readable) got += c.length;
      conn.close();
      return got;
    })();
  });
  const conn = await net.connect(listener.address);
  const writer = conn.writable.getWriter();
  const chunk = new Uint8Array(CHUNK).fill(1);
  for (let sent = 0; sent < TOTAL; sent += CHUNK) await writer.write(chunk);
  await writer.close();
  const got = await receiving;
  conn.close();
  await listener.close();
  if (got !== TOTAL) throw new Error(`received ${got}`);
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
