/**
 * Joins byte arrays into one.
 *
 * @module
 */

/**
 * Copies `parts`, in order, into one new array. `total` is their summed length when the caller
 * already knows it (it is computed otherwise); parts beyond `total` bytes are an error of the
 * caller (a `RangeError` from `Uint8Array.set`).
 *
 * @example
 * ```ts
 * import { concatBytes } from "./concat.ts";
 * concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let size = total ?? 0;
  if (total === undefined) { for (const p of parts) size += p.length; }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
