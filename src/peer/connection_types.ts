/**
 * The public types of a peer connection ({@linkcode PeerConnection}): request options, the
 * request handler's context, close reasons, statistics and construction.
 *
 * @module
 */

import type { Logger } from "../util/log.ts";
import type { Message } from "../wire/messages.ts";
import type { BlockService } from "./block_service.ts";
import type { MessageChannel } from "./channel.ts";
import type { PeerClosedError, PeerProtocolError } from "./errors.ts";
import type { HandshakeResult } from "./handshake.ts";
import type { PeerOptions } from "./options.ts";
import type { PeerConnection } from "./peer_connection.ts";

/** Which side opened the connection. The dialler allocates odd request ids, the listener even. */
export type PeerRole = "dialer" | "listener";

/** A message without its request id: what callers and handlers hand to the connection. */
export type OutgoingMessage = Message extends infer M
  ? M extends Message ? Omit<M, "requestId"> : never
  : never;

/** Options of one request. */
export interface RequestOptions {
  /** Cancels the request (a CANCEL is sent to the peer); rejects with `AbortedError`. */
  readonly signal?: AbortSignal;
  /** Overrides the connection's `requestTimeoutMs`; rejects with `TimeoutError`. */
  readonly timeoutMs?: number;
}

/** Options of {@linkcode PeerConnection.putBlock}. */
export interface PutBlockOptions extends RequestOptions {
  /**
   * The bytes were read without verifying them against the id (default false). They go out as
   * they are to a peer that verifies pushed blocks on arrival (`blocks/2`), and a refusal
   * (ERROR CORRUPT) rejects with {@linkcode PeerPushCorruptError}; for any other peer they are
   * hashed first, and a mismatch rejects with that error without sending anything.
   */
  readonly unverified?: boolean;
}

/** Options of {@linkcode PeerConnection.request}. */
export interface StreamRequestOptions extends RequestOptions {
  /**
   * Receives the DATA frames the peer sends with this request's id before its answer, in
   * order (`end` as sent). Without it, a DATA frame is itself the answer. The chunk is valid
   * only during the call (the connection reuses its read buffer): copy what must outlive it. A
   * throw rejects the request.
   */
  readonly onData?: (chunk: Uint8Array, end: boolean) => void;
}

/** What a {@linkcode RequestHandler} gets besides the request. */
export interface RequestContext {
  /** The peer's request id. */
  readonly requestId: number;
  /** Aborted when the peer sends CANCEL or the connection closes. */
  readonly signal: AbortSignal;
  /** The connection the request came on. */
  readonly peer: PeerConnection;
  /** Sends a message with this request's id (for multi-message answers). */
  send(message: OutgoingMessage): Promise<void>;
}

/**
 * Serves one request type registered by a layer above (e.g. the DHT). A handler registered for
 * a built-in type (HAS, GET_BLOCK, PUT_BLOCK, BAD_BLOCK, DELETE, FILE_PROBE, TOMBSTONE) replaces the
 * built-in serving of it. Returns the answer to send (its request id is filled in), or nothing
 * when it sent its answers through `ctx.send`. Throwing a `DfsError` answers ERROR (code
 * `NOT_FOUND` -> NOT_FOUND, else INTERNAL); a {@linkcode PeerRemoteError} thrown answers with
 * its `wireCode`.
 */
export type RequestHandler = (
  message: Message,
  ctx: RequestContext,
) => Promise<OutgoingMessage | void>;

/** Why a connection closed. */
export type CloseReason =
  /** We closed or shut it down. */
  | "local"
  /** The peer closed it (GOODBYE, end of stream, or ERROR). */
  | "remote"
  /** The heartbeat declared the peer dead. */
  | "dead"
  /** The peer broke the protocol. */
  | "protocol"
  /** The transport failed. */
  | "error";

/** How a connection ended. */
export interface CloseInfo {
  /** Category. */
  readonly reason: CloseReason;
  /** The error pending requests were failed with. */
  readonly error: PeerClosedError | PeerProtocolError;
}

/** Counters of one connection, for metrics and tests. */
export interface PeerConnectionStats {
  /** Our requests waiting for an answer. */
  readonly outgoingRequests: number;
  /** The peer's requests being served. */
  readonly incomingRequests: number;
  /** Frames queued for the transport (bounded; a peer that stops reading stops us). */
  readonly pendingSends: number;
  /** Epoch ms when we last received anything from the peer. */
  readonly lastSeen: number;
  /**
   * Epoch ms of the last request either side opened (heartbeat PINGs excluded): how long the
   * connection has been idle, for closing idle connections.
   */
  readonly lastActive: number;
  /** Last measured round-trip time in ms (undefined before the first PONG). */
  readonly rttMs: number | undefined;
}

/** Constructor parameters of {@linkcode PeerConnection}. */
export interface PeerConnectionInit {
  /** The message channel, after a successful handshake. */
  readonly channel: MessageChannel;
  /** The authenticated peer. */
  readonly remote: HandshakeResult;
  /** Which side we are. */
  readonly role: PeerRole;
  /** Timing knobs and limits (resolved). */
  readonly options: PeerOptions;
  /** Serves incoming block requests; without it they are answered ERROR UNSUPPORTED. */
  readonly service?: BlockService;
  /** Extra request handlers by message type (shared with the peer manager). */
  readonly handlers?: Map<number, RequestHandler>;
  /** Log sink for protocol violations and deaths. */
  readonly log?: PeerLogger;
}

/** A log sink: level, message, structured fields, category (`src/util/log.ts`). */
export type PeerLogger = Logger;
