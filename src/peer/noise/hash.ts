/**
 * SHA-256, HMAC-SHA256 and the Noise HKDF (Noise spec section 4.3: HKDF built from HMAC, two or
 * three 32-byte outputs), on Web Crypto.
 *
 * @module
 */

import { concatBytes } from "../../util/concat.ts";

/** Output length of SHA-256 (Noise's HASHLEN). */
export const HASH_LEN = 32;

/**
 * SHA-256 of the concatenation of `parts`.
 *
 * @example
 * ```ts
 * import { sha256 } from "./hash.ts";
 * console.log((await sha256(new Uint8Array([1]), new Uint8Array([2]))).length); // 32
 * ```
 */
export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const data = parts.length === 1 ? parts[0] : concatBytes(parts);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
}

/**
 * HMAC-SHA256 of the concatenation of `parts` under `key`.
 *
 * @example
 * ```ts
 * import { hmacSha256 } from "./hash.ts";
 * console.log((await hmacSha256(new Uint8Array(32), new Uint8Array([1]))).length); // 32
 * ```
 */
export async function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const data = parts.length === 1 ? parts[0] : concatBytes(parts);
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", cryptoKey, data as Uint8Array<ArrayBuffer>),
  );
}

/**
 * Noise's HKDF(chaining_key, input_key_material, num_outputs): `outputs` (2 or 3) 32-byte keys.
 *
 * @example
 * ```ts
 * import { hkdf } from "./hash.ts";
 * const [ck, k] = await hkdf(new Uint8Array(32), new Uint8Array(32), 2);
 * console.log(ck.length, k.length); // 32 32
 * ```
 */
export async function hkdf(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
  outputs: 2 | 3,
): Promise<Uint8Array[]> {
  const tempKey = await hmacSha256(chainingKey, inputKeyMaterial);
  const out1 = await hmacSha256(tempKey, ONE);
  const out2 = await hmacSha256(tempKey, out1, TWO);
  if (outputs === 2) return [out1, out2];
  return [out1, out2, await hmacSha256(tempKey, out2, THREE)];
}

const ONE = new Uint8Array([1]);
const TWO = new Uint8Array([2]);
const THREE = new Uint8Array([3]);
