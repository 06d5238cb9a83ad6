/**
 * The node — a block store, a peer layer and the policies (placement, replication, fetching,
 * names) wired together behind the {@linkcode DfsNode} contract. See `docs/node.md` for what
 * each operation guarantees.
 *
 * @module
 */

import { withCategory } from "../util/log.ts";
import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import { putFile } from "../file/put_file.ts";
import { readFile } from "../file/read_file.ts";
import { statFile } from "../file/stat_file.ts";
import { ContentId } from "../id/content_id.ts";
import { NodeIdentity } from "../peer/identity.ts";
import { FsBlockStore } from "../store/block_store.ts";
import type { BlockStore } from "../store/types.ts";
import { acquireDataDirLock, type DataDirLock } from "./data_dir_lock.ts";
import { ClusterAccess } from "./cluster_access.ts";
import { NodeClosedError } from "./errors.ts";
import { isNotFound } from "./fetcher.ts";
import { FileIndex } from "./file_index.ts";
import { NameRegistry, validateName } from "./names.ts";
import { type NodeOptions, resolveNodeOptions } from "./options.ts";
import type { ResolvedNodeOptions } from "./options.ts";
import type { PeerLayer, PeerLayerFactory } from "./peer_layer.ts";
import { startPeerLayer } from "./peers.ts";
import { LocalBlocks } from "./local_blocks.ts";
import { placeShards, replicateCopies } from "./durability/put_placement.ts";
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
import { directRef, type FileRef, putKey } from "./file_keys.ts";
import { formatCapability } from "../file/capability.ts";
import { mergePeers } from "./discovery.ts";
import { keyOfContentId } from "../dht/key.ts";
import { DEFAULT_PROVIDER_TTL_MS } from "../dht/providers.ts";
import type { DhtStats } from "../dht/dht.ts";
import { DEFAULT_PEER_OPTIONS } from "../peer/options.ts";
import { DFS_VERSION } from "../version.ts";
import { TombstoneStore } from "./durability/tombstone_store.ts";
import { Upkeep, type UpkeepHost } from "./durability/upkeep.ts";
import { openPeerStoreQuota, type PeerStoreQuota } from "./peer_store_quota.ts";
import { serveBlocks } from "./serve_blocks.ts";
import { BadBlockReports } from "./bad_block_reports.ts";

/** dfs version reported by {@linkcode Node.status} (defined in `src/version.ts`). */
export { DFS_VERSION };

/**
 * Blocks of one put in flight at once (hashed, being written, waiting for their group commit):
 * enough for the store's group commits to batch many flushes (see `store/group_commit.ts`), and
 * bounded (16 blocks of 256 KiB: 4 MiB per put).
 */
