/**
 * `FsBlockStore`: the {@linkcode BlockStore} over a runtime
 * {@linkcode import("../runtime/types.ts").FileSystem}.
 *
 * ## Layout
 *
 * ```
 * <root>/data/<segments...>   entries; the segments come from the PathTransform
 * <root>/tmp/                 writes in progress (unique names); emptied on open
 * <root>/quarantine/          entries that failed verification; never served or listed
 * ```
 *
 * Each entry file is a small versioned header (magic, version, the content id of the bytes,
 * the key for keyed entries, the size, a CRC-32) followed by the bytes: see
 * {@linkcode import("./entry_header.ts")} for the exact layout.
 *
 * ## Guarantees
 *
 * - **Atomic writes.** Bytes go to a fresh file under `tmp/`, are flushed (`durability:
 *   "fsync"`, the default), then renamed over the entry's path, and the entry's directory is
 *   flushed; new shard directories are flushed into their parents once. The flushes are group
 *   commits ({@linkcode GroupCommit}): the temp files of the writes under way are fsynced in one
 *   round, and each directory that received renames is fsynced once per round; a write resolves
 *   only after its own file's flush, its rename and a directory flush that started after that
 *   rename have all completed, so concurrent writers share flushes without any write being
 *   acknowledged early or made visible before its bytes are on disk. A crash at any moment
 *   leaves either the old entry or the new one under a key, never a torn one; leftover temp
 *   files are removed by the next {@linkcode FsBlockStore.open}. With `durability: "none"` the
 *   same holds against process crashes, but not against power loss.
 * - **Verified reads.** A read loads the whole entry (since Web Crypto cannot hash
 *   incrementally), checks the header, the size and the hash, and only then hands out the
 *   bytes. On a mismatch the file is moved to `quarantine/` and the read fails with
 *   {@linkcode CorruptBlockError}.
 * - **Bounded reads.** The load is bounded: a file larger than `maxEntrySize` plus the largest
 *   header (one planted in the store directory from outside) is refused with
 *   {@linkcode EntryTooLargeError} from the size of the open file, before any of it is read,
 *   and is left in place (a store opened with a larger bound may still read it).
 * - **Concurrency.** Concurrent writers of the same key each rename a complete file; the last
 *   rename wins. Readers see the old or the new entry, never a mix. A read that has already
 *   opened an entry completes with those bytes even if the entry is deleted, replaced or the
 *   store cleared meanwhile; reads that start afterwards get `NotFoundError` (or the new
 *   entry). Caveat: if a corrupt entry is replaced by a good write between a read's load and
 *   its quarantine step, the fresh copy is quarantined too (write it again).
 * - **Bounded entries.** A write of more than `maxEntrySize` bytes fails with
 *   {@linkcode EntryTooLargeError} as soon as the bound is crossed, and stores nothing.
 * - **Cancellation.** A write aborted through its signal removes its temp file and leaves
 *   nothing visible (once the final rename has started, the write completes).
 *
 * One store instance per root at a time: opening a second one on the same root clears the
 * first one's in-progress temp files.
 *
 * @module
 */

import {
  AbortedError,
  FileTooLargeError,
  InvalidArgumentError,
  IoError,
  NotFoundError,
} from "../errors.ts";
import { ContentId, DEFAULT_HASH, type HashAlgorithm } from "../id/content_id.ts";
import type { FileInfo, FileSystem, WritableFile } from "../runtime/types.ts";
import { concatBytes } from "../util/concat.ts";
import { toHex } from "../util/hex.ts";
import { KeyedMutex } from "../util/keyed_mutex.ts";
import {
  BadHeaderError,
  decodeHeader,
  encodeHeader,
  headerLength,
  MAX_HEADER_BYTES,
} from "./entry_header.ts";
import type { EntryHeader } from "./entry_header.ts";
import {
  CorruptBlockError,
  EntryTooLargeError,
  StoreClosedError,
  StoreFullError,
} from "./errors.ts";
import { GroupCommit } from "./group_commit.ts";
import { type NormalizedKey, normalizeKey } from "./key.ts";
import { COUNTS_FILE, type EntryCounts, saveCounts, takeSavedCounts } from "./saved_counts.ts";
import {
  defaultPathTransform,
  KEYED_DIR,
  type PathTransform,
  validatePathSegments,
} from "./path_transform.ts";
import type {
  BlockStore,
  EntryInfo,
  ListOptions,
  ReadOptions,
  StoreInput,
  StoreKey,
  StoreStats,
  WriteOptions,
} from "./types.ts";

