/**
 * How one node reaches the rest of the cluster: its connected peers, discovery through the DHT,
 * verified block fetching (counting the peers that sent bad blocks or hold corrupt copies), the
 * context for placing a file on other nodes, announcing a file in the DHT, and asking holders
 * to delete a file.
 *
 * @module
 */

import { errorFields } from "../util/log.ts";
import { keyOfContentId } from "../dht/key.ts";
import { NotFoundError } from "../errors.ts";
import type { ContentId } from "../id/content_id.ts";
import type { BlockStore } from "../store/types.ts";
import { type Discovery, holderCandidates, mergePeers, readCandidates } from "./discovery.ts";
import type { PlacementContext } from "./durability/put_placement.ts";
import { BlockUnavailableError } from "./errors.ts";
import { BadBlockReports, recheckCopy } from "./bad_block_reports.ts";
import { BlockFetcher } from "./fetcher.ts";
import type { ResolvedNodeOptions } from "./options.ts";
import type { PeerLayer } from "./peer_layer.ts";
import type { RemotePeer } from "./remote.ts";

/** What {@linkcode ClusterAccess} needs of the node. */
export interface ClusterAccessInit {
  /** This node's id, hex. */
  readonly selfId: string;
  /** The local store (read first by fetchers; the source of pushed blocks). */
  readonly store: BlockStore;
  /** The node's options (timeouts, concurrency, fetch caching, preferred peers, log). */
  readonly opts: ResolvedNodeOptions;
  /**
   * The rate of checks of local copies that peers said were bad (shared with the serving side;
   * default: its own {@linkcode BadBlockReports}).
   */
  readonly reports?: BadBlockReports;
  /**
   * Called with a block whose local copy a check found rotten (a pushed block refused as
   * corrupt, then verified here): the node restores it from another holder.
   */
  readonly onRottenCopy?: (id: ContentId) => void;
  /** The peer layer, once started. */
  peers(): PeerLayer | undefined;
}

/** Providers a repair check's lookup asks for: more than any file has, so it runs to its end. */
const CHECK_PROVIDER_COUNT = 256;

/**
 * A node's way to the other nodes (see the module doc).
 *
 * @example
 * ```ts ignore
 * const cluster = new ClusterAccess({ selfId, store, opts, peers: () => layer });
 * const file = await readFile(id, cluster.fetcher(await cluster.providers(id)));
 * ```
 */
export class ClusterAccess {
  readonly #selfId: string;
  readonly #store: BlockStore;
  readonly #opts: ResolvedNodeOptions;
  readonly #peers: () => PeerLayer | undefined;
  readonly #reports: BadBlockReports;
  readonly #onRottenCopy: ((id: ContentId) => void) | undefined;
  readonly #badBlocks = new Map<string, number>();
  readonly #corruptHolders = new Map<string, number>();
  readonly #fetched = { blocks: 0, bytes: 0 };

  /** Reaches the cluster through `init.peers()`; no counts yet. */
  constructor(init: ClusterAccessInit) {
    this.#selfId = init.selfId;
    this.#store = init.store;
    this.#opts = init.opts;
    this.#peers = init.peers;
    this.#reports = init.reports ?? new BadBlockReports();
    this.#onRottenCopy = init.onRottenCopy;
  }

  /** Per peer (node id, hex), how many blocks it sent that failed verification. */
  get badBlocks(): ReadonlyMap<string, number> {
    return this.#badBlocks;
  }

  /** Per peer (node id, hex), how many times it answered that its own copy is corrupt. */
  get corruptHolders(): ReadonlyMap<string, number> {
    return this.#corruptHolders;
  }

