/**
 * The plain TypeScript {@linkcode GfKernel}: runs on any engine, with or without
 * WebAssembly.
 *
 * Multiplication by a coefficient c is a look-up in c's 256-entry product table (all 256
 * tables, 64 KiB, are built on first use). The hot loop reads the input four bytes at a time
 * as a 32-bit word, looks up each byte and puts the four products back together with shifts,
 * so each output word is read and written once per input instead of four times. Vectors
 * whose byte offset is not a multiple of 4 are staged through aligned scratch buffers. The
 * work goes in chunks of 32 KiB of each vector so that an output chunk stays in cache while
 * every input is added into it. About 0.7 GiB/s of data for an rs:4+2 encode and 0.3 GiB/s
 * for rs:10+4 on one x86-64 core: a tenth of the WebAssembly kernel.
 *
 * @example
 * ```ts
 * import { createTypeScriptKernel } from "./typescript_kernel.ts";
 * const kernel = createTypeScriptKernel();
 * const out = [new Uint8Array(4)];
 * kernel.mulAdd(new Uint8Array([2]), [new Uint8Array([1, 2, 3, 0x80])], out, 4);
 * console.log(Array.from(out[0])); // [2, 4, 6, 29]
 * ```
 *
 * @module
 */

import type { GfKernel } from "./kernel.ts";
import { gfMulTable } from "./gf256.ts";
import { checkMulAddArguments } from "./kernel_args.ts";

/** 32-bit words of each vector per chunk (32 KiB). */
const CHUNK_WORDS = 8192;

let productTables: Uint8Array | undefined;

/** `t[256 c + x] = c * x`, built on first use. */
function products(): Uint8Array {
  if (productTables === undefined) {
    productTables = new Uint8Array(65536);
    for (let c = 0; c < 256; c++) productTables.set(gfMulTable(c), c * 256);
  }
  return productTables;
}

/**
 * A new TypeScript kernel (name `"typescript"`). Each instance owns a few scratch buffers;
 * it is not shared between concurrent callers (JavaScript runs one call at a time anyway).
 *
 * @example
 * ```ts
 * import { createTypeScriptKernel } from "./typescript_kernel.ts";
 * console.log(createTypeScriptKernel().name); // "typescript"
 * ```
 */
export function createTypeScriptKernel(): GfKernel {
  return new TypeScriptKernel();
}

class TypeScriptKernel implements GfKernel {
  readonly name = "typescript";
  #scratchIn: Int32Array[] = [];
  #scratchOut = new Int32Array(CHUNK_WORDS);

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
    const tables = products();
    const words = length >>> 2;
    const views: Int32Array[] = new Array(n);
    for (let start = 0; start < words; start += CHUNK_WORDS) {
      const count = Math.min(CHUNK_WORDS, words - start);
      for (let j = 0; j < n; j++) views[j] = this.#wordsOf(inputs[j], start, count, j);
      for (let r = 0; r < rows; r++) {
        const out = outputs[r];
        const aligned = (out.byteOffset & 3) === 0;
        const target = aligned
          ? new Int32Array(out.buffer, out.byteOffset + start * 4, count)
          : this.#scratchOut.subarray(0, count);
        for (let j = 0; j < n; j++) {
          const c = coefficients[r * n + j];
          const table = tables.subarray(c * 256, c * 256 + 256);
          if (j === 0) mulWords(table, views[j], target, count);
          else mulWordsXor(table, views[j], target, count);
        }
        if (!aligned) {
          out.set(new Uint8Array(target.buffer, target.byteOffset, count * 4), start * 4);
        }
      }
    }
    // the last length % 4 bytes, one at a time
    for (let x = words * 4; x < length; x++) {
      for (let r = 0; r < rows; r++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc ^= tables[coefficients[r * n + j] * 256 + inputs[j][x]];
        outputs[r][x] = acc;
      }
    }
  }

  /** Words start..start+count of `v`: a view when aligned, else a copy in scratch `slot`. */
  #wordsOf(v: Uint8Array, start: number, count: number, slot: number): Int32Array {
    if ((v.byteOffset & 3) === 0) return new Int32Array(v.buffer, v.byteOffset + start * 4, count);
    let scratch = this.#scratchIn[slot];
    if (scratch === undefined) scratch = this.#scratchIn[slot] = new Int32Array(CHUNK_WORDS);
    new Uint8Array(scratch.buffer).set(v.subarray(start * 4, (start + count) * 4));
    return scratch.subarray(0, count);
  }
}

function mulWords(t: Uint8Array, input: Int32Array, out: Int32Array, count: number): void {
  for (let x = 0; x < count; x++) {
    const w = input[x];
    out[x] = t[w & 255] | (t[(w >>> 8) & 255] << 8) | (t[(w >>> 16) & 255] << 16) |
      (t[w >>> 24] << 24);
  }
}

function mulWordsXor(t: Uint8Array, input: Int32Array, out: Int32Array, count: number): void {
  for (let x = 0; x < count; x++) {
    const w = input[x];
    out[x] ^= t[w & 255] | (t[(w >>> 8) & 255] << 8) | (t[(w >>> 16) & 255] << 16) |
      (t[w >>> 24] << 24);
  }
}
