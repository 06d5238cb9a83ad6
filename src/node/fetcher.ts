/**
 * The node's block source for reads: local store first, then the peers that hold the block.
 *
 * - Local first — except that after 4 local misses without a hit, an operation stops looking in
 *   the local store (a file that is not here is usually not here at all).
 * - A fetcher lives for one operation (a get or a stat). It remembers which peers turned out to
 *   hold the file's blocks and asks them directly for the next blocks, picking the holder with
 *   the fewest requests in flight, so concurrent block reads spread over several holders.
 * - When no known holder has a block, it asks every connected peer `HAS` and tries those that
 *   answer yes.
 * - A block that fails verification (the peer layer rejects it with `PEER_CORRUPT_DATA`) is
 *   discarded, the holder is reported through `onBadBlock`, and the block is
 *   fetched from another holder.
 * - A holder that answers ERROR CORRUPT found its own copy rotten (it quarantined it and sent
 *   nothing): it is reported through `onCorruptHolder`, stays a holder for the other blocks,
 *   and the block is fetched from another holder.
 * - `prefer` lists node ids asked first for every block, ahead of the least busy holder (tests
 *   use it to make a read meet a chosen holder's copy).
 * - Caching: fetched blocks are NOT written to the local store by default — a get is a read,
 *   not a replication, and copies are placement's and repair's business. `cache: true` keeps
 *   every fetched block (verified) in the local store.
 * - Read repair: a local copy the store finds corrupt (it quarantines it) was this node's, and
 *   the verified bytes fetched from a peer for the read take its place, cache or not.
 *
 * @module
 */

import { DfsError } from "../errors.ts";
import type { ContentId } from "../id/content_id.ts";
import { PeerRemoteError } from "../peer/errors.ts";
import { CorruptBlockError } from "../store/errors.ts";
import type { BlockStore } from "../store/types.ts";
import { WireErrorCode } from "../wire/messages.ts";
import { BlockUnavailableError } from "./errors.ts";
import type { RemotePeer } from "./remote.ts";

/** Local misses (with no hit) after which a fetcher stops looking in the local store. */
const LOCAL_MISS_LIMIT = 4;

/** Options for {@linkcode BlockFetcher}. */
export interface BlockFetcherOptions {
  /** The local store, read first. */
  readonly store: BlockStore;
  /** The connected peers, at the moment of the call. */
  readonly peers: () => readonly RemotePeer[];
  /** Time allowed for one remote request (HAS or one block), in ms. */
  readonly timeoutMs: number;
  /** Keep fetched blocks in the local store (default false). */
  readonly cache?: boolean;
  /** Called when a peer delivered bytes that did not match the block id. */
  readonly onBadBlock?: (nodeId: string, blockId: string, error: unknown) => void;
  /** Called when a holder answered that its own copy is corrupt (ERROR CORRUPT; nothing sent). */
  readonly onCorruptHolder?: (nodeId: string, blockId: string) => void;
  /** Node ids (hex) asked first for every block, in this order (default none). */
  readonly prefer?: readonly string[];
  /** Called with the number of bytes of each block fetched from a peer. */
  readonly onRemoteBytes?: (nodeId: string, bytes: number) => void;
}

/** Options of {@linkcode BlockFetcher.getBlock}. */
export interface GetBlockOptions {
  /** Cancels the fetch. */
  readonly signal?: AbortSignal;
}

/**
 * A verified block source over the local store and the network (see the module doc).
 *
 * @example Read a file from wherever its blocks are
 * ```ts ignore
 * const source = new BlockFetcher({ store, peers: () => node.connectedPeers(), timeoutMs: 10_000 });
 * const { stream } = await readFile(fileId, source);
 * ```
 */
export class BlockFetcher {
  #opts: BlockFetcherOptions;
  #holders = new Map<string, RemotePeer>();
  #inflight = new Map<string, number>();
  #localHits = 0;
  /** Blocks whose local copy the store found corrupt in this operation (put back once fetched). */
  #rotten = new Set<string>();
  #localMisses = 0;

  /** Creates a fetcher for one operation. */
  constructor(options: BlockFetcherOptions) {
    this.#opts = options;
  }

