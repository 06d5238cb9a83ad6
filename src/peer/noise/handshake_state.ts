/**
 * Noise's HandshakeState (spec section 5.3) for the two patterns dfs uses, `XX` and `XXpsk3`,
 * with X25519, AES-256-GCM or ChaCha20-Poly1305, and SHA-256:
 *
 * ```
 * XX:                     XXpsk3:
 *   -> e                    -> e
 *   <- e, ee, s, es         <- e, ee, s, es
 *   -> s, se                -> s, se, psk
 * ```
 *
 * @module
 */

import type { AeadName, NoiseCipher } from "./aead.ts";
import { WEB_CRYPTO_AESGCM } from "./aead.ts";
import type { CipherState } from "./cipher_state.ts";
import { MAX_MESSAGE_BYTES } from "./cipher_state.ts";
import { NoiseHandshakeError, NoiseMessageTooLargeError, NoiseStateError } from "./errors.ts";
import { SymmetricState } from "./symmetric_state.ts";
import type { NoiseKeyPair } from "./x25519.ts";
import { dh, DH_LEN, generateKeyPair, keyPairFromPrivate } from "./x25519.ts";
import { concatBytes } from "../../util/concat.ts";

/** The handshake patterns this module runs. */
export type NoisePattern = "XX" | "XXpsk3";

/** Length of a pre-shared key. */
export const PSK_BYTES = 32;

type Token = "e" | "s" | "ee" | "es" | "se" | "psk";

const PATTERNS: Record<NoisePattern, readonly (readonly Token[])[]> = {
  XX: [["e"], ["e", "ee", "s", "es"], ["s", "se"]],
  XXpsk3: [["e"], ["e", "ee", "s", "es"], ["s", "se", "psk"]],
};

const EMPTY = new Uint8Array(0);

/**
 * The protocol name of `pattern` with `cipher` (default `AESGCM`), e.g.
 * `Noise_XX_25519_AESGCM_SHA256` or `Noise_XXpsk3_25519_ChaChaPoly_SHA256`.
 *
 * @example
 * ```ts
 * import { protocolName } from "./handshake_state.ts";
 * console.log(protocolName("XXpsk3")); // Noise_XXpsk3_25519_AESGCM_SHA256
 * console.log(protocolName("XX", "ChaChaPoly")); // Noise_XX_25519_ChaChaPoly_SHA256
 * ```
 */
export function protocolName(pattern: NoisePattern, cipher: AeadName = "AESGCM"): string {
  return `Noise_${pattern}_25519_${cipher}_SHA256`;
}

/** Options for {@linkcode HandshakeState.create}. */
export interface HandshakeOptions {
  /** `XX`, or `XXpsk3` (then `psk` is required). */
  readonly pattern: NoisePattern;
  /** True on the side that sends the first message. */
  readonly initiator: boolean;
  /** Our static X25519 key pair. */
  readonly staticKey: NoiseKeyPair;
  /** Bytes both sides must agree on, mixed into `h` first (default empty). */
  readonly prologue?: Uint8Array;
  /** The 32-byte pre-shared key, for `XXpsk3`. */
  readonly psk?: Uint8Array;
  /** A fixed ephemeral private key (test vectors only; default: fresh random). */
  readonly ephemeralPrivateKey?: Uint8Array;
  /** The cipher, named and implemented (default AES-256-GCM on Web Crypto). */
  readonly cipher?: NoiseCipher;
}

/** The transport ciphers of a finished handshake, from our side's point of view. */
export interface TransportCiphers {
  /** Encrypts what we send. */
  readonly send: CipherState;
  /** Decrypts what we receive. */
  readonly receive: CipherState;
}

