/**
 * Key normalization: turns a {@linkcode StoreKey} into the one form the store works with.
 *
 * A {@linkcode ContentId}, or a string that parses as one (any hex case), becomes a
 * content-addressed key whose text is the id's lowercase text form. Any other string is an
 * arbitrary key, kept as given; it must be non-empty, well-formed Unicode and at most
 * {@linkcode MAX_KEY_BYTES} bytes of UTF-8. Its content is otherwise unrestricted ("../", "/",
 * NUL are fine): keys never become paths directly, a {@linkcode import("./path_transform.ts").PathTransform}
 * maps them, and its output is validated.
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import { InvalidKeyError } from "./errors.ts";
import type { StoreKey } from "./types.ts";

/** Longest arbitrary key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 4096;

/** A key in the store's working form. */
export interface NormalizedKey {
  /** The key text: a content id's lowercase text form, or the arbitrary key as given. */
  readonly text: string;
  /** The content id for content-addressed keys, `null` for arbitrary keys. */
  readonly id: ContentId | null;
  /** UTF-8 bytes of an arbitrary key (empty for content-addressed keys). */
  readonly bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * Normalizes a key. Throws {@linkcode InvalidKeyError} for an empty, ill-formed or over-long
 * arbitrary key, or for a value that is neither a string nor a content id.
 *
 * @example
 * ```ts
 * import { normalizeKey } from "./key.ts";
 * normalizeKey("photos/cat.jpg").id; // null
 * normalizeKey("1220" + "AB".repeat(32)).text; // "1220abab..." (lowercase)
 * ```
 */
export function normalizeKey(key: StoreKey): NormalizedKey {
  if (key instanceof ContentId) return { text: key.toString(), id: key, bytes: EMPTY };
  if (typeof key !== "string") throw new InvalidKeyError("a key must be a string or a ContentId");
  if (key.length === 0) throw new InvalidKeyError("a key must not be empty");
  // Cheap pre-check before hashing hex: a content id is 44 or 68 hex characters.
  if ((key.length === 44 || key.length === 68) && key[0] === "1") {
    const id = ContentId.tryParse(key);
    if (id) return { text: id.toString(), id, bytes: EMPTY };
  }
  if (key.length > MAX_KEY_BYTES) {
    throw new InvalidKeyError(
      `a key must be at most ${MAX_KEY_BYTES} bytes, got ${key.length} characters`,
    );
  }
  if (!key.isWellFormed()) throw new InvalidKeyError("a key must be well-formed Unicode");
  const bytes = encoder.encode(key);
  if (bytes.length > MAX_KEY_BYTES) {
    throw new InvalidKeyError(`a key must be at most ${MAX_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  return { text: key, id: null, bytes };
}
