/**
 * Errors of the Noise layer. Each has a stable `code`; {@linkcode NoiseHandshakeError} also
 * carries a `reason` saying which step of the secured handshake failed.
 *
 * @module
 */

import { DfsError } from "../../errors.ts";

/**
 * An AEAD open failed: the message was altered, replayed, reordered, or sealed under another key
 * (e.g. a different cluster key). No byte of it is returned. Code `NOISE_DECRYPT`.
 *
 * @example
 * ```ts
 * import { NoiseDecryptError } from "./errors.ts";
 * const err = new NoiseDecryptError("authentication failed");
 * console.log(err.code); // NOISE_DECRYPT
 * ```
 */
export class NoiseDecryptError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOISE_DECRYPT", message, options);
  }
}

/**
 * A cipher state used its last nonce (2^64-2; 2^64-1 is reserved): the session must end or
 * rekey is no help, since rekey does not reset the counter. Code `NOISE_NONCE_EXHAUSTED`.
 *
 * @example
 * ```ts
 * import { NoiseNonceExhaustedError } from "./errors.ts";
 * console.log(new NoiseNonceExhaustedError("no nonce left").code); // NOISE_NONCE_EXHAUSTED
 * ```
 */
export class NoiseNonceExhaustedError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOISE_NONCE_EXHAUSTED", message, options);
  }
}

/**
 * A Noise message would exceed (or a received one exceeds) 65535 bytes. Code
 * `NOISE_MESSAGE_TOO_LARGE`.
 *
 * @example
 * ```ts
 * import { NoiseMessageTooLargeError } from "./errors.ts";
 * console.log(new NoiseMessageTooLargeError("70000 bytes").code); // NOISE_MESSAGE_TOO_LARGE
 * ```
 */
export class NoiseMessageTooLargeError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOISE_MESSAGE_TOO_LARGE", message, options);
  }
}

/**
 * A Noise object was used out of order: writing when it is the other side's turn, splitting an
 * unfinished handshake, a missing static key or psk. A bug of the caller. Code `NOISE_STATE`.
 *
 * @example
 * ```ts
 * import { NoiseStateError } from "./errors.ts";
 * console.log(new NoiseStateError("not our turn").code); // NOISE_STATE
 * ```
 */
export class NoiseStateError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOISE_STATE", message, options);
  }
}

/** Why a secured handshake failed. */
export type NoiseHandshakeFailureReason =
  /** A handshake message is too short or its payload does not parse. */
  | "MALFORMED"
  /** A public key was refused by X25519 (e.g. a low-order point). */
  | "BAD_KEY"
  /** The identity signature over the Noise static key does not verify, or names another node. */
  | "BAD_IDENTITY"
  /**
   * A handshake message (or the confirmation) does not authenticate: the two sides hold
   * different cluster keys (one may have none), or the bytes were altered.
   */
  | "AUTH_FAILED"
  /** The connection ended before the handshake finished. */
  | "CLOSED"
  /**
   * The responder closed instead of confirming our last message: it refused the handshake
   * (most often: a different cluster key).
   */
  | "REJECTED";

/**
 * A secured handshake failed for `reason`; the connection is closed. Code `NOISE_HANDSHAKE`.
 *
 * @example
 * ```ts
 * import { NoiseHandshakeError } from "./errors.ts";
 * const err = new NoiseHandshakeError("BAD_IDENTITY", "signature does not verify");
 * console.log(err.reason, err.message); // BAD_IDENTITY noise handshake failed (BAD_IDENTITY): ...
 * ```
 */
export class NoiseHandshakeError extends DfsError {
  /** Which check failed. */
  readonly reason: NoiseHandshakeFailureReason;
  /** Creates the error. */
  constructor(reason: NoiseHandshakeFailureReason, message: string, options?: { cause?: unknown }) {
    super("NOISE_HANDSHAKE", `noise handshake failed (${reason}): ${message}`, options);
    this.reason = reason;
  }
}

/**
 * The peer's first bytes are not the dfs Noise preamble: another protocol, or another version
 * of ours (`peerVersion` is set then). Code `NOISE_PREAMBLE`.
 *
 * @example
 * ```ts
 * import { NoisePreambleError } from "./errors.ts";
 * console.log(new NoisePreambleError("not a dfs node").code); // NOISE_PREAMBLE
 * ```
 */
export class NoisePreambleError extends DfsError {
  /** The version the peer announced, when its preamble is a dfs Noise one. */
  readonly peerVersion?: number;
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown; peerVersion?: number }) {
    super("NOISE_PREAMBLE", message, options);
    if (options?.peerVersion !== undefined) this.peerVersion = options.peerVersion;
  }
}

/**
 * The peer speaks plaintext dfs (its first bytes are a plaintext frame length): it runs without
 * encryption, and an encrypting node does not talk to it. Code `NOISE_PLAINTEXT_PEER`.
 *
 * @example
 * ```ts
 * import { PlaintextPeerError } from "./errors.ts";
 * console.log(new PlaintextPeerError("the peer runs without encryption").code);
 * // NOISE_PLAINTEXT_PEER
 * ```
 */
export class PlaintextPeerError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOISE_PLAINTEXT_PEER", message, options);
  }
}

/**
 * The encrypted stream ended inside a message (after its length, before its last byte). Code
 * `NOISE_TRUNCATED`.
 *
 * @example
 * ```ts
 * import { NoiseTruncatedError } from "./errors.ts";
 * console.log(new NoiseTruncatedError("ended inside a message").code); // NOISE_TRUNCATED
 * ```
 */
export class NoiseTruncatedError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOISE_TRUNCATED", message, options);
  }
}
