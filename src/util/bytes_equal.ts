/**
 * Byte-array equality.
 *
 * @module
 */

/**
 * True when `a` and `b` hold the same bytes. Arrays of one length are compared in full, without
 * stopping at the first difference (so the time does not tell where two keys or ids differ).
 *
 * @example
 * ```ts
 * import { bytesEqual } from "./bytes_equal.ts";
 * console.log(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
