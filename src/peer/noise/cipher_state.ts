/**
 * Noise's CipherState (spec section 5.1) for AES-256-GCM or ChaCha20-Poly1305: a key, imported
 * once into an {@linkcode Aead}, and a 64-bit nonce counter. The AEAD nonce is 4 zero bytes then
 * the counter, big-endian for AESGCM and little-endian for ChaChaPoly (spec 12.3, 12.4); 2^64-1
 * is reserved (for rekey); rekey is spec section 11.3.
 *
 * @module
 */

import type { Aead, AeadName, NoiseCipher } from "./aead.ts";
import { TAG_BYTES, WEB_CRYPTO_AESGCM } from "./aead.ts";
import {
  NoiseDecryptError,
  NoiseMessageTooLargeError,
  NoiseNonceExhaustedError,
} from "./errors.ts";

/** Largest Noise message, in bytes (spec section 3). */
export const MAX_MESSAGE_BYTES = 65535;

/** Largest plaintext one transport message can carry: 65535 minus the 16-byte tag. */
export const MAX_PLAINTEXT_BYTES = MAX_MESSAGE_BYTES - TAG_BYTES;

/** 2^64-1: never used for a message; the nonce rekey encrypts with. */
export const MAX_NONCE = 0xffff_ffff_ffff_ffffn;

const EMPTY = new Uint8Array(0);

/**
 * A CipherState: `encryptWithAd` / `decryptWithAd` pass bytes through unchanged until a key is
 * set. Each call takes its nonce synchronously, so several seals may be in flight at once and
 * still use consecutive nonces in call order. A failed decrypt does not consume its nonce
 * (spec 5.1); a caller that runs decrypts concurrently must stop at the first failure.
 *
 * @example
 * ```ts
 * import { CipherState } from "./cipher_state.ts";
 * const a = new CipherState();
 * const b = new CipherState();
 * await a.initializeKey(new Uint8Array(32).fill(1));
 * await b.initializeKey(new Uint8Array(32).fill(1));
 * const ad = new Uint8Array(0);
 * const sealed = await a.encryptWithAd(ad, new TextEncoder().encode("hi"));
 * console.log(new TextDecoder().decode(await b.decryptWithAd(ad, sealed))); // hi
 * ```
 */
export class CipherState {
  readonly #cipher: NoiseCipher;
  #aead: Aead | null = null;
  #n = 0n;
  /** Rekey before every nonce that is a multiple of this (0: never). */
  #rekeyEvery = 0n;
  /** The key after a rekey still being derived; later calls use it, in call order. */
  #next: Promise<Aead> | null = null;
  /** The last nonce a rekey was scheduled before (a failed decrypt retries its nonce). */
  #rekeyedAt = -1n;

  /**
   * A CipherState without a key; `cipher` names the cipher and builds it for each key (default
   * AES-256-GCM on Web Crypto).
   */
  constructor(cipher: NoiseCipher = WEB_CRYPTO_AESGCM) {
    this.#cipher = cipher;
  }

  /** The cipher's name (`AESGCM` or `ChaChaPoly`). */
  get cipherName(): AeadName {
    return this.#cipher.name;
  }

  /** Sets the key (importing it once) and resets the nonce to 0; `null` empties the state. */
  async initializeKey(key: Uint8Array | null): Promise<void> {
    this.#aead = key === null ? null : await this.#cipher.factory(key);
    this.#n = 0n;
  }

  /** True once a key is set. */
  hasKey(): boolean {
    return this.#aead !== null;
  }

  /** The nonce the next message will use. */
  get nonce(): bigint {
    return this.#n;
  }

  /**
   * Rekeys automatically (spec 11.3) before every `messages`-th message: before nonce
   * `messages`, `2 * messages`, ... Both sides of a direction must use the same interval, so
   * they switch keys at the same message. `0` turns it off (the default).
   */
  setRekeyInterval(messages: number): void {
    this.#rekeyEvery = BigInt(Math.max(0, Math.floor(messages)));
  }

  /** Sets the nonce counter (spec `SetNonce`; tests use it to reach the end of the range). */
  setNonce(n: bigint): void {
    this.#n = n;
  }

  /**
   * Encrypts `plaintext` with associated data `ad` under the next nonce; returns ciphertext and
   * tag, after `headroom` bytes left for the caller (default 0). Throws {@linkcode NoiseNonceExhaustedError} when no nonce is left and
   * {@linkcode NoiseMessageTooLargeError} when the result would exceed 65535 bytes.
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array, headroom = 0): Promise<Uint8Array> {
    const aead = this.#aead;
    if (aead === null) {
      if (headroom === 0) return Promise.resolve(plaintext);
      const out = new Uint8Array(headroom + plaintext.length);
      out.set(plaintext, headroom);
      return Promise.resolve(out);
    }
    if (plaintext.length > MAX_PLAINTEXT_BYTES) {
      return Promise.reject(
        new NoiseMessageTooLargeError(
          `plaintext of ${plaintext.length} bytes is over ${MAX_PLAINTEXT_BYTES}`,
        ),
      );
    }
    let nonce: Uint8Array;
    let key: Promise<Aead> | null;
    try {
      key = this.#keyFor(this.#n);
      nonce = this.#take();
    } catch (err) {
      return Promise.reject(err);
    }
    return key === null
      ? aead.seal(nonce, ad, plaintext, headroom)
      : key.then((k) => k.seal(nonce, ad, plaintext, headroom));
  }

  /**
   * Like {@linkcode CipherState.encryptWithAd}, but writes the ciphertext and tag
   * (`plaintext.length + 16` bytes; the plaintext itself without a key) into `out` at `offset`.
   * Synchronous (returns `undefined`) when the AEAD has `sealInto` and no rekey is being
   * derived; otherwise returns a promise that resolves once the bytes are in `out`. The nonce is
   * taken at the call, so calls keep their order. Throws {@linkcode NoiseNonceExhaustedError} and
   * {@linkcode NoiseMessageTooLargeError} synchronously.
   */
  encryptInto(
    ad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): Promise<void> | undefined {
    const aead = this.#aead;
    if (aead === null) {
      out.set(plaintext, offset);
      return undefined;
    }
    if (plaintext.length > MAX_PLAINTEXT_BYTES) {
      throw new NoiseMessageTooLargeError(
        `plaintext of ${plaintext.length} bytes is over ${MAX_PLAINTEXT_BYTES}`,
      );
    }
    const key = this.#keyFor(this.#n);
    const nonce = this.#take();
    if (key === null && aead.sealInto !== undefined) {
      aead.sealInto(nonce, ad, plaintext, out, offset);
      return undefined;
    }
    return (key ?? Promise.resolve(aead)).then(async (k) => {
      if (k.sealInto !== undefined) k.sealInto(nonce, ad, plaintext, out, offset);
      else out.set(await k.seal(nonce, ad, plaintext), offset);
    });
  }

