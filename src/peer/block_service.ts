/**
 * The contract between a peer connection and the layer above that owns the blocks.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import type { WireMissingAge, WireTombstone } from "../wire/messages.ts";

/**
 * HELLO capability of a node that serves FILE_PROBE or TOMBSTONE (its service has
 * {@linkcode BlockService.probe} or {@linkcode BlockService.tombstone}). The peer manager
 * announces it by itself; a connection sends these requests only to peers that announced it.
 */
export const FILES_CAPABILITY = "files/1";

/**
 * HELLO capability of a node that understands FILE_STATE's flag AGES (announced with
 * {@linkcode FILES_CAPABILITY} when its service has {@linkcode BlockService.probe}): a
 * connection answers a probe with ages only to a peer that announced it.
 */
export const FILES_AGES_CAPABILITY = "files/2";

/**
 * HELLO capability of a node that understands revivals (flag REVIVAL of TOMBSTONE and
 * FILE_STATE; announced with {@linkcode FILES_CAPABILITY} when its service has
 * {@linkcode BlockService.tombstone}): a connection sends a revival only to a peer that
 * announced it.
 */
export const FILES_REVIVAL_CAPABILITY = "files/3";

/**
 * HELLO capability of a node that verifies every whole block it gets on arrival, reports a
 * mismatch to the sender with BAD_BLOCK, and answers BAD_BLOCK itself (its service has
 * {@linkcode BlockService.recheck}). A holder serves such a peer's whole-block GET_BLOCK
 * without hashing the bytes first (the one hash pass is the receiver's); it verifies for every
 * other peer, and for ranged reads. Such a node also verifies every pushed block (PUT_BLOCK)
 * before storing it and refuses a mismatch with ERROR CORRUPT, so a node may push it a block
 * read without hashing it first (`unverified` in `PeerConnection.putBlock`); on that refusal
 * the pusher checks its own copy. The peer manager announces it by itself.
 */
export const BLOCKS_VERIFY_CAPABILITY = "blocks/2";

/** Options of {@linkcode BlockService.lease}. */
export interface LeaseOptions {
  /**
   * Verify the bytes against the id before lending them (default true). False only for a
   * whole block sent to a peer that verifies it on arrival and reports a mismatch
   * ({@linkcode BLOCKS_VERIFY_CAPABILITY}).
   */
  readonly verify?: boolean;
}

/**
 * What a holder says about a file: which of the asked blocks it holds, the tombstone it holds
 * for the file, if any, and the copies or columns its repair loop sees missing, with their ages
 * (the answer to FILE_PROBE).
 */
export interface FileProbeResult {
  /** One answer per asked id, in order: true when the block is held. */
  readonly has: boolean[];
  /** The tombstone held for the file (its `fileId` is the file probed), if any. */
  readonly tombstone?: WireTombstone;
  /**
   * The missing units the holder's repair loop tracks, with how long ago it first saw each
   * missing (at most 64; sent only to peers that announced {@linkcode FILES_AGES_CAPABILITY}).
   */
  readonly ages?: readonly WireMissingAge[];
}

/**
 * A block's bytes lent by {@linkcode BlockService.lease}, e.g. in a reused read buffer. The
 * holder calls {@linkcode BlockLease.release} exactly once, when nothing references the bytes
 * any more.
 */
export interface BlockLease {
  /** The block's bytes (verified by the service as `get` would be). */
  readonly bytes: Uint8Array;
  /**
   * Ends the lease; the bytes may be overwritten afterwards. Later calls are ignored. Pass
   * `reuse` false when something might still reference the bytes (a send that failed), so the
   * service drops the buffer instead of reusing it.
   */
  release(reuse?: boolean): void;
}

/**
 * What a peer connection serves incoming block requests from. The connection verifies PUT
 * bytes against their id before calling {@linkcode BlockService.put}, so `put` only ever sees
 * verified bytes. Methods may reject with any `DfsError`; the code is mapped to a wire error
 * (`NOT_FOUND` -> NOT_FOUND, `CORRUPT_BLOCK` -> CORRUPT, `INVALID_TOMBSTONE` -> BAD_REQUEST,
 * otherwise INTERNAL; a `PeerRemoteError` answers with its own `wireCode`).
 *
 * @example A service backed by a BlockStore
 * ```ts ignore
 * const service: BlockService = {
 *   has: (ids) => Promise.all(ids.map((id) => store.has(id))),
 *   get: async (id) => (await store.has(id)) ? await store.readBytes(id) : null,
 *   put: async (id, bytes) => void await store.write(id, bytes),
 *   delete: (id) => store.delete(id),
 * };
 * ```
 */
