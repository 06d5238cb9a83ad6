/**
 * The kernels under test, and a naive reference kernel straight from the definition.
 *
 * @module
 */

import type { GfKernel } from "../../../src/file/erasure/kernel.ts";
import { gfMul } from "../../../src/file/erasure/gf256.ts";
import { createTypeScriptKernel } from "../../../src/file/erasure/typescript_kernel.ts";
import {
  createWasmKernel,
  wasmRelaxedSimdSupported,
  wasmSimdSupported,
} from "../../../src/file/erasure/wasm_kernel.ts";

/** Every kernel this engine can run: both WebAssembly builds and the TypeScript one. */
export function allKernels(): GfKernel[] {
  const out: GfKernel[] = [];
  if (wasmRelaxedSimdSupported()) out.push(createWasmKernel({ relaxedSimd: true }));
  if (wasmSimdSupported()) out.push(createWasmKernel({ relaxedSimd: false }));
  out.push(createTypeScriptKernel());
  return out;
}

/** outputs[r][x] = XOR_j c[r][j] * inputs[j][x], one gfMul at a time. */
export const naiveKernel: GfKernel = {
  name: "naive",
  mulAdd(coefficients, inputs, outputs, length) {
    const n = inputs.length;
    for (let r = 0; r < outputs.length; r++) {
      for (let x = 0; x < length; x++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc ^= gfMul(coefficients[r * n + j], inputs[j][x]);
        outputs[r][x] = acc;
      }
    }
  },
};

/**
 * Asserts two byte arrays are equal, naming the first differing index (node:assert's
 * deepEqual is far too slow and memory-hungry on arrays of hundreds of KiB).
 */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, message = ""): void {
  if (actual.length !== expected.length) {
    throw new Error(`${message}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(`${message}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}
