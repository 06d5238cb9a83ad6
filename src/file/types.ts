/**
 * The two small interfaces the file layer talks to, and the options and results of its
 * operations. The node layer adapts the local store and the network to
 * {@linkcode BlockSink} and {@linkcode BlockSource}; tests use Map-backed fakes.
 *
 * @module
 */

import type { ContentId, HashAlgorithm } from "../id/content_id.ts";
import type { Redundancy } from "./redundancy.ts";

/** Options passed to {@linkcode BlockSink.putBlock}. */
export interface PutBlockOptions {
  /** Cancels the write. */
  readonly signal?: AbortSignal;
  /** Hash the block is named with (the file's algorithm; default SHA-256). */
  readonly algorithm?: HashAlgorithm;
  /**
   * The id the file layer computed for `bytes`. A sink that verifies on write (a block store)
   * can write under it and let its check catch a mismatch; a sink that trusts the caller can
   * return it without hashing again.
   */
  readonly id?: ContentId;
}

/**
 * Where the file layer stores blocks (data blocks and manifests alike).
 *
 * The sink must return the content id of `bytes` under `options.algorithm`. The file layer
 * hashes every block itself, passes that id as `options.id`, and rejects a put whose
 * returned id differs. The sink may
 * keep a reference to `bytes`: the file layer never reuses a buffer it handed over.
 */
export interface BlockSink {
  /** Stores `bytes` and resolves with their content id. */
  putBlock(bytes: Uint8Array, options?: PutBlockOptions): Promise<ContentId>;
}

/** Options passed to {@linkcode BlockSource.getBlock}. */
export interface GetBlockOptions {
  /** Cancels the read. */
  readonly signal?: AbortSignal;
}

/**
 * Where the file layer reads blocks from. `getBlock` resolves with bytes already VERIFIED
 * against `id`, or rejects (with `NotFoundError` when no one has the block, a corruption
 * error when the bytes do not match). The file layer does not hash what it reads; it checks
 * sizes and structure.
 */
export interface BlockSource {
  /** Resolves with the verified bytes of block `id`. */
  getBlock(id: ContentId, options?: GetBlockOptions): Promise<Uint8Array>;
}

/** Options for {@linkcode import("./put_file.ts").putFile}. */
export interface PutFileOptions {
  /** Data block size in bytes, 1 KiB..4 MiB (default 256 KiB). */
  readonly blockSize?: number;
  /** Hash for every block and manifest (default SHA-256). */
  readonly algorithm?: HashAlgorithm;
  /**
   * Maximum children per manifest, 2..4096. Default: as many as fit in one block (capped at
   * 4096), so a manifest is never larger than a data block. A larger value that would make a
   * manifest outgrow a block is rejected. Part of the file's identity: a different fan-out
   * gives a different id.
   */
  readonly fanout?: number;
  /** Blocks hashed and stored at once (default 4, 1..64). */
  readonly concurrency?: number;
  /**
   * The redundancy policy to record in the manifests (version 2). With `rs:K+M` the put also
   * computes and stores each stripe's parity blocks. Absent: a version 1 manifest that records
   * no policy. Part of the file's identity.
   */
  readonly redundancy?: Redundancy;
  /**
   * Encrypts the file under this 32-byte file key (`block_cipher.ts`): every data block is
   * AES-256-GCM ciphertext, and the manifests (version 2, with the node default policy
   * `replicas:3` when `redundancy` is absent) carry the encrypted flag. Absent: plaintext.
   */
  readonly key?: Uint8Array;
  /**
   * The owner's raw Ed25519 public key (32 bytes), recorded in the root manifest: the key whose
   * signed tombstone deletes the file. Needs a redundancy policy (version 2 manifests).
   */
  readonly owner?: Uint8Array;
  /**
   * With `key`: it is the convergent key of the input (`convergentKey`). The put recomputes it
   * as it reads and rejects with `ConvergentKeyMismatchError` (before storing the root) when
   * it differs.
   */
  readonly convergent?: boolean;
  /** Cancels the put; rejects with `AbortedError`. Blocks already stored stay stored. */
  readonly signal?: AbortSignal;
  /** Called, in order, with the number of file bytes stored so far. */
  readonly onProgress?: (bytes: number) => void;
}

/** What {@linkcode import("./put_file.ts").putFile} resolves with. */
export interface PutFileResult {
  /** The file id: the content id of the root manifest. */
  readonly id: ContentId;
  /** File size in bytes. */
  readonly size: number;
  /** Number of data blocks (manifests not counted). */
  readonly blocks: number;
  /** Number of parity blocks (Reed-Solomon files; 0 otherwise). */
  readonly parityBlocks: number;
  /** Present, true, when the data blocks are encrypted (a `key` was given). */
  readonly encrypted?: true;
}

/** A byte range, `end` inclusive (as in HTTP). */
export interface ByteRange {
  /** First byte. */
  readonly start: number;
  /** Last byte, inclusive; default (or anything past the end) means the file's last byte. */
  readonly end?: number;
}

/** Options for {@linkcode import("./read_file.ts").readFile}. */
export interface ReadFileOptions {
  /** Only these bytes. */
  readonly range?: ByteRange;
  /** Data blocks fetched ahead of the reader at most (default 8, 1..64). */
  readonly concurrency?: number;
  /**
   * The file key of an encrypted file (from its read capability). Required for an encrypted
   * file (else `CapabilityRequiredError`); refused for a plaintext one (`BadCapabilityError`).
   */
  readonly key?: Uint8Array;
  /** Cancels the read: the promise or the stream rejects with `AbortedError`. */
  readonly signal?: AbortSignal;
  /**
   * Called once when the returned stream ends: `"ok"` after its last byte, `"error"` when it
   * fails (an abort included), `"cancelled"` when its consumer cancels it first. Not called
   * when `readFile` itself rejects. (What the HTTP API's metrics observe a download with,
   * without a relay stream in between.)
   */
  readonly onEnd?: (outcome: ReadEndOutcome) => void;
}

/** How a file's stream ended (see {@linkcode ReadFileOptions.onEnd}). */
export type ReadEndOutcome = "ok" | "error" | "cancelled";

/** What {@linkcode import("./read_file.ts").readFile} resolves with. */
export interface ReadFileResult {
  /** Size of the whole file. */
  readonly size: number;
  /** First byte delivered. */
  readonly start: number;
  /** Last byte delivered, inclusive (-1 for an empty file). */
  readonly end: number;
  /** The bytes from `start` to `end`, in order, pulled with backpressure. */
  readonly stream: ReadableStream<Uint8Array>;
}

/** What {@linkcode import("./stat_file.ts").statFile} resolves with. */
export interface FileStat {
  /** File size in bytes (of the plaintext, for an encrypted file). */
  readonly size: number;
  /** Present, true, when the data blocks are encrypted (reading needs the file key). */
  readonly encrypted?: true;
  /** Number of data blocks. */
  readonly blocks: number;
  /** Data block size the file was put with. */
  readonly blockSize: number;
  /** Levels of manifests: 1 when the root lists data blocks directly. */
  readonly depth: number;
  /** Number of manifests, the root included. */
  readonly manifests: number;
  /** Hash algorithm of the file's blocks. */
  readonly algorithm: HashAlgorithm;
  /** The policy the manifests record (absent for a version 1 file). */
  readonly redundancy?: Redundancy;
  /** Number of parity blocks (Reed-Solomon files; 0 otherwise). */
  readonly parityBlocks: number;
  /** Number of stripes (Reed-Solomon files; 0 otherwise). */
  readonly stripes: number;
}
