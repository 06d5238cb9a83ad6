/**
 * Test doubles for node unit tests: a Map-backed BlockStore and a RemotePeer over one.
 *
 * @module
 */

import { NotFoundError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import type {
  BlockStore,
  EntryInfo,
  StoreInput,
  StoreKey,
  StoreStats,
} from "../../src/store/types.ts";
import type { NameRecord } from "../../src/node/types.ts";
import type { RemoteCallOptions, RemotePeer } from "../../src/node/remote.ts";
import { DfsError } from "../../src/errors.ts";
import { concatBytes } from "../../src/util/concat.ts";
import type { FileProbeResult } from "../../src/peer/block_service.ts";
import type { WireTombstone } from "../../src/wire/messages.ts";

async function collect(data: StoreInput): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data.slice();
  const parts: Uint8Array[] = [];
  for await (const c of data) parts.push(c);
  return concatBytes(parts);
}

/** A Map-backed BlockStore (verifies content ids on write). */
export class MemStore implements BlockStore {
  readonly map = new Map<string, Uint8Array>();

  async put(data: StoreInput): Promise<ContentId> {
    const bytes = await collect(data);
    const id = await ContentId.of(bytes);
    this.map.set(id.toString(), bytes);
    return id;
  }
  async write(key: StoreKey, data: StoreInput): Promise<EntryInfo> {
    const bytes = await collect(data);
    const id = await ContentId.of(bytes);
    const k = key.toString();
    const asId = ContentId.tryParse(k);
    if (asId && !(await asId.matches(bytes))) {
      throw new DfsError("CORRUPT_BLOCK", `bytes do not match ${k}`);
    }
    this.map.set(k, bytes);
    return { key: k, id, size: bytes.length };
  }
  read(key: StoreKey): Promise<ReadableStream<Uint8Array>> {
    return this.readBytes(key).then((b) => new Blob([b as Uint8Array<ArrayBuffer>]).stream());
  }
  readBytes(key: StoreKey): Promise<Uint8Array> {
    const b = this.map.get(key.toString());
    if (!b) return Promise.reject(new NotFoundError(`no entry ${key}`));
    return Promise.resolve(b.slice());
  }
  has(key: StoreKey): Promise<boolean> {
    return Promise.resolve(this.map.has(key.toString()));
  }
  async info(key: StoreKey): Promise<EntryInfo | null> {
    const b = this.map.get(key.toString());
    return b ? { key: key.toString(), id: await ContentId.of(b), size: b.length } : null;
  }
  delete(key: StoreKey): Promise<boolean> {
    return Promise.resolve(this.map.delete(key.toString()));
  }
  clear(): Promise<void> {
    this.map.clear();
    return Promise.resolve();
  }
  async *list(): AsyncIterable<EntryInfo> {
    for (const [key, b] of this.map) yield { key, id: await ContentId.of(b), size: b.length };
  }
  stats(): Promise<StoreStats> {
    let bytes = 0;
    for (const b of this.map.values()) bytes += b.length;
    return Promise.resolve({ count: this.map.size, bytes });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A RemotePeer over a MemStore, with knobs to misbehave. */
export class FakePeer implements RemotePeer {
  readonly nodeId: string;
  readonly store = new MemStore();
  readonly names = new Map<string, NameRecord>();
  /** Tombstones received (`sendTombstone`) or planted, by file id text; `probe` returns them. */
  readonly tombstones = new Map<string, WireTombstone>();
  /** Block ids (text) whose bytes this peer corrupts when serving; the fetcher must notice. */
  readonly corrupt = new Set<string>();
  /** When set, every call rejects with this. */
  failWith: Error | null = null;
  gets = 0;
  puts = 0;
  hasCalls = 0;
  deletes = 0;

  constructor(nodeId: string) {
    this.nodeId = nodeId;
  }
  #check(options?: RemoteCallOptions): void {
    options?.signal?.throwIfAborted();
    if (this.failWith) throw this.failWith;
  }
  async has(ids: readonly ContentId[], options?: RemoteCallOptions): Promise<boolean[]> {
    this.#check(options);
    this.hasCalls++;
    return await Promise.all(ids.map((id) => this.store.has(id)));
  }
  async getBlock(id: ContentId, options?: RemoteCallOptions): Promise<Uint8Array> {
    this.#check(options);
    this.gets++;
    const bytes = await this.store.readBytes(id);
    if (this.corrupt.has(id.toString())) {
      bytes[0] ^= 0xff;
      // A real connection verifies and rejects, as the peer layer does.
      if (!(await id.matches(bytes))) {
        throw new DfsError("PEER_CORRUPT_DATA", `block ${id} from ${this.nodeId} is corrupt`);
      }
    }
    return bytes;
  }
  async putBlock(id: ContentId, bytes: Uint8Array, options?: RemoteCallOptions): Promise<void> {
    this.#check(options);
    this.puts++;
    await this.store.write(id, bytes);
  }
  async deleteBlock(id: ContentId, options?: RemoteCallOptions): Promise<void> {
    this.#check(options);
    this.deletes++;
    await this.store.delete(id);
  }
  async probe(
    fileId: ContentId,
    ids: readonly ContentId[],
    options?: RemoteCallOptions,
  ): Promise<FileProbeResult> {
    this.#check(options);
    this.hasCalls++;
    const has = await Promise.all(ids.map((id) => this.store.has(id)));
    const tombstone = this.tombstones.get(fileId.toString());
    return tombstone ? { has, tombstone } : { has };
  }
  sendTombstone(tombstone: WireTombstone, options?: RemoteCallOptions): Promise<void> {
    this.#check(options);
    this.tombstones.set(ContentId.fromBytes(tombstone.fileId).toString(), tombstone);
    return Promise.resolve();
  }
  getName(name: string, options?: RemoteCallOptions): Promise<NameRecord | null> {
    this.#check(options);
    return Promise.resolve(this.names.get(name) ?? null);
  }
  putName(record: NameRecord, options?: RemoteCallOptions): Promise<void> {
    this.#check(options);
    this.names.set(record.name, record);
    return Promise.resolve();
  }
}
