/**
 * Errors specific to the block store. Each has a stable `code`.
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/**
 * Stored (or offered) bytes do not match their id. Code `CORRUPT_BLOCK`.
 *
 * On read, the bad entry has already been moved to the store's quarantine directory when this
 * is thrown, so it is no longer served or listed. On write (bytes that do not hash to the given
 * content id), nothing was stored.
 *
 * @example Handling a corrupt block
 * ```ts
 * import { CorruptBlockError } from "./errors.ts";
 * const err: unknown = new CorruptBlockError({ key: "k", expected: "1220aa", actual: "1220bb" });
 * if (err instanceof CorruptBlockError) console.log(err.code, err.key, err.expected, err.actual);
 * ```
 */
export class CorruptBlockError extends DfsError {
  /** The key (or content id text) that was asked for. */
  readonly key: string;
  /** What the entry should have been (a content id, or a description such as a header field). */
  readonly expected: string;
  /** What was found. */
  readonly actual: string;
  /** Creates the error; `reason` adds context (e.g. "header checksum"). */
  constructor(
    details: { key: string; expected: string; actual: string; reason?: string },
    options?: { cause?: unknown },
  ) {
    const why = details.reason ? ` (${details.reason})` : "";
    super(
      "CORRUPT_BLOCK",
      `corrupt entry ${
        JSON.stringify(shorten(details.key))
      }${why}: expected ${details.expected}, ` +
        `found ${details.actual}`,
      options,
    );
    this.key = details.key;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** An entry is larger than the store's `maxEntrySize`. Code `ENTRY_TOO_LARGE`. */
export class EntryTooLargeError extends DfsError {
  /** The configured bound in bytes. */
  readonly limit: number;
  /** The size seen so far when the bound was crossed (a lower bound of the real size). */
  readonly size: number;
  /** Creates the error. */
  constructor(key: string, size: number, limit: number) {
    super(
      "ENTRY_TOO_LARGE",
      `entry ${JSON.stringify(shorten(key))} is at least ${size} bytes, over the limit of ${limit}`,
    );
    this.limit = limit;
    this.size = size;
  }
}

/**
 * A write would take the store over its `maxBytes` (the sum of its entries' sizes). Nothing was
 * written. Code `STORE_FULL`.
 */
export class StoreFullError extends DfsError {
  /** The configured bound in bytes. */
  readonly limit: number;
  /** Bytes held (and being written) when the write was refused. */
  readonly used: number;
  /** Bytes the refused write needed. */
  readonly needed: number;
  /** Creates the error. */
  constructor(used: number, needed: number, limit: number) {
    super(
      "STORE_FULL",
      `store is full: ${used} of ${limit} bytes used, ${needed} more refused (maxBytes)`,
    );
    this.limit = limit;
    this.used = used;
    this.needed = needed;
  }
}

/**
 * A key, or a path segment produced for it by a path transform, is not acceptable (empty, too
 * long, not well-formed Unicode, or a segment that could leave the store's root). Code
 * `INVALID_KEY`.
 */
export class InvalidKeyError extends DfsError {
  /** Creates the error. */
  constructor(message: string) {
    super("INVALID_KEY", message);
  }
}

/** The store was used after {@linkcode import("./block_store.ts").FsBlockStore.close}. Code `STORE_CLOSED`. */
export class StoreClosedError extends DfsError {
  /** Creates the error. */
  constructor() {
    super("STORE_CLOSED", "the block store is closed");
  }
}

function shorten(key: string): string {
  return key.length > 80 ? `${key.slice(0, 77)}...` : key;
}
