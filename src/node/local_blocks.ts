/**
 * The life of the blocks in the local store while puts, peers' pushes, deletes and garbage
 * collection race over them: one lock per block under which a block is written or judged
 * unused and deleted, the blocks puts under way protect (and a failed put takes out again), the
 * blocks peers pushed lately, which indexed files use which blocks, and whether a file is whole
 * here.
 *
 * @module
 */

import type { Dht } from "../dht/dht.ts";
import { keyOfContentId } from "../dht/key.ts";
import type { BlockSink, BlockSource } from "../file/types.ts";
import { ContentId } from "../id/content_id.ts";
import type { BlockStore } from "../store/types.ts";
import { KeyedMutex } from "../util/keyed_mutex.ts";
import { IncompleteIndexError } from "./errors.ts";
import type { FileIndex } from "./file_index.ts";
import type { NodeLogger } from "./options.ts";
import { walkFileBlocks } from "./walk.ts";

/** How long a block a peer pushed is spared by a failed local put's cleanup. */
const RECEIVED_GRACE_MS = 10 * 60_000;
/** Most pushed blocks remembered for that (2 GiB of 256 KiB blocks; the oldest go first). */
const MAX_RECEIVED_NOTES = 8192;

/** What {@linkcode LocalBlocks} works over. */
export interface LocalBlocksInit {
  /** The local store. */
  readonly store: BlockStore;
  /** The local file index (its files' blocks are in use). */
  readonly index: FileIndex;
  /** The node's DHT, if it runs one: a file no longer indexed here is withdrawn from it. */
  dht(): Dht | undefined;
  /** Log sink. */
  readonly log: NodeLogger;
}

/** One put's hold on the blocks it writes (see {@linkcode LocalBlocks.beginPut}). */
export interface PutBlocks {
  /** Where the put writes its blocks (each one protected before it is written). */
  readonly sink: BlockSink;
  /** The put's file is indexed: its blocks are no longer protected as under way. */
  indexed(): void;
  /** The put failed: takes out the blocks it created that nothing else uses now. */
  failed(): Promise<void>;
}

/**
 * The local block lifecycle guard of one node (see the module doc).
 *
 * @example
 * ```ts ignore
 * const blocks = new LocalBlocks({ store, index, dht: () => undefined, log });
 * const put = blocks.beginPut();
 * try {
 *   const file = await putFile(input, put.sink);
 *   await index.add({ ... });
 *   blocks.indexChanged();
 *   put.indexed();
 * } catch (err) {
 *   await put.failed();
 *   throw err;
 * }
 * ```
 */
export class LocalBlocks {
  readonly #store: BlockStore;
  readonly #index: FileIndex;
  readonly #dht: () => Dht | undefined;
  readonly #log: NodeLogger;
  #sharedCache:
    | { generation: number; users: Map<string, string>; complete: boolean }
    | undefined;
  #generation = 0;
  /** Blocks written by puts still under way (not yet indexed), with how many puts wrote each. */
  readonly #putting = new Map<string, number>();
  /** Writing a block and deciding to delete it take this lock per block id, never both at once. */
  readonly #blockLocks = new KeyedMutex();
  /** Blocks puts under way created (not in the store before): the last put to let go drops them. */
  readonly #createdByPuts = new Set<string>();
  /** Blocks peers pushed lately (id -> ms): their file's root may not be here yet. Bounded. */
  readonly #received = new Map<string, number>();

  /** Guards the blocks of `init.store`; nothing is protected yet. */
  constructor(init: LocalBlocksInit) {
    this.#store = init.store;
    this.#index = init.index;
    this.#dht = init.dht;
    this.#log = init.log;
  }

  /** The local index changed (a file added, removed or completed): rescan the shared blocks. */
  indexChanged(): void {
    this.#generation++;
  }

