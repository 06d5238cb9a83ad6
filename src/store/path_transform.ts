/**
 * Path transforms: the strategy that maps a key to where its entry lives, as a function value
 * (the original design's `PathTransformFunc`).
 *
 * A transform receives the normalized key text (see {@linkcode import("./key.ts").normalizeKey})
 * and returns path segments relative to the store's data directory; the last segment is the
 * file name. The store validates every result with {@linkcode validatePathSegments}, so even
 * a naive transform cannot make a key escape the root.
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import { toHex } from "../util/hex.ts";
import { InvalidKeyError } from "./errors.ts";

/**
 * Maps a normalized key to path segments under the store's data directory (last = file name).
 * Must be deterministic: the same key always maps to the same segments. `id` is the key's
 * content id when the key is one (already parsed by the store; a transform may use it instead
 * of parsing the key again).
 */
export type PathTransform = (
  key: string,
  id?: ContentId,
) => readonly string[] | Promise<readonly string[]>;

/** Most segments a transform may return. */
export const MAX_SEGMENTS = 16;
/** Longest segment, in UTF-8 bytes (the usual file-name limit). */
export const MAX_SEGMENT_BYTES = 255;

const encoder = new TextEncoder();

async function hashHex(webName: "SHA-1" | "SHA-256", text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest(webName, encoder.encode(text))));
}

/** The directory {@linkcode defaultPathTransform} puts every keyed (non-content-id) entry in. */
export const KEYED_DIR = "keys";

/**
 * The default transform. Content ids shard by the first byte of their digest:
 * `ids/ab/<id hex>`. Arbitrary keys live in their own subtree under the SHA-256 of the key:
 * `keys/ef/<sha-256 hex of the key>`.
 *
 * One level of 256 directories keeps directory creation (and its flush) a one-time cost per
 * store instead of one per new block, as a second level would be until the store holds tens
 * of thousands of blocks; with hashed directory indexes (ext4, XFS, APFS, NTFS) a few tens of
 * thousands of entries per directory are still fast.
 *
 * @example
 * ```ts
 * import { defaultPathTransform } from "./path_transform.ts";
 * const segments = await defaultPathTransform("1220" + "ab".repeat(32));
 * console.log(segments.join("/")); // ids/ab/1220abab...
 * ```
 */
export function defaultPathTransform(
  key: string,
  parsed?: ContentId,
): readonly string[] | Promise<readonly string[]> {
  const id = parsed ?? ContentId.tryParse(key);
  if (id) {
    const text = id.toString();
    return ["ids", text.slice(4, 6), text];
  }
  return hashHex("SHA-256", key).then((h) => [KEYED_DIR, h.slice(0, 2), h]);
}

/**
 * The original design's transform: the SHA-1 of the key in hex, split into eight 5-character
 * directories, with the file named by the full hash.
 *
 * @example
 * ```ts
 * import { casPathTransform } from "./path_transform.ts";
 * const segments = await casPathTransform("momsbestpicture");
 * console.log(segments.length); // 9: eight directories and the file name
 * ```
 */
export async function casPathTransform(key: string): Promise<readonly string[]> {
  const h = await hashHex("SHA-1", key);
  const segments: string[] = [];
  for (let i = 0; i < h.length; i += 5) segments.push(h.slice(i, i + 5));
  segments.push(h);
  return segments;
}

/**
 * Checks the segments a transform returned and returns them as a fresh array. Throws
 * {@linkcode InvalidKeyError} unless there are 1..{@linkcode MAX_SEGMENTS} segments, each a
 * non-empty string of at most {@linkcode MAX_SEGMENT_BYTES} UTF-8 bytes that is not `.` or `..`
 * and contains no `/`, `\`, NUL or other control character.
 *
 * @example
 * ```ts
 * import { validatePathSegments } from "./path_transform.ts";
 * validatePathSegments(["ab", "cd", "abcd"]); // ok
 * // validatePathSegments(["..", "etc", "passwd"]); // throws InvalidKeyError
 * ```
 */
export function validatePathSegments(segments: readonly string[]): string[] {
  if (!Array.isArray(segments) || segments.length === 0 || segments.length > MAX_SEGMENTS) {
    throw new InvalidKeyError(`a path transform must return 1 to ${MAX_SEGMENTS} segments`);
  }
  const out: string[] = [];
  for (const s of segments) {
    if (typeof s !== "string" || s.length === 0 || s === "." || s === "..") {
      throw new InvalidKeyError(`invalid path segment ${JSON.stringify(s)}`);
    }
    // deno-lint-ignore no-control-regex
    if (/[\u0000-\u001f\u007f/\\]/.test(s) || !s.isWellFormed()) {
      throw new InvalidKeyError(
        `path segment contains a forbidden character: ${JSON.stringify(s)}`,
      );
    }
    if (s.length > MAX_SEGMENT_BYTES || encoder.encode(s).length > MAX_SEGMENT_BYTES) {
      throw new InvalidKeyError(`path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
    out.push(s);
  }
  return out;
}
