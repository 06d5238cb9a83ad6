/**
 * Matrices over GF(2^8), row-major in a `Uint8Array`: the Reed-Solomon encoding matrix and
 * Gauss-Jordan inversion.
 *
 * The encoding matrix of an rs:k+m code is (k+m)×k. Its top k rows are the identity (the
 * code is *systematic*: the first k shards are the data itself); row k+i holds the
 * coefficients of parity shard i. {@linkcode cauchyMatrix} fills those rows with a Cauchy
 * matrix, `1 / (i XOR j)` for row i and column j, exactly as ISA-L's `gf_gen_cauchy1_matrix`
 * does. Every square submatrix of a Cauchy matrix is invertible, so any k rows of the full
 * matrix form an invertible k×k matrix: any k surviving shards determine the data.
 *
 * @example
 * ```ts
 * import { cauchyMatrix, invertMatrix } from "./matrix.ts";
 * const a = cauchyMatrix(2, 2);
 * const inverse = invertMatrix(a.subarray(4, 8), 2); // from the two parity rows back to the data
 * console.log(inverse.length); // 4
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";
import { SingularMatrixError } from "./errors.ts";
import { gfInv, gfMul } from "./gf256.ts";

/**
 * The (k+m)×k encoding matrix of rs:k+m, row-major: the k×k identity on top, then
 * `gfInv(i ^ j)` at row i (k ≤ i < k+m), column j (0 ≤ j < k). Identical to ISA-L's
 * `gf_gen_cauchy1_matrix(a, k + m, k)`. Throws {@linkcode InvalidArgumentError} unless
 * k ≥ 1, m ≥ 0 and k + m ≤ 256 are integers.
 *
 * @example rs:4+2
 * ```ts
 * import { cauchyMatrix } from "./matrix.ts";
 * const a = cauchyMatrix(4, 2);
 * console.log(a.length); // 24
 * console.log(Array.from(a.subarray(16, 20))); // [71, 167, 122, 186]: row 4 = 1/(4^j)
 * ```
 */
export function cauchyMatrix(k: number, m: number): Uint8Array {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 0 || k + m > 256) {
    throw new InvalidArgumentError(
      `no Cauchy matrix for k=${k}, m=${m}: need k >= 1, m >= 0, k+m <= 256`,
    );
  }
  const rows = k + m;
  const a = new Uint8Array(rows * k);
  for (let i = 0; i < k; i++) a[i * k + i] = 1;
  for (let i = k; i < rows; i++) {
    for (let j = 0; j < k; j++) a[i * k + j] = gfInv(i ^ j);
  }
  return a;
}

/**
 * The inverse of the n×n matrix `a` (row-major), by Gauss-Jordan elimination. `a` is not
 * modified. Throws {@linkcode SingularMatrixError} when `a` has no inverse, and
 * {@linkcode InvalidArgumentError} when `a` does not hold n×n entries.
 *
 * @example
 * ```ts
 * import { invertMatrix, multiplyMatrices } from "./matrix.ts";
 * const a = new Uint8Array([1, 2, 3, 4]);
 * const product = multiplyMatrices(a, invertMatrix(a, 2), 2, 2, 2);
 * console.log(Array.from(product)); // [1, 0, 0, 1]
 * ```
 */
export function invertMatrix(a: Uint8Array, n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 1 || a.length !== n * n) {
    throw new InvalidArgumentError(`expected a ${n}x${n} matrix, got ${a.length} entries`);
  }
  const work = a.slice();
  const inv = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    // find a pivot at or below the diagonal and swap it into place
    let pivot = col;
    while (pivot < n && work[pivot * n + col] === 0) pivot++;
    if (pivot === n) {
      throw new SingularMatrixError(`singular ${n}x${n} matrix: column ${col} has no pivot`);
    }
    if (pivot !== col) {
      swapRows(work, n, pivot, col);
      swapRows(inv, n, pivot, col);
    }
    // scale the pivot row to make the pivot 1
    const scale = gfInv(work[col * n + col]);
    if (scale !== 1) {
      for (let j = 0; j < n; j++) {
        work[col * n + j] = gfMul(work[col * n + j], scale);
        inv[col * n + j] = gfMul(inv[col * n + j], scale);
      }
    }
    // clear the column in every other row
    for (let r = 0; r < n; r++) {
      const f = r === col ? 0 : work[r * n + col];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        work[r * n + j] ^= gfMul(f, work[col * n + j]);
        inv[r * n + j] ^= gfMul(f, inv[col * n + j]);
      }
    }
  }
  return inv;
}

/**
 * The product of an r×n matrix `a` and an n×c matrix `b` (both row-major): an r×c matrix.
 * Throws {@linkcode InvalidArgumentError} when the sizes do not match.
 *
 * @example
 * ```ts
 * import { multiplyMatrices } from "./matrix.ts";
 * const identity = new Uint8Array([1, 0, 0, 1]);
 * const b = new Uint8Array([5, 6, 7, 8]);
 * console.log(Array.from(multiplyMatrices(identity, b, 2, 2, 2))); // [5, 6, 7, 8]
 * ```
 */
export function multiplyMatrices(
  a: Uint8Array,
  b: Uint8Array,
  r: number,
  n: number,
  c: number,
): Uint8Array {
  if (a.length !== r * n || b.length !== n * c) {
    throw new InvalidArgumentError(
      `cannot multiply ${a.length} entries as ${r}x${n} by ${b.length} entries as ${n}x${c}`,
    );
  }
  const out = new Uint8Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let t = 0; t < n; t++) {
      const f = a[i * n + t];
      if (f === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] ^= gfMul(f, b[t * c + j]);
    }
  }
  return out;
}

function swapRows(a: Uint8Array, n: number, r1: number, r2: number): void {
  for (let j = 0; j < n; j++) {
    const t = a[r1 * n + j];
    a[r1 * n + j] = a[r2 * n + j];
    a[r2 * n + j] = t;
  }
}
