/**
 * How often a node checks its copy of a block because a peer said the bytes it sent were bad
 * (BAD_BLOCK). Each report costs a read and a hash of the block; a hostile peer that reports
 * good blocks as bad must not turn that into unbounded work. Reports are taken from a token
 * bucket per reporting peer and from one shared by all peers; a report over either is refused
 * (ERROR LIMIT) without touching the disk.
 *
 * The same check, at the same rates, runs when a peer refuses a block this node pushed to it
 * without verifying it first (ERROR CORRUPT on PUT_BLOCK): {@linkcode recheckCopy} is the one
 * path for both. A copy the check finds rotten is out of service from then on; the node brings
 * a good copy back from another holder (`onRotten`), as the scrubber does for what it finds.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { PeerRemoteError } from "../peer/errors.ts";
import { TokenBucket } from "../peer/peer_limits.ts";
import type { BlockStore } from "../store/types.ts";
import { WireErrorCode } from "../wire/messages.ts";
import { isCorrupt, isNotFound } from "./fetcher.ts";

/** Options of {@linkcode BadBlockReports}. */
export interface BadBlockReportsOptions {
  /** Checks per second one peer may cause, long run (default 1). */
  readonly perPeerPerSecond?: number;
  /** Checks one peer may cause at once (default 8). */
  readonly perPeerBurst?: number;
  /** Checks per second all peers together may cause (default 8). */
  readonly totalPerSecond?: number;
  /** Checks all peers together may cause at once (default 32). */
  readonly totalBurst?: number;
  /** Clock in ms (default `Date.now`). */
  readonly now?: () => number;
}

/** Peers whose buckets are remembered; the oldest is forgotten past this. */
const MAX_PEERS = 1024;

/**
 * The rate of BAD_BLOCK checks (see the module doc).
 *
 * @example
 * ```ts
 * import { BadBlockReports } from "./bad_block_reports.ts";
 * const reports = new BadBlockReports({ perPeerBurst: 2, perPeerPerSecond: 0.1 });
 * console.log(reports.take("aa"), reports.take("aa"), reports.take("aa")); // true true false
 * console.log(reports.take("bb")); // true: another peer has its own bucket
 * ```
 */
export class BadBlockReports {
  readonly #peers = new Map<string, TokenBucket>();
  readonly #total: TokenBucket;
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;

  /** Full buckets. */
  constructor(options: BadBlockReportsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#rate = options.perPeerPerSecond ?? 1;
    this.#burst = options.perPeerBurst ?? 8;
    this.#total = new TokenBucket(options.totalPerSecond ?? 8, options.totalBurst ?? 32, this.#now);
  }

  /** Takes one check for a report from peer `from` (node id): false when over either rate. */
  take(from: string): boolean {
    let bucket = this.#peers.get(from);
    if (bucket === undefined) {
      if (this.#peers.size >= MAX_PEERS) this.#peers.delete(this.#peers.keys().next().value!);
      bucket = new TokenBucket(this.#rate, this.#burst, this.#now);
      this.#peers.set(from, bucket);
    }
    return bucket.take() && this.#total.take();
  }
}

/**
 * Checks the local copy of block `id` because peer `from` (node id, hex) said the bytes this
 * node sent were bad (BAD_BLOCK, or a pushed block refused as corrupt): a verified read, which
 * quarantines a rotten copy. Resolves `true` when the copy was rotten (now out of service) or
 * is not held, `false` when it verifies (kept: never dropped on a peer's word). A copy found
 * rotten is handed to `onRotten` (the node restores it from another holder in the background);
 * one not held is not. Rejects with a {@linkcode PeerRemoteError} of wire code LIMIT, without
 * touching the disk, when the check is over `reports`' rates; with the read's error for
 * anything else.
 *
 * @example
 * ```ts ignore
 * if (await recheckCopy(store, reports, id, peerId, restoreSoon)) console.log("was rotten");
 * ```
 */
export async function recheckCopy(
  store: BlockStore,
  reports: BadBlockReports,
  id: ContentId,
  from: string,
  onRotten?: (id: ContentId) => void,
): Promise<boolean> {
  if (!reports.take(from)) {
    throw new PeerRemoteError(WireErrorCode.LIMIT, "too many BAD_BLOCK reports; not checked");
  }
  try {
    await store.readBytes(id);
    return false;
  } catch (err) {
    if (isCorrupt(err)) {
      onRotten?.(id);
      return true;
    }
    if (isNotFound(err)) return true;
    throw err;
  }
}