const PUT_WINDOW = 16;

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
 * const put = await node.put(new TextEncoder().encode("hello"), { name: "greeting" });
 * const { stream } = await node.get(put.capability!); // an encrypted file: by its capability
 * console.log(put.id, put.copies, await new Response(stream).text());
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
  #peerQuota: PeerStoreQuota | undefined;
  /** The local block lifecycle guard: puts, pushes and deletes of local blocks go through it. */
  readonly #blocks: LocalBlocks;
  /** Connected peers, discovery, fetching, placement, announce, remote delete. */
  readonly #cluster: ClusterAccess;
  /** The rate of checks of local copies that peers said were bad (serving and pushing share it). */
  readonly #reports = new BadBlockReports();

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
    this.#blocks = new LocalBlocks({
      store,
      index,
      dht: () => this.#peers?.dht,
      log: withCategory(opts.log, "dfs.store"),
    });
    this.#cluster = new ClusterAccess({
      selfId: this.nodeId,
      store,
      opts,
      reports: this.#reports,
      // A pushed block refused as corrupt whose copy here was found rotten: bring it back.
      onRottenCopy: (id) => this.#upkeep?.restoreSoon(id),
      peers: () => this.#peers,
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
      node.#peerQuota = await openPeerStoreQuota(fs, opts);
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
        blocks: serveBlocks({
          store: node.#store,
          blocks: node.#blocks,
          index: node.#index,
          tombstones: node.#tombstones,
          blockSize: opts.blockSize,
          dht: () => node.#peers?.dht,
          upkeep: () => node.#upkeep,
          quota: node.#peerQuota,
          reports: node.#reports,
        }),
        dht: opts.dht,
        onNamePublished: (record) => node.#names.keep(record),
        peer: opts.peer,
        log: opts.log,
        clusterKey: opts.clusterKey,
        encryption: opts.encryption,
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
    const { key, convergent } = await putKey(input, options);
    // The blocks this put writes stay protected until the file is indexed; a put that fails
    // takes out the blocks it created that nothing else uses (see LocalBlocks.beginPut).
    const put = this.#blocks.beginPut();
    let file: Awaited<ReturnType<typeof putFile>>;
    let id: string;
    try {
      file = await putFile(input, put.sink, {
        blockSize: this.#opts.blockSize,
        redundancy: policy,
        // The node's key owns the file: only its signed tombstone deletes it elsewhere.
        ...(options.owner === false ? {} : { owner: this.#identity.publicKey }),
        ...(key ? { key, convergent } : {}),
        signal: options.signal,
        onProgress: options.onProgress,
        concurrency: PUT_WINDOW,
      });
      id = file.id.toString();
      await this.#index.add({
        id,
        size: file.size,
        blocks: file.blocks,
        blockSize: this.#opts.blockSize,
        redundancy: formatRedundancy(policy),
      });
      this.#blocks.indexChanged();
      put.indexed();
    } catch (err) {
      await put.failed();
      throw err;
    }
    // Putting a file again after its delete brings it back: a signed revival supersedes the
    // tombstone here and, sent before the copies, at the nodes the copies go to.
    if (this.#upkeep) {
      await this.#upkeep.revive(file.id, () => this.#cluster.holders(file.id));
    } else {
      await this.#tombstones.remove(id);
    }
    let copies: number;
    if (policy.kind === "replicas") {
      copies = 1 +
        await replicateCopies(this.#cluster.placement(), file.id, policy.max - 1, options.signal);
    } else {
      const placed = await placeShards(
        this.#cluster.placement(),
        file.id,
        policy.k + policy.m,
        options.signal,
      );
      await this.#blocks.keepOnlyColumns(file.id, placed.local);
      copies = placed.nodes;
    }
    const wanted = holdersWanted(policy);
    await this.#cluster.announce(file.id, options.signal);
    if (options.name !== undefined) {
      await this.#names.bind(options.name, id, options.signal, options.shareKey ? key : undefined);
    }
    const redundancy = formatRedundancy(policy);
    this.#opts.log("info", "put", { id, size: file.size, copies, wanted, redundancy });
    return {
      id,
      ...(key ? { capability: formatCapability(file.id, key) } : {}),
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

  // ------------------------------------------------------------------ get / stat / has

  /** Streams a file (id or name): local blocks first, then peers; verified, in order. */
  async get(idOrName: string, options: GetOptions = {}): Promise<GetResult> {
    this.#checkOpen();
    const { id, key } = await this.#resolveRef(idOrName, options.signal);
    const providers = await this.#cluster.providers(id, options.signal);
    const file = await readFile(id, this.#cluster.fetcher(providers), {
      range: options.range,
      ...(key ? { key } : {}),
      concurrency: this.#opts.concurrency,
      signal: options.signal,
      onEnd: options.onEnd,
    }).catch((err) => this.#cluster.rootMissing(err, id));
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
    const { id, capability } = await this.#resolveRef(idOrName);
    const providers = await this.#cluster.providers(id);
    const source = this.#cluster.fetcher(providers);
    const s = await statFile(id, source).catch((err) => this.#cluster.rootMissing(err, id));
    const health = options.health && this.#upkeep
      ? await this.#upkeep.health(id, await source.getBlock(id), source)
      : undefined;
    return {
      ...(health ? { health } : {}),
      id: id.toString(),
      size: s.size,
      ...(s.encrypted ? { encrypted: true as const } : {}),
      ...(capability ? { capability } : {}),
      blocks: s.blocks,
      blockSize: s.blockSize,
      redundancy: formatRedundancy(s.redundancy ?? this.#opts.redundancy),
      ...(s.stripes > 0 ? { stripes: s.stripes } : {}),
      // Indexed files were complete when indexed (put here, or replicated with the root last);
      // checking every block would cost one disk lookup per block on every ranged HTTP read.
      local: this.#index.has(id.toString()) || await this.#blocks.holdsFile(id),
    };
  }

  /** True when every block of file `id` is in the local store. */
  async has(id: string): Promise<boolean> {
    this.#checkOpen();
    return await this.#blocks.holdsFile(ContentId.parse(id));
  }

  // ------------------------------------------------------------------ delete

  /**
   * Deletes a file (id or name): the local blocks not shared with another local file, then
   * signs a tombstone and offers it to every holder found and to the nodes closest to the file,
   * which drop their copies (best effort; peers never delete on an unsigned request). Rejects with
   * `NotFoundError` when no copy and no manifest of the file was found anywhere. See
   * `docs/node.md` for the guarantees.
   */
  async delete(idOrName: string): Promise<DeleteResult> {
    this.#checkOpen();
    const id = await this.#resolveId(idOrName);
    const providers = await this.#cluster.providers(id);
    // List the blocks while the manifests are still reachable (locally or from peers).
    const blocks: ContentId[] = [];
    const seen = new Set<string>();
    let listError: unknown;
    try {
      for await (const b of walkFileBlocks(id, this.#cluster.fetcher(providers))) {
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
    const local = await this.#blocks.deleteLocal(id, blocks);
    // Peers delete only on a signed tombstone (never on a bare DELETE): it goes to the holders,
    // which drop their copies, and to the nodes closest to the file, so that a holder that was
    // away drops its copy at its next repair check instead of bringing the file back.
    const holders = await this.#cluster.rootHolders(id, providers);
    if (!local && holders.length === 0 && seen.size === 0 && isNotFound(listError)) {
      throw new NotFoundError(`no reachable node has file ${id}`, { cause: listError });
    }
    let tombstones = 0;
    let remote = 0;
    if (this.#upkeep) {
      const closest = await this.#cluster.holders(id);
      const sent = await this.#upkeep.tombstone(id, mergePeers(holders, closest));
      tombstones = 1 + sent.told;
      remote = holders.filter((h) => sent.tookIt.has(h.nodeId)).length;
    }
    this.#opts.log("info", "delete", { id: id.toString(), local, remote, tombstones });
    return { id: id.toString(), local, remote, tombstones };
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
      const bad = this.#cluster.badBlocks.get(p.nodeId);
      return bad ? { ...p, badBlocks: bad } : p;
    });
  }

  /** Node status: identity, address, uptime, peers, store counts, bad-block counters. */
  async status(): Promise<NodeStatus> {
    this.#checkOpen();
    const stats = await this.#store.stats();
    const quarantined = await this.#store.quarantined?.();
    const dht = this.#peers?.dht, traffic = this.#peers?.traffic;
    return {
      nodeId: this.nodeId,
      address: this.address,
      runtime: this.#opts.runtime.name,
      version: DFS_VERSION,
      uptimeMs: Date.now() - this.#started,
      peers: this.#cluster.remotes().length,
      store: {
        count: stats.count,
        bytes: stats.bytes,
        ...(this.#opts.maxStoreBytes !== undefined ? { maxBytes: this.#opts.maxStoreBytes } : {}),
      },
      files: this.#index.list().length,
      badBlocks: Object.fromEntries(this.#cluster.badBlocks),
      corruptHolders: Object.fromEntries(this.#cluster.corruptHolders),
      ...(quarantined !== undefined ? { quarantined } : {}),
      fetched: this.#cluster.fetched,
      ...(traffic ? { traffic: { sent: traffic.sent, received: traffic.received } } : {}),
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
      connections: this.#cluster.remotes().length,
      maxConnections: this.#opts.peer.maxConnections ?? DEFAULT_PEER_OPTIONS.maxConnections,
    };
  }

  /** Closes every connection and the store. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      await this.#upkeep?.close().catch(() => {});
      await this.#peers?.close().catch(() => {});
      await this.#peerQuota?.close();
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

  async #resolveId(idOrName: string, signal?: AbortSignal): Promise<ContentId> {
    return (await this.#resolveRef(idOrName, signal)).id;
  }

  /** A file id, a read capability, or a name (that maps to either). */
  async #resolveRef(idOrName: string, signal?: AbortSignal): Promise<FileRef> {
    if (typeof idOrName !== "string" || idOrName === "") {
      throw new InvalidArgumentError("expected a file id, a read capability or a name");
    }
    const direct = directRef(idOrName);
    if (direct) return direct;
    const record = await this.#names.resolve(idOrName, signal);
    return directRef(record.capability ?? record.id) ?? { id: ContentId.parse(record.id) };
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
      privateCluster: this.#opts.clusterKey !== undefined,
      options: this.#opts.upkeep,
      timeoutMs: this.#opts.timeouts.requestMs,
      log: withCategory(this.#opts.log, "dfs.repair"),
      placement: () => this.#cluster.placement(),
      candidates: (id, signal) => this.#cluster.candidates(id, signal),
      fetcher: (peers) => this.#cluster.fetcher(peers),
      dropLocalCopy: (id) => this.#blocks.dropLocalCopy(id),
      deleteIfUnused: (id) => this.#blocks.collectIfUnused(id),
      liveBlocks: () => this.#blocks.liveBlocks(),
    };
  }
}

/** The figures of `stats` that `status()` shows (all but the per-bucket list). */
function dhtFigures(stats: DhtStats): DhtFigures {
  const { buckets: _buckets, ...figures } = stats;
  return figures;
}
