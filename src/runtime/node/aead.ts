/**
 * AES-256-GCM on `node:crypto` (OpenSSL on Node, BoringSSL on Bun), as an
 * {@linkcode AeadFactory} for the Noise layer: the same bytes as Web Crypto's, without the
 * promise-per-call round trip through Web Crypto's worker. The key is imported once as a
 * `KeyObject`. A plaintext is returned only after the tag verified.
 *
 * @module
 */

import { createCipheriv, createDecipheriv, createSecretKey } from "node:crypto";
import type { Aead, AeadFactory } from "../types.ts";

const ALGORITHM = "aes-256-gcm";
const TAG_BYTES = 16;

/**
 * Builds a `node:crypto` AES-256-GCM {@linkcode Aead} for a 32-byte key.
 *
 * @example
 * ```ts
 * import { nodeAesGcm } from "./aead.ts";
 * const aead = await nodeAesGcm(new Uint8Array(32));
 * const nonce = new Uint8Array(12);
 * const sealed = await aead.seal(nonce, new Uint8Array(0), new Uint8Array([1, 2, 3]));
 * console.log(sealed.length); // 19
 * ```
 */
export const nodeAesGcm: AeadFactory = (key: Uint8Array): Promise<Aead> => {
  const secret = createSecretKey(key);
  return Promise.resolve({
    seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
      try {
        const cipher = createCipheriv(ALGORITHM, secret, nonce, { authTagLength: TAG_BYTES });
        cipher.setAAD(ad);
        const body = cipher.update(plaintext);
        cipher.final();
        const out = new Uint8Array(body.length + TAG_BYTES);
        out.set(body);
        out.set(cipher.getAuthTag(), body.length);
        return Promise.resolve(out);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    open(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
      try {
        if (ciphertext.length < TAG_BYTES) throw new RangeError("ciphertext shorter than a tag");
        const end = ciphertext.length - TAG_BYTES;
        const decipher = createDecipheriv(ALGORITHM, secret, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(ad);
        decipher.setAuthTag(ciphertext.subarray(end));
        const body = decipher.update(ciphertext.subarray(0, end));
        decipher.final(); // throws when the tag does not verify; `body` is then dropped
        return Promise.resolve(new Uint8Array(body.buffer, body.byteOffset, body.length));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  });
};
