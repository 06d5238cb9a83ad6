/**
 * Errors of the erasure codec. Each extends {@linkcode DfsError} with a stable code.
 *
 * @module
 */

import { DfsError } from "../../errors.ts";

/**
 * A reconstruction was asked with fewer shards present than the `k` it needs: the data
 * cannot be recovered from what is left. Code `TOO_FEW_SHARDS`.
 *
 * @example
 * ```ts
 * import { TooFewShardsError } from "./errors.ts";
 * const err = new TooFewShardsError(3, 4);
 * console.log(err.code, err.present, err.needed); // "TOO_FEW_SHARDS" 3 4
 * ```
 */
export class TooFewShardsError extends DfsError {
  /** Number of shards that were present. */
  readonly present: number;
  /** Number of shards needed (the code's `k`). */
  readonly needed: number;
  /** Creates the error. */
  constructor(present: number, needed: number, options?: { cause?: unknown }) {
    super(
      "TOO_FEW_SHARDS",
      `${present} shard${present === 1 ? "" : "s"} present, ${needed} needed to reconstruct`,
      options,
    );
    this.present = present;
    this.needed = needed;
  }
}

/**
 * A square matrix over GF(2^8) has no inverse (its rows are linearly dependent). Code
 * `SINGULAR_MATRIX`. A Reed-Solomon decode never meets one: every square submatrix of the
 * Cauchy encoding matrix is invertible.
 *
 * @example
 * ```ts
 * import { SingularMatrixError } from "./errors.ts";
 * console.log(new SingularMatrixError("column 1 has no pivot").code); // "SINGULAR_MATRIX"
 * ```
 */
export class SingularMatrixError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("SINGULAR_MATRIX", message, options);
  }
}
