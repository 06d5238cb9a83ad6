/**
 * The node — a block store, a peer layer and the policies (placement, replication, fetching,
 * names) wired together behind the {@linkcode DfsNode} contract. See `docs/node.md` for what
 * each operation guarantees.
 *
 * @module
 */

import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import { putFile } from "../file/put_file.ts";
import { readFile } from "../file/read_file.ts";
import { statFile } from "../file/stat_file.ts";
import type { BlockSink, BlockSource } from "../file/types.ts";
import { ContentId } from "../id/content_id.ts";
import type { BlockService } from "../peer/block_service.ts";
import { NodeIdentity } from "../peer/identity.ts";
import { entryFileSize, FsBlockStore } from "../store/block_store.ts";
import { ReadBufferPool } from "../store/read_buffer_pool.ts";
import { leaseRead } from "../store/read_lease.ts";
import type { BlockStore } from "../store/types.ts";
import { acquireDataDirLock, type DataDirLock } from "./data_dir_lock.ts";
import { BlockUnavailableError, IncompleteIndexError, NodeClosedError } from "./errors.ts";
import { BlockFetcher, isNotFound } from "./fetcher.ts";
import { FileIndex } from "./file_index.ts";
import { NameRegistry, validateName } from "./names.ts";
import { type NodeOptions, resolveNodeOptions } from "./options.ts";
import type { ResolvedNodeOptions } from "./options.ts";
import type { PeerLayer, PeerLayerFactory } from "./peer_layer.ts";
import { startPeerLayer } from "./peers.ts";
import type { RemotePeer } from "./remote.ts";
import { type PlacementContext, placeShards, replicateCopies } from "./durability/put_placement.ts";
import {
  formatRedundancy,
  holdersWanted,
  MAX_REPLICAS,
  parseRedundancy,
  type Redundancy,
} from "../file/redundancy.ts";
import type {
  DeleteResult,
  DfsNode,
  DhtFigures,
  DhtInfo,
  DrainReport,
  FileEntry,
  FileInput,
  FileStat,
  GetOptions,
  GetResult,
  NameRecord,
  NodeStatus,
  PeerSummary,
  PutOptions,
  PutResult,
  StatOptions,
} from "./types.ts";
import { walkFileBlocks } from "./walk.ts";
import { type Discovery, holderCandidates, mergePeers, readCandidates } from "./discovery.ts";
import { keyOfContentId } from "../dht/key.ts";
import { DEFAULT_PROVIDER_TTL_MS } from "../dht/providers.ts";
import type { DhtStats } from "../dht/dht.ts";
import { DEFAULT_PEER_OPTIONS } from "../peer/options.ts";
import { DFS_VERSION } from "../version.ts";
import { KeyedMutex } from "../util/keyed_mutex.ts";
import { TombstoneStore } from "./durability/tombstone_store.ts";
import { toWireTombstone } from "./durability/tombstone.ts";
import { Upkeep, type UpkeepHost } from "./durability/upkeep.ts";

/** dfs version reported by {@linkcode Node.status} (defined in `src/version.ts`). */
export { DFS_VERSION };

/** {@linkcode NodeOptions} plus the test seam for the peer layer. */
export interface NodeStartOptions extends NodeOptions {
  /** Builds the peer layer (default: the peer manager over TCP / the runtime's network). */
  readonly peerLayer?: PeerLayerFactory;
}

/**
 * A running dfs node.
 *
 * @example Start a node, store a file, read it back
 * ```ts ignore
 * import { Node } from "./node.ts";
 * const node = await Node.start({ runtime, dataDir: "/tmp/dfs-a", listen: "127.0.0.1:4000" });
 * const { id, copies } = await node.put(new TextEncoder().encode("hello"), { name: "greeting" });
 * const { stream } = await node.get("greeting");
 * console.log(id, copies, await new Response(stream).text());
 * await node.close();
 * ```
 */
export class Node implements DfsNode {
  /** This node's id, hex. */
  readonly nodeId: string;
  #opts: ResolvedNodeOptions;
  #store: BlockStore;
  #index: FileIndex;
  #names: NameRegistry;
  #identity: NodeIdentity;
  #tombstones!: TombstoneStore;
  #upkeep: Upkeep | undefined;
  #peers!: PeerLayer;
  #started = Date.now();
  #closed = false;
  #closing: Promise<void> | undefined;
  #lock: DataDirLock | undefined;
  #badBlocks = new Map<string, number>();
  #corruptHolders = new Map<string, number>();
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

