/**
 * The local content-addressed block store: atomic, crash-safe writes and verified reads over
 * a runtime file system.
 *
 * @module
 */

export type * from "./types.ts";
export {
  DEFAULT_MAX_ENTRY_SIZE,
  type Durability,
  entryFileSize,
  FsBlockStore,
  READ_CHUNK_SIZE,
  type StoreOptions,
} from "./block_store.ts";
export {
  CorruptBlockError,
  EntryTooLargeError,
  InvalidKeyError,
  StoreClosedError,
  StoreFullError,
} from "./errors.ts";
export {
  casPathTransform,
  defaultPathTransform,
  type PathTransform,
  validatePathSegments,
} from "./path_transform.ts";
export { ReadBufferPool, type ReadBufferPoolOptions } from "./read_buffer_pool.ts";
export { leaseRead, type ReadLease } from "./read_lease.ts";
export { MAX_KEY_BYTES, type NormalizedKey, normalizeKey } from "./key.ts";
export {
  BadHeaderError,
  decodeHeader,
  encodeHeader,
  type EntryHeader,
  headerLength,
  MAX_HEADER_BYTES,
} from "./entry_header.ts";