  /**
   * Checks and decrypts `ciphertext` (tag included) under the next nonce. Throws
   * {@linkcode NoiseDecryptError} (and keeps the nonce) when it does not authenticate, so a
   * replayed, reordered or altered message is refused and none of its bytes returned.
   */
  async decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    return await this.decrypt(ad, ciphertext);
  }

  /**
   * {@linkcode CipherState.decryptWithAd} without a promise when it can: the plaintext itself
   * when the AEAD has `openSync` and no rekey is being derived, else a promise of it. Failures
   * are the same, thrown synchronously or as a rejection.
   */
  decrypt(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | Promise<Uint8Array> {
    const aead = this.#aead;
    if (aead === null) return ciphertext;
    if (ciphertext.length > MAX_MESSAGE_BYTES) {
      throw new NoiseMessageTooLargeError(
        `message of ${ciphertext.length} bytes is over ${MAX_MESSAGE_BYTES}`,
      );
    }
    const n = this.#n;
    const key = this.#keyFor(n);
    const nonce = this.#take();
    if (ciphertext.length < TAG_BYTES) {
      this.#n = n;
      throw new NoiseDecryptError(`message of ${ciphertext.length} bytes is shorter than a tag`);
    }
    if (key === null && aead.openSync !== undefined) {
      try {
        return aead.openSync(nonce, ad, ciphertext);
      } catch (cause) {
        this.#n = n;
        throw decryptError(cause);
      }
    }
    return (async () => {
      try {
        return await (key === null ? aead : await key).open(nonce, ad, ciphertext);
      } catch (cause) {
        this.#n = n;
        throw decryptError(cause);
      }
    })();
  }

  /**
   * Replaces the key by the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes) (spec
   * 11.3). The nonce counter is kept. Both sides must rekey at the same point of the stream.
   */
  async rekey(): Promise<void> {
    if (this.#aead === null) return;
    const sealed = await this.#aead.seal(
      nonceBytes(MAX_NONCE, this.#cipher.name),
      EMPTY,
      new Uint8Array(32),
    );
    const n = this.#n;
    await this.initializeKey(sealed.subarray(0, 32));
    this.#n = n;
  }

  /**
   * The key nonce `n` must use when it is not the current one: a rekey still being derived, or
   * one scheduled now because `n` is at the rekey interval. `null`: the current key.
   */
  #keyFor(n: bigint): Promise<Aead> | null {
    if (this.#rekeyEvery > 0n && n > 0n && n % this.#rekeyEvery === 0n && this.#rekeyedAt !== n) {
      this.#rekeyedAt = n;
      const before = this.#next ?? Promise.resolve(this.#aead!);
      const next: Promise<Aead> = before.then(async (old) => {
        const sealed = await old.seal(
          nonceBytes(MAX_NONCE, this.#cipher.name),
          EMPTY,
          new Uint8Array(32),
        );
        return await this.#cipher.factory(sealed.subarray(0, 32));
      });
      this.#next = next;
      next.then((k) => {
        if (this.#next === next) {
          this.#aead = k;
          this.#next = null;
        }
      }, () => {});
    }
    return this.#next;
  }

  #take(): Uint8Array {
    if (this.#n >= MAX_NONCE) {
      throw new NoiseNonceExhaustedError("the cipher state has used its last nonce");
    }
    const nonce = nonceBytes(this.#n, this.#cipher.name);
    this.#n++;
    return nonce;
  }
}

function decryptError(cause: unknown): NoiseDecryptError {
  return new NoiseDecryptError("message does not authenticate (altered, replayed or wrong key)", {
    cause,
  });
}

/**
 * The 12-byte nonce for counter `n`: 4 zero bytes, then `n` as u64, big-endian for `AESGCM` (the
 * default) and little-endian for `ChaChaPoly`.
 *
 * @example
 * ```ts
 * import { nonceBytes } from "./cipher_state.ts";
 * console.log(nonceBytes(1n)); // Uint8Array(12) [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
 * console.log(nonceBytes(1n, "ChaChaPoly")); // Uint8Array(12) [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
 * ```
 */
export function nonceBytes(n: bigint, cipher: AeadName = "AESGCM"): Uint8Array {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, n, cipher === "ChaChaPoly");
  return out;
}
