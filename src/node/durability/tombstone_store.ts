/**
 * The tombstones a node keeps, one per file: persisted as keyed store entries
 * `tomb:<file id>` (the encoded tombstone, `tombstone.ts`) and cached in memory.
 *
 * - A tombstone is checked (times, then signature) before it is kept; an invalid or expired one
 *   is refused with `InvalidTombstoneError`.
 * - Per file, one record is held. Between a tombstone and a revival (the owner put the file again,
 *   `tombstone.ts`), the newer one (by its time) wins; between two of a kind, the one expiring
 *   last. A tie keeps the one held.
 * - Bounded: at most `maxEntries` (default {@linkcode DEFAULT_MAX_TOMBSTONES}); past it, the
 *   one expiring soonest gives way, which may be the one offered (then it is not kept).
 * - {@linkcode TombstoneStore.expire} drops expired ones from memory and disk; loading drops
 *   them too. Signatures are checked when a tombstone is added, not again on load (the store
 *   verifies each entry's bytes against their hash on read) unless asked.
 *
 * Memory: about 250 bytes per tombstone held (each is kept packed, as one string of its
 * encoded bytes under one of its file id's), so the default bound costs at most about 250 MB.
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";
import { ContentId } from "../../id/content_id.ts";
import type { BlockStore } from "../../store/types.ts";
import {
  checkTombstoneTimes,
  decodeTombstone,
  encodeTombstone,
  InvalidTombstoneError,
  type Tombstone,
  validateTombstone,
  verifyTombstone,
} from "./tombstone.ts";

/** Keyed store entries of tombstones are `tomb:<file id>`. */
export const TOMBSTONE_KEY_PREFIX = "tomb:";

/** Default bound on the tombstones kept. */
export const DEFAULT_MAX_TOMBSTONES = 1_000_000;

/** How many entries {@linkcode TombstoneStore.load} reads at once. */
const LOAD_CONCURRENCY = 32;

/** Options of {@linkcode TombstoneStore.load}. */
export interface TombstoneStoreOptions {
  /** The time to expire against while loading, ms since the epoch (default `Date.now()`). */
  readonly now?: number;
  /** Most tombstones kept (default {@linkcode DEFAULT_MAX_TOMBSTONES}). */
  readonly maxEntries?: number;
  /**
   * Check every loaded tombstone's signature (default false: each was checked when added, and
   * the block store verifies the bytes read; a check costs about 0.1 ms).
   */
  readonly verifySignatures?: boolean;
}

/**
 * The node's tombstones (see the module doc).
 *
 * @example
 * ```ts
 * import { ContentId } from "../../id/content_id.ts";
 * import { NodeIdentity } from "../../peer/identity.ts";
 * import { FsBlockStore } from "../../store/block_store.ts";
 * import { MemoryFileSystem } from "../../runtime/memory/fs.ts";
 * import { signTombstone } from "./tombstone.ts";
 * import { TombstoneStore } from "./tombstone_store.ts";
 * const store = await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/data" });
 * const tombs = await TombstoneStore.load(store);
 * const fileId = await ContentId.of(new TextEncoder().encode("deleted file"));
 * await tombs.add(await signTombstone(await NodeIdentity.generate(), fileId), Date.now());
 * console.log(tombs.has(fileId), (await TombstoneStore.load(store)).size); // true 1
 * await store.close();
 * ```
 */
export class TombstoneStore {
  readonly #store: BlockStore;
  readonly #max: number;
  /** File id (binary, one char per byte) -> the rest of the encoded tombstone (same form). */
  readonly #entries = new Map<string, string>();
  readonly #heap = new ExpiryHeap();
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(store: BlockStore, max: number) {
    this.#store = store;
    this.#max = max;
  }

  /**
   * Loads the tombstones kept in `store` (its `tomb:` entries). Expired and malformed entries
   * are removed from the store; entries that cannot be read are skipped. Throws
   * `InvalidArgumentError` when `maxEntries` is not a positive integer.
   */
  static async load(
    store: BlockStore,
    options: TombstoneStoreOptions = {},
  ): Promise<TombstoneStore> {
    const max = options.maxEntries ?? DEFAULT_MAX_TOMBSTONES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new InvalidArgumentError(`maxEntries must be a positive integer, got ${max}`);
    }
    const now = options.now ?? Date.now();
    const self = new TombstoneStore(store, max);
    const keys: string[] = [];
    for await (const e of store.list({ keyed: true })) {
      if (e.key.startsWith(TOMBSTONE_KEY_PREFIX)) keys.push(e.key);
    }
    for (let i = 0; i < keys.length; i += LOAD_CONCURRENCY) {
      await Promise.all(
        keys.slice(i, i + LOAD_CONCURRENCY).map((key) =>
          self.#loadOne(key, now, options.verifySignatures === true)
        ),
      );
    }
    while (self.#entries.size > max) await self.#evictSoonest();
    return self;
  }

