/**
 * The on-disk entry format: a small versioned header, then the entry's bytes.
 *
 * Every stored file is `header || data`. The header (all integers big-endian):
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 4 | magic `DFSB` (0x44 0x46 0x53 0x42) |
 * | 4 | 1 | format version, 1 |
 * | 5 | 1 | flags: bit 0 set = keyed entry (key bytes present); other bits 0 |
 * | 6 | 1 | `idLen`: length of the content id's multihash bytes (22 for SHA-1, 34 for SHA-256) |
 * | 7 | 2 | `keyLen`: length of the UTF-8 key (0 unless keyed; at most 4096) |
 * | 9 | 8 | `size`: length of the data in bytes (at most 2^53 - 1) |
 * | 17 | idLen | the content id (multihash: code, length, digest) of the data |
 * | 17+idLen | keyLen | the key, UTF-8 (keyed entries only) |
 * | 17+idLen+keyLen | 4 | CRC-32 of all header bytes before it |
 *
 * The file is exactly `headerLength + size` bytes long. The id makes the data verifiable and the
 * key makes a keyed entry listable (its path is only a hash of the key). Content-addressed
 * entries store no key: their key is the id.
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import { DfsError } from "../errors.ts";
import { crc32 } from "./crc32.ts";
import { MAX_KEY_BYTES } from "./key.ts";

/** Format version written by this code. */
export const HEADER_VERSION = 1;
/** Bytes before the id: magic, version, flags, idLen, keyLen, size. */
export const HEADER_FIXED_BYTES = 17;
/** Largest possible header: fixed part, a SHA-256 id, the longest key, the checksum. */
export const MAX_HEADER_BYTES: number = HEADER_FIXED_BYTES + 34 + MAX_KEY_BYTES + 4;

const MAGIC = [0x44, 0x46, 0x53, 0x42];
const FLAG_KEYED = 1;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A header that cannot be decoded. Code `BAD_HEADER`; the store reports it as corruption. */
export class BadHeaderError extends DfsError {
  /** Creates the error. */
  constructor(message: string) {
    super("BAD_HEADER", message);
  }
}

/** A decoded header. */
export interface EntryHeader {
  /** Content id of the data. */
  readonly id: ContentId;
  /** The key of a keyed entry, `null` for a content-addressed one. */
  readonly key: string | null;
  /** Data length. */
  readonly size: number;
  /** Header length: the data starts at this offset. */
  readonly length: number;
}

/** Header length for an id of `idLen` bytes and a key of `keyLen` bytes. */
export function headerLength(idLen: number, keyLen: number): number {
  return HEADER_FIXED_BYTES + idLen + keyLen + 4;
}

/**
 * Writes a header into `target`, which must be exactly
 * `headerLength(id.bytes.length, keyBytes.length)` bytes. `keyBytes` is empty for a
 * content-addressed entry.
 *
 * @example
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { decodeHeader, encodeHeader, headerLength } from "./entry_header.ts";
 * const id = await ContentId.of(new Uint8Array(3));
 * const header = new Uint8Array(headerLength(id.bytes.length, 0));
 * encodeHeader(header, id, new Uint8Array(0), 3);
 * console.log(decodeHeader(header).size); // 3
 * ```
 */
export function encodeHeader(
  target: Uint8Array,
  id: ContentId,
  keyBytes: Uint8Array,
  size: number,
): void {
  const idLen = id.bytes.length;
  const keyLen = keyBytes.length;
  const end = HEADER_FIXED_BYTES + idLen + keyLen;
  if (target.length !== end + 4) throw new RangeError("header buffer has the wrong length");
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  target.set(MAGIC, 0);
  target[4] = HEADER_VERSION;
  target[5] = keyLen > 0 ? FLAG_KEYED : 0;
  target[6] = idLen;
  view.setUint16(7, keyLen);
  view.setUint32(9, Math.floor(size / 0x1_0000_0000));
  view.setUint32(13, size >>> 0);
  target.set(id.bytes, HEADER_FIXED_BYTES);
  target.set(keyBytes, HEADER_FIXED_BYTES + idLen);
  view.setUint32(end, crc32(target.subarray(0, end)));
}

/**
 * Decodes the header at the start of `bytes` (which may hold more: the data). Throws
 * {@linkcode BadHeaderError} on a wrong magic, an unknown version or flag, lengths out of range,
 * a checksum mismatch or too few bytes.
 */
export function decodeHeader(bytes: Uint8Array): EntryHeader {
  if (bytes.length < HEADER_FIXED_BYTES) {
    throw new BadHeaderError(`truncated header (${bytes.length} bytes)`);
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new BadHeaderError("not a dfs entry (bad magic)");
  }
  if (bytes[4] !== HEADER_VERSION) throw new BadHeaderError(`unknown header version ${bytes[4]}`);
  const flags = bytes[5];
  if ((flags & ~FLAG_KEYED) !== 0) {
    throw new BadHeaderError(`unknown header flags 0x${flags.toString(16)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idLen = bytes[6];
  const keyLen = view.getUint16(7);
  if ((flags & FLAG_KEYED) === 0 ? keyLen !== 0 : keyLen === 0 || keyLen > MAX_KEY_BYTES) {
    throw new BadHeaderError(`key length ${keyLen} does not fit flags 0x${flags.toString(16)}`);
  }
  const hi = view.getUint32(9);
  if (hi > 0x1f_ffff) throw new BadHeaderError("entry size out of range");
  const size = hi * 0x1_0000_0000 + view.getUint32(13);
  const end = HEADER_FIXED_BYTES + idLen + keyLen;
  if (bytes.length < end + 4) throw new BadHeaderError(`truncated header (${bytes.length} bytes)`);
  const crc = view.getUint32(end);
  if (crc !== crc32(bytes.subarray(0, end))) throw new BadHeaderError("header checksum mismatch");
  let id: ContentId;
  try {
    id = ContentId.fromBytes(bytes.subarray(HEADER_FIXED_BYTES, HEADER_FIXED_BYTES + idLen));
  } catch (err) {
    throw new BadHeaderError(`bad content id in header: ${(err as Error).message}`);
  }
  let key: string | null = null;
  if (keyLen > 0) {
    try {
      key = decoder.decode(bytes.subarray(HEADER_FIXED_BYTES + idLen, end));
    } catch {
      throw new BadHeaderError("key in header is not UTF-8");
    }
  }
  return { id, key, size, length: end + 4 };
}
