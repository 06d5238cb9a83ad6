/**
 * The contract between a peer connection and the layer above that owns the blocks.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";

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
 * (`NOT_FOUND` -> NOT_FOUND, `CORRUPT_BLOCK` -> CORRUPT, otherwise INTERNAL).
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
  lease?(id: ContentId): Promise<BlockLease | null>;
  /**
   * Stores a block whose bytes were verified against `id` (a store-backed service can pass `id`
   * as the store's `hashed` and skip hashing them again).
   */
  put(id: ContentId, bytes: Uint8Array): Promise<void>;
  /** Deletes a block; `true` when it existed. */
  delete(id: ContentId): Promise<boolean>;
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
}
