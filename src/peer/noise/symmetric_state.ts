/**
 * Noise's SymmetricState (spec section 5.2) for SHA-256: the chaining key `ck`, the handshake
 * hash `h` and a {@linkcode CipherState} (AES-256-GCM or ChaCha20-Poly1305).
 *
 * @module
 */

import type { NoiseCipher } from "./aead.ts";
import { WEB_CRYPTO_AESGCM } from "./aead.ts";
import { CipherState } from "./cipher_state.ts";
import { HASH_LEN, hkdf, sha256 } from "./hash.ts";

const EMPTY = new Uint8Array(0);

/**
 * The two CipherStates {@linkcode SymmetricState.split} returns: `c1` carries initiator to
 * responder, `c2` responder to initiator.
 */
export interface SplitCiphers {
  /** Initiator -> responder. */
  readonly c1: CipherState;
  /** Responder -> initiator. */
  readonly c2: CipherState;
}

/**
 * A SymmetricState. Build with {@linkcode SymmetricState.initialize}.
 *
 * @example
 * ```ts
 * import { SymmetricState } from "./symmetric_state.ts";
 * const s = await SymmetricState.initialize("Noise_XX_25519_AESGCM_SHA256");
 * await s.mixHash(new Uint8Array([1]));
 * console.log(s.handshakeHash.length); // 32
 * ```
 */
export class SymmetricState {
  #ck: Uint8Array;
  #h: Uint8Array;
  #cipher: CipherState;
  #cipherFn: NoiseCipher;

  private constructor(h: Uint8Array, cipher: NoiseCipher) {
    this.#h = h;
    this.#ck = h;
    this.#cipherFn = cipher;
    this.#cipher = new CipherState(cipher);
  }

  /**
   * InitializeSymmetric(protocol_name): h = the name padded to 32 bytes, or its hash. `cipher`
   * must be the one the name names (default AES-256-GCM on Web Crypto).
   */
  static async initialize(
    protocolName: string,
    cipher: NoiseCipher = WEB_CRYPTO_AESGCM,
  ): Promise<SymmetricState> {
    const name = new TextEncoder().encode(protocolName);
    let h: Uint8Array;
    if (name.length <= HASH_LEN) {
      h = new Uint8Array(HASH_LEN);
      h.set(name);
    } else {
      h = await sha256(name);
    }
    return new SymmetricState(h, cipher);
  }

  /** The handshake hash `h` (a copy). */
  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** True once a key is mixed in (encryptAndHash then encrypts). */
  hasKey(): boolean {
    return this.#cipher.hasKey();
  }

  /** MixKey: ck, k = HKDF(ck, ikm, 2). */
  async mixKey(inputKeyMaterial: Uint8Array): Promise<void> {
    const [ck, k] = await hkdf(this.#ck, inputKeyMaterial, 2);
    this.#ck = ck;
    await this.#cipher.initializeKey(k);
  }

  /** MixHash: h = SHA-256(h || data). */
  async mixHash(data: Uint8Array): Promise<void> {
    this.#h = await sha256(this.#h, data);
  }

  /** MixKeyAndHash (for psk tokens): ck, temp_h, k = HKDF(ck, ikm, 3); MixHash(temp_h). */
  async mixKeyAndHash(inputKeyMaterial: Uint8Array): Promise<void> {
    const [ck, tempH, k] = await hkdf(this.#ck, inputKeyMaterial, 3);
    this.#ck = ck;
    await this.mixHash(tempH);
    await this.#cipher.initializeKey(k);
  }

  /** EncryptAndHash: ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext). */
  async encryptAndHash(plaintext: Uint8Array): Promise<Uint8Array> {
    const ciphertext = await this.#cipher.encryptWithAd(this.#h, plaintext);
    await this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash: plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext). */
  async decryptAndHash(ciphertext: Uint8Array): Promise<Uint8Array> {
    const plaintext = await this.#cipher.decryptWithAd(this.#h, ciphertext);
    await this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split: the two transport CipherStates from HKDF(ck, empty, 2). */
  async split(): Promise<SplitCiphers> {
    const [k1, k2] = await hkdf(this.#ck, EMPTY, 2);
    const c1 = new CipherState(this.#cipherFn);
    const c2 = new CipherState(this.#cipherFn);
    await c1.initializeKey(k1);
    await c2.initializeKey(k2);
    return { c1, c2 };
  }
}