/** File in the store's root with the counts a clean close saved (see `stats()`). */

/** Default bound on an entry's size: 8 MiB. */
export const DEFAULT_MAX_ENTRY_SIZE = 8 * 1024 * 1024;

/** Size of the chunks a read stream hands out (views into one buffer, no copies). */
export const READ_CHUNK_SIZE = 256 * 1024;

/**
 * The largest entry file (header and bytes) holding an entry of `entrySize` bytes: the size of
 * a buffer that {@linkcode FsBlockStore.readBytes} can load any such entry into
 * ({@linkcode ReadOptions.into}).
 *
 * @example
 * ```ts
 * import { entryFileSize, FsBlockStore } from "./block_store.ts";
 * import { MemoryFileSystem } from "../runtime/memory/fs.ts";
 * const store = await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/s" });
 * const id = await store.put(new Uint8Array(1000));
 * const into = new Uint8Array(entryFileSize(256 * 1024));
 * const bytes = await store.readBytes(id, { into }); // a view of `into`
 * console.log(bytes.buffer === into.buffer); // true
 * ```
 */
export function entryFileSize(entrySize: number): number {
  return entrySize + MAX_HEADER_BYTES;
}

/** How writes reach the disk: `"fsync"` flushes file and directory; `"none"` leaves it to the OS. */
export type Durability = "fsync" | "none";

/** Options for {@linkcode FsBlockStore.open}. */
export interface StoreOptions {
  /** The file system to store entries in. */
  readonly fs: FileSystem;
  /** Directory of the store; created if missing. */
  readonly root: string;
  /** Where a key's entry lives (default {@linkcode defaultPathTransform}). */
  readonly pathTransform?: PathTransform;
  /** Flush writes to stable storage (default `"fsync"`). */
  readonly durability?: Durability;
  /** Largest entry in bytes (default {@linkcode DEFAULT_MAX_ENTRY_SIZE}). */
  readonly maxEntrySize?: number;
  /** Hash for keyed entries and `put` when a write does not name one (default SHA-256). */
  readonly defaultAlgorithm?: HashAlgorithm;
  /**
   * Most bytes the entries may hold together (default: no bound). A write that would go over it
   * is refused with {@linkcode StoreFullError} (rewriting an entry that exists is not). The store
   * counts its entries once when opened (in the background; the first writes wait for it).
   */
  readonly maxBytes?: number;
}

const ID_BYTES: Record<HashAlgorithm, number> = { "sha-256": 34, "sha-1": 22 };
const MAX_KNOWN_DIRS = 100_000;

/**
 * A crash-safe, verifying block store on a {@linkcode FileSystem}.
 *
 * @example Store and read back a block on the in-memory file system
 * ```ts
 * import { FsBlockStore } from "./block_store.ts";
 * import { MemoryFileSystem } from "../runtime/memory/fs.ts";
 * const store = await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/store" });
 * const id = await store.put(new TextEncoder().encode("hello"));
 * const bytes = await store.readBytes(id); // verified against id
 * await store.write("notes/today", new TextEncoder().encode("keyed entry"));
 * for await (const entry of store.list()) console.log(entry.key, entry.size);
 * await store.close();
 * ```
 */
export class FsBlockStore implements BlockStore {
  readonly #fs: FileSystem;
  readonly #dataDir: string;
  readonly #tmpDir: string;
  readonly #quarantineDir: string;
  readonly #root: string;
  readonly #transform: PathTransform;
  readonly #fsync: boolean;
  readonly #maxEntrySize: number;
  readonly #defaultAlgorithm: HashAlgorithm;
  readonly #maxBytes: number | undefined;
  /** Bytes of writes under way that passed the `maxBytes` check and are not counted yet. */
  #reserved = 0;
  /** Group commit of the temp files' fsyncs (see `group_commit.ts`). */
  readonly #fileSyncs = new GroupCommit<WritableFile>({ flush: (file) => file.sync() });
  /** Group commit of the directory fsyncs after renames: each directory once per round. */
  readonly #dirSyncs: GroupCommit<string>;
  /** Directories known to exist (and, with fsync, to be flushed into their parent). */
  readonly #dirs = new Map<string, Promise<void>>();
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #tmpCounter = 0;
  readonly #tmpPrefix: string;
  /**
   * Entries and their bytes, kept up to date by every write and delete once counted: at open for
   * a bounded store (`maxBytes`), else by the first `stats()`. Undefined until then.
   */
  #counts: EntryCounts | undefined;
  #counting: Promise<StoreStats> | undefined;
  /** Bumped by `clear()`: a count walk that saw an older store does not keep its result. */
  #epoch = 0;
  /**
   * The kept counts may be off (an operation overlapped a count walk, an entry's size had to be
   * estimated, a clear ran): they are still used, but not saved for the next open.
   */
  #inexact = false;
  /** Writes, deletes and quarantines under way (a count walk that starts while any is, is inexact). */
  #changing = 0;
  /** While counts are kept: one replace-or-remove at a time per entry path (exact counts). */
  readonly #locks = new KeyedMutex();

