/**
 * The WebAssembly SIMD {@linkcode GfKernel}, built from `wasm/gf_kernel.c`.
 *
 * Multiplying a byte x by a coefficient c in GF(2^8) is linear over GF(2), so
 * `c*x = c*(x & 0x0f) ^ c*(x & 0xf0)`: two look-ups in 16-entry tables of c, one by each
 * nibble. `i8x16.swizzle` (or `i8x16.relaxed_swizzle`, a bare `pshufb` on x86) does 16 such
 * look-ups in one instruction. The C kernel sweeps up to four output rows at a time, 64 bytes
 * per iteration, loading and splitting each input block once for all of them, with each
 * row's tables held in registers.
 *
 * WebAssembly cannot see JavaScript's buffers, so each kernel owns a `WebAssembly.Memory`
 * (grown on demand, kept between calls): per call the coefficients' tables are prepared once,
 * then the vectors go through in chunks sized so that all inputs and outputs of a chunk fit
 * in about 256 KiB of cache: copy the inputs' chunk in, run the kernel, copy the outputs'
 * chunk out. The copies cost about a third of the time of an rs:4+2 encode.
 *
 * @example
 * ```ts
 * import { createWasmKernel, wasmSimdSupported } from "./wasm_kernel.ts";
 * if (wasmSimdSupported()) {
 *   const kernel = createWasmKernel();
 *   const out = [new Uint8Array(4)];
 *   kernel.mulAdd(new Uint8Array([2]), [new Uint8Array([1, 2, 3, 0x80])], out, 4);
 *   console.log(Array.from(out[0])); // [2, 4, 6, 29]
 * }
 * ```
 *
 * @module
 */

import type { GfKernel } from "./kernel.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { checkMulAddArguments } from "./kernel_args.ts";
import { GF_KERNEL_WASM_RELAXED_SIMD, GF_KERNEL_WASM_SIMD } from "./wasm/gf_kernel_wasm.ts";

/** Options of {@linkcode createWasmKernel}. */
export interface WasmKernelOptions {
  /**
   * Use the build with `i8x16.relaxed_swizzle` (faster on x86). Default: when the engine
   * supports it ({@linkcode wasmRelaxedSimdSupported}). `true` on an engine without relaxed
   * SIMD throws.
   */
  readonly relaxedSimd?: boolean;
}

interface KernelExports {
  readonly gf_init: (tables: number) => void;
  readonly gf_prepare: (tables: number, coef: number, count: number, dst: number) => void;
  readonly gf_mul_add: (
    tabs: number,
    rows: number,
    n: number,
    input: number,
    output: number,
    stride: number,
    length: number,
    nibbleMask: number,
  ) => void;
  readonly __heap_base: WebAssembly.Global;
}

const PAGE = 65536;
/** Bytes of all inputs plus outputs that one chunk may take (half of a typical L2). */
const CHUNK_BUDGET = 256 * 1024;
const MIN_CHUNK = 4096;
const MAX_CHUNK = 65536;

const modules: { simd?: WebAssembly.Module; relaxed?: WebAssembly.Module } = {};
const supported: { simd?: boolean; relaxed?: boolean } = {};

/**
 * Whether this engine runs WebAssembly SIMD (it validates the kernel's SIMD build).
 *
 * @example
 * ```ts
 * import { wasmSimdSupported } from "./wasm_kernel.ts";
 * console.log(wasmSimdSupported()); // true on Deno 2, Node 24, Bun 1.x
 * ```
 */
export function wasmSimdSupported(): boolean {
  supported.simd ??= validates(GF_KERNEL_WASM_SIMD);
  return supported.simd;
}

/**
 * Whether this engine runs WebAssembly relaxed SIMD (it validates the relaxed build).
 *
 * @example
 * ```ts
 * import { wasmRelaxedSimdSupported } from "./wasm_kernel.ts";
 * console.log(wasmRelaxedSimdSupported()); // true on Deno 2, Node 24, Bun 1.x
 * ```
 */
