/**
 * AES-256-GCM and ChaCha20-Poly1305 on `node:crypto` (OpenSSL on Node and Deno, BoringSSL on
 * Bun, which has no ChaCha20-Poly1305), as {@linkcode AeadFactory}s for the Noise layer: the same
 * bytes as any other implementation of the cipher, without the promise-per-call round trip
 * through Web Crypto's worker. The key is imported once as a `KeyObject`. A plaintext is
 * returned only after the tag verified. Both have the synchronous `sealInto` (ciphertext and tag
 * written into the caller's buffer: the Noise transport seals into reused write buffers, which
 * measured about half the seal's CPU of a fresh 64 KiB array per frame) and `openSync`.
 *
 * @module
 */

import { createCipheriv, createDecipheriv, createSecretKey } from "node:crypto";
import type { Aead, AeadFactory } from "../types.ts";

const TAG_BYTES = 16;

function nodeAead(name: "aes-256-gcm" | "chacha20-poly1305"): AeadFactory {
  // The typings overload per literal; both modes have the GCM cipher's methods.
  const algorithm = name as "aes-256-gcm";
  return (key: Uint8Array): Promise<Aead> => {
    const secret = createSecretKey(key);
    const options = { authTagLength: TAG_BYTES };
    const sealInto = (
      nonce: Uint8Array,
      ad: Uint8Array,
      plaintext: Uint8Array,
      out: Uint8Array,
      offset: number,
    ): void => {
      if (offset + plaintext.length + TAG_BYTES > out.length) {
        throw new RangeError("the output buffer is too small for ciphertext and tag");
      }
      const cipher = createCipheriv(algorithm, secret, nonce, options);
      // Empty associated data is the same as none (no setAAD call: one native call fewer).
      if (ad.length > 0) cipher.setAAD(ad);
      const body = cipher.update(plaintext);
      cipher.final();
      out.set(body, offset);
      out.set(cipher.getAuthTag(), offset + body.length);
    };
    const openSync = (nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array => {
      if (ciphertext.length < TAG_BYTES) throw new RangeError("ciphertext shorter than a tag");
      const end = ciphertext.length - TAG_BYTES;
      const decipher = createDecipheriv(algorithm, secret, nonce, options);
      if (ad.length > 0) decipher.setAAD(ad);
      decipher.setAuthTag(ciphertext.subarray(end));
      const body = decipher.update(ciphertext.subarray(0, end));
      decipher.final(); // throws when the tag does not verify; `body` is then dropped
      return new Uint8Array(body.buffer, body.byteOffset, body.length);
    };
    return Promise.resolve({
      seal(
        nonce: Uint8Array,
        ad: Uint8Array,
        plaintext: Uint8Array,
        headroom = 0,
      ): Promise<Uint8Array> {
        try {
          const out = new Uint8Array(headroom + plaintext.length + TAG_BYTES);
          sealInto(nonce, ad, plaintext, out, headroom);
          return Promise.resolve(out);
        } catch (err) {
          return Promise.reject(err);
        }
      },
      open(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
        try {
          return Promise.resolve(openSync(nonce, ad, ciphertext));
        } catch (err) {
          return Promise.reject(err);
        }
      },
      sealInto,
      openSync,
    });
  };
}

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
export const nodeAesGcm: AeadFactory = nodeAead("aes-256-gcm");

/**
 * Builds a `node:crypto` ChaCha20-Poly1305 {@linkcode Aead} (RFC 8439) for a 32-byte key. Node
 * and Deno have it; Bun does not (its `createCipheriv` throws "Unknown cipher").
 *
 * @example
 * ```ts
 * import { nodeChaCha20Poly1305 } from "./aead.ts";
 * const aead = await nodeChaCha20Poly1305(new Uint8Array(32));
 * const nonce = new Uint8Array(12);
 * const sealed = await aead.seal(nonce, new Uint8Array(0), new Uint8Array([1, 2, 3]));
 * console.log(await aead.open(nonce, new Uint8Array(0), sealed)); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export const nodeChaCha20Poly1305: AeadFactory = nodeAead("chacha20-poly1305");
