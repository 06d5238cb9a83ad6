/**
 * Verified entry reads into a pooled buffer: the bytes come with a `release()` that gives the
 * buffer back to its {@linkcode ReadBufferPool} once the holder is done with them.
 *
 * @module
 */

import type { ReadBufferPool } from "./read_buffer_pool.ts";
import type { BlockStore, ReadOptions, StoreKey } from "./types.ts";

/** Bytes lent by {@linkcode leaseRead}, valid until {@linkcode ReadLease.release}. */
export interface ReadLease {
  /** The entry's verified bytes: possibly a view of a pooled buffer. */
  readonly bytes: Uint8Array;
  /**
   * Ends the lease. Call it exactly once, when nothing references `bytes` any more (later calls
   * are ignored); afterwards the bytes may be overwritten by another read. Pass `reuse` false
   * when something might still reference them: the buffer is then dropped, not reused.
   */
  release(reuse?: boolean): void;
}

/**
 * Reads an entry, verified (unless `options.verify` is false), into a buffer from `pool` (or, when the pool has none free or the
 * entry does not fit, into a fresh array as {@linkcode BlockStore.readBytes} does). Rejects with
 * what `readBytes` rejects with; the pool's buffer is then already back in the pool.
 *
 * @example
 * ```ts
 * import { entryFileSize, FsBlockStore } from "./block_store.ts";
 * import { ReadBufferPool } from "./read_buffer_pool.ts";
 * import { leaseRead } from "./read_lease.ts";
 * import { MemoryFileSystem } from "../runtime/memory/fs.ts";
 * const store = await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/s" });
 * const pool = new ReadBufferPool({ bufferSize: entryFileSize(4096), maxBuffers: 2 });
 * const id = await store.put(new Uint8Array(4096).fill(1));
 * const lease = await leaseRead(store, id, pool);
 * console.log(lease.bytes.length); // 4096
 * lease.release(); // the buffer serves the next read
 * ```
 */
export async function leaseRead(
  store: BlockStore,
  key: StoreKey,
  pool: ReadBufferPool,
  options?: ReadOptions,
): Promise<ReadLease> {
  const buffer = pool.acquire();
  if (buffer === undefined) {
    const bytes = await store.readBytes(key, { signal: options?.signal, verify: options?.verify });
    return { bytes, release: () => {} };
  }
  let bytes: Uint8Array;
  try {
    bytes = await store.readBytes(key, {
      signal: options?.signal,
      into: buffer,
      verify: options?.verify,
    });
  } catch (err) {
    pool.release(buffer); // the read settled: nothing holds the buffer
    throw err;
  }
  const pooled = bytes.buffer === buffer.buffer;
  let released = false;
  return {
    bytes,
    release: (reuse = true) => {
      // Once only: a late second call must not take the buffer back from its next holder.
      if (released) return;
      released = true;
      pool.release(buffer, reuse || !pooled);
    },
  };
}