  async #loadOne(key: string, now: number, verify: boolean): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await this.#store.readBytes(key);
    } catch {
      return; // vanished, or quarantined by the store's own check: not a tombstone we hold
    }
    let t: Tombstone;
    try {
      t = decodeTombstone(bytes);
      if (keyOf(t.fileId) !== key) throw new InvalidTombstoneError("MALFORMED", "wrong key");
      checkTombstoneTimes(t);
      if (t.expiresAt <= now) throw new InvalidTombstoneError("EXPIRED", "expired");
      if (verify && !(await verifyTombstone(t))) {
        throw new InvalidTombstoneError("BAD_SIGNATURE", "bad signature");
      }
    } catch {
      await this.#store.delete(key).catch(() => {});
      return;
    }
    this.#set(t.fileId, bytes);
  }

  /** Number of tombstones held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The tombstone held for `fileId` (a content id or its text form), if any. */
  get(fileId: ContentId | string): Tombstone | undefined {
    const id = idKey(fileId);
    const rest = id === undefined ? undefined : this.#entries.get(id);
    return rest === undefined ? undefined : unpack(id!, rest);
  }

  /** True when a tombstone is held for `fileId` (expired or not: see `expire`). */
  has(fileId: ContentId | string): boolean {
    const id = idKey(fileId);
    return id !== undefined && this.#entries.has(id);
  }

  /** Every tombstone held, in no particular order. */
  list(): Tombstone[] {
    return [...this.#entries].map(([id, rest]) => unpack(id, rest));
  }

  /**
   * Keeps `t` (a tombstone or a revival) if it is valid at `now` (ms since the epoch) and wins
   * over the record held for its file (see the module doc). Resolves `true` when it was kept (new, or replacing one), `false` when the one
   * held stays (it expires as late or later) or the store is full of tombstones expiring later.
   * Rejects with `InvalidTombstoneError` for an invalid or expired tombstone, and with the
   * store's error when it cannot be written (nothing changes then).
   */
  async add(t: Tombstone, now: number = Date.now()): Promise<boolean> {
    await validateTombstone(t, now);
    const bytes = encodeTombstone(t);
    return await this.#locked(async () => {
      const held = this.#entries.get(binary(t.fileId.bytes));
      if (held !== undefined) {
        const sameKind = isRevival(held) === (t.revival === true);
        if (sameKind ? expiresOf(held) >= t.expiresAt : timeOf(held) >= t.deletedAt) return false;
      }
      if (held === undefined && this.#entries.size >= this.#max) {
        const soonest = this.#soonest();
        if (soonest !== undefined && soonest >= t.expiresAt) return false;
        await this.#evictSoonest();
      }
      await this.#store.write(keyOf(t.fileId), bytes);
      this.#set(t.fileId, bytes);
      return true;
    });
  }

  /**
   * Forgets the tombstone of `fileId` (memory and disk), e.g. when the file is put again on
   * purpose. Resolves `true` when one was held.
   */
  remove(fileId: ContentId | string): Promise<boolean> {
    return this.#locked(async () => {
      const id = idKey(fileId);
      if (id === undefined) return false;
      const had = this.#entries.delete(id);
      await this.#store.delete(TOMBSTONE_KEY_PREFIX + hexOf(id));
      return had;
    });
  }

  /**
   * Drops every tombstone expired at `now` (`expiresAt <= now`) from memory and disk.
   * Resolves with how many were dropped.
   */
  expire(now: number = Date.now()): Promise<number> {
    return this.#locked(async () => {
      let n = 0;
      for (;;) {
        const soonest = this.#soonest();
        if (soonest === undefined || soonest > now) return n;
        await this.#evictSoonest();
        n++;
      }
    });
  }

  /** Holds the encoded tombstone `bytes` of `fileId`. */
  #set(fileId: ContentId, bytes: Uint8Array): void {
    const id = binary(fileId.bytes);
    const rest = binary(bytes.subarray(fileId.bytes.length));
    this.#entries.set(id, rest);
    this.#heap.push(expiresOf(rest), id);
    if (this.#heap.length > 2 * this.#entries.size + 1024) {
      this.#heap.clear();
      for (const [k, v] of this.#entries) this.#heap.push(expiresOf(v), k);
    }
  }

  /** When the live tombstone expiring soonest expires (stale heap entries are dropped). */
  #soonest(): number | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined) return undefined;
      const rest = this.#entries.get(top.id);
      if (rest !== undefined && expiresOf(rest) === top.at) return top.at;
      this.#heap.pop();
    }
  }

  async #evictSoonest(): Promise<void> {
    if (this.#soonest() === undefined) return;
    const { id } = this.#heap.peek()!;
    this.#heap.pop();
    this.#entries.delete(id);
    await this.#store.delete(TOMBSTONE_KEY_PREFIX + hexOf(id));
  }

  /** Runs `fn` after every earlier write settled (writes are rare: one at a time). */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => {});
    return run;
  }
}

