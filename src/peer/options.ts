/**
 * Every timing knob and limit of the peer layer, in one options object, with the defaults
 * filled in one place ({@linkcode resolvePeerOptions}). Tests pass short values.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import {
  DEFAULT_DATA_CHUNK_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_HEADER_ALLOWANCE,
} from "../wire/limits.ts";

/** Timing knobs and limits of connections and of the peer manager. All times in milliseconds. */
export interface PeerOptions {
  /** A handshake not complete after this long drops the connection (default 5000). */
  readonly handshakeTimeoutMs: number;
  /** Default per-request timeout when the caller gives none (default 30000). */
  readonly requestTimeoutMs: number;
  /** A PING is sent this often (default 1000). */
  readonly heartbeatIntervalMs: number;
  /** A peer silent (nothing received) this long is declared dead and dropped (default 4000). */
  readonly deadAfterMs: number;
  /** Largest block accepted or sent, in bytes (default 4 MiB). */
  readonly maxBlockSize: number;
  /** Requests from one peer being served at once; more are refused with ERROR LIMIT (default 64). */
  readonly maxInFlightPerPeer: number;
  /**
   * Requests one connection may open per second, with a burst of twice that; more are refused
   * with ERROR LIMIT (default 5000: a 256 KiB block transfer runs ~4,400 requests/s on loopback;
   * `src/peer/peer_limits.ts`).
   */
  readonly maxRequestsPerSecond: number;
  /**
   * Connections one remote host may hold (handshaking or established); one more from it is
   * refused with ERROR LIMIT (default 8; loopback hosts are exempt).
   */
  readonly maxConnectionsPerHost: number;
  /**
   * Connections (handshaking or established) at once (default 64). At the limit, a new
   * connection first closes the least recently active idle one that is neither a bootstrap nor
   * a peer-exchange connection; when there is none, a dial fails with `PeerLimitError` and an
   * inbound connection is refused with ERROR LIMIT.
   */
  readonly maxConnections: number;
  /**
   * A connection with no request either way for this long is closed, unless it is to a
   * bootstrap address or was made by peer exchange (default 120000). The DHT's connections are
   * made on demand and closed this way, so their number does not grow with the network.
   */
  readonly idleTimeoutMs: number;
  /** First redial delay of a bootstrap address (default 200). */
  readonly backoffBaseMs: number;
  /** Largest redial delay (default 30000). */
  readonly backoffMaxMs: number;
  /** Graceful shutdown lets in-flight requests finish for this long (default 5000). */
  readonly shutdownGraceMs: number;
  /** Timeout of one outgoing TCP connect (default 5000). */
  readonly connectTimeoutMs: number;
  /**
   * Bytes of block body per DATA frame (default the wire's `DEFAULT_DATA_CHUNK_SIZE`, 128 KiB;
   * at most 1 MiB, the wire's frame limit less its header allowance). Smaller frames let
   * PINGs and other requests interleave sooner; larger ones cost fewer writes.
   */
  readonly dataChunkSize: number;
  /**
   * Peer exchange dials addresses learned from peers (PEERS) while the node has fewer
   * connections than this (default 8; at most `maxConnections - 1` is used, so inbound
   * connections always find room).
   */
  readonly targetConnections: number;
}

/**
 * The defaults.
 *
 * @example
 * ```ts
 * import { DEFAULT_PEER_OPTIONS } from "./options.ts";
 * console.log(DEFAULT_PEER_OPTIONS.heartbeatIntervalMs); // 1000
 * ```
 */
export const DEFAULT_PEER_OPTIONS: Readonly<PeerOptions> = Object.freeze({
  handshakeTimeoutMs: 5000,
  requestTimeoutMs: 30_000,
  heartbeatIntervalMs: 1000,
  deadAfterMs: 4000,
  maxBlockSize: 4 * 1024 * 1024,
  maxInFlightPerPeer: 64,
  maxRequestsPerSecond: 5000,
  maxConnectionsPerHost: 8,
  maxConnections: 64,
  idleTimeoutMs: 120_000,
  backoffBaseMs: 200,
  backoffMaxMs: 30_000,
  shutdownGraceMs: 5000,
  connectTimeoutMs: 5000,
  dataChunkSize: DEFAULT_DATA_CHUNK_SIZE,
  targetConnections: 8,
});

/**
 * Fills in the defaults for the options not given and checks every value is a positive
 * number. Throws {@linkcode InvalidArgumentError} otherwise.
 *
 * @example
 * ```ts
 * import { resolvePeerOptions } from "./options.ts";
 * const opts = resolvePeerOptions({ heartbeatIntervalMs: 50, deadAfterMs: 300 });
 * console.log(opts.handshakeTimeoutMs); // 5000
 * ```
 */
export function resolvePeerOptions(partial: Partial<PeerOptions> = {}): PeerOptions {
  const out: Record<string, number> = { ...DEFAULT_PEER_OPTIONS };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_PEER_OPTIONS)) {
      throw new InvalidArgumentError(`unknown peer option ${JSON.stringify(key)}`);
    }
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new InvalidArgumentError(`peer option ${key} must be a positive number, got ${value}`);
    }
    out[key] = value;
  }
  const maxChunk = DEFAULT_MAX_FRAME_SIZE - FRAME_HEADER_ALLOWANCE;
  if (!Number.isInteger(out.dataChunkSize) || out.dataChunkSize > maxChunk) {
    throw new InvalidArgumentError(
      `dataChunkSize must be an integer of at most ${maxChunk} bytes, got ${out.dataChunkSize}`,
    );
  }
  if (out.deadAfterMs <= out.heartbeatIntervalMs) {
    throw new InvalidArgumentError(
      `deadAfterMs (${out.deadAfterMs}) must exceed heartbeatIntervalMs (${out.heartbeatIntervalMs})`,
    );
  }
  return out as unknown as PeerOptions;
}
