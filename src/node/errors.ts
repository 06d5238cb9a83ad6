/**
 * Errors of the node layer.
 *
 * @module
 */

import { DfsError, NotFoundError } from "../errors.ts";

/** The node was closed; the operation cannot run. Code `NODE_CLOSED`. */
export class NodeClosedError extends DfsError {
  /** Creates the error. */
  constructor(message = "the node is closed", options?: { cause?: unknown }) {
    super("NODE_CLOSED", message, options);
  }
}

/**
 * No reachable node could deliver a block (none holds it, or every holder failed or sent bad
 * bytes). A {@linkcode NotFoundError} (code `NOT_FOUND`), so callers map it to 404.
 */
export class BlockUnavailableError extends NotFoundError {
  /** The block id (text form). */
  readonly blockId: string;
  /** Creates the error. */
  constructor(blockId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.blockId = blockId;
  }
}

/**
 * Another process (or another node in this process) holds the data directory's `LOCK` file.
 * Code `DATA_DIR_LOCKED`.
 */
export class DataDirLockedError extends DfsError {
  /** The data directory. */
  readonly dataDir: string;
  /** Process id written in the lock, when it could be read. */
  readonly holderPid: number | undefined;
  /** Creates the error. */
  constructor(
    dataDir: string,
    holderPid: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("DATA_DIR_LOCKED", message, options);
    this.dataDir = dataDir;
    this.holderPid = holderPid;
  }
}

/**
 * Some indexed file's manifests could not be read, so the set of blocks the node's files use
 * is incomplete; garbage collection skips its pass rather than remove a block a file needs.
 * Code `INCOMPLETE_INDEX`.
 */
export class IncompleteIndexError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("INCOMPLETE_INDEX", message, options);
  }
}

/**
 * A peer pushed a file that a tombstone held here deleted; the copy was dropped. Code
 * `FILE_DELETED` (a peer connection answers it as ERROR BAD_REQUEST).
 *
 * @example
 * ```ts
 * import { FileDeletedError } from "./errors.ts";
 * console.log(new FileDeletedError("file f was deleted at 5").code); // FILE_DELETED
 * ```
 */
export class FileDeletedError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("FILE_DELETED", message, options);
  }
}

/**
 * A block this node was pushing to a peer (replication after a put, or a repair push) was
 * refused as corrupt, and the check of the local copy that followed found it rotten or gone:
 * the copy is out of service (quarantined), the push of the block failed, and nothing corrupt
 * was stored anywhere. Repair brings a good copy back from another holder. Code
 * `PUSH_SOURCE_CORRUPT`.
 *
 * @example
 * ```ts
 * import { PushSourceCorruptError } from "./errors.ts";
 * const err = new PushSourceCorruptError("1220ab");
 * console.log(err.code, err.block); // PUSH_SOURCE_CORRUPT 1220ab
 * ```
 */
export class PushSourceCorruptError extends DfsError {
  /** The block's id, as text. */
  readonly block: string;
  /** Creates the error. */
  constructor(block: string, options?: { cause?: unknown }) {
    super(
      "PUSH_SOURCE_CORRUPT",
      `the local copy of block ${block} is corrupt (a peer refused it; it is quarantined here)`,
      options,
    );
    this.block = block;
  }
}
