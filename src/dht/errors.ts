/**
 * Errors of the DHT. Each has a stable `code`.
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/** Why a name record was refused. */
export type RecordRejection =
  | "BAD_SIGNATURE"
  | "EXPIRED"
  | "TOO_FAR_IN_FUTURE"
  | "STALE_SEQUENCE"
  | "CONFLICT"
  | "NOT_OWNER"
  | "BAD_RECORD"
  | "FULL";

/**
 * A name record was refused: its signature does not verify, it expired, its sequence is not
 * above the one held, another key owns the name, or the node holds as many records as it may.
 * Code `RECORD_REJECTED`; `reason` says which.
 *
 * @example
 * ```ts
 * import { RecordRejectedError } from "./errors.ts";
 * const err = new RecordRejectedError("STALE_SEQUENCE", "sequence 3 is not above 5");
 * console.log(err.code, err.reason); // RECORD_REJECTED STALE_SEQUENCE
 * ```
 */
export class RecordRejectedError extends DfsError {
  /** Which check failed. */
  readonly reason: RecordRejection;
  /** Creates the error. */
  constructor(reason: RecordRejection, message: string, options?: { cause?: unknown }) {
    super("RECORD_REJECTED", message, options);
    this.reason = reason;
  }
}

/**
 * A provider record was refused because a bound was reached (records for one key, records
 * from one announcing peer, or all records). Code `PROVIDER_LIMIT`.
 *
 * @example
 * ```ts
 * import { ProviderLimitError } from "./errors.ts";
 * console.log(new ProviderLimitError("peer announced 50000 keys").code); // PROVIDER_LIMIT
 * ```
 */
export class ProviderLimitError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("PROVIDER_LIMIT", message, options);
  }
}

/**
 * A lookup found no node to ask: the routing table is empty and no bootstrap node answered.
 * Code `DHT_NO_PEERS`.
 *
 * @example
 * ```ts
 * import { NoPeersError } from "./errors.ts";
 * console.log(new NoPeersError("routing table is empty").code); // DHT_NO_PEERS
 * ```
 */
export class NoPeersError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("DHT_NO_PEERS", message, options);
  }
}

/**
 * A peer answered a DHT request with the wrong message type, or refused it with an ERROR
 * (`wireCode` then holds the wire error code). Code `DHT_PROTOCOL`.
 *
 * @example
 * ```ts
 * import { DhtProtocolError } from "./errors.ts";
 * console.log(new DhtProtocolError("FIND_NODE answered with type 0x70").code); // DHT_PROTOCOL
 * ```
 */
export class DhtProtocolError extends DfsError {
  /** The wire error code of an ERROR answer, if that is what came back. */
  readonly wireCode: number | undefined;
  /** Creates the error. */
  constructor(message: string, wireCode?: number, options?: { cause?: unknown }) {
    super("DHT_PROTOCOL", message, options);
    this.wireCode = wireCode;
  }
}

/**
 * A node could not be asked for want of a connection slot, on this side or on its side: it is
 * alive, only busy, so the routing table keeps it. Code `DHT_PEER_BUSY`.
 *
 * @example
 * ```ts
 * import { PeerBusyError } from "./errors.ts";
 * console.log(new PeerBusyError("connection limit (64) reached").code); // DHT_PEER_BUSY
 * ```
 */
export class PeerBusyError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("DHT_PEER_BUSY", message, options);
  }
}
