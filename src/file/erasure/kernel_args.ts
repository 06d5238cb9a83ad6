/**
 * Argument checks shared by the kernels (internal).
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";

/**
 * Throws {@linkcode InvalidArgumentError} unless `coefficients` holds rows×inputs entries,
 * `length` is a non-negative integer and every vector holds at least `length` bytes.
 */
export function checkMulAddArguments(
  coefficients: Uint8Array,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  length: number,
): void {
  if (!Number.isInteger(length) || length < 0) {
    throw new InvalidArgumentError(`length must be a non-negative integer, got ${length}`);
  }
  if (!(coefficients instanceof Uint8Array)) {
    throw new InvalidArgumentError("coefficients must be a Uint8Array");
  }
  if (coefficients.length !== outputs.length * inputs.length) {
    throw new InvalidArgumentError(
      `${coefficients.length} coefficients for ${outputs.length} outputs x ${inputs.length} inputs`,
    );
  }
  for (const [what, vectors] of [["input", inputs], ["output", outputs]] as const) {
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i];
      if (!(v instanceof Uint8Array)) throw new InvalidArgumentError(`${what} ${i} is not bytes`);
      if (v.length < length) {
        throw new InvalidArgumentError(
          `${what} ${i} holds ${v.length} bytes, fewer than ${length}`,
        );
      }
    }
  }
}