function keyOf(fileId: ContentId): string {
  return TOMBSTONE_KEY_PREFIX + fileId.toString();
}

/** Bytes as a string of one char per byte (compact in memory: about half a hex string). */
function binary(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function bytesOf(text: string, into: Uint8Array = new Uint8Array(text.length), at = 0): Uint8Array {
  for (let i = 0; i < text.length; i++) into[at + i] = text.charCodeAt(i);
  return into;
}

function hexOf(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) out += id.charCodeAt(i).toString(16).padStart(2, "0");
  return out;
}

/** The map key of a file id given as a content id or its text form (undefined: not an id). */
function idKey(fileId: ContentId | string): string | undefined {
  if (typeof fileId !== "string") return binary(fileId.bytes);
  const id = ContentId.tryParse(fileId);
  return id ? binary(id.bytes) : undefined;
}

/** expiresAt of a held entry: u64 at offset 40 of the rest (after issuer and deletedAt). */
function expiresOf(rest: string): number {
  return u64At(rest, 40);
}

/** deletedAt (a revival's time) of a held entry: u64 at offset 32 of the rest. */
function timeOf(rest: string): number {
  return u64At(rest, 32);
}

/** True when a held entry is a revival: one byte longer than a tombstone's rest (112). */
function isRevival(rest: string): boolean {
  return rest.length === 113;
}

function u64At(rest: string, at: number): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + rest.charCodeAt(at + i);
  for (let i = 4; i < 8; i++) lo = lo * 256 + rest.charCodeAt(at + i);
  return hi * 0x1_0000_0000 + lo;
}

function unpack(id: string, rest: string): Tombstone {
  const bytes = new Uint8Array(id.length + rest.length);
  bytesOf(id, bytes, 0);
  bytesOf(rest, bytes, id.length);
  return decodeTombstone(bytes);
}

/** A binary min-heap of (expiresAt, file id key), as two parallel arrays. */
class ExpiryHeap {
  readonly #at: number[] = [];
  readonly #ids: string[] = [];

  get length(): number {
    return this.#at.length;
  }

  peek(): { at: number; id: string } | undefined {
    return this.#at.length === 0 ? undefined : { at: this.#at[0], id: this.#ids[0] };
  }

  push(at: number, id: string): void {
    this.#at.push(at);
    this.#ids.push(id);
    let i = this.#at.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at[parent] <= this.#at[i]) break;
      this.#swap(parent, i);
      i = parent;
    }
  }

  pop(): void {
    const at = this.#at.pop();
    const id = this.#ids.pop();
    if (this.#at.length === 0 || at === undefined || id === undefined) return;
    this.#at[0] = at;
    this.#ids[0] = id;
    for (let i = 0;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.#at.length && this.#at[l] < this.#at[m]) m = l;
      if (r < this.#at.length && this.#at[r] < this.#at[m]) m = r;
      if (m === i) return;
      this.#swap(m, i);
      i = m;
    }
  }

  clear(): void {
    this.#at.length = 0;
    this.#ids.length = 0;
  }

  #swap(a: number, b: number): void {
    [this.#at[a], this.#at[b]] = [this.#at[b], this.#at[a]];
    [this.#ids[a], this.#ids[b]] = [this.#ids[b], this.#ids[a]];
  }
}