  /** Blocks fetched from peers (each verified against its id) and their bytes, since start. */
  get fetched(): { readonly blocks: number; readonly bytes: number } {
    return { ...this.#fetched };
  }

  /** The connected peers (none before the peer layer started). */
  remotes(): RemotePeer[] {
    return this.#peers()?.remotes() ?? [];
  }

  /** What discovery (`discovery.ts`) needs of this node. */
  discovery(): Discovery {
    const peers = this.#peers();
    return {
      dht: peers?.dht,
      connect: peers?.connect,
      selfId: this.#selfId,
      log: this.#opts.log,
    };
  }

  /** What placing a file on other nodes needs of this node. */
  placement(): PlacementContext {
    return {
      discovery: this.discovery(),
      remotes: this.remotes(),
      readBlock: (b, s) => this.#store.readBytes(b, { signal: s }),
      // Pushes go out unhashed to targets that verify them on arrival (one hash pass per
      // pushed block, the receiver's); a refused block has its copy here checked.
      readUnverified: async (b, s) => ({
        bytes: await this.#store.readBytes(b.id, { signal: s, verify: false }),
        verified: false,
      }),
      recheck: (id, from) => recheckCopy(this.#store, this.#reports, id, from, this.#onRottenCopy),
      manifests: { getBlock: (id, o) => this.#store.readBytes(id, { signal: o?.signal }) },
      concurrency: this.#opts.concurrency,
      timeoutMs: this.#opts.timeouts.requestMs,
      log: this.#opts.log,
    };
  }

  /**
   * A verified block source for one operation: the local store, then `extra` and the connected
   * peers. Bad blocks and corrupt holders it meets are counted and logged.
   */
  fetcher(extra: readonly RemotePeer[] = []): BlockFetcher {
    return new BlockFetcher({
      store: this.#store,
      peers: () => mergePeers(extra, this.remotes()),
      timeoutMs: this.#opts.timeouts.requestMs,
      cache: this.#opts.cacheFetched,
      onBadBlock: (peer, block, error) => {
        this.#badBlocks.set(peer, (this.#badBlocks.get(peer) ?? 0) + 1);
        this.#opts.log("warn", "peer sent a corrupt block", {
          peer,
          block,
          ...errorFields(error),
        });
      },
      onCorruptHolder: (peer, block) => {
        this.#corruptHolders.set(peer, (this.#corruptHolders.get(peer) ?? 0) + 1);
        this.#opts.log("warn", "holder's copy is corrupt (it quarantined it)", {
          peer,
          block,
          code: "CORRUPT_BLOCK",
        });
      },
      prefer: this.#opts.preferPeers,
      onRemoteBytes: (_peer, bytes) => {
        this.#fetched.blocks++;
        this.#fetched.bytes += bytes;
      },
    });
  }

  /** Peers to read file `id` from besides the connected ones (none when its root is here). */
  async providers(id: ContentId, signal?: AbortSignal): Promise<RemotePeer[]> {
    if (await this.#store.has(id)) return [];
    return await readCandidates(this.discovery(), id, signal);
  }

  /**
   * Peers that may hold file `id`, for a repair check: its providers and the nodes closest to it
   * from a provider lookup that runs to its end (one that stops at k records, as a read's does,
   * can miss live holders when dead ones left records for 48 h), and the connected peers.
   */
  async candidates(id: ContentId, signal?: AbortSignal): Promise<RemotePeer[]> {
    const found = await readCandidates(this.discovery(), id, signal, CHECK_PROVIDER_COUNT);
    return mergePeers(found, this.remotes());
  }

  /** Candidate holders of file `id`: the nodes closest to it a DHT lookup finds, the connected. */
  holders(id: ContentId): Promise<RemotePeer[]> {
    return holderCandidates(this.discovery(), id, this.remotes());
  }

  /**
   * Rethrows `err`, except that a root block nobody delivers means the file is on no reachable
   * node: say so about the file (a `NotFoundError`), not about "block <id>".
   */
  rootMissing(err: unknown, id: ContentId): never {
    if (err instanceof BlockUnavailableError && err.blockId === id.toString()) {
      const n = this.remotes().length;
      throw new NotFoundError(
        `no reachable node has file ${id} (${n} peer${n === 1 ? "" : "s"} connected)`,
        { cause: err },
      );
    }
    throw err;
  }

  /** Announces this node as a provider of file `id` in the DHT (failures are logged). */
  async announce(id: ContentId, signal?: AbortSignal): Promise<void> {
    const dht = this.#peers()?.dht;
    if (!dht) return;
    try {
      const r = await dht.provide(keyOfContentId(id), { signal });
      this.#opts.log("debug", "announced", { id: id.toString(), stored: r.stored });
    } catch (err) {
      this.#opts.log("warn", "could not announce a file in the DHT", {
        id: id.toString(),
        error: String(err),
      });
    }
  }

  /**
   * The peers among `providers` and the connected peers that hold the root of file `id` (asked
   * with HAS; a peer that does not answer is left out).
   */
  async rootHolders(id: ContentId, providers: readonly RemotePeer[]): Promise<RemotePeer[]> {
    const timeoutMs = this.#opts.timeouts.requestMs;
    const peers = mergePeers(providers, this.remotes());
    const holds = await Promise.all(peers.map(async (peer) => {
      try {
        return (await peer.has([id], { timeoutMs }))[0] === true;
      } catch (err) {
        this.#opts.log("debug", "holder check failed", { peer: peer.nodeId, error: String(err) });
        return false;
      }
    }));
    return peers.filter((_, i) => holds[i]);
  }
}
