/**
 * The node's index of the files it holds, persisted as keyed store entries
 * `file:<file id>` (a small JSON record each) and cached in memory.
 *
 * A file enters the index when it is put on this node, or when a peer replicates it here: the
 * replicator sends blocks in post-order (every manifest after the blocks under it, the root
 * last), so a received manifest is indexed as a file and, when an inner manifest arrives, the
 * children it lists leave the index. After a complete replication only the root remains. An
 * interrupted replication can leave a sub-tree listed as a file of its own; it is still a
 * readable file (a sub-range of the original) and goes away when the root arrives or on delete.
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import { decodeManifest, MANIFEST_MAGIC } from "../file/manifest.ts";
import { formatRedundancy, parseRedundancy } from "../file/redundancy.ts";
import type { BlockStore } from "../store/types.ts";

const PREFIX = "file:";
const MAX_CLAIMED = 100_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** One indexed file. */
export interface FileIndexEntry {
  /** File id, text form. */
  readonly id: string;
  /** Size in bytes. */
  readonly size: number;
  /** Number of data blocks. */
  readonly blocks: number;
  /** Data block size. */
  readonly blockSize: number;
  /** The policy the file records (absent: a version 1 file, kept as the node's default). */
  readonly redundancy?: string;
  /**
   * When this copy was put here (ms since the epoch); 0 for a copy a peer pushed, and absent
   * (read as 0) in records written before it was kept. A tombstone deletes a copy put before
   * the delete and every pushed copy, not a later put (which revives the file).
   */
  readonly indexedAt?: number;
}

/**
 * The index (see the module doc).
 *
 * @example
 * ```ts ignore
 * const index = await FileIndex.load(store);
 * await index.add({ id, size: 10, blocks: 1, blockSize: 262144 });
 * index.list().map((e) => e.id);
 * ```
 */
export class FileIndex {
  #store: BlockStore;
  #entries = new Map<string, FileIndexEntry>();
  /** Ids listed as children by inner manifests received (bounded; not persisted). */
  #claimed = new Set<string>();

  private constructor(store: BlockStore) {
    this.#store = store;
  }

  /** Loads the index from the store's `file:` entries. Malformed entries are skipped. */
  static async load(store: BlockStore): Promise<FileIndex> {
    const index = new FileIndex(store);
    const keys: string[] = [];
    for await (const e of store.list({ keyed: true })) {
      if (e.key.startsWith(PREFIX)) keys.push(e.key);
    }
    for (const key of keys) {
      try {
        const entry = parseEntry(JSON.parse(dec.decode(await store.readBytes(key))));
        if (entry && PREFIX + entry.id === key) index.#entries.set(entry.id, entry);
      } catch {
        // A corrupt or vanished index record: the file is simply not listed.
      }
    }
    return index;
  }

  /** True when file `id` is indexed. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The entry of file `id`, if indexed. */
  get(id: string): FileIndexEntry | undefined {
    return this.#entries.get(id);
  }

  /** Every indexed file. */
  list(): FileIndexEntry[] {
    return [...this.#entries.values()];
  }

  /** Adds (or replaces) a file. */
  async add(entry: FileIndexEntry): Promise<void> {
    const clean: FileIndexEntry = {
      id: entry.id,
      size: entry.size,
      blocks: entry.blocks,
      blockSize: entry.blockSize,
      ...(entry.redundancy !== undefined ? { redundancy: entry.redundancy } : {}),
      indexedAt: entry.indexedAt ?? Date.now(),
    };
    await this.#store.write(PREFIX + clean.id, enc.encode(JSON.stringify(clean)));
    this.#entries.set(clean.id, clean);
  }

  /** Removes a file from the index (not its blocks). Resolves `true` when it was indexed. */
  async remove(id: string): Promise<boolean> {
    const had = this.#entries.delete(id);
    await this.#store.delete(PREFIX + id);
    return had;
  }

  /**
   * Notes a block received from a peer: a manifest is indexed as a file, and an inner
   * manifest un-indexes the children it lists (see the module doc). Other blocks are ignored.
   * Resolves `true` when the index changed (a file added, or one un-indexed).
   */
  async noteReceived(id: ContentId, bytes: Uint8Array): Promise<boolean> {
    if (!startsWithMagic(bytes)) return false;
    let m;
    try {
      m = decodeManifest(bytes);
    } catch {
      return false;
    }
    if (m.algorithm !== id.algorithm) return false;
    let changed = false;
    if (m.kind === "inner") {
      if (this.#claimed.size > MAX_CLAIMED) this.#claimed.clear();
      for (const c of m.children) {
        const text = c.id.toString();
        this.#claimed.add(text);
        if (this.#entries.has(text)) changed = (await this.remove(text)) || changed;
      }
    }
    // A child whose parent arrived first (blocks are sent several at a time) is not a root.
    if (this.#claimed.has(id.toString())) return changed;
    const blocks = m.kind === "leaf" ? m.children.length : Math.ceil(m.size / m.blockSize);
    await this.add({
      id: id.toString(),
      size: m.size,
      blocks,
      blockSize: m.blockSize,
      ...(m.redundancy ? { redundancy: formatRedundancy(m.redundancy) } : {}),
      // A copy a peer pushed has no put time of its own: any tombstone of the file removes it
      // (a repair push that crossed a delete must not outlive it).
      indexedAt: 0,
    });
    return true;
  }
}

function startsWithMagic(bytes: Uint8Array): boolean {
  if (bytes.length < MANIFEST_MAGIC.length) return false;
  for (let i = 0; i < MANIFEST_MAGIC.length; i++) if (bytes[i] !== MANIFEST_MAGIC[i]) return false;
  return true;
}

function parseEntry(v: unknown): FileIndexEntry | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== "string" || !ContentId.tryParse(o.id)) return null;
  for (const k of ["size", "blocks", "blockSize"]) {
    if (typeof o[k] !== "number" || !Number.isSafeInteger(o[k]) || (o[k] as number) < 0) {
      return null;
    }
  }
  if (o.indexedAt !== undefined && (typeof o.indexedAt !== "number" || !(o.indexedAt >= 0))) {
    return null;
  }
  if (o.redundancy !== undefined) {
    try {
      parseRedundancy(String(o.redundancy));
    } catch {
      return null;
    }
  }
  return o as unknown as FileIndexEntry;
}
