/**
 * What the node needs from a connected peer, as one narrow interface. The peer layer's
 * connections are adapted to it in `peers.ts`; tests can pass fakes.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";

/** Options accepted by every remote call. */
export interface RemoteCallOptions {
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  /**
   * Gives up after this many milliseconds (a `TimeoutError`), without a timer signal per call;
   * absent: the connection's own request timeout.
   */
  readonly timeoutMs?: number;
}

/** A connected peer, seen from the node. Every method rejects with a `DfsError`. */
export interface RemotePeer {
  /** The peer's node id, hex. */
  readonly nodeId: string;
  /** Which of `ids` the peer holds, one boolean per id, in order. */
  has(ids: readonly ContentId[], options?: RemoteCallOptions): Promise<boolean[]>;
  /** Fetches a block; the bytes are verified against `id` (a mismatch rejects with a CORRUPT error). */
  getBlock(id: ContentId, options?: RemoteCallOptions): Promise<Uint8Array>;
  /** Stores a block on the peer; resolves once the peer confirmed it stored and verified it. */
  putBlock(id: ContentId, bytes: Uint8Array, options?: RemoteCallOptions): Promise<void>;
  /** Asks the peer to delete a block; resolves once it confirmed (also when it was absent). */
  deleteBlock(id: ContentId, options?: RemoteCallOptions): Promise<void>;
}
