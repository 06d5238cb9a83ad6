/**
 * Arithmetic in the finite field GF(2^8), the byte field of Reed-Solomon coding.
 *
 * The 256 elements are the bytes. Addition (and subtraction) is XOR. Multiplication is
 * multiplication of polynomials over GF(2) with 8-bit coefficients, reduced modulo the
 * primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (`0x11d`), the one Intel ISA-L uses, so
 * tables and matrices built here agree byte for byte with ISA-L's. Because `2` generates the
 * multiplicative group, every non-zero `a` is `2^log(a)`, and `a * b = 2^(log a + log b)`:
 * {@linkcode gfMul} and {@linkcode gfInv} are two table look-ups in exp/log tables built when
 * the module loads.
 *
 * @example
 * ```ts
 * import { gfInv, gfMul } from "./gf256.ts";
 * console.log(gfMul(2, 0x80)); // 0x1d: x * x^7 = x^8 = x^4 + x^3 + x^2 + 1
 * console.log(gfMul(7, gfInv(7))); // 1
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";

/** The field's reduction polynomial, x^8 + x^4 + x^3 + x^2 + 1 (ISA-L's). */
export const GF_POLYNOMIAL = 0x11d;

/** `EXP[i] = 2^i` for i in 0..509 (doubled, so a sum of two logs needs no reduction). */
const EXP = new Uint8Array(512);
/** `LOG[a]` = the i with 2^i = a, for a in 1..255 (`LOG[0]` is unused). */
const LOG = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= GF_POLYNOMIAL;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
}

/**
 * The product of two field elements (bytes).
 *
 * @example
 * ```ts
 * import { gfMul } from "./gf256.ts";
 * console.log(gfMul(3, 7)); // 9: (x + 1)(x^2 + x + 1) = x^3 + 1
 * ```
 */
export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a & 0xff] + LOG[b & 0xff]];
}

/**
 * The multiplicative inverse of a non-zero field element. Throws
 * {@linkcode InvalidArgumentError} for 0, which has none.
 *
 * @example
 * ```ts
 * import { gfInv, gfMul } from "./gf256.ts";
 * const a = 0x53;
 * console.log(gfMul(a, gfInv(a))); // 1
 * ```
 */
export function gfInv(a: number): number {
  a &= 0xff;
  if (a === 0) throw new InvalidArgumentError("0 has no inverse in GF(2^8)");
  return EXP[255 - LOG[a]];
}

/**
 * The quotient `a / b` of two field elements; throws {@linkcode InvalidArgumentError} when
 * `b` is 0.
 *
 * @example
 * ```ts
 * import { gfDiv, gfMul } from "./gf256.ts";
 * console.log(gfMul(gfDiv(10, 3), 3)); // 10
 * ```
 */
export function gfDiv(a: number, b: number): number {
  return gfMul(a, gfInv(b));
}

/**
 * `2^n` in the field, for any integer `n` (the powers repeat with period 255).
 *
 * @example
 * ```ts
 * import { gfExp } from "./gf256.ts";
 * console.log(gfExp(8)); // 0x1d
 * ```
 */
export function gfExp(n: number): number {
  return EXP[((n % 255) + 255) % 255];
}

/**
 * The 256 products `c * x` for x = 0..255: the multiplication table of one coefficient, as
 * the table-driven kernels use it.
 *
 * @example
 * ```ts
 * import { gfMul, gfMulTable } from "./gf256.ts";
 * const t = gfMulTable(0x8e);
 * console.log(t[0x42] === gfMul(0x8e, 0x42)); // true
 * ```
 */
export function gfMulTable(c: number): Uint8Array {
  const out = new Uint8Array(256);
  c &= 0xff;
  if (c === 0) return out;
  const lc = LOG[c];
  for (let x = 1; x < 256; x++) out[x] = EXP[lc + LOG[x]];
  return out;
}
