/**
 * The compute kernel of the erasure codec: one operation, a matrix of GF(2^8) coefficients
 * times a set of byte vectors. Encoding is this product with the parity rows of the encoding
 * matrix; reconstruction is the same product with rows of its inverse. Everything else in the
 * codec is bookkeeping on k×k matrices, so the kernel is where the time goes.
 *
 * Two implementations: {@linkcode createWasmKernel} (WebAssembly SIMD, split nibble tables,
 * several GiB/s) and {@linkcode createTypeScriptKernel} (plain TypeScript, table-driven, a few
 * hundred MiB/s, runs anywhere). {@linkcode defaultKernel} picks the fastest one the engine
 * supports.
 *
 * @example Multiply two vectors by a 1×2 matrix
 * ```ts
 * import { defaultKernel } from "./kernel.ts";
 * const inputs = [new Uint8Array([1, 2, 3]), new Uint8Array([1, 1, 1])];
 * const out = [new Uint8Array(3)];
 * defaultKernel().mulAdd(new Uint8Array([1, 1]), inputs, out, 3);
 * console.log(Array.from(out[0])); // [0, 3, 2]: with coefficients 1, it is XOR
 * ```
 *
 * @module
 */

import { createTypeScriptKernel } from "./typescript_kernel.ts";
import { createWasmKernel, wasmRelaxedSimdSupported, wasmSimdSupported } from "./wasm_kernel.ts";

/**
 * A GF(2^8) matrix-times-vectors kernel.
 *
 * `mulAdd(coefficients, inputs, outputs, length)` sets, for every output row r and every
 * byte x < length:
 *
 *     outputs[r][x] = XOR over j of coefficients[r * inputs.length + j] * inputs[j][x]
 *
 * (a product in GF(2^8), polynomial 0x11d). `coefficients` is the rows×inputs matrix,
 * row-major, with rows = `outputs.length`. Outputs are overwritten, not accumulated into;
 * bytes at and past `length` are left alone. Outputs must not overlap inputs or each other.
 * Every vector must hold at least `length` bytes. Implementations throw
 * {@linkcode InvalidArgumentError} on a wrong coefficient count or short vectors.
 *
 * @example A kernel of one's own (slow, but correct)
 * ```ts
 * import type { GfKernel } from "./kernel.ts";
 * import { gfMul } from "./gf256.ts";
 * const naive: GfKernel = {
 *   name: "naive",
 *   mulAdd(coefficients, inputs, outputs, length) {
 *     outputs.forEach((out, r) => {
 *       for (let x = 0; x < length; x++) {
 *         let acc = 0;
 *         inputs.forEach((input, j) => {
 *           acc ^= gfMul(coefficients[r * inputs.length + j], input[x]);
 *         });
 *         out[x] = acc;
 *       }
 *     });
 *   },
 * };
 * ```
 */
export interface GfKernel {
  /** Short name for logs and benches: `"wasm-relaxed-simd"`, `"wasm-simd"`, `"typescript"`. */
  readonly name: string;
  /** Computes `outputs = coefficients × inputs` over the first `length` bytes. */
  mulAdd(
    coefficients: Uint8Array,
    inputs: readonly Uint8Array[],
    outputs: Uint8Array[],
    length: number,
  ): void;
}

let shared: GfKernel | undefined;

/**
 * The kernel to use when none is given: one shared instance of the WebAssembly kernel, with
 * relaxed SIMD when the engine validates it (Deno 2, Node 24, Bun 1.x), else with plain SIMD,
 * else (no WebAssembly SIMD at all) the TypeScript kernel.
 *
 * @example
 * ```ts
 * import { defaultKernel } from "./kernel.ts";
 * console.log(defaultKernel().name); // "wasm-relaxed-simd" on Deno, Node and Bun
 * ```
 */
export function defaultKernel(): GfKernel {
  if (shared === undefined) {
    if (wasmRelaxedSimdSupported()) shared = createWasmKernel({ relaxedSimd: true });
    else if (wasmSimdSupported()) shared = createWasmKernel({ relaxedSimd: false });
    else shared = createTypeScriptKernel();
  }
  return shared;
}