/**
 * One side of an XX or XXpsk3 handshake. Alternate {@linkcode HandshakeState.writeMessage} and
 * {@linkcode HandshakeState.readMessage} (the initiator writes first); after three messages
 * {@linkcode HandshakeState.isComplete} is true and {@linkcode HandshakeState.split} gives the
 * transport ciphers. Any failure leaves the state unusable (throws {@linkcode NoiseStateError}).
 *
 * @example Both sides in one process
 * ```ts
 * import { HandshakeState } from "./handshake_state.ts";
 * import { generateKeyPair } from "./x25519.ts";
 * const i = await HandshakeState.create({
 *   pattern: "XX", initiator: true, staticKey: await generateKeyPair(),
 * });
 * const r = await HandshakeState.create({
 *   pattern: "XX", initiator: false, staticKey: await generateKeyPair(),
 * });
 * await r.readMessage(await i.writeMessage(new Uint8Array(0)));
 * await i.readMessage(await r.writeMessage(new Uint8Array(0)));
 * await r.readMessage(await i.writeMessage(new Uint8Array(0)));
 * console.log(i.isComplete && r.isComplete); // true
 * ```
 */
export class HandshakeState {
  readonly #ss: SymmetricState;
  readonly #initiator: boolean;
  readonly #pattern: NoisePattern;
  readonly #s: NoiseKeyPair;
  readonly #psk: Uint8Array | undefined;
  readonly #fixedEphemeral: Uint8Array | undefined;
  #e: NoiseKeyPair | null = null;
  #re: Uint8Array | null = null;
  #rs: Uint8Array | null = null;
  #step = 0;
  #busy = false;
  #failed = false;

  private constructor(ss: SymmetricState, options: HandshakeOptions) {
    this.#ss = ss;
    this.#initiator = options.initiator;
    this.#pattern = options.pattern;
    this.#s = options.staticKey;
    this.#psk = options.psk?.slice();
    this.#fixedEphemeral = options.ephemeralPrivateKey?.slice();
  }

  /** Initialize(): the symmetric state for the protocol name, then MixHash(prologue). */
  static async create(options: HandshakeOptions): Promise<HandshakeState> {
    if (options.pattern === "XXpsk3" && options.psk?.length !== PSK_BYTES) {
      throw new NoiseStateError(`XXpsk3 needs a ${PSK_BYTES}-byte psk`);
    }
    if (options.pattern === "XX" && options.psk !== undefined) {
      throw new NoiseStateError("XX takes no psk (use XXpsk3)");
    }
    const cipher = options.cipher ?? WEB_CRYPTO_AESGCM;
    const ss = await SymmetricState.initialize(protocolName(options.pattern, cipher.name), cipher);
    await ss.mixHash(options.prologue ?? EMPTY);
    return new HandshakeState(ss, options);
  }

  /** True after the third message. */
  get isComplete(): boolean {
    return this.#step === 3;
  }