  /** Fetches a verified block: local store, else known holders, else whoever answers `HAS`. */
  async getBlock(id: ContentId, options: GetBlockOptions = {}): Promise<Uint8Array> {
    const local = await this.#local(id, options.signal);
    if (local) return local;
    return await this.#remote(id, options.signal);
  }

  async #local(id: ContentId, signal?: AbortSignal): Promise<Uint8Array | null> {
    // A file that is not here is usually not here at all: after a run of misses without a
    // single hit, stop asking the disk (each miss costs a failed open) for this operation.
    if (this.#localHits === 0 && this.#localMisses >= LOCAL_MISS_LIMIT) return null;
    try {
      const bytes = await this.#opts.store.readBytes(id, { signal });
      this.#localHits++;
      return bytes;
    } catch (err) {
      if (signal?.aborted) throw err;
      // Missing (raced with a delete) or corrupt (the store took it out of service): go remote.
      // A corrupt copy was this node's: the verified bytes fetched for the read replace it.
      if (err instanceof CorruptBlockError) this.#rotten.add(id.toString());
      this.#localMisses++;
      return null;
    }
  }

  async #remote(id: ContentId, signal?: AbortSignal): Promise<Uint8Array> {
    const tried = new Set<string>();
    /** Holders that had no connection slot for us: asked again once the others failed. */
    const busy = new Set<string>();
    let retriedBusy = false;
    let asked = false;
    let lastError: unknown;
    while (true) {
      signal?.throwIfAborted();
      const connected = new Map(this.#opts.peers().map((p) => [p.nodeId, p]));
      // Known holders that are still connected, least busy first.
      let candidates = [...this.#holders.values()]
        .filter((p) => connected.has(p.nodeId) && !tried.has(p.nodeId));
      if (candidates.length === 0 && busy.size > 0 && !retriedBusy) {
        retriedBusy = true;
        for (const k of busy) tried.delete(k);
        busy.clear();
        continue;
      }
      if (candidates.length === 0) {
        if (asked) break;
        asked = true;
        const fresh = [...connected.values()].filter((p) => !tried.has(p.nodeId));
        candidates = await this.#whoHas(id, fresh, signal);
        for (const p of candidates) this.#holders.set(p.nodeId, p);
        if (candidates.length === 0) break;
      }
      candidates.sort((a, b) => this.#rank(a) - this.#rank(b) || this.#load(a) - this.#load(b));
      const peer = candidates[0];
      tried.add(peer.nodeId);
      try {
        const bytes = await this.#fetchFrom(peer, id, signal);
        const repair = this.#rotten.size > 0 && this.#rotten.delete(id.toString());
        if (repair || this.#opts.cache) await this.#keep(id, bytes);
        return bytes;
      } catch (err) {
        if (signal?.aborted) throw err;
        lastError = err;
        if (isCorrupt(err)) this.#opts.onBadBlock?.(peer.nodeId, id.toString(), err);
        else if (isCorruptCopy(err)) this.#opts.onCorruptHolder?.(peer.nodeId, id.toString());
        else if (isBusy(err)) busy.add(peer.nodeId);
        else if (!isNotFound(err)) this.#holders.delete(peer.nodeId);
      }
    }
    throw new BlockUnavailableError(
      id.toString(),
      `block ${id} is not available from any reachable peer (${tried.size} tried)`,
      { cause: lastError },
    );
  }

  async #fetchFrom(peer: RemotePeer, id: ContentId, signal?: AbortSignal): Promise<Uint8Array> {
    this.#inflight.set(peer.nodeId, this.#load(peer) + 1);
    try {
      // The connection times the request out itself: no timeout signal and no combined
      // signal per block (two allocations, a timer and a dependent signal on the read's).
      const bytes = await peer.getBlock(id, { signal, timeoutMs: this.#opts.timeoutMs });
      this.#opts.onRemoteBytes?.(peer.nodeId, bytes.length);
      return bytes;
    } finally {
      this.#inflight.set(peer.nodeId, this.#load(peer) - 1);
    }
  }

  async #whoHas(
    id: ContentId,
    peers: readonly RemotePeer[],
    signal?: AbortSignal,
  ): Promise<RemotePeer[]> {
    const busy: RemotePeer[] = [];
    // In order (providers first, then the nodes closest to the file, then connected peers), a
    // batch at a time: the first batch with a holder ends it, so a read dials a few peers, not
    // every candidate at once.
    const batch = WHO_HAS_BATCH;
    let found: RemotePeer[] = [];
    for (let i = 0; i < peers.length && found.length === 0; i += batch) {
      found = await this.#askBatch(id, peers.slice(i, i + batch), busy, signal);
    }
    // Peers that had no connection slot are alive: when nobody else has the block, ask them
    // once more (their slots free up as the other requests finish).
    if (found.length === 0 && busy.length > 0) {
      found = await this.#askBatch(id, busy, [], signal);
    }
    return found;
  }

  /**
   * Asks `list` HAS at once. Resolves with the holders known as soon as one of them answered
   * yes and no peer still asked ranks before it in `prefer`, or once every peer answered: a
   * peer that is slow to answer, or whose connection waits for a slot, does not hold up a read
   * that found a holder. The questions still under way go on (bounded by their timeout, ended
   * by `signal`), and each later yes still joins the known holders, over which the next blocks
   * spread. Peers that had no connection slot for us go into `busy`.
   */
  #askBatch(
    id: ContentId,
    list: readonly RemotePeer[],
    busy: RemotePeer[],
    signal?: AbortSignal,
  ): Promise<RemotePeer[]> {
    if (list.length === 0) return Promise.resolve([]);
    const found: RemotePeer[] = [];
    const waiting = new Set(list);
    return new Promise<RemotePeer[]>((resolve, reject) => {
      let settled = false;
      const answered = (p: RemotePeer) => {
        waiting.delete(p);
        if (settled) return;
        if (waiting.size > 0) {
          if (found.length === 0) return;
          const best = Math.min(...found.map((f) => this.#rank(f)));
          for (const w of waiting) if (this.#rank(w) < best) return;
        }
        settled = true;
        resolve([...found]);
      };
      for (const p of list) {
        const question = Promise.resolve().then(() =>
          p.has([id], { signal, timeoutMs: this.#opts.timeoutMs })
        );
        question.then(([present]) => {
          if (present) {
            found.push(p);
            this.#holders.set(p.nodeId, p);
          }
          answered(p);
        }, (err) => {
          if (signal?.aborted) {
            settled = true;
            return reject(err);
          }
          if (!settled && isBusy(err)) busy.push(p);
          answered(p);
        });
      }
    });
  }

  async #keep(id: ContentId, bytes: Uint8Array): Promise<void> {
    try {
      await this.#opts.store.write(id, bytes, { hashed: id }); // verified on arrival
    } catch {
      // A cache write that fails (disk full, race) must not fail the read.
    }
  }

  #load(peer: RemotePeer): number {
    return this.#inflight.get(peer.nodeId) ?? 0;
  }

  #rank(peer: RemotePeer): number {
    const i = this.#opts.prefer?.indexOf(peer.nodeId) ?? -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  }
}

/** Peers asked `HAS` at once when no holder of a block is known yet. */
const WHO_HAS_BATCH = 8;

/**
 * True for a peer that is alive but could not serve now: no connection slot for us (or we for
 * it), or its connection kept closing under the request (closed to make room, on either side).
 */
export function isBusy(err: unknown): boolean {
  return err instanceof DfsError &&
    (err.code === "DHT_PEER_BUSY" || err.code === "PEER_LIMIT" || err.code === "PEER_CLOSED");
}

/** True for errors that mean "the bytes did not match their id". */
export function isCorrupt(err: unknown): boolean {
  return err instanceof DfsError &&
    (err.code === "PEER_CORRUPT_DATA" || err.code === "CORRUPT_BLOCK");
}

/** True for a holder's answer that its own copy of the block is corrupt (ERROR CORRUPT). */
export function isCorruptCopy(err: unknown): boolean {
  return err instanceof PeerRemoteError && err.wireCode === WireErrorCode.CORRUPT;
}

/** True for errors that mean "not here". */
export function isNotFound(err: unknown): boolean {
  return err instanceof DfsError && err.code === "NOT_FOUND";
}
