/**
 * The default AES-256-GCM for the Noise layer, on Web Crypto (all three runtimes have it). A
 * runtime adapter may supply a faster {@linkcode AeadFactory} (`Runtime.aead`); it must produce
 * the same bytes.
 *
 * @module
 */

import type { Aead, AeadFactory } from "../../runtime/types.ts";

export type { Aead, AeadFactory };

const AES_GCM = "AES-GCM";

/** Length of the GCM tag appended to each ciphertext. */
export const TAG_BYTES = 16;

/**
 * An AES-256-GCM {@linkcode Aead} on Web Crypto; the key is imported once, non-extractable.
 *
 * @example
 * ```ts
 * import { webCryptoAead } from "./aead.ts";
 * const aead = await webCryptoAead(new Uint8Array(32));
 * const nonce = new Uint8Array(12);
 * const sealed = await aead.seal(nonce, new Uint8Array(0), new Uint8Array([1, 2, 3]));
 * console.log(sealed.length); // 19
 * console.log(await aead.open(nonce, new Uint8Array(0), sealed)); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export const webCryptoAead: AeadFactory = async (key: Uint8Array): Promise<Aead> => {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: AES_GCM },
    false,
    ["encrypt", "decrypt"],
  );
  return {
    async seal(nonce, ad, plaintext) {
      return new Uint8Array(
        await crypto.subtle.encrypt(
          {
            name: AES_GCM,
            iv: nonce as Uint8Array<ArrayBuffer>,
            additionalData: ad as Uint8Array<ArrayBuffer>,
          },
          cryptoKey,
          plaintext as Uint8Array<ArrayBuffer>,
        ),
      );
    },
    async open(nonce, ad, ciphertext) {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: AES_GCM,
            iv: nonce as Uint8Array<ArrayBuffer>,
            additionalData: ad as Uint8Array<ArrayBuffer>,
          },
          cryptoKey,
          ciphertext as Uint8Array<ArrayBuffer>,
        ),
      );
    },
  };
};