  /** True when the next call must be {@linkcode HandshakeState.writeMessage}. */
  get isMyTurn(): boolean {
    return !this.isComplete && (this.#step % 2 === 0) === this.#initiator;
  }

  /** The handshake hash `h`: final once complete; both sides then agree on it. */
  get handshakeHash(): Uint8Array {
    return this.#ss.handshakeHash;
  }

  /** The peer's static public key, once received (message 2 for the initiator, 3 otherwise). */
  get remoteStatic(): Uint8Array | null {
    return this.#rs === null ? null : this.#rs.slice();
  }

  /** Writes the next handshake message carrying `payload` (encrypted once a key is mixed). */
  async writeMessage(payload: Uint8Array): Promise<Uint8Array> {
    this.#enter(true);
    try {
      const parts: Uint8Array[] = [];
      for (const token of PATTERNS[this.#pattern][this.#step]) {
        await this.#writeToken(token, parts);
      }
      parts.push(await this.#ss.encryptAndHash(payload));
      const message = concatBytes(parts);
      if (message.length > MAX_MESSAGE_BYTES) {
        throw new NoiseMessageTooLargeError(
          `handshake message of ${message.length} bytes is over ${MAX_MESSAGE_BYTES}`,
        );
      }
      this.#step++;
      return message;
    } catch (err) {
      this.#failed = true;
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /** Reads the peer's next handshake message; returns its payload. */
  async readMessage(message: Uint8Array): Promise<Uint8Array> {
    this.#enter(false);
    try {
      if (message.length > MAX_MESSAGE_BYTES) {
        throw new NoiseMessageTooLargeError(
          `handshake message of ${message.length} bytes is over ${MAX_MESSAGE_BYTES}`,
        );
      }
      let at = 0;
      const take = (n: number): Uint8Array => {
        if (message.length - at < n) {
          throw new NoiseHandshakeError(
            "MALFORMED",
            `handshake message ${this.#step + 1} is ${message.length} bytes, too short`,
          );
        }
        at += n;
        return message.subarray(at - n, at);
      };
      for (const token of PATTERNS[this.#pattern][this.#step]) {
        await this.#readToken(token, take);
      }
      const payload = await this.#ss.decryptAndHash(message.subarray(at));
      this.#step++;
      return payload;
    } catch (err) {
      this.#failed = true;
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The transport ciphers (Split) of a complete handshake: `send` is c1 for the initiator and
   * c2 for the responder.
   */
  async split(): Promise<TransportCiphers> {
    if (!this.isComplete) throw new NoiseStateError("split before the handshake is complete");
    const { c1, c2 } = await this.#ss.split();
    return this.#initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 };
  }

  #enter(writing: boolean): void {
    if (this.#failed) throw new NoiseStateError("the handshake already failed");
    if (this.#busy) throw new NoiseStateError("a handshake message is already in progress");
    if (this.isComplete) throw new NoiseStateError("the handshake is complete");
    if (this.isMyTurn !== writing) {
      throw new NoiseStateError(writing ? "not our turn to write" : "not our turn to read");
    }
    this.#busy = true;
  }

  async #writeToken(token: Token, parts: Uint8Array[]): Promise<void> {
    switch (token) {
      case "e": {
        const e = this.#fixedEphemeral === undefined
          ? await generateKeyPair()
          : await keyPairFromPrivate(this.#fixedEphemeral);
        this.#e = e;
        parts.push(e.publicKey);
        await this.#mixEphemeral(e.publicKey);
        return;
      }
      case "s":
        parts.push(await this.#ss.encryptAndHash(this.#s.publicKey));
        return;
      default:
        return await this.#mixToken(token);
    }
  }

  async #readToken(token: Token, take: (n: number) => Uint8Array): Promise<void> {
    switch (token) {
      case "e": {
        const re = take(DH_LEN).slice();
        this.#re = re;
        await this.#mixEphemeral(re);
        return;
      }
      case "s": {
        const sealed = take(this.#ss.hasKey() ? DH_LEN + 16 : DH_LEN);
        this.#rs = (await this.#ss.decryptAndHash(sealed)).slice();
        return;
      }
      default:
        return await this.#mixToken(token);
    }
  }

  async #mixEphemeral(publicKey: Uint8Array): Promise<void> {
    await this.#ss.mixHash(publicKey);
    if (this.#pattern === "XXpsk3") await this.#ss.mixKey(publicKey);
  }

  async #mixToken(token: "ee" | "es" | "se" | "psk"): Promise<void> {
    if (token === "psk") return await this.#ss.mixKeyAndHash(this.#psk!);
    // es: initiator's e with responder's s; se: initiator's s with responder's e.
    const localEphemeral = token === "ee" || (token === "es") === this.#initiator;
    const remoteEphemeral = token === "ee" || (token === "se") === this.#initiator;
    const local = localEphemeral ? this.#e : this.#s;
    const remote = remoteEphemeral ? this.#re : this.#rs;
    if (local === null || remote === null) {
      throw new NoiseStateError(`token ${token} before the keys it needs`);
    }
    await this.#ss.mixKey(await dh(local.privateKey, remote));
  }
}
