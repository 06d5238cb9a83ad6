/**
 * The node's side of the peer protocol: the {@linkcode BlockService} that answers other nodes'
 * block requests (has, get, lease, recheck of a copy a peer reported bad, put, delete, file probe with the repair loop's grace ages,
 * tombstone) from the local store, writing and deleting through the node's
 * {@linkcode LocalBlocks} guard.
 *
 * @module
 */

import type { Dht } from "../dht/dht.ts";
import { keyOfContentId } from "../dht/key.ts";
import type { BlockService } from "../peer/block_service.ts";
import { entryFileSize } from "../store/block_store.ts";
import { ReadBufferPool } from "../store/read_buffer_pool.ts";
import { leaseRead } from "../store/read_lease.ts";
import type { BlockStore } from "../store/types.ts";
import { toWireAges } from "./durability/grace_ages.ts";
import { toWireTombstone } from "./durability/tombstone.ts";
import type { TombstoneStore } from "./durability/tombstone_store.ts";
import type { Upkeep } from "./durability/upkeep.ts";
import { answerPeerDelete } from "./durability/peer_delete.ts";
import { FileDeletedError, NodeClosedError } from "./errors.ts";
import { isNotFound } from "./fetcher.ts";
import { BadBlockReports, recheckCopy } from "./bad_block_reports.ts";
import type { FileIndex } from "./file_index.ts";
import type { LocalBlocks } from "./local_blocks.ts";
import type { PeerStoreQuota } from "./peer_store_quota.ts";

/** What serving peers' block requests needs of the node. */
export interface ServeBlocksHost {
  /** The local store (reads are served from it directly). */
  readonly store: BlockStore;
  /** The local block lifecycle guard (pushes and deletes go through it). */
  readonly blocks: LocalBlocks;
  /** The local file index (notes pushed blocks; a file completes here when its root arrives). */
  readonly index: FileIndex;
  /** The tombstones kept here (answered with a file probe). */
  readonly tombstones: TombstoneStore;
  /** This node's block size (sizes the reused read buffers). */
  readonly blockSize: number;
  /** The node's DHT, if it runs one (a file complete here is held out as a provider). */
  dht(): Dht | undefined;
  /** The node's upkeep loops (they judge tombstones); undefined until they are wired. */
  upkeep(): Upkeep | undefined;
  /** The bound on bytes accepted per peer, if the node has one. */
  readonly quota?: PeerStoreQuota;
  /** The rate of BAD_BLOCK checks (default: a {@linkcode BadBlockReports} with its defaults). */
  readonly reports?: BadBlockReports;
}

/**
 * Serves peers' block requests from the local store.
 *
 * @example
 * ```ts ignore
 * const layer = await startPeerLayer({ ...init, blocks: serveBlocks(host) });
 * ```
 */
export function serveBlocks(host: ServeBlocksHost): BlockService {
  const { store, blocks, index } = host;
  // Blocks served to peers are read into a few reused buffers (sized for this node's blocks;
  // a larger block, or one served while all are lent, is read into its own array): no fresh
  // 256 KiB per served block. 8 covers a fetching peer's default concurrency.
  const pool = new ReadBufferPool({
    bufferSize: entryFileSize(host.blockSize),
    maxBuffers: 8,
  });
  const reports = host.reports ?? new BadBlockReports();
  return {
    has: (ids) => Promise.all(ids.map((id) => store.has(id))),
    get: async (id) => {
      try {
        return await store.readBytes(id);
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    lease: async (id, options) => {
      try {
        return await leaseRead(store, id, pool, options);
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    // A peer said our bytes for `id` were bad: verify the copy (a rotten one is quarantined by
    // the read, then restored from another holder), never drop it on the peer's word; at a
    // bounded rate.
    recheck: (id, from) =>
      recheckCopy(store, reports, id, from, (rotten) => host.upkeep()?.restoreSoon(rotten)),
    put: async (id, bytes, from) => {
      const undo = host.quota && from !== undefined && !(await store.has(id))
        ? host.quota.reserve(from, bytes.length) // new here: counts against the peer's quota
        : undefined;
      await blocks.receive(id, bytes).catch((err) => {
        undo?.();
        throw err;
      });
      if (await index.noteReceived(id, bytes)) {
        // A repair push that crossed a delete: the tombstone held here wins.
        if (await host.upkeep()?.applyHeldTombstone(id)) {
          blocks.indexChanged();
          throw new FileDeletedError(`file ${id} was deleted; its copy was not kept`);
        }
        blocks.indexChanged();
        // A file is complete here (its root arrived last): hold it out as a provider.
        if (index.has(id.toString())) host.dht()?.provideSoon(keyOfContentId(id));
      }
    },
    delete: async (id) => {
      const upkeep = host.upkeep();
      if (!upkeep) throw new NodeClosedError();
      return await answerPeerDelete({
        isIndexedFile: (f) => index.has(f.toString()),
        checkNow: (f) => upkeep.checkNow(f),
        dropLocalCopy: (f) => blocks.dropLocalCopy(f),
      }, id);
    },
    probe: async (fileId, ids) => {
      const t = host.tombstones.get(fileId);
      const has = await Promise.all(ids.map((id) => store.has(id)));
      // What this node's repair loop has timed of the file's losses (see grace_ages.ts).
      const missing = host.upkeep()?.repairer.missingAges(fileId.toString());
      const ages = missing?.size ? toWireAges(missing) : undefined;
      return { has, ...(t && { tombstone: toWireTombstone(t) }), ...(ages && { ages }) };
    },
    tombstone: async (t) => {
      const upkeep = host.upkeep();
      if (!upkeep) throw new NodeClosedError();
      if (await upkeep.acceptTombstone(t)) blocks.indexChanged();
    },
  };
}
