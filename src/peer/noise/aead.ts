/**
 * The Noise layer's ciphers: the default AES-256-GCM on Web Crypto (all three runtimes have it)
 * and the {@linkcode NoiseCipher} pairing a cipher name with its implementation. A runtime
 * adapter may supply faster {@linkcode AeadFactory}s, also for ChaCha20-Poly1305
 * (`Runtime.aeads`); each must produce the same bytes as any other implementation of its cipher.
 *
 * @module
 */

import type {
  Aead,
  AeadFactory,
  AeadName,
  AeadProvider,
  AeadProviders,
} from "../../runtime/types.ts";

export type { Aead, AeadFactory, AeadName, AeadProvider, AeadProviders };

/**
 * A Noise cipher function: its name (which formats the nonce and names the protocol) and the
 * implementation that builds it for a key.
 */
export interface NoiseCipher {
  /** `AESGCM` or `ChaChaPoly`. */
  readonly name: AeadName;
  /** Builds the AEAD for a 32-byte key. */
  readonly factory: AeadFactory;
}

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
    async seal(nonce, ad, plaintext, headroom = 0) {
      const sealed = new Uint8Array(
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
      if (headroom === 0) return sealed;
      const out = new Uint8Array(headroom + sealed.length);
      out.set(sealed, headroom);
      return out;
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

/**
 * AES-256-GCM on Web Crypto, the cipher every dfs node can speak (and the default of the Noise
 * state classes).
 *
 * @example
 * ```ts
 * import { WEB_CRYPTO_AESGCM } from "./aead.ts";
 * console.log(WEB_CRYPTO_AESGCM.name); // AESGCM
 * ```
 */
export const WEB_CRYPTO_AESGCM: NoiseCipher = { name: "AESGCM", factory: webCryptoAead };

/** The relative cost ({@linkcode AeadProvider}) of {@linkcode WEB_CRYPTO_AESGCM}. */
export const WEB_CRYPTO_AESGCM_COST = 4;