  /**
   * Starts a put: the blocks written through the returned sink are protected until
   * {@linkcode PutBlocks.indexed} or {@linkcode PutBlocks.failed}.
   */
  beginPut(): PutBlocks {
    // The blocks this put writes are protected until the file is indexed (`touched`, counted in
    // #putting before each write). A put that fails takes out the blocks it created (`created`:
    // not in the store before it) unless an indexed file, another put under way or a peer's
    // recent push uses them, so a failed or cancelled put leaves no garbage behind.
    const touched = new Set<string>();
    const protect = (k: string) => {
      if (touched.has(k)) return;
      touched.add(k);
      this.#putting.set(k, (this.#putting.get(k) ?? 0) + 1);
    };
    const sink: BlockSink = {
      putBlock: (bytes, o) => {
        const id = o?.id;
        // putFile hashed these bytes already: the store need not hash them again.
        const options = { algorithm: o?.algorithm, signal: o?.signal, hashed: id };
        if (!id) return this.#store.put(bytes, options).then((at) => (protect(at.toString()), at));
        return this.#blockLocks.run(id.toString(), async () => {
          protect(id.toString());
          // The store says whether this write created the block (free while it keeps counts).
          const info = await this.#store.write(id, bytes, { ...options, reportCreated: true });
          if (info.created === true) this.#createdByPuts.add(id.toString());
          return info.id;
        });
      },
    };
    return {
      sink,
      indexed: () => void this.#settlePut(touched, false),
      failed: () => this.#dropUnused(this.#settlePut(touched, true)),
    };
  }

  /** Stores a block a peer pushed (verified bytes), under its lock, and notes it as received. */
  async receive(id: ContentId, bytes: Uint8Array): Promise<void> {
    const k = id.toString();
    await this.#blockLocks.run(k, async () => {
      await this.#store.write(id, bytes, { hashed: id }); // the connection verified them
      this.#noteReceived(k);
    });
  }

  /**
   * A put is over (indexed, or `failed`): its blocks are no longer protected as under way.
   * Returns the blocks to take out: those a put under way created, that no put holds any more,
   * when this last one failed (an indexed file, if any now uses them, still keeps them).
   */
  #settlePut(touched: ReadonlySet<string>, failed: boolean): string[] {
    const drop: string[] = [];
    for (const k of touched) {
      const n = (this.#putting.get(k) ?? 1) - 1;
      if (n > 0) {
        this.#putting.set(k, n);
        continue;
      }
      this.#putting.delete(k);
      if (this.#createdByPuts.delete(k) && failed) drop.push(k);
    }
    return drop;
  }

  /** Deletes the blocks failed puts created, unless something else uses them now. */
  async #dropUnused(created: readonly string[]): Promise<void> {
    for (const k of created) {
      try {
        await this.deleteIfUnused(ContentId.parse(k), true);
      } catch (err) {
        this.#log("warn", "could not remove a block of a failed put", {
          block: k,
          error: String(err),
        });
      }
    }
  }

  /**
   * Deletes a local block unless an indexed file or a put under way uses it (or, with
   * `spareReceived`, a peer pushed it lately: its file's root may still be on the way). Decided
   * and done under the block's lock, so no put can write it in between. With `exceptFile`, that
   * indexed file does not count as a user. Resolves `true` when the block was removed.
   */
  deleteIfUnused(id: ContentId, spareReceived = false, exceptFile?: string): Promise<boolean> {
    const k = id.toString();
    return this.#blockLocks.run(k, async () => {
      if (this.#putting.has(k)) return false;
      if (spareReceived && this.#receivedLately(k)) return false;
      const user = (await this.#sharedBlocks()).get(k);
      if (user !== undefined && user !== exceptFile) return false;
      return await this.#store.delete(id);
    });
  }

  /** True when a peer pushed block `k` within the last 10 minutes. */
  #receivedLately(k: string): boolean {
    const at = this.#received.get(k);
    return at !== undefined && Date.now() - at < RECEIVED_GRACE_MS;
  }

  /** Notes a block a peer pushed (bounded: expired and then the oldest notes go first). */
  #noteReceived(k: string): void {
    const now = Date.now();
    this.#received.delete(k);
    this.#received.set(k, now);
    for (const [oldest, at] of this.#received) {
      if (this.#received.size <= MAX_RECEIVED_NOTES && now - at < RECEIVED_GRACE_MS) break;
      this.#received.delete(oldest);
    }
  }

  /** Removes the file's local blocks except those other indexed files use. */
  async deleteLocal(id: ContentId, blocks: readonly ContentId[]): Promise<boolean> {
    const text = id.toString();
    const indexed = await this.#index.remove(text);
    if (indexed) {
      this.#generation++;
      this.#dht()?.unprovide(keyOfContentId(id)); // no longer held here
    }
    let removed = false;
    // Each block is checked again under its lock: another file, or a put under way, keeps it.
    // (A block that another file's replication, still under way, pushed here lately is not
    // spared: sparing every recent push would make a file replicated here lately undeletable.)
    for (const b of blocks) if (await this.deleteIfUnused(b)) removed = true;
    return removed || indexed;
  }

  /**
   * Removes this node's copy of file `id`: its index entry and the local blocks its local
   * manifests name (only the root when they cannot be read), except those other files use.
   */
  async dropLocalCopy(id: ContentId): Promise<boolean> {
    const blocks: ContentId[] = [];
    try {
      for await (const b of walkFileBlocks(id, this.#localSource())) blocks.push(b.id);
    } catch {
      blocks.push(id);
    }
    return await this.deleteLocal(id, blocks);
  }

  /**
   * After the shard columns of Reed-Solomon file `id` were placed, removes the local shards of
   * the columns other nodes took (unless another local file uses the same bytes). The manifests
   * stay: this node still knows the file.
   */
  async keepOnlyColumns(id: ContentId, keep: ReadonlySet<number>): Promise<void> {
    const kept = new Set<string>();
    const drop = new Set<string>();
    for await (const b of walkFileBlocks(id, this.#localSource())) {
      const k = b.id.toString();
      if (b.column === undefined || keep.has(b.column)) kept.add(k);
      else drop.add(k);
    }
    for (const k of drop) {
      if (kept.has(k)) continue;
      await this.deleteIfUnused(ContentId.parse(k), false, id.toString());
    }
  }

  /** True when every block of file `id` is in the local store (false when a manifest is not). */
  async holdsFile(id: ContentId): Promise<boolean> {
    try {
      for await (const b of walkFileBlocks(id, this.#localSource())) {
        if (!b.manifest && !(await this.#store.has(b.id))) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Garbage collection's delete: like {@linkcode LocalBlocks.deleteIfUnused} (sparing blocks
   * peers pushed lately), but nothing is deleted while some indexed file's manifests are
   * unreadable (see {@linkcode LocalBlocks.sharedScan}).
   */
  async collectIfUnused(id: ContentId): Promise<boolean> {
    if (!(await this.sharedScan()).complete) return false;
    return await this.deleteIfUnused(id, true);
  }

  /**
   * Every block of every indexed file. Rejects with `IncompleteIndexError` while some indexed
   * file's manifests are unreadable.
   */
  async liveBlocks(): Promise<Set<string>> {
    const scan = await this.sharedScan();
    if (!scan.complete) {
      throw new IncompleteIndexError(
        "some indexed file's manifests are unreadable: no block is collected until they are back",
      );
    }
    return new Set(scan.users.keys());
  }

  /**
   * Every block of every indexed file, with the file that uses it (`"*"` when several do);
   * cached until the index changes.
   */
  async #sharedBlocks(): Promise<Map<string, string>> {
    return (await this.sharedScan()).users;
  }

  /**
   * The scan behind {@linkcode LocalBlocks.deleteIfUnused}; `complete` is false when some
   * indexed file's manifests could not be read (a rotten one waiting for the scrubber): its
   * blocks are then missing from `users`, and garbage collection must not trust the set.
   */
  async sharedScan(): Promise<{ users: Map<string, string>; complete: boolean }> {
    const generation = this.#generation;
    if (this.#sharedCache?.generation === generation) return this.#sharedCache;
    const users = new Map<string, string>();
    let complete = true;
    const local = this.#localSource();
    for (const f of this.#index.list()) {
      try {
        for await (const b of walkFileBlocks(ContentId.parse(f.id), local)) {
          const k = b.id.toString();
          const user = users.get(k);
          users.set(k, user === undefined || user === f.id ? f.id : "*");
        }
      } catch {
        // A file whose manifests are gone protects nothing here (see `complete`).
        complete = false;
      }
    }
    this.#sharedCache = { generation, users, complete };
    return this.#sharedCache;
  }

  #localSource(): BlockSource {
    return { getBlock: (id, o) => this.#store.readBytes(id, { signal: o?.signal }) };
  }
}
