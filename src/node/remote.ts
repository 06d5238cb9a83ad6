/**
 * What the node needs from a connected peer, as one narrow interface. The peer layer's
 * connections are adapted to it in `peers.ts`; tests can pass fakes.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import type { FileProbeResult } from "../peer/block_service.ts";
import type { WireTombstone } from "../wire/messages.ts";

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

/** Options of {@linkcode RemotePeer.putBlock}. */
export interface PushOptions extends RemoteCallOptions {
  /**
   * The bytes were read without verifying them against the id. A peer that verifies pushes on
   * arrival (`blocks/2`) gets them as they are and a refusal rejects with a
   * `PeerPushCorruptError` (`byPeer` true); any other peer gets them only after a hash here (a
   * mismatch: the same error, `byPeer` false, nothing sent).
   */
  readonly unverified?: boolean;
}

/** A connected peer, seen from the node. Every method rejects with a `DfsError`. */
export interface RemotePeer {
  /** The peer's node id, hex. */
  readonly nodeId: string;
  /** Which of `ids` the peer holds, one boolean per id, in order. */
  has(ids: readonly ContentId[], options?: RemoteCallOptions): Promise<boolean[]>;
  /** Fetches a block; the bytes are verified against `id` (a mismatch rejects with a CORRUPT error). */
  getBlock(id: ContentId, options?: RemoteCallOptions): Promise<Uint8Array>;
  /**
   * Stores a block on the peer; resolves once the peer confirmed it stored and verified it. See
   * {@linkcode PushOptions.unverified} for bytes read without the pusher's own hash.
   */
  putBlock(id: ContentId, bytes: Uint8Array, options?: PushOptions): Promise<void>;
  /** Asks the peer to delete a block; resolves once it confirmed (also when it was absent). */
  deleteBlock(id: ContentId, options?: RemoteCallOptions): Promise<void>;
  /**
   * The cheap check of repair (FILE_PROBE): which of `ids` (blocks of file `fileId`, at most
   * 1024) the peer holds, one boolean per id in order, and the tombstone it holds for the file,
   * if any (unchecked: verify it before believing it). Rejects with a `PeerRemoteError` whose
   * `wireCode` is UNSUPPORTED when the peer does not serve probes (an older node: nothing is
   * sent to it).
   */
  probe(
    fileId: ContentId,
    ids: readonly ContentId[],
    options?: RemoteCallOptions,
  ): Promise<FileProbeResult>;
  /**
   * Offers a tombstone to the peer (TOMBSTONE); resolves once it kept it (or holds one as
   * good). Rejects with a `PeerRemoteError`: `wireCode` BAD_REQUEST when the peer refused it
   * (the reason starts the message), UNSUPPORTED when it keeps no tombstones.
   */
  sendTombstone(tombstone: WireTombstone, options?: RemoteCallOptions): Promise<void>;
}
