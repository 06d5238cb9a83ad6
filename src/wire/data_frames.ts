/**
 * A body cut into DATA pieces: {@linkcode dataChunks} (the pieces, for senders that encode them
 * themselves) and {@linkcode encodeDataFrames} (the encoded frames).
 *
 * @module
 */

import { encodeMessage } from "./codec.ts";
import { MalformedMessageError } from "./errors.ts";
import { DEFAULT_DATA_CHUNK_SIZE } from "./limits.ts";
import { MessageType } from "./messages.ts";

/**
 * Cuts `bytes` into consecutive pieces of at most `chunkSize` bytes (views, no copies); the last
 * one has `end: true`. Empty `bytes` give one empty piece with `end: true`. Throws
 * `MalformedMessageError` when `chunkSize` is not a positive integer.
 *
 * @example
 * ```ts
 * import { dataChunks } from "./data_frames.ts";
 * const sizes = [...dataChunks(new Uint8Array(300), 128)].map((p) => [p.chunk.length, p.end]);
 * console.log(sizes); // [[128, false], [128, false], [44, true]]
 * ```
 */
export function* dataChunks(
  bytes: Uint8Array,
  chunkSize: number = DEFAULT_DATA_CHUNK_SIZE,
): Generator<{ chunk: Uint8Array; end: boolean }, void, undefined> {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new MalformedMessageError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  let offset = 0;
  do {
    const next = Math.min(bytes.length, offset + chunkSize);
    yield { chunk: bytes.subarray(offset, next), end: next === bytes.length };
    offset = next;
  } while (offset < bytes.length);
}

/**
 * Encodes `bytes` as consecutive DATA frames of at most `chunkSize` payload bytes each, all
 * with `requestId`; the last one has `end: true`. Empty `bytes` give one empty DATA frame with
 * `end: true`. Each frame is produced lazily (one allocation each), so a caller can write one,
 * wait for backpressure, and interleave control frames between them.
 *
 * Throws `MalformedMessageError` when `chunkSize` is not a positive integer, and
 * `FrameTooLargeError` when a chunk would not fit the default frame limit.
 *
 * @example Send a 300 KiB block in 128 KiB pieces
 * ```ts
 * import { encodeDataFrames } from "./data_frames.ts";
 * const frames = [...encodeDataFrames(9, new Uint8Array(300 * 1024), 128 * 1024)];
 * console.log(frames.length); // 3
 * ```
 */
export function* encodeDataFrames(
  requestId: number,
  bytes: Uint8Array,
  chunkSize: number = DEFAULT_DATA_CHUNK_SIZE,
): Generator<Uint8Array, void, undefined> {
  for (const { chunk, end } of dataChunks(bytes, chunkSize)) {
    yield encodeMessage({ type: MessageType.DATA, requestId, chunk, end });
  }
}
