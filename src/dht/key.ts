/**
 * The DHT's key space: 256-bit keys (node ids, file keys, name keys), the XOR metric, and how a
 * content id or a name becomes a key.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { ContentId } from "../id/content_id.ts";

/** Bytes of a DHT key (and of a node id): 256 bits. */
export const KEY_BYTES = 32;

/** Bits of a DHT key. */
export const KEY_BITS = KEY_BYTES * 8;

/**
 * Compares the XOR distances of `a` and `b` to `target`: negative when `a` is closer, positive
 * when `b` is, 0 when equal. All three are {@linkcode KEY_BYTES} long.
 *
 * @example
 * ```ts
 * import { compareDistance } from "./key.ts";
 * const t = new Uint8Array(32), a = new Uint8Array(32), b = new Uint8Array(32);
 * a[31] = 1; b[0] = 1;
 * console.log(compareDistance(t, a, b) < 0); // true: a is closer
 * ```
 */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < KEY_BYTES; i++) {
    const d = (a[i] ^ target[i]) - (b[i] ^ target[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Number of leading bits `a` and `b` share (0-256); 256 when they are equal. The routing table
 * files a contact under the bucket of this number for its own id.
 *
 * @example
 * ```ts
 * import { commonPrefixLength } from "./key.ts";
 * const a = new Uint8Array(32), b = new Uint8Array(32);
 * b[1] = 0x20; // differs at bit 8 + 2
 * console.log(commonPrefixLength(a, b)); // 10
 * ```
 */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < KEY_BYTES; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return KEY_BITS;
}

/**
 * A key that shares exactly `prefix` leading bits with `self` (so it falls in bucket `prefix`
 * of `self`'s routing table), the remaining bits taken from `random` (32 random bytes).
 * Throws {@linkcode InvalidArgumentError} when `prefix` is not in 0..255.
 *
 * @example
 * ```ts
 * import { commonPrefixLength, keyInBucket } from "./key.ts";
 * const self = new Uint8Array(32);
 * const k = keyInBucket(self, 5, crypto.getRandomValues(new Uint8Array(32)));
 * console.log(commonPrefixLength(self, k)); // 5
 * ```
 */
export function keyInBucket(self: Uint8Array, prefix: number, random: Uint8Array): Uint8Array {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix >= KEY_BITS) {
    throw new InvalidArgumentError(`bucket index must be in 0..${KEY_BITS - 1}, got ${prefix}`);
  }
  const out = random.slice(0, KEY_BYTES);
  const byte = prefix >> 3;
  const bit = prefix & 7;
  for (let i = 0; i < byte; i++) out[i] = self[i];
  const keep = (0xff00 >> bit) & 0xff; // the top `bit` bits come from self
  const flip = 0x80 >> bit; // the bit at `prefix` differs from self
  out[byte] = (self[byte] & keep) | (~self[byte] & flip) | (out[byte] & ~(keep | flip) & 0xff);
  return out;
}

/**
 * The DHT key of a content id: its digest, right-padded with zero bytes to 32 bytes for the
 * 20-byte SHA-1 digests (the same rule placement has used since before the DHT). SHA-256 ids
 * are their digest.
 *
 * @example
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { keyOfContentId } from "./key.ts";
 * const id = await ContentId.of(new TextEncoder().encode("hi"));
 * console.log(keyOfContentId(id).length); // 32
 * ```
 */
export function keyOfContentId(id: ContentId): Uint8Array {
  const key = new Uint8Array(KEY_BYTES);
  key.set(id.digest.subarray(0, KEY_BYTES));
  return key;
}

/**
 * The DHT key of a name: SHA-256 of `"dfs/name/" + name` as UTF-8. The name records of a name
 * live at the nodes closest to it.
 *
 * @example
 * ```ts
 * import { keyOfName } from "./key.ts";
 * console.log((await keyOfName("docs")).length); // 32
 * ```
 */
export async function keyOfName(name: string): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode("dfs/name/" + name);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}
