/**
 * The block store contract. `src/store/block_store.ts` implements it over a
 * {@linkcode import("../runtime/types.ts").FileSystem}; layers above depend only on this type.
 *
 * Keys: a {@linkcode ContentId} (or a string that parses as one) names content-addressed data,
 * whose bytes are verified against the id on write and on every read. Any other string is an
 * arbitrary key (the original design's `Store.Write(key, r)`); its entry records the hash of
 * its bytes at write time, and reads verify against that.
 *
 * @module
 */

import type { ContentId, HashAlgorithm } from "../id/content_id.ts";

/** A key: a content id, or an arbitrary string. */
export type StoreKey = ContentId | string;

/** Bytes to store: whole, or streamed (bounded by the store's `maxEntrySize`). */
export type StoreInput = Uint8Array | ReadableStream<Uint8Array>;

/** What the store knows of one entry. */
export interface EntryInfo {
  /** The key as given at write time (a content id's text form for content-addressed data). */
  readonly key: string;
  /** The content id of the entry's bytes. */
  readonly id: ContentId;
  /** Size of the entry's bytes. */
  readonly size: number;
  /**
   * From a write asked with `reportCreated`: `true` when the write created the entry, `false`
   * when it replaced one. Absent otherwise.
   */
  readonly created?: boolean;
}

/** Counts over the whole store. */
export interface StoreStats {
  /** Number of entries. */
  readonly count: number;
  /** Sum of entry sizes in bytes. */
  readonly bytes: number;
}

/** Options for writes. */
export interface WriteOptions {
  /** Hash for content ids of keyed entries and for {@linkcode BlockStore.put} (default SHA-256). */
  readonly algorithm?: HashAlgorithm;
  /** Cancels the write; nothing becomes visible. */
  readonly signal?: AbortSignal;
  /**
   * The content id of exactly these bytes, already computed in this process (the file layer
   * hashes every block as it chunks it). The store then does not hash them a second time. It is
   * a promise, not a proof: a wrong id is caught by the verification every read does, which
   * quarantines the entry. Ignored when it names another algorithm than the write uses.
   */
  readonly hashed?: ContentId;
  /**
   * Say in the result (`EntryInfo.created`) whether this write created the entry. Free when the
   * store keeps counts (it looks at the entry anyway), one `stat` otherwise.
   */
  readonly reportCreated?: boolean;
}

/** Options of {@linkcode BlockStore.list}. */
export interface ListOptions {
  /**
   * Only entries written under a key that is not a content id (`write("file:…", …)`), not the
   * content-addressed blocks (default false).
   */
  readonly keyed?: boolean;
}

/** Options for reads. */
export interface ReadOptions {
  /** Cancels the read. */
  readonly signal?: AbortSignal;
  /**
   * A buffer for {@linkcode BlockStore.readBytes} to load the entry into instead of allocating
   * one, for a caller that reads many entries in turn and reuses it. When the entry file (header
   * and bytes) fits, the result is a view of `into` (`result.buffer === into.buffer`), valid
   * until the caller reuses `into`; otherwise the entry is read into a fresh array as without
   * this option. The caller must not touch `into` until the read settles, and owns it again
   * afterwards, also after a rejection. {@linkcode BlockStore.read} ignores it.
   */
  readonly into?: Uint8Array;
  /**
   * Hash the bytes and compare them with the entry's id (default true). False skips that hash
   * (the header, key and size are still checked): only for bytes that go, whole, to a peer that
   * verifies them on arrival and reports a mismatch (the BAD_BLOCK protocol), never for bytes
   * delivered to a user or stored. {@linkcode BlockStore.read} ignores it.
   */
  readonly verify?: boolean;
}

/**
 * A local content-addressed block store with atomic, crash-safe writes and verified reads.
 */
export interface BlockStore {
  /** Stores content-addressed bytes and returns their id. */
  put(data: StoreInput, options?: WriteOptions): Promise<ContentId>;
  /**
   * Stores bytes under `key`. For a content-id key the bytes must hash to it, or the write
   * fails with a `CorruptBlockError` and stores nothing. Returns the content id of the bytes.
   */
  write(key: StoreKey, data: StoreInput, options?: WriteOptions): Promise<EntryInfo>;
  /**
   * Reads an entry, verified. Rejects with `NotFoundError` when absent and `CorruptBlockError`
   * when the bytes on disk do not match (the bad entry is then removed from service).
   */
  read(key: StoreKey, options?: ReadOptions): Promise<ReadableStream<Uint8Array>>;
  /**
   * Reads an entry, verified, as one byte array (a view of `options.into` when given and the
   * entry fits in it). Same errors as {@linkcode BlockStore.read}.
   */
  readBytes(key: StoreKey, options?: ReadOptions): Promise<Uint8Array>;
  /** True when an entry exists (not verified). */
  has(key: StoreKey): Promise<boolean>;
  /** Describes an entry, or `null` when absent. */
  info(key: StoreKey): Promise<EntryInfo | null>;
  /** Removes an entry; resolves `true` when it existed. */
  delete(key: StoreKey): Promise<boolean>;
  /** Removes every entry. */
  clear(): Promise<void>;
  /**
   * Iterates over the entries, in no particular order: all of them, or with `{ keyed: true }`
   * only those written under a key that is not a content id, which a store may find without
   * visiting its content-addressed blocks.
   */
  list(options?: ListOptions): AsyncIterable<EntryInfo>;
  /** Counts entries and bytes. */
  stats(): Promise<StoreStats>;
  /**
   * Counts the entries taken out of service because they failed verification (quarantined,
   * kept for inspection). Optional: a store without a quarantine leaves it out.
   */
  quarantined?(): Promise<number>;
  /** Waits for in-flight writes and releases resources. Idempotent. */
  close(): Promise<void>;
}