  private constructor(options: StoreOptions, root: string) {
    this.#fs = options.fs;
    this.#root = root;
    const base = root.endsWith("/") ? root.slice(0, -1) : root;
    this.#dataDir = `${base}/data`;
    this.#tmpDir = `${base}/tmp`;
    this.#quarantineDir = `${base}/quarantine`;
    this.#transform = options.pathTransform ?? defaultPathTransform;
    this.#fsync = (options.durability ?? "fsync") === "fsync";
    this.#maxEntrySize = options.maxEntrySize ?? DEFAULT_MAX_ENTRY_SIZE;
    this.#defaultAlgorithm = options.defaultAlgorithm ?? DEFAULT_HASH;
    this.#maxBytes = options.maxBytes;
    this.#tmpPrefix = toHex(crypto.getRandomValues(new Uint8Array(6)));
    this.#dirSyncs = new GroupCommit<string>({ flush: (dir) => this.#fs.syncDir(dir) });
  }

  /**
   * Opens (creating if needed) the store at `options.root`, and removes temp files left by
   * an earlier crash. Throws `InvalidArgumentError` on bad options.
   */
  static async open(options: StoreOptions): Promise<FsBlockStore> {
    const { root } = options;
    if (typeof root !== "string" || root.length === 0 || root.includes("\0")) {
      throw new InvalidArgumentError("store root must be a non-empty path");
    }
    const max = options.maxEntrySize ?? DEFAULT_MAX_ENTRY_SIZE;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new InvalidArgumentError(`maxEntrySize must be a non-negative integer, got ${max}`);
    }
    const durability = options.durability ?? "fsync";
    if (durability !== "fsync" && durability !== "none") {
      throw new InvalidArgumentError(
        `durability must be "fsync" or "none", got ${String(durability)}`,
      );
    }
    const alg = options.defaultAlgorithm ?? DEFAULT_HASH;
    if (!(alg in ID_BYTES)) throw new InvalidArgumentError(`unknown hash algorithm ${String(alg)}`);
    const maxBytes = options.maxBytes;
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
      throw new InvalidArgumentError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
    const store = new FsBlockStore(options, root);
    const fs = options.fs;
    await fs.mkdir(root, { recursive: true });
    await fs.remove(store.#tmpDir, { recursive: true });
    await fs.mkdir(store.#tmpDir);
    await fs.mkdir(store.#dataDir);
    await fs.mkdir(store.#quarantineDir);
    if (store.#fsync) {
      await fs.syncDir(root);
      // The root's own entry in its parent (a root this call created would otherwise vanish, with
      // every write acknowledged in it, on a power loss). Best effort: a parent that cannot be
      // opened (permissions) does not stop the store from opening.
      const base = root.length > 1 && root.endsWith("/") ? root.slice(0, -1) : root;
      const cut = base.lastIndexOf("/");
      const parent = cut < 0 ? "." : cut === 0 ? "/" : base.slice(0, cut);
      if (base !== "/") await fs.syncDir(parent).catch(() => {});
    }
    store.#dirs.set(store.#dataDir, Promise.resolve());
    // Counts saved by a clean close are taken (and the file removed, so a crash before the next
    // clean close means a fresh count). A bounded store needs its counts before its first write.
    store.#counts = await takeSavedCounts(store.#fs, store.#root, store.#fsync);
    if (maxBytes !== undefined && !store.#counts) await store.stats();
    return store;
  }

  /** The store's root directory, as given to {@linkcode FsBlockStore.open}. */
  get root(): string {
    return this.#root;
  }

  /** Directory holding quarantined (corrupt) entries. */
  get quarantineDir(): string {
    return this.#quarantineDir;
  }

  /**
   * Counts the entries in `quarantine/`: copies that failed verification (on a read, a list or
   * `stats`) and were taken out of service. The count survives restarts; removing the files
   * (after inspecting them) brings it back to 0.
   *
   * @example
   * ```ts ignore
   * if (await store.quarantined() > 0) console.warn(`bad copies in ${store.quarantineDir}`);
   * ```
   */
  async quarantined(): Promise<number> {
    let count = 0;
    try {
      for await (const e of this.#fs.readDir(this.#quarantineDir)) if (e.isFile) count++;
    } catch (err) {
      if (err instanceof NotFoundError) return 0;
      throw err;
    }
    return count;
  }

  /** Directory holding writes in progress. */
  get tmpDir(): string {
    return this.#tmpDir;
  }

  /** Stores content-addressed bytes and returns their id (hashed with `options.algorithm`). */
  async put(data: StoreInput, options?: WriteOptions): Promise<ContentId> {
    const info = await this.#changes(() => this.#write(null, data, options));
    return info.id;
  }

  /**
   * Stores bytes under `key`: a content id (the bytes must hash to it, else
   * {@linkcode CorruptBlockError} and nothing is stored) or an arbitrary string key. Fails
   * with {@linkcode EntryTooLargeError} over `maxEntrySize`, `InvalidKeyError` for a bad key,
   * `AbortedError` when `options.signal` fires first.
   */
  write(key: StoreKey, data: StoreInput, options?: WriteOptions): Promise<EntryInfo> {
    try {
      return this.#changes(() => this.#write(normalizeKey(key), data, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Reads an entry, verified, as a stream of views into one buffer. See {@linkcode readBytes}. */
  async read(key: StoreKey, options?: ReadOptions): Promise<ReadableStream<Uint8Array>> {
    const data = await this.readBytes(key, { signal: options?.signal });
    // The bytes are already in memory (they had to be, to be verified): queue views of them.
    return new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < data.length; at += READ_CHUNK_SIZE) {
          controller.enqueue(data.subarray(at, Math.min(at + READ_CHUNK_SIZE, data.length)));
        }
        controller.close();
      },
    });
  }

  /**
   * Reads an entry, verified. Rejects with `NotFoundError` when absent,
   * {@linkcode CorruptBlockError} when the header, size, key or hash do not match (the file is
   * quarantined first), {@linkcode EntryTooLargeError} for a file over `maxEntrySize`. With
   * `options.into`, an entry file that fits is loaded into it and the result is a view of it
   * (see {@linkcode ReadOptions.into}); size a reusable buffer with {@linkcode entryFileSize}.
   * With `options.verify` false the content hash is skipped (see {@linkcode ReadOptions.verify}).
   */
  async readBytes(key: StoreKey, options?: ReadOptions): Promise<Uint8Array> {
    this.#checkOpen();
    const k = normalizeKey(key);
    const path = await this.#pathOf(k);
    const signal = options?.signal;
    throwIfAborted(signal);
    // No separate `stat` of the path (it cost as much as the read itself on the hot path: a
    // remote get reads every block here): the file system checks the size on the open handle
    // and refuses an oversized file, planted from outside, before reading any of it.
    let bytes: Uint8Array;
    try {
      bytes = await this.#fs.readFile(path, {
        maxBytes: entryFileSize(this.#maxEntrySize),
        buffer: options?.into,
      });
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new NotFoundError(`no entry for ${describe(k.text)}`, { cause: err });
      }
      if (err instanceof FileTooLargeError) {
        throw new EntryTooLargeError(k.text, err.size, this.#maxEntrySize);
      }
      const st = await this.#fs.stat(path).catch(() => null);
      if (!st || !st.isFile) {
        throw new NotFoundError(`no entry for ${describe(k.text)}`, { cause: err });
      }
      throw err;
    }
    throwIfAborted(signal);
    const header = await this.#checkHeader(k, path, bytes, bytes.length);
    const data = bytes.subarray(header.length);
    if (data.length > this.#maxEntrySize) {
      throw new EntryTooLargeError(k.text, data.length, this.#maxEntrySize);
    }
    if (options?.verify === false) return data; // the receiver hashes it (ReadOptions.verify)
    const actual = await ContentId.of(data, header.id.algorithm);
    if (!actual.equals(header.id)) {
      await this.#quarantine(path, header.size);
      throw new CorruptBlockError({
        key: k.text,
        expected: header.id.toString(),
        actual: actual.toString(),
        reason: "content hash mismatch",
      });
    }
    return data;
  }

  /** True when an entry file exists for `key` (not verified). */
  async has(key: StoreKey): Promise<boolean> {
    this.#checkOpen();
    const st = await this.#fs.stat(await this.#pathOf(normalizeKey(key)));
    return st !== null && st.isFile;
  }

  /**
   * Describes an entry from its header (the bytes are not hashed), or `null` when absent.
   * A bad header is quarantined and reported as {@linkcode CorruptBlockError}.
   */
  async info(key: StoreKey): Promise<EntryInfo | null> {
    this.#checkOpen();
    const k = normalizeKey(key);
    const path = await this.#pathOf(k);
    const st = await this.#fs.stat(path);
    if (!st || !st.isFile) return null;
    let head: Uint8Array;
    try {
      head = await this.#readHead(path, st.size);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
    const header = await this.#checkHeader(k, path, head, st.size);
    return { key: header.key ?? header.id.toString(), id: header.id, size: header.size };
  }

  /** Removes an entry; resolves `true` when it existed. Reads already loading it complete. */
  async delete(key: StoreKey): Promise<boolean> {
    this.#checkOpen();
    const k = normalizeKey(key);
    return await this.#changes(async () => {
      const path = await this.#pathOf(k);
      const remove = async (): Promise<boolean> => {
        const st = await this.#fs.stat(path);
        if (!st || !st.isFile) return false;
        const before = this.#counts ? await this.#bodySize(path, k, st) : undefined;
        await this.#fs.remove(path);
        if (before !== undefined && before !== null) this.#countChange(-1, -before);
        if (this.#fsync) await this.#fs.syncDir(parentOf(path));
        return true;
      };
      return this.#counts ? await this.#locks.run(path, remove) : await remove();
    });
  }

  /**
   * Removes every entry at once: the data directory is renamed away (atomic), replaced by an
   * empty one, and then deleted. Writes that finish afterwards land in the new, empty store.
   */
  async clear(): Promise<void> {
    this.#checkOpen();
    await this.#changes(async () => {
      const trash = `${this.#tmpDir}/clear-${this.#tmpPrefix}-${++this.#tmpCounter}`;
      this.#dirs.clear();
      await this.#fs.rename(this.#dataDir, trash);
      this.#epoch++; // a count walk under way saw the old store
      this.#inexact = true; // writes measured before the clear may land after it
      if (this.#counts) this.#counts = { count: 0, bytes: 0 };
      await this.#fs.mkdir(this.#dataDir, { recursive: true });
      if (this.#fsync) await this.#fs.syncDir(this.#root);
      this.#dirs.set(this.#dataDir, Promise.resolve());
      await this.#fs.remove(trash, { recursive: true });
    });
  }

  /**
   * Iterates over all entries from their headers (bytes not hashed), in no particular order.
   * A file whose header is unreadable, or whose length does not match its header, is
   * quarantined and skipped. Entries added or removed during iteration may or may not appear.
   */
  async *list(options?: ListOptions): AsyncIterable<EntryInfo> {
    this.#checkOpen();
    const keyed = options?.keyed === true;
    // With the default layout, keyed entries live under keys/ apart from the blocks: a node
    // lists its files and names without visiting every block.
    const root = keyed && this.#transform === defaultPathTransform
      ? `${this.#dataDir}/${KEYED_DIR}`
      : this.#dataDir;
    for await (const { path, size } of this.#walk(root, 0)) {
      let header: EntryHeader;
      try {
        header = decodeHeader(await this.#readHead(path, size));
        if (header.length + header.size !== size) throw new BadHeaderError("length mismatch");
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        if (!(err instanceof BadHeaderError)) throw err;
        if (await this.#stillBad(path)) await this.#quarantine(path);
        continue;
      }
      if (keyed && header.key === null) continue;
      yield { key: header.key ?? header.id.toString(), id: header.id, size: header.size };
    }
  }

  /**
   * Counts entries and their bytes. The first call walks the store, reading each header (a
   * bounded store does it when it opens), unless the last close was clean: it saved the counts,
   * which the next open takes. From then on every write and delete keeps the counts up to date,
   * so later calls cost nothing. On an unbounded store, writes and deletes that run
   * while that first walk does may be counted or not: the counts are exact from then on for a
   * bounded store, close for an unbounded one.
   */
  async stats(): Promise<StoreStats> {
    this.#checkOpen();
    const counts = this.#counts ?? await this.#count();
    return { count: counts.count, bytes: counts.bytes };
  }

  /** One walk at a time; its result is kept unless `clear()` ran meanwhile (then it walks again). */
  #count(): Promise<StoreStats> {
    this.#counting ??= this.#track((async () => {
      let result: StoreStats = { count: 0, bytes: 0 };
      for (let walk = 0; walk < 3; walk++) {
        if (this.#changing > 0) this.#inexact = true;
        const epoch = this.#epoch;
        let count = 0;
        let bytes = 0;
        for await (const entry of this.list()) {
          count++;
          bytes += entry.size;
        }
        result = { count, bytes };
        if (epoch === this.#epoch) break;
      }
      this.#counts ??= { count: result.count, bytes: result.bytes };
      return result;
    })()).finally(() => this.#counting = undefined);
    return this.#counting;
  }

  /** Refuses further use, waits for in-flight writes, then saves the counts (if kept). Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      if (this.#counts && !this.#inexact) {
        const tmp = `${this.#tmpDir}/${COUNTS_FILE}.${this.#tmpPrefix}.tmp`;
        await saveCounts(this.#fs, this.#root, tmp, this.#counts, this.#fsync);
      }
    })();
    return this.#closing;
  }

  // ---- internals ----

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  #track<T>(op: Promise<T>): Promise<T> {
    this.#inflight.add(op);
    const done = () => this.#inflight.delete(op);
    op.then(done, done);
    return op;
  }

  async #pathOf(k: NormalizedKey): Promise<string> {
    const segments = validatePathSegments(await this.#transform(k.text, k.id ?? undefined));
    return `${this.#dataDir}/${segments.join("/")}`;
  }

  async #write(
    k: NormalizedKey | null,
    data: StoreInput,
    options?: WriteOptions,
  ): Promise<EntryInfo> {
    this.#checkOpen();
    const signal = options?.signal;
    throwIfAborted(signal);
    const algorithm = k?.id?.algorithm ?? options?.algorithm ?? this.#defaultAlgorithm;
    const idBytes = ID_BYTES[algorithm];
    if (idBytes === undefined) {
      throw new InvalidArgumentError(`unknown hash algorithm ${String(algorithm)}`);
    }
    const keyBytes = k?.bytes ?? EMPTY;
    const headLen = headerLength(idBytes, keyBytes.length);
    const label = k?.text ?? "(new block)";

    // Gather the bytes. A stream of several chunks is copied once into a buffer that also
    // holds the header, so the file is written with one call; a single array is not copied.
    let whole: Uint8Array | null = null;
    let body: Uint8Array;
    if (data instanceof Uint8Array) {
      if (data.length > this.#maxEntrySize) {
        throw new EntryTooLargeError(label, data.length, this.#maxEntrySize);
      }
      body = data;
    } else if (data instanceof ReadableStream) {
      const { chunks, total } = await collect(data, this.#maxEntrySize, label, signal);
      if (chunks.length === 1) {
        body = chunks[0];
      } else {
        whole = new Uint8Array(headLen + total);
        let at = headLen;
        for (const c of chunks) {
          whole.set(c, at);
          at += c.length;
        }
        body = whole.subarray(headLen);
      }
    } else {
      throw new InvalidArgumentError("data must be a Uint8Array or a ReadableStream<Uint8Array>");
    }

    // Open the temp file while the bytes are hashed: the two overlap. A caller that hashed
    // these bytes already says so (`hashed`); reads verify every entry either way.
    const tmp = `${this.#tmpDir}/${this.#tmpPrefix}-${++this.#tmpCounter}.tmp`;
    const known = options?.hashed;
    const hashing = known?.algorithm === algorithm
      ? Promise.resolve(known)
      : ContentId.of(body, algorithm);
    let file: WritableFile;
    try {
      file = await this.#fs.create(tmp, { exclusive: true });
    } catch (err) {
      await hashing.catch(() => {});
      throw err;
    }
    let renamed = false;
    let created: boolean | undefined;
    let id: ContentId;
    let key: NormalizedKey;
    try {
      try {
        id = await hashing;
        if (k?.id && !id.equals(k.id)) {
          throw new CorruptBlockError({
            key: k.text,
            expected: k.id.toString(),
            actual: id.toString(),
            reason: "written bytes do not match the content id",
          });
        }
        key = k ?? normalizeKey(id);
        const header = whole ? whole.subarray(0, headLen) : new Uint8Array(headLen);
        encodeHeader(header, id, keyBytes, body.length);
        if (whole) {
          await file.write(whole);
        } else {
          await file.write(header);
          if (body.length > 0) await file.write(body);
        }
        // Group commit: this file's fsync is batched with those of the writes under way.
        if (this.#fsync) await this.#fileSyncs.add(file);
      } finally {
        await file.close();
      }
      const path = await this.#pathOf(key);
      throwIfAborted(signal);
      const dir = parentOf(path);
      await this.#ensureDir(dir);
      const place = async () => {
        try {
          await this.#fs.rename(tmp, path);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
          // A concurrent clear() removed the directory: create it again and retry once.
          this.#dirs.clear();
          await this.#ensureDir(dir);
          await this.#fs.rename(tmp, path);
        }
        renamed = true;
      };
      if (this.#counts) {
        const counted = key;
        await this.#locks.run(path, async () => {
          const epoch = this.#epoch;
          const before = await this.#bodySize(path, counted);
          const grows = body.length - (before ?? 0);
          const limit = this.#maxBytes;
          const used = (this.#counts?.bytes ?? 0) + this.#reserved;
          if (limit !== undefined && grows > 0 && used + grows > limit) {
            throw new StoreFullError(used, grows, limit);
          }
          const reserved = Math.max(0, grows);
          this.#reserved += reserved;
          try {
            await place();
            created = before === null;
            // A clear() since the measure emptied the counts: the entry is new to them (or, if
            // the clear came after the rename, counted once too often: the safe side).
            if (epoch !== this.#epoch) this.#countChange(1, body.length);
            else this.#countChange(before === null ? 1 : 0, grows);
          } finally {
            this.#reserved -= reserved;
          }
        });
      } else {
        if (options?.reportCreated) {
          const st = await this.#fs.stat(path);
          created = !st?.isFile;
        }
        await place();
      }
      // Acknowledged only once a directory flush that started after the rename is done; the
      // renames into one directory share one flush per round.
      if (this.#fsync) await this.#dirSyncs.add(dir);
    } finally {
      if (!renamed) await this.#fs.remove(tmp).catch(() => {});
    }
    const info = { key: key.text, id, size: body.length };
    return options?.reportCreated && created !== undefined ? { ...info, created } : info;
  }

  /** Makes sure `dir` (under the data directory) exists and, with fsync, is flushed into its parent. */
  #ensureDir(dir: string): Promise<void> {
    const known = this.#dirs.get(dir);
    if (known) return known;
    if (this.#dirs.size > MAX_KNOWN_DIRS) this.#dirs.clear();
    if (dir === this.#dataDir || !dir.startsWith(`${this.#dataDir}/`)) {
      // The base: the data directory itself (a clear() may have just replaced it).
      const base = this.#fs.mkdir(this.#dataDir, { recursive: true });
      this.#dirs.set(this.#dataDir, base);
      base.catch(() => this.#dirs.delete(this.#dataDir));
      return base;
    }
    const parent = parentOf(dir);
    const made = (async () => {
      await this.#ensureDir(parent);
      await this.#fs.mkdir(dir);
      if (this.#fsync) await this.#fs.syncDir(parent);
    })();
    this.#dirs.set(dir, made);
    made.catch(() => this.#dirs.delete(dir));
    return made;
  }

  /** Reads the first bytes of a file, enough for any header. */
  async #readHead(path: string, fileSize: number): Promise<Uint8Array> {
    const want = Math.max(1, Math.min(fileSize, MAX_HEADER_BYTES));
    const stream = await this.#fs.readStream(path, { length: want, chunkSize: want });
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const c of stream) {
      chunks.push(c);
      total += c.length;
    }
    return chunks.length === 1 ? chunks[0] : concatBytes(chunks, total);
  }

  /**
   * Decodes and checks a header against the key asked for and the file's length; on any
   * mismatch quarantines the file and throws {@linkcode CorruptBlockError}.
   */
  async #checkHeader(
    k: NormalizedKey,
    path: string,
    head: Uint8Array,
    fileSize: number,
  ): Promise<EntryHeader> {
    let header: EntryHeader;
    try {
      header = decodeHeader(head);
    } catch (err) {
      if (!(err instanceof BadHeaderError)) throw err;
      await this.#quarantine(path);
      throw new CorruptBlockError({
        key: k.text,
        expected: "a valid entry header",
        actual: err.message,
        reason: "bad header",
      }, { cause: err });
    }
    let problem: { expected: string; actual: string; reason: string } | null = null;
    if (k.id && !header.id.equals(k.id)) {
      problem = {
        expected: k.id.toString(),
        actual: header.id.toString(),
        reason: "header names another id",
      };
    } else if (!k.id && header.key !== k.text) {
      problem = {
        expected: `key ${JSON.stringify(describe(k.text))}`,
        actual: header.key === null ? "no key" : `key ${JSON.stringify(describe(header.key))}`,
        reason: "header names another key",
      };
    } else if (header.length + header.size !== fileSize) {
      problem = {
        expected: `${header.length + header.size} bytes`,
        actual: `${fileSize} bytes`,
        reason: "truncated or extended entry",
      };
    }
    if (problem) {
      await this.#quarantine(path, header.size); // what the counts hold for it: its header's size
      throw new CorruptBlockError({ key: k.text, ...problem });
    }
    return header;
  }

  /** Re-reads a file that looked bad during a listing, in case it was replaced meanwhile. */
  async #stillBad(path: string): Promise<boolean> {
    const st = await this.#fs.stat(path);
    if (!st || !st.isFile) return false;
    try {
      const header = decodeHeader(await this.#readHead(path, st.size));
      return header.length + header.size !== st.size;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      return err instanceof BadHeaderError;
    }
  }

  /**
   * The body size of the entry at `path`, or `null` when there is none. A content-id entry's
   * header length follows from its id; a keyed entry's header is read. `st` is the path's stat
   * when the caller has it already.
   */
  async #bodySize(
    path: string,
    k: NormalizedKey,
    st?: FileInfo | null,
  ): Promise<number | null> {
    if (st === undefined) st = await this.#fs.stat(path);
    if (!st || !st.isFile) return null;
    if (k.id) return Math.max(0, st.size - headerLength(k.id.bytes.length, 0));
    try {
      return decodeHeader(await this.#readHead(path, st.size)).size;
    } catch {
      this.#inexact = true;
      return estimatedBody(st.size); // an unreadable header: the best guess keeps counts defined
    }
  }

  /**
   * Runs a change to the entries (write, delete, quarantine): `close()` waits for it, and a count
   * walk it overlaps is marked inexact.
   */
  #changes<T>(fn: () => Promise<T>): Promise<T> {
    this.#changing++;
    if (this.#counting) this.#inexact = true;
    return this.#track(fn().finally(() => this.#changing--));
  }

  #countChange(entries: number, bytes: number): void {
    if (!this.#counts) return;
    this.#counts.count += entries;
    this.#counts.bytes += bytes;
  }

  /**
   * Moves a rotten entry out of service. While counts are kept it leaves them: by `knownBody`
   * (its header was read) or, with a header not to be trusted, by an estimate from its size.
   */
  #quarantine(path: string, knownBody?: number): Promise<void> {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const target = `${this.#quarantineDir}/${name}.${this.#tmpPrefix}-${++this.#tmpCounter}`;
    const move = async () => {
      let body: number | undefined;
      if (this.#counts) {
        const st = await this.#fs.stat(path);
        if (st?.isFile) {
          if (knownBody === undefined) this.#inexact = true;
          body = knownBody ?? estimatedBody(st.size);
        }
      }
      try {
        await this.#fs.rename(path, target);
        if (body !== undefined) this.#countChange(-1, -body);
        if (this.#fsync) await this.#dirSyncs.add(parentOf(path));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    };
    return this.#changes(() => this.#counts ? this.#locks.run(path, move) : move());
  }

  /** Yields every regular file under `dir`, depth-first; tolerates concurrent removal. */
  async *#walk(dir: string, depth: number): AsyncGenerator<{ path: string; size: number }> {
    if (depth > 32) throw new IoError(`store tree too deep at ${dir}`);
    const subdirs: string[] = [];
    try {
      for await (const e of this.#fs.readDir(dir)) {
        const path = `${dir}/${e.name}`;
        if (e.isDirectory) subdirs.push(path);
        else if (e.isFile) yield { path, size: e.size };
      }
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    for (const sub of subdirs) yield* this.#walk(sub, depth + 1);
  }
}

const EMPTY = new Uint8Array(0);

/** The body size of an entry whose header cannot be read: as if it held a SHA-256 id, no key. */
function estimatedBody(fileSize: number): number {
  return Math.max(0, fileSize - headerLength(ID_BYTES["sha-256"], 0));
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

function describe(key: string): string {
  return key.length > 80 ? `${key.slice(0, 77)}...` : key;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError("store operation aborted", { cause: signal.reason });
}

/** Reads a stream to its end, keeping the chunks; stops as soon as `limit` is crossed. */
async function collect(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  label: string,
  signal: AbortSignal | undefined,
): Promise<{ chunks: Uint8Array[]; total: number }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      throwIfAborted(signal);
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) {
        throw new InvalidArgumentError("a data stream must yield Uint8Array chunks");
      }
      total += value.length;
      if (total > limit) throw new EntryTooLargeError(label, total, limit);
      if (value.length > 0) chunks.push(value);
    }
    throwIfAborted(signal);
  } catch (err) {
    await reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    try {
      reader.releaseLock();
    } catch {
      // already released
    }
  }
  return { chunks, total };
}
