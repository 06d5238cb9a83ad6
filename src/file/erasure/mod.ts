/**
 * Reed-Solomon erasure coding for dfs: a file's blocks are grouped k at a time and m parity
 * blocks are added, so that any k of the k+m survive the loss of the others.
 *
 * - {@linkcode ReedSolomon}: `create(k, m)`, `encode(data)` (or `encodeInto`),
 *   `reconstruct(shards)`.
 * - GF(2^8) arithmetic ({@linkcode gfMul}, {@linkcode gfInv}, ...) with ISA-L's polynomial
 *   0x11d, and matrices ({@linkcode cauchyMatrix}, {@linkcode invertMatrix}): parity bytes
 *   equal ISA-L's `ec_encode_data` with `gf_gen_cauchy1_matrix`.
 * - Kernels ({@linkcode GfKernel}): WebAssembly SIMD ({@linkcode createWasmKernel}) by
 *   default, plain TypeScript ({@linkcode createTypeScriptKernel}) where WebAssembly SIMD is
 *   missing or when asked for.
 *
 * @example
 * ```ts
 * import { ReedSolomon, TooFewShardsError } from "./mod.ts";
 * const rs = ReedSolomon.create(4, 2);
 * const data = [0, 1, 2, 3].map((i) => new TextEncoder().encode(`shard ${i}`));
 * const shards: (Uint8Array | undefined)[] = [...data, ...rs.encode(data)];
 * shards[1] = shards[2] = undefined;
 * rs.reconstruct(shards);
 * console.log(new TextDecoder().decode(shards[2])); // "shard 2"
 * shards[0] = shards[1] = shards[2] = undefined;
 * try {
 *   rs.reconstruct(shards);
 * } catch (err) {
 *   console.log(err instanceof TooFewShardsError); // true: 3 present, 4 needed
 * }
 * ```
 *
 * @module
 */

export { type ReconstructOptions, ReedSolomon, type ReedSolomonOptions } from "./reed_solomon.ts";
export { SingularMatrixError, TooFewShardsError } from "./errors.ts";
export { defaultKernel, type GfKernel } from "./kernel.ts";
export { createTypeScriptKernel } from "./typescript_kernel.ts";
export {
  createWasmKernel,
  type WasmKernelOptions,
  wasmRelaxedSimdSupported,
  wasmSimdSupported,
} from "./wasm_kernel.ts";
export { cauchyMatrix, invertMatrix, multiplyMatrices } from "./matrix.ts";
export { GF_POLYNOMIAL, gfDiv, gfExp, gfInv, gfMul, gfMulTable } from "./gf256.ts";
