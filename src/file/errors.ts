/**
 * Errors of the file layer. Each extends {@linkcode DfsError} with a stable code.
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/**
 * Bytes that were expected to be a manifest are not a well-formed one: wrong magic, unknown
 * version, kind or hash, counts or sizes that do not add up, truncated or trailing bytes.
 * Code `INVALID_MANIFEST`.
 *
 * @example
 * ```ts
 * import { InvalidManifestError } from "./errors.ts";
 * const err = new InvalidManifestError("bad magic");
 * console.log(err.code); // "INVALID_MANIFEST"
 * ```
 */
export class InvalidManifestError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_MANIFEST", message, options);
  }
}

/**
 * A requested byte range does not fit the file (start past the end, end before start,
 * negative or non-integer bounds, any range of an empty file). Code `RANGE_NOT_SATISFIABLE`.
 *
 * @example
 * ```ts
 * import { RangeNotSatisfiableError } from "./errors.ts";
 * const err = new RangeNotSatisfiableError("start 10 is past the end of a 5-byte file", 5);
 * console.log(err.code, err.size); // "RANGE_NOT_SATISFIABLE" 5
 * ```
 */
export class RangeNotSatisfiableError extends DfsError {
  /** Size of the whole file, so an HTTP layer can answer `Content-Range: bytes * /size`. */
  readonly size: number;
  /** Creates the error. */
  constructor(message: string, size: number, options?: { cause?: unknown }) {
    super("RANGE_NOT_SATISFIABLE", message, options);
    this.size = size;
  }
}

/**
 * The blocks of a file disagree with each other: a child manifest whose span, height, block
 * size or hash differs from what its parent says, a data block whose length differs from its
 * manifest entry, or a sink that returned a different id than the block's hash.
 * Code `CORRUPT_FILE`.
 *
 * @example
 * ```ts
 * import { CorruptFileError } from "./errors.ts";
 * console.log(new CorruptFileError("block 3 is 10 bytes, manifest says 1024").code);
 * ```
 */
export class CorruptFileError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("CORRUPT_FILE", message, options);
  }
}

/**
 * A stripe of a Reed-Solomon file cannot be rebuilt: fewer than k of its shards could be read.
 * Code `UNRECOVERABLE_STRIPE`; `cause` is the first shard's read error.
 *
 * @example
 * ```ts
 * import { UnrecoverableStripeError } from "./errors.ts";
 * const err = new UnrecoverableStripeError("stripe 3: 2 of the 4 shards needed could be read");
 * console.log(err.code); // "UNRECOVERABLE_STRIPE"
 * ```
 */
export class UnrecoverableStripeError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("UNRECOVERABLE_STRIPE", message, options);
  }
}

/**
 * An encrypted file was asked for by its id alone: reading it needs its read capability
 * (`dfs:r:<file id>:<key>`), which only the one who put it (and whoever they gave it to) has.
 * Code `CAPABILITY_REQUIRED`. Never answered with the ciphertext instead.
 *
 * @example
 * ```ts
 * import { CapabilityRequiredError } from "./errors.ts";
 * console.log(new CapabilityRequiredError("file 1220ab is encrypted").code); // "CAPABILITY_REQUIRED"
 * ```
 */
export class CapabilityRequiredError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("CAPABILITY_REQUIRED", message, options);
  }
}

/**
 * Text that should be a read capability is not one (wrong prefix, bad file id, a key that is
 * not 32 bytes of base64url), or a capability was given for a file that is not encrypted.
 * Code `BAD_CAPABILITY`.
 *
 * @example
 * ```ts
 * import { BadCapabilityError } from "./errors.ts";
 * console.log(new BadCapabilityError("not a capability").code); // "BAD_CAPABILITY"
 * ```
 */
export class BadCapabilityError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("BAD_CAPABILITY", message, options);
  }
}

/**
 * A block of an encrypted file, verified against its id, does not decrypt under the key given:
 * the capability's key is not this file's. Code `WRONG_KEY`. No byte of the block is returned.
 *
 * @example
 * ```ts
 * import { WrongKeyError } from "./errors.ts";
 * console.log(new WrongKeyError("block 0 does not decrypt").code); // "WRONG_KEY"
 * ```
 */
export class WrongKeyError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("WRONG_KEY", message, options);
  }
}

/**
 * A convergent put was given a key that is not the convergent key of the bytes it read (the
 * source changed between the key pass and the put, or the key belongs to other content). The
 * put fails rather than encrypt under a key that another content could share.
 * Code `CONVERGENT_KEY_MISMATCH`.
 *
 * @example
 * ```ts
 * import { ConvergentKeyMismatchError } from "./errors.ts";
 * console.log(new ConvergentKeyMismatchError("source changed").code); // "CONVERGENT_KEY_MISMATCH"
 * ```
 */
export class ConvergentKeyMismatchError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONVERGENT_KEY_MISMATCH", message, options);
  }
}