  private constructor(
    opts: ResolvedNodeOptions,
    identity: NodeIdentity,
    store: BlockStore,
    index: FileIndex,
  ) {
    this.#opts = opts;
    this.nodeId = identity.nodeIdHex;
    this.#identity = identity;
    this.#store = store;
    this.#index = index;
    this.#names = new NameRegistry({
      store,
      signer: identity,
      dht: () => this.#peers?.dht,
      ttlMs: opts.dht.nameTtlMs ?? DEFAULT_PROVIDER_TTL_MS,
    });
  }

  /**
   * Takes the data directory's `LOCK` (see `data_dir_lock.ts`), opens the store under `dataDir`
   * (or uses `options.store`), loads or creates the node's key, starts the peer layer (listen +
   * bootstrap). The HTTP API is served by the caller (`createApiHandler` in `src/api/`), not by
   * the node. Rejects with `InvalidArgumentError` for bad options, `DataDirLockedError` when
   * another live node holds `dataDir`, or the first layer's start error.
   */
  static async start(options: NodeStartOptions): Promise<Node> {
    const opts = resolveNodeOptions(options);
    const { fs } = opts.runtime;
    // The lock first: a second node on this directory must not touch its key or its store.
    const proc = opts.runtime.process;
    const lock = await acquireDataDirLock(fs, opts.dataDir, {
      pid: proc?.pid,
      isProcessAlive: proc?.isProcessAlive ? (pid) => proc.isProcessAlive!(pid) : undefined,
    });
    let identity: NodeIdentity;
    let node: Node;
    try {
      identity = await NodeIdentity.loadOrCreate(fs, opts.dataDir);
      const store = opts.store ??
        await FsBlockStore.open({
          fs,
          root: `${opts.dataDir}/blocks`,
          durability: opts.durability,
          maxBytes: opts.maxStoreBytes,
        });
      node = new Node(opts, identity, store, await FileIndex.load(store));
      node.#tombstones = await TombstoneStore.load(store);
    } catch (err) {
      await lock.release();
      throw err;
    }
    node.#lock = lock;
    try {
      const factory = options.peerLayer ?? startPeerLayer;
      node.#peers = await factory({
        runtime: opts.runtime,
        identity,
        listen: opts.listen,
        bootstrap: opts.bootstrap,
        blocks: node.#blockService(),
        dht: opts.dht,
        onNamePublished: (record) => node.#names.keep(record),
        peer: opts.peer,
        log: opts.log,
        clusterKey: opts.clusterKey,
      });
    } catch (err) {
      await node.close().catch(() => {});
      throw err;
    }
    const dht = node.#peers.dht;
    if (dht) {
      await node.#names.adopt(dht);
      // Hold out every file kept here as a provider again (in the background, a few at once).
      for (const f of node.#index.list()) dht.provideSoon(keyOfContentId(ContentId.parse(f.id)));
    }
    node.#upkeep = new Upkeep(node.#upkeepHost());
    node.#upkeep.start();
    opts.log("info", "node started", { nodeId: node.nodeId, address: node.address });
    return node;
  }

  /** The P2P listen address, "host:port". */
  get address(): string {
    return this.#peers.address;
  }

  /** The node's options, defaults filled in. */
  get options(): ResolvedNodeOptions {
    return this.#opts;
  }

  // ------------------------------------------------------------------ put

  /**
   * Chunks `input` into the local store, then pushes the file to the `copies - 1` connected
   * peers closest to its id (trying further peers when one fails) and, with `name`, binds the
   * name. Resolves once the copies are confirmed or no candidate is left: `copies` says how
   * many copies hold the whole file, the local one included.
   */
  async put(input: FileInput, options: PutOptions = {}): Promise<PutResult> {
    this.#checkOpen();
    const policy = this.#policyOf(options);
    if (options.name !== undefined) validateName(options.name);
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
    let file: Awaited<ReturnType<typeof putFile>>;
    let id: string;
    try {
      file = await putFile(input, sink, {
        blockSize: this.#opts.blockSize,
        redundancy: policy,
        signal: options.signal,
        onProgress: options.onProgress,
      });
      id = file.id.toString();
      await this.#index.add({
        id,
        size: file.size,
        blocks: file.blocks,
        blockSize: this.#opts.blockSize,
        redundancy: formatRedundancy(policy),
      });
      // Putting a file again after a delete brings it back: the local tombstone goes (other
      // holders keep theirs, but a copy indexed after the delete outlives it).
      await this.#tombstones.remove(id);
      this.#generation++;
      this.#settlePut(touched, false);
    } catch (err) {
      await this.#dropUnused(this.#settlePut(touched, true));
      throw err;
    }
    let copies: number;
    if (policy.kind === "replicas") {
      copies = 1 +
        await replicateCopies(this.#placement(), file.id, policy.max - 1, options.signal);
    } else {
      const placed = await placeShards(
        this.#placement(),
        file.id,
        policy.k + policy.m,
        options.signal,
      );
      await this.#keepOnlyColumns(file.id, placed.local);
      copies = placed.nodes;
    }
    const wanted = holdersWanted(policy);
    await this.#announce(file.id, options.signal);
    if (options.name !== undefined) await this.#names.bind(options.name, id, options.signal);
    const redundancy = formatRedundancy(policy);
    this.#opts.log("info", "put", { id, size: file.size, copies, wanted, redundancy });
    return {
      id,
      size: file.size,
      blocks: file.blocks,
      copies,
      wanted,
      redundancy,
      ...(options.name !== undefined ? { name: options.name } : {}),
    };
  }

  /** The policy of a put: its `redundancy`, else `copies` as replicas, else the node's. */
  #policyOf(options: PutOptions): Redundancy {
    if (options.redundancy !== undefined) return parseRedundancy(options.redundancy);
    const copies = options.copies;
    if (copies === undefined) return this.#opts.redundancy;
    if (!Number.isInteger(copies) || copies < 1 || copies > MAX_REPLICAS) {
      throw new InvalidArgumentError(`copies must be 1..${MAX_REPLICAS}, got ${copies}`);
    }
    return { kind: "replicas", min: copies, max: copies };
  }

  /** What placing a file on other nodes needs of this node. */
  #placement(): PlacementContext {
    return {
      discovery: this.#discovery(),
      remotes: this.#remotes(),
      readBlock: (b, s) => this.#store.readBytes(b, { signal: s }),
      manifests: this.#localSource(),
      concurrency: this.#opts.concurrency,
      timeoutMs: this.#opts.timeouts.requestMs,
      log: this.#opts.log,
    };
  }

  /**
   * After the shard columns of Reed-Solomon file `id` were placed, removes the local shards of
   * the columns other nodes took (unless another local file uses the same bytes). The manifests
   * stay: this node still knows the file.
   */
  async #keepOnlyColumns(id: ContentId, keep: ReadonlySet<number>): Promise<void> {
    const kept = new Set<string>();
    const drop = new Set<string>();
    for await (const b of walkFileBlocks(id, this.#localSource())) {
      const k = b.id.toString();
      if (b.column === undefined || keep.has(b.column)) kept.add(k);
      else drop.add(k);
    }
    for (const k of drop) {
      if (kept.has(k)) continue;
      await this.#deleteIfUnused(ContentId.parse(k), false, id.toString());
    }
  }

  /** Announces this node as a provider of file `id` in the DHT (failures are logged). */
  async #announce(id: ContentId, signal?: AbortSignal): Promise<void> {
    const dht = this.#peers?.dht;
    if (!dht) return;
    try {
      const r = await dht.provide(keyOfContentId(id), { signal });
      this.#opts.log("debug", "announced", { id: id.toString(), stored: r.stored });
    } catch (err) {
      this.#opts.log("warn", "could not announce a file in the DHT", {
        id: id.toString(),
        error: String(err),
      });
    }
  }

  /** What discovery (`discovery.ts`) needs of this node. */
  #discovery(): Discovery {
    return {
      dht: this.#peers?.dht,
      connect: this.#peers?.connect,
      selfId: this.nodeId,
      log: this.#opts.log,
    };
  }

  /** Peers to read file `id` from besides the connected ones (none when its root is here). */
  async #providers(id: ContentId, signal?: AbortSignal): Promise<RemotePeer[]> {
    if (await this.#store.has(id)) return [];
    return await readCandidates(this.#discovery(), id, signal);
  }

  // ------------------------------------------------------------------ get / stat / has

  /** Streams a file (id or name): local blocks first, then peers; verified, in order. */
  async get(idOrName: string, options: GetOptions = {}): Promise<GetResult> {
    this.#checkOpen();
    const id = await this.#resolveId(idOrName, options.signal);
    const providers = await this.#providers(id, options.signal);
    const file = await readFile(id, this.#fetcher(providers), {
      range: options.range,
      concurrency: this.#opts.concurrency,
      signal: options.signal,
    }).catch((err) => this.#rootMissing(err, id));
    return {
      id: id.toString(),
      size: file.size,
      start: file.start,
      end: file.end,
      stream: file.stream,
    };
  }

  /**
   * Describes a file (id or name), reading its manifests from wherever they are. `local` is true
   * for a file in the local index (put here, or completely replicated here) or, otherwise, when
   * every block is in the local store.
   */
  async stat(idOrName: string, options: StatOptions = {}): Promise<FileStat> {
    this.#checkOpen();
    const id = await this.#resolveId(idOrName);
    const providers = await this.#providers(id);
    const source = this.#fetcher(providers);
    const s = await statFile(id, source).catch((err) => this.#rootMissing(err, id));
    const health = options.health && this.#upkeep
      ? await this.#upkeep.health(id, await source.getBlock(id), source)
      : undefined;
    return {
      ...(health ? { health } : {}),
      id: id.toString(),
      size: s.size,
      blocks: s.blocks,
      blockSize: s.blockSize,
      redundancy: formatRedundancy(s.redundancy ?? this.#opts.redundancy),
      ...(s.stripes > 0 ? { stripes: s.stripes } : {}),
      // Indexed files were complete when indexed (put here, or replicated with the root last);
      // checking every block would cost one disk lookup per block on every ranged HTTP read.
      local: this.#index.has(id.toString()) || await this.#isLocal(id),
    };
  }

  /** True when every block of file `id` is in the local store. */
  async has(id: string): Promise<boolean> {
    this.#checkOpen();
    return await this.#isLocal(ContentId.parse(id));
  }

  async #isLocal(id: ContentId): Promise<boolean> {
    try {
      for await (const b of walkFileBlocks(id, this.#localSource())) {
        if (!b.manifest && !(await this.#store.has(b.id))) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  // ------------------------------------------------------------------ delete

  /**
   * Deletes a file (id or name): the local blocks not shared with another local file, then
   * asks every connected peer that holds the root to delete it too (best effort). Rejects with
   * `NotFoundError` when no copy and no manifest of the file was found anywhere. See
   * `docs/node.md` for the guarantees.
   */
  async delete(idOrName: string): Promise<DeleteResult> {
    this.#checkOpen();
    const id = await this.#resolveId(idOrName);
    const providers = await this.#providers(id);
    // List the blocks while the manifests are still reachable (locally or from peers).
    const blocks: ContentId[] = [];
    const seen = new Set<string>();
    let listError: unknown;
    try {
      for await (const b of walkFileBlocks(id, this.#fetcher(providers))) {
        const k = b.id.toString();
        if (!seen.has(k)) {
          seen.add(k);
          blocks.push(b.id);
        }
      }
    } catch (err) {
      // Without the manifests only the root can be named; go on with what we know.
      this.#opts.log("debug", "delete: could not list every block", { error: String(err) });
      if (!seen.has(id.toString())) blocks.push(id);
      listError = err;
    }
    // Root first: once it is gone the file no longer reads as present, even if a later step fails.
    const rootAt = blocks.findIndex((b) => b.equals(id));
    if (rootAt > 0) blocks.unshift(...blocks.splice(rootAt, 1));
    const local = await this.#deleteLocal(id, blocks);
    const remote = await this.#deleteRemote(id, blocks, providers);
    if (!local && remote === 0 && seen.size === 0 && isNotFound(listError)) {
      throw new NotFoundError(`no reachable node has file ${id}`, { cause: listError });
    }
    // A tombstone at the holders and at the nodes closest to the file: a holder that was away
    // drops its copy at its next repair check instead of bringing the file back.
    let tombstones = 0;
    if (this.#upkeep) {
      const closest = await holderCandidates(this.#discovery(), id, this.#remotes());
      tombstones = 1 + (await this.#upkeep.tombstone(id, mergePeers(providers, closest))).told;
    }
    this.#opts.log("info", "delete", { id: id.toString(), local, remote, tombstones });
    return { id: id.toString(), local, remote, tombstones };
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
        await this.#deleteIfUnused(ContentId.parse(k), true);
      } catch (err) {
        this.#opts.log("warn", "could not remove a block of a failed put", {
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
  #deleteIfUnused(id: ContentId, spareReceived = false, exceptFile?: string): Promise<boolean> {
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
  async #deleteLocal(id: ContentId, blocks: readonly ContentId[]): Promise<boolean> {
    const text = id.toString();
    const indexed = await this.#index.remove(text);
    if (indexed) {
      this.#generation++;
      this.#peers?.dht?.unprovide(keyOfContentId(id)); // no longer held here
    }
    let removed = false;
    // Each block is checked again under its lock: another file, or a put under way, keeps it.
    // (A block that another file's replication, still under way, pushed here lately is not
    // spared: sparing every recent push would make a file replicated here lately undeletable.)
    for (const b of blocks) if (await this.#deleteIfUnused(b)) removed = true;
    return removed || indexed;
  }

  async #deleteRemote(
    id: ContentId,
    blocks: readonly ContentId[],
    providers: readonly RemotePeer[],
  ): Promise<number> {
    const timeoutMs = this.#opts.timeouts.requestMs;
    const results = await Promise.all(
      mergePeers(providers, this.#remotes()).map(async (peer) => {
        try {
          const [holds] = await peer.has([id], { timeoutMs });
          if (!holds) return false;
          await peer.deleteBlock(id, { timeoutMs });
          const rest = blocks.filter((b) => !b.equals(id));
          let next = 0;
          const worker = async () => {
            while (next < rest.length) {
              const b = rest[next++];
              await peer.deleteBlock(b, { timeoutMs });
            }
          };
          await Promise.all(Array.from({ length: this.#opts.concurrency }, worker));
          return true;
        } catch (err) {
          this.#opts.log("warn", "remote delete failed", { peer: peer.nodeId, error: String(err) });
          return false;
        }
      }),
    );
    return results.filter(Boolean).length;
  }

  /**
   * Every block of every indexed file, with the file that uses it (`"*"` when several do);
   * cached until the index changes.
   */
  async #sharedBlocks(): Promise<Map<string, string>> {
    return (await this.#sharedScan()).users;
  }

  /**
   * The scan behind {@linkcode Node.#sharedBlocks}; `complete` is false when some indexed file's
   * manifests could not be read (a rotten one waiting for the scrubber): its blocks are then
   * missing from `users`, and garbage collection must not trust the set.
   */
  async #sharedScan(): Promise<{ users: Map<string, string>; complete: boolean }> {
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

  // ------------------------------------------------------------------ list / names / peers

  /** Lists the files in the local index, with the names bound to them locally. */
  async list(): Promise<FileEntry[]> {
    this.#checkOpen();
    const names = new Map<string, string[]>();
    for await (const r of this.#names.list()) {
      const arr = names.get(r.id) ?? [];
      arr.push(r.name);
      names.set(r.id, arr);
    }
    return this.#index.list().map((f) => ({
      id: f.id,
      size: f.size,
      names: (names.get(f.id) ?? []).sort(),
    }));
  }

  /** Resolves a name across the reachable cluster; `NotFoundError` when nobody knows it. */
  async resolveName(name: string): Promise<NameRecord> {
    this.#checkOpen();
    return await this.#names.resolve(name);
  }

  /** Known peers, with the count of bad blocks each sent. */
  peers(): PeerSummary[] {
    if (!this.#peers) return [];
    return this.#peers.summaries().map((p) => {
      const bad = this.#badBlocks.get(p.nodeId);
      return bad ? { ...p, badBlocks: bad } : p;
    });
  }

  /** Node status: identity, address, uptime, peers, store counts, bad-block counters. */
  async status(): Promise<NodeStatus> {
    this.#checkOpen();
    const stats = await this.#store.stats();
    const quarantined = await this.#store.quarantined?.();
    const dht = this.#peers?.dht;
    return {
      nodeId: this.nodeId,
      address: this.address,
      runtime: this.#opts.runtime.name,
      version: DFS_VERSION,
      uptimeMs: Date.now() - this.#started,
      peers: this.#remotes().length,
      store: {
        count: stats.count,
        bytes: stats.bytes,
        ...(this.#opts.maxStoreBytes !== undefined ? { maxBytes: this.#opts.maxStoreBytes } : {}),
      },
      files: this.#index.list().length,
      badBlocks: Object.fromEntries(this.#badBlocks),
      corruptHolders: Object.fromEntries(this.#corruptHolders),
      ...(quarantined !== undefined ? { quarantined } : {}),
      ...(dht ? { dht: dhtFigures(dht.stats()) } : {}),
      ...(this.#upkeep ? { upkeep: this.#upkeep.stats() } : {}),
    };
  }

  /**
   * Hands this node's part of every file off to other nodes before it leaves (see
   * `Upkeep.drain`); the repair loop stops. Close the node afterwards.
   */
  async drain(signal?: AbortSignal): Promise<DrainReport> {
    this.#checkOpen();
    if (!this.#upkeep) return { files: 0, handedOff: 0, failed: 0, bytes: 0 };
    return await this.#upkeep.drain(signal);
  }

  /**
   * Runs one pass of an upkeep loop now, instead of waiting for its schedule: `repair` checks
   * every file (repairing those past their grace period), `scrub` re-verifies every local block
   * (restoring bad ones), `gc` collects unreferenced blocks past their grace period. Resolves
   * with the pass's counts.
   */
  async runUpkeep(kind: "repair" | "scrub" | "gc"): Promise<Record<string, number>> {
    this.#checkOpen();
    if (!this.#upkeep) return {};
    return await this.#upkeep.runPass(kind);
  }

  /** The routing table (per-bucket counts) and DHT figures; null without a DHT. */
  dhtInfo(): DhtInfo | null {
    this.#checkOpen();
    const dht = this.#peers?.dht;
    if (!dht) return null;
    const stats = dht.stats();
    return {
      ...dhtFigures(stats),
      k: dht.tuning.k,
      buckets: stats.buckets,
      connections: this.#remotes().length,
      maxConnections: this.#opts.peer.maxConnections ?? DEFAULT_PEER_OPTIONS.maxConnections,
    };
  }

  /** Closes every connection and the store. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      await this.#upkeep?.close().catch(() => {});
      await this.#peers?.close().catch(() => {});
      await this.#store.close().catch(() => {});
      await this.#lock?.release();
      this.#opts.log("info", "node closed", { nodeId: this.nodeId });
    })();
    return this.#closing;
  }

  // ------------------------------------------------------------------ internals

  #checkOpen(): void {
    if (this.#closed) throw new NodeClosedError();
  }

  #remotes(): RemotePeer[] {
    return this.#peers?.remotes() ?? [];
  }

  async #resolveId(idOrName: string, signal?: AbortSignal): Promise<ContentId> {
    if (typeof idOrName !== "string" || idOrName === "") {
      throw new InvalidArgumentError("expected a file id or a name");
    }
    const id = ContentId.tryParse(idOrName);
    if (id) return id;
    return ContentId.parse((await this.#names.resolve(idOrName, signal)).id);
  }

  /**
   * Rethrows `err`, except that a root block nobody delivers means the file is on no reachable
   * node: say so about the file (a `NotFoundError`), not about "block <id>".
   */
  #rootMissing(err: unknown, id: ContentId): never {
    if (err instanceof BlockUnavailableError && err.blockId === id.toString()) {
      const n = this.#remotes().length;
      throw new NotFoundError(
        `no reachable node has file ${id} (${n} peer${n === 1 ? "" : "s"} connected)`,
        { cause: err },
      );
    }
    throw err;
  }

  #localSource(): BlockSource {
    return { getBlock: (id, o) => this.#store.readBytes(id, { signal: o?.signal }) };
  }

  #fetcher(extra: readonly RemotePeer[] = []): BlockFetcher {
    return new BlockFetcher({
      store: this.#store,
      peers: () => mergePeers(extra, this.#remotes()),
      timeoutMs: this.#opts.timeouts.requestMs,
      cache: this.#opts.cacheFetched,
      onBadBlock: (peer, block, error) => {
        this.#badBlocks.set(peer, (this.#badBlocks.get(peer) ?? 0) + 1);
        this.#opts.log("warn", "peer sent a corrupt block", { peer, block, error: String(error) });
      },
      onCorruptHolder: (peer, block) => {
        this.#corruptHolders.set(peer, (this.#corruptHolders.get(peer) ?? 0) + 1);
        this.#opts.log("warn", "holder's copy is corrupt (it quarantined it)", { peer, block });
      },
      prefer: this.#opts.preferPeers,
    });
  }

  /** What the upkeep loops need of this node. */
  #upkeepHost(): UpkeepHost {
    return {
      selfId: this.nodeId,
      signer: this.#identity,
      store: this.#store,
      index: this.#index,
      tombstones: this.#tombstones,
      defaultPolicy: this.#opts.redundancy,
      options: this.#opts.upkeep,
      timeoutMs: this.#opts.timeouts.requestMs,
      log: this.#opts.log,
      placement: () => this.#placement(),
      candidates: async (id, signal) => {
        const found = await readCandidates(this.#discovery(), id, signal);
        return mergePeers(found, this.#remotes());
      },
      fetcher: (peers) => this.#fetcher(peers),
      dropLocalCopy: async (id) => {
        const blocks: ContentId[] = [];
        try {
          for await (const b of walkFileBlocks(id, this.#localSource())) blocks.push(b.id);
        } catch {
          blocks.push(id);
        }
        return await this.#deleteLocal(id, blocks);
      },
      deleteIfUnused: async (id) => {
        if (!(await this.#sharedScan()).complete) return false;
        return await this.#deleteIfUnused(id, true);
      },
      liveBlocks: async () => {
        const scan = await this.#sharedScan();
        if (!scan.complete) {
          throw new IncompleteIndexError(
            "some indexed file's manifests are unreadable: no block is collected until they are back",
          );
        }
        return new Set(scan.users.keys());
      },
    };
  }

  /** Serves peers' block requests from the local store. */
  #blockService(): BlockService {
    const store = this.#store;
    // Blocks served to peers are read into a few reused buffers (sized for this node's blocks;
    // a larger block, or one served while all are lent, is read into its own array): no fresh
    // 256 KiB per served block. 8 covers a fetching peer's default concurrency.
    const pool = new ReadBufferPool({
      bufferSize: entryFileSize(this.#opts.blockSize),
      maxBuffers: 8,
    });
    return {
      has: (ids) => Promise.all(ids.map((id) => store.has(id))),
      get: async (id) => {
        try {
          return await store.readBytes(id);
        } catch (err) {
          if (isNotFound(err)) return null;
          throw err;
        }
      },
      lease: async (id) => {
        try {
          return await leaseRead(store, id, pool);
        } catch (err) {
          if (isNotFound(err)) return null;
          throw err;
        }
      },
      put: async (id, bytes) => {
        const k = id.toString();
        await this.#blockLocks.run(k, async () => {
          await store.write(id, bytes, { hashed: id }); // the connection verified them
          this.#noteReceived(k);
        });
        if (await this.#index.noteReceived(id, bytes)) {
          this.#generation++;
          // A file is complete here (its root arrived last): hold it out as a provider.
          if (this.#index.has(k)) this.#peers?.dht?.provideSoon(keyOfContentId(id));
        }
      },
      delete: async (id) => {
        const text = id.toString();
        if (this.#index.has(text)) {
          const blocks: ContentId[] = [];
          try {
            for await (const b of walkFileBlocks(id, this.#localSource())) blocks.push(b.id);
          } catch {
            blocks.push(id);
          }
          return await this.#deleteLocal(id, blocks);
        }
        return await this.#deleteIfUnused(id);
      },
      probe: async (fileId, ids) => {
        const t = this.#tombstones.get(fileId);
        const has = await Promise.all(ids.map((id) => store.has(id)));
        return t ? { has, tombstone: toWireTombstone(t) } : { has };
      },
      tombstone: async (t) => {
        if (!this.#upkeep) throw new NodeClosedError();
        if (await this.#upkeep.acceptTombstone(t)) this.#generation++;
      },
    };
  }
}

/** How long a block a peer pushed is spared by a failed local put's cleanup. */
const RECEIVED_GRACE_MS = 10 * 60_000;
/** Most pushed blocks remembered for that (2 GiB of 256 KiB blocks; the oldest go first). */
const MAX_RECEIVED_NOTES = 8192;

/** The figures of `stats` that `status()` shows (all but the per-bucket list). */
function dhtFigures(stats: DhtStats): DhtFigures {
  const { buckets: _buckets, ...figures } = stats;
  return figures;
}
