/**
 * Errors of the wire layer. Every decoder failure is one of these, so a caller can tell bad
 * input (disconnect the peer) from its own bugs.
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/**
 * A frame declared a body longer than the reader's limit. Raised from the 4-byte length prefix
 * alone, before any buffer for the body is allocated. Code `FRAME_TOO_LARGE`.
 *
 * @example
 * ```ts
 * import { FrameTooLargeError } from "./errors.ts";
 * const err = new FrameTooLargeError(5_000_000, 1_048_640);
 * console.log(err.code, err.declaredLength, err.limit); // FRAME_TOO_LARGE 5000000 1048640
 * ```
 */
export class FrameTooLargeError extends DfsError {
  /** The body length the frame header declared (or the encoder computed). */
  readonly declaredLength: number;
  /** The largest body length accepted. */
  readonly limit: number;
  /** Creates the error. */
  constructor(declaredLength: number, limit: number) {
    super(
      "FRAME_TOO_LARGE",
      `frame body of ${declaredLength} bytes exceeds the limit of ${limit} bytes`,
    );
    this.declaredLength = declaredLength;
    this.limit = limit;
  }
}

/** The stream ended inside a frame (in its length prefix or its body). Code `TRUNCATED_FRAME`. */
export class TruncatedFrameError extends DfsError {
  /** Bytes of the frame (prefix included) that had arrived. */
  readonly received: number;
  /** Bytes the frame needed (prefix included; 4 when the prefix itself was cut). */
  readonly expected: number;
  /** Creates the error. */
  constructor(received: number, expected: number) {
    super(
      "TRUNCATED_FRAME",
      `stream ended inside a frame: expected ${expected} bytes, got ${received}`,
    );
    this.received = received;
    this.expected = expected;
  }
}

/** A message body names a protocol version this code does not speak. Code `UNSUPPORTED_VERSION`. */
export class UnsupportedVersionError extends DfsError {
  /** The version byte found. */
  readonly version: number;
  /** Creates the error. */
  constructor(version: number, supported: number) {
    super(
      "UNSUPPORTED_VERSION",
      `unsupported protocol version ${version} (this node speaks ${supported})`,
    );
    this.version = version;
  }
}

/** A message body carries a type byte outside the catalogue. Code `UNKNOWN_MESSAGE_TYPE`. */
export class UnknownMessageTypeError extends DfsError {
  /** The type byte found. */
  readonly messageType: number;
  /** Creates the error. */
  constructor(messageType: number) {
    super(
      "UNKNOWN_MESSAGE_TYPE",
      `unknown message type 0x${messageType.toString(16).padStart(2, "0")}`,
    );
    this.messageType = messageType;
  }
}

/**
 * A message is truncated, overlong, or has a field out of its bounds: when decoding received
 * bytes, or when asked to encode a message that breaks the layout. Code `MALFORMED_MESSAGE`.
 */
export class MalformedMessageError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("MALFORMED_MESSAGE", message, options);
  }
}