export function wasmRelaxedSimdSupported(): boolean {
  supported.relaxed ??= validates(GF_KERNEL_WASM_RELAXED_SIMD);
  return supported.relaxed;
}

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/**
 * A new WebAssembly kernel, named `"wasm-relaxed-simd"` or `"wasm-simd"` after its build.
 * Each instance owns its memory (a few hundred KiB, grown as shapes need). Throws
 * {@linkcode InvalidArgumentError} when the engine lacks the WebAssembly features asked for.
 *
 * @example Both builds compute the same bytes
 * ```ts
 * import { createWasmKernel, wasmRelaxedSimdSupported } from "./wasm_kernel.ts";
 * if (wasmRelaxedSimdSupported()) {
 *   const input = [new Uint8Array([5, 6, 7])];
 *   const a = [new Uint8Array(3)];
 *   const b = [new Uint8Array(3)];
 *   createWasmKernel({ relaxedSimd: true }).mulAdd(new Uint8Array([9]), input, a, 3);
 *   createWasmKernel({ relaxedSimd: false }).mulAdd(new Uint8Array([9]), input, b, 3);
 *   console.log(a[0].join() === b[0].join()); // true
 * }
 * ```
 */
export function createWasmKernel(options: WasmKernelOptions = {}): GfKernel {
  const relaxed = options.relaxedSimd ?? wasmRelaxedSimdSupported();
  if (relaxed ? !wasmRelaxedSimdSupported() : !wasmSimdSupported()) {
    throw new InvalidArgumentError(
      `this engine does not support WebAssembly ${relaxed ? "relaxed SIMD" : "SIMD"}`,
    );
  }
  const module = relaxed
    ? (modules.relaxed ??= new WebAssembly.Module(GF_KERNEL_WASM_RELAXED_SIMD))
    : (modules.simd ??= new WebAssembly.Module(GF_KERNEL_WASM_SIMD));
  return new WasmKernel(relaxed ? "wasm-relaxed-simd" : "wasm-simd", module);
}

class WasmKernel implements GfKernel {
  readonly name: string;
  #memory: WebAssembly.Memory;
  #bytes: Uint8Array;
  #exports: KernelExports;
  /** Where the 256 coefficients' tables start (8 KiB), and the free memory after them. */
  #tables: number;
  #free: number;

  constructor(name: string, module: WebAssembly.Module) {
    this.name = name;
    this.#memory = new WebAssembly.Memory({ initial: 4 });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.#memory } });
    this.#exports = instance.exports as unknown as KernelExports;
    this.#tables = align64(this.#exports.__heap_base.value as number);
    this.#free = this.#tables + 8192;
    this.#bytes = new Uint8Array(this.#memory.buffer);
    this.#ensure(this.#free);
    this.#exports.gf_init(this.#tables);
  }

  mulAdd(
    coefficients: Uint8Array,
    inputs: readonly Uint8Array[],
    outputs: Uint8Array[],
    length: number,
  ): void {
    checkMulAddArguments(coefficients, inputs, outputs, length);
    const n = inputs.length;
    const rows = outputs.length;
    if (rows === 0 || length === 0) return;
    if (n === 0) {
      for (const out of outputs) out.fill(0, 0, length);
      return;
    }
    const count = rows * n;
    const stride = chunkSize(n + rows, length);
    const coefAt = this.#free;
    const tabsAt = align64(coefAt + count);
    const inAt = align64(tabsAt + count * 32);
    const outAt = inAt + n * stride;
    this.#ensure(outAt + rows * stride);
    const bytes = this.#bytes;
    const ex = this.#exports;
    bytes.set(coefficients, coefAt);
    ex.gf_prepare(this.#tables, coefAt, count, tabsAt);
    for (let start = 0; start < length; start += stride) {
      const size = Math.min(stride, length - start);
      const end = start + size;
      for (let j = 0; j < n; j++) bytes.set(inputs[j].subarray(start, end), inAt + j * stride);
      ex.gf_mul_add(tabsAt, rows, n, inAt, outAt, stride, align64(size), 0x0f);
      for (let r = 0; r < rows; r++) {
        const at = outAt + r * stride;
        outputs[r].set(bytes.subarray(at, at + size), start);
      }
    }
  }

  /** Grows the memory to at least `size` bytes. */
  #ensure(size: number): void {
    const have = this.#memory.buffer.byteLength;
    if (size > have) this.#memory.grow(Math.ceil((size - have) / PAGE));
    if (this.#bytes.buffer !== this.#memory.buffer) {
      this.#bytes = new Uint8Array(this.#memory.buffer);
    }
  }
}

/** Bytes of each vector per chunk: a multiple of 64, about CHUNK_BUDGET over all vectors. */
function chunkSize(vectors: number, length: number): number {
  const budget = Math.floor(CHUNK_BUDGET / vectors / 1024) * 1024;
  const chunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, budget));
  return Math.min(chunk, align64(length));
}

function align64(x: number): number {
  return (x + 63) & ~63;
}
