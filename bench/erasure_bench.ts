/**
 * Erasure coding: rs:4+2 and rs:10+4 with 256 KiB shards, encode and reconstruct, with each
 * kernel (WebAssembly relaxed SIMD, WebAssembly SIMD, TypeScript), next to the physical
 * baseline of a raw `crypto.subtle.digest("SHA-256")` of the same data bytes (k shards).
 *
 *     deno bench -A bench/erasure_bench.ts
 *
 * `encode` returns fresh arrays, `encodeInto` writes into arrays allocated once. Reconstruct
 * loses the first data shards, as many as the code has parity (2 of rs:4+2, 4 of
 * rs:10+4), and rebuilds them from the rest, the hardest case: every parity shard is used.
 * Data stays in cache (the same shards every iteration). For MiB/s of data per core against
 * Intel ISA-L in the same run, see bench/erasure_native.ts.
 */

import { ReedSolomon } from "../src/file/erasure/reed_solomon.ts";
import type { GfKernel } from "../src/file/erasure/kernel.ts";
import { createTypeScriptKernel } from "../src/file/erasure/typescript_kernel.ts";
import { createWasmKernel } from "../src/file/erasure/wasm_kernel.ts";

const SHARD = 256 * 1024;
const kernels: GfKernel[] = [
  createWasmKernel({ relaxedSimd: true }),
  createWasmKernel({ relaxedSimd: false }),
  createTypeScriptKernel(),
];

for (const [k, m] of [[4, 2], [10, 4]] as const) {
  const data = Array.from({ length: k }, () => fill(SHARD));
  const all = new Uint8Array(k * SHARD);
  data.forEach((d, i) => all.set(d, i * SHARD));
  const group = `rs:${k}+${m} 256KiB shards (${k * SHARD / 1024} KiB of data)`;
  Deno.bench({
    name: `raw crypto.subtle.digest SHA-256 of the ${k} data shards`,
    group,
    baseline: true,
    async fn() {
      await crypto.subtle.digest("SHA-256", all);
    },
  });
  for (const kernel of kernels) {
    const rs = ReedSolomon.create(k, m, { kernel });
    const shards = [...data, ...rs.encode(data)];
    Deno.bench({
      name: `encode ${kernel.name}`,
      group,
      fn() {
        rs.encode(data);
      },
    });
    const parity = Array.from({ length: m }, () => new Uint8Array(SHARD));
    Deno.bench({
      name: `encodeInto (reused arrays) ${kernel.name}`,
      group,
      fn() {
        rs.encodeInto(data, parity);
      },
    });
    Deno.bench({
      name: `reconstruct ${m} lost data shards ${kernel.name}`,
      group,
      fn() {
        const copy: (Uint8Array | undefined)[] = shards.slice();
        for (let i = 0; i < m; i++) copy[i] = undefined;
        rs.reconstruct(copy);
      },
    });
  }
}

function fill(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}