export interface BlockService {
  /** For each id, whether the block is held here. */
  has(ids: ContentId[]): Promise<boolean[]>;
  /** The block's bytes, or `null` when it is not held here. */
  get(id: ContentId): Promise<Uint8Array | null>;
  /**
   * Optional: like {@linkcode BlockService.get}, but the bytes are lent (e.g. read into a
   * reused buffer) until the returned lease is released. A connection serving a GET uses it
   * when present and releases the lease once the last DATA frame of the block was sent.
   */
  lease?(id: ContentId, options?: LeaseOptions): Promise<BlockLease | null>;
  /**
   * Optional: answers BAD_BLOCK, a peer's report that the bytes sent for `id` did not match it.
   * Verifies the local copy (never takes the peer's word): resolves `true` when the copy was bad
   * and is now out of service (quarantined) or is not held, `false` when it verifies (kept).
   * `from` is the reporting peer's node id (hex); a rejection with a `PeerRemoteError` of wire
   * code LIMIT refuses a report over the service's rate without checking anything. Without it,
   * BAD_BLOCK is answered ERROR UNSUPPORTED, the node does not announce
   * {@linkcode BLOCKS_VERIFY_CAPABILITY}, and every block it serves is verified first.
   */
  recheck?(id: ContentId, from: string): Promise<boolean>;
  /**
   * Stores a block whose bytes were verified against `id` (a store-backed service can pass `id`
   * as the store's `hashed` and skip hashing them again). `from` is the node id (hex) of the
   * peer that pushed it, for per-peer quotas; a rejection with a `PeerRemoteError` of wire code
   * LIMIT refuses the block with LIMIT.
   */
  put(id: ContentId, bytes: Uint8Array, from?: string): Promise<void>;
  /** Deletes a block; `true` when it existed. */
  delete(id: ContentId): Promise<boolean>;
  /**
   * Optional: serves FILE_PROBE, the cheap check of repair: for each of `ids` (blocks of file
   * `fileId`, at most 1024), whether it is held here, and the tombstone held for `fileId`, if
   * any. `has` must have one answer per id (else the peer gets ERROR INTERNAL). Without it,
   * FILE_PROBE is answered ERROR UNSUPPORTED.
   */
  probe?(fileId: ContentId, ids: ContentId[]): Promise<FileProbeResult>;
  /**
   * Optional: serves TOMBSTONE: keeps a tombstone a peer offers (as it came off the wire, not
   * checked: checking its times and signature is this method's job). Resolves once kept, or
   * when an equal or longer-lived one is already held (answered OK); rejects to refuse it, with
   * an error whose code is `INVALID_TOMBSTONE` (answered ERROR BAD_REQUEST, its message as the
   * text) or a `PeerRemoteError` (answered with its `wireCode`). Without it, TOMBSTONE is
   * answered ERROR UNSUPPORTED.
   */
  tombstone?(t: WireTombstone): Promise<void>;
}

/**
 * An in-memory {@linkcode BlockService}, for tests, benchmarks and the interop script.
 *
 * @example
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { MemoryBlockService } from "./block_service.ts";
 * const service = new MemoryBlockService();
 * const bytes = new TextEncoder().encode("block");
 * const id = await ContentId.of(bytes);
 * await service.put(id, bytes);
 * console.log((await service.get(id))?.length); // 5
 * ```
 */
export class MemoryBlockService implements BlockService {
  readonly #blocks = new Map<string, Uint8Array>();

  /** Number of blocks held. */
  get size(): number {
    return this.#blocks.size;
  }

  /** For each id, whether it is held. */
  has(ids: ContentId[]): Promise<boolean[]> {
    return Promise.resolve(ids.map((id) => this.#blocks.has(id.toString())));
  }

  /** The bytes, or `null`. */
  get(id: ContentId): Promise<Uint8Array | null> {
    return Promise.resolve(this.#blocks.get(id.toString()) ?? null);
  }

  /** Stores a copy of the bytes. */
  put(id: ContentId, bytes: Uint8Array): Promise<void> {
    this.#blocks.set(id.toString(), bytes.slice());
    return Promise.resolve();
  }

  /** Removes the block; `true` when it existed. */
  delete(id: ContentId): Promise<boolean> {
    return Promise.resolve(this.#blocks.delete(id.toString()));
  }

  /** For each id, whether it is held (no tombstones: this service keeps none). */
  async probe(_fileId: ContentId, ids: ContentId[]): Promise<FileProbeResult> {
    return { has: await this.has(ids) };
  }
}
