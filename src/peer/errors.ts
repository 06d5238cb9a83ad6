/**
 * Errors of the peer layer. Each has a stable `code`; {@linkcode HandshakeError} also carries a
 * `reason` saying which check failed, and {@linkcode PeerRemoteError} the wire error code the
 * peer answered with.
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/** Why a handshake failed. */
export type HandshakeFailureReason =
  /** The peer speaks a protocol version we do not. */
  | "VERSION_MISMATCH"
  /** The peer's AUTH signature does not verify against its public key and our nonce. */
  | "BAD_SIGNATURE"
  /** The peer's node id is not SHA-256 of its public key. */
  | "NODE_ID_MISMATCH"
  /** The peer's HELLO (or AUTH) is malformed, or another message came instead. */
  | "MALFORMED_HELLO"
  /** The handshake did not complete in time. */
  | "TIMEOUT"
  /** The peer is not the node we dialled (expected node id). */
  | "UNEXPECTED_PEER"
  /** We connected to ourselves. */
  | "SELF"
  /** The peer refused the handshake with an ERROR message. */
  | "REJECTED"
  /** The connection closed during the handshake. */
  | "CLOSED";

/**
 * The handshake failed; `reason` says why. Code `HANDSHAKE_FAILED`.
 *
 * @example
 * ```ts
 * import { HandshakeError } from "./errors.ts";
 * const err = new HandshakeError("BAD_SIGNATURE", "AUTH signature does not verify");
 * console.log(err.code, err.reason); // HANDSHAKE_FAILED BAD_SIGNATURE
 * ```
 */
export class HandshakeError extends DfsError {
  /** Which check failed. */
  readonly reason: HandshakeFailureReason;
  /** For `REJECTED`: the wire error code the peer sent. */
  readonly wireCode?: number;
  /** Creates the error. */
  constructor(
    reason: HandshakeFailureReason,
    message: string,
    options?: { cause?: unknown; wireCode?: number },
  ) {
    super("HANDSHAKE_FAILED", `handshake failed (${reason}): ${message}`, options);
    this.reason = reason;
    if (options?.wireCode !== undefined) this.wireCode = options.wireCode;
  }
}

/**
 * The connection to the peer is closed (or closing), so the request cannot complete: the peer
 * went away, was declared dead by the heartbeat, or we shut down. Code `PEER_CLOSED`.
 */
export class PeerClosedError extends DfsError {
  /** The wire error code when the peer closed with an ERROR (e.g. LIMIT: it had no room). */
  readonly wireCode: number | undefined;
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown; wireCode?: number }) {
    super("PEER_CLOSED", message, options);
    this.wireCode = options?.wireCode;
  }
}

/**
 * A block received from a peer does not hash to the id it was asked for (or is not the size
 * it announced). The bytes are dropped, never returned. Code `PEER_CORRUPT_DATA`.
 */
export class PeerCorruptDataError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("PEER_CORRUPT_DATA", message, options);
  }
}

/**
 * A block pushed without the pusher's own verification (`unverified` in
 * {@linkcode PeerConnection.putBlock}) does not match its id: the peer verified it on arrival
 * and refused it (ERROR CORRUPT; `byPeer` true), or, for a peer that does not verify pushes,
 * the pusher's hash before sending found it (`byPeer` false, nothing sent). Nothing was stored.
 * The pusher's own copy is suspect: check it (the peer may also have lied, or the bytes rotted
 * in flight). Code `PEER_PUSH_CORRUPT`.
 *
 * @example
 * ```ts
 * import { PeerPushCorruptError } from "./errors.ts";
 * const err: unknown = new PeerPushCorruptError("block 1220ab refused: corrupt", true);
 * if (err instanceof PeerPushCorruptError) console.log(err.code, err.byPeer);
 * ```
 */
export class PeerPushCorruptError extends DfsError {
  /** True when the peer refused the bytes; false when the pusher's own hash found the mismatch. */
  readonly byPeer: boolean;
  /** Creates the error. */
  constructor(message: string, byPeer: boolean, options?: { cause?: unknown }) {
    super("PEER_PUSH_CORRUPT", message, options);
    this.byPeer = byPeer;
  }
}

/**
 * The peer answered a request with an ERROR message. `wireCode` is one of `WireErrorCode`
 * (`NOT_FOUND`, `LIMIT`, `CORRUPT`, ...). Code `PEER_REMOTE_ERROR`, except that a `NOT_FOUND`
 * answer surfaces as `NotFoundError` from the block methods.
 */
export class PeerRemoteError extends DfsError {
  /** The wire error code the peer sent. */
  readonly wireCode: number;
  /** Creates the error. */
  constructor(wireCode: number, message: string, options?: { cause?: unknown }) {
    super("PEER_REMOTE_ERROR", message, options);
    this.wireCode = wireCode;
  }
}

/**
 * The peer broke the protocol (garbage bytes, oversized frame, a message that makes no sense
 * where it came); the connection is closed. Code `PEER_PROTOCOL`.
 */
export class PeerProtocolError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("PEER_PROTOCOL", message, options);
  }
}

/** A local limit refused the operation (block too large, too many connections). Code `PEER_LIMIT`. */
export class PeerLimitError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("PEER_LIMIT", message, options);
  }
}
