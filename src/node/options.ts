/**
 * The node's options, with every default filled in one place ({@linkcode resolveNodeOptions}).
 *
 * @module
 */

import type { DhtTuning } from "../dht/options.ts";
import { type Logger, withCategory } from "../util/log.ts";
import { logtapeLogger } from "./logtape_logger.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { NetAddress, Runtime } from "../runtime/types.ts";
import type { BlockStore } from "../store/types.ts";
import type { PeerOptions } from "../peer/options.ts";
import { checkClusterKey } from "../peer/cluster_key.ts";
import { checkRedundancy, parseRedundancy, type Redundancy } from "../file/redundancy.ts";
import { resolveUpkeepOptions, type UpkeepOptions } from "./durability/options.ts";

/** Timeouts of the node's own operations, in milliseconds. */
export interface NodeTimeouts {
  /** One remote block request (HAS, GET_BLOCK, PUT_BLOCK, DELETE) (default 30000). */
  readonly requestMs: number;
}

/**
 * How a node logs: a level, a message, structured fields and the category of the part that
 * logs (`dfs.node`, `dfs.peer`, `dfs.dht`, `dfs.store`, `dfs.repair`). See `src/util/log.ts`.
 */
export type NodeLogger = Logger;

/** What {@linkcode import("./node.ts").Node.start} accepts. Only `runtime` is required. */
export interface NodeOptions {
  /** The runtime (files, TCP, HTTP). */
  readonly runtime: Runtime;
  /** Directory of the node's key and block store (default `.dfs`). */
  readonly dataDir?: string;
  /** P2P listen address, as `{hostname, port}` or `"host:port"` (default `127.0.0.1:0`). */
  readonly listen?: NetAddress | string;
  /** Peers to dial at start (and redial with backoff). */
  readonly bootstrap?: readonly (NetAddress | string)[];
  /** Copies of every file in all, the local one included (default 3): `replicas:N`. */
  readonly replication?: number;
  /**
   * The default redundancy policy of a put (`replicas:3`, `replicas:2-4`, `rs:4+2`, or the
   * parsed form). Default: `replicas:<replication>`. Each file records its own policy.
   */
  readonly redundancy?: Redundancy | string;
  /** Repair, scrubbing, garbage collection and tombstone knobs (`durability/options.ts`). */
  readonly upkeep?: Partial<UpkeepOptions>;
  /**
   * Data block size in bytes (default 1 MiB: a remote get costs ~20% less CPU per byte than with
   * 256 KiB blocks, the per-block costs being a file open, a request and a verification each).
   */
  readonly blockSize?: number;
  /** Timeouts (defaults above). */
  readonly timeouts?: Partial<NodeTimeouts>;
  /** Blocks in flight per replication and per read (default 8). */
  readonly concurrency?: number;
  /** Keep blocks fetched from peers in the local store (default false). */
  readonly cacheFetched?: boolean;
  /**
   * Node ids (hex) that reads ask first for every block, ahead of the least busy holder
   * (default none). For tests that must make a read meet a chosen holder's copy.
   */
  readonly preferPeers?: readonly string[];
  /** Flush every block write to disk (`"fsync"`, the default) or leave it to the OS (`"none"`). */
  readonly durability?: "fsync" | "none";
  /**
   * Most bytes the node's store may hold (default: no bound). Past it, puts fail with
   * `StoreFullError` and peers' blocks are refused (they answer LIMIT; the put that sent them
   * reports fewer copies).
   */
  readonly maxStoreBytes?: number;
  /**
   * Most bytes of new blocks the node accepts from one peer's pushes, counted across restarts
   * (default: no bound); past it the peer's pushes are answered LIMIT. See
   * `src/node/peer_store_quota.ts`.
   */
  readonly maxStorePerPeer?: number;
  /** Peer layer knobs (heartbeats, limits such as `maxConnections`, backoff, idle close). */
  readonly peer?: Partial<PeerOptions>;
  /**
   * DHT knobs (k, alpha, timeouts, record lifetimes and republish intervals; `src/dht/options.ts`
   * has the defaults). The clock and randomness are for simulations.
   */
  readonly dht?: DhtTuning;
  /** Use this store instead of opening one under `dataDir` (tests). The node closes it. */
  readonly store?: BlockStore;
  /**
   * Log sink, called with a category (`dfs.node`, `dfs.peer`, `dfs.dht`, `dfs.store`,
   * `dfs.repair`). Default: records go to logtape's `getLogger(category)`, which writes nothing
   * until the application configures logtape (the `dfs` command does).
   */
  readonly log?: NodeLogger;
  /**
   * Makes the cluster private: only nodes started with the same key (16..1024 raw bytes, e.g.
   * 32 random ones) complete a handshake with this node, so only they can store, fetch or delete
   * here. Absent (the default): an open cluster, any node that reaches the P2P port may join.
   * The key is copied, never logged, and not part of `status()`. It proves membership; it does not
   * encrypt traffic.
   */
  readonly clusterKey?: Uint8Array;
  /**
   * `noise` (the default): every peer connection is encrypted and authenticated (Noise XX,
   * XXpsk3 with a cluster key). `plaintext` is for tests and benches only (`--insecure-plaintext`):
   * traffic travels in clear, and the two modes do not talk to each other.
   */
  readonly encryption?: "noise" | "plaintext";
}

/** {@linkcode NodeOptions} with every default filled in. */
export interface ResolvedNodeOptions {
  /** The runtime. */
  readonly runtime: Runtime;
  /** Data directory. */
  readonly dataDir: string;
  /** P2P listen address. */
  readonly listen: NetAddress;
  /** Bootstrap addresses. */
  readonly bootstrap: readonly NetAddress[];
  /** Copies in all, the local one included (the default policy's max for replicas). */
  readonly replication: number;
  /** The default redundancy policy of a put. */
  readonly redundancy: Redundancy;
  /** Repair, scrub, GC and tombstone knobs. */
  readonly upkeep: UpkeepOptions;
  /** Data block size in bytes. */
  readonly blockSize: number;
  /** Timeouts in ms. */
  readonly timeouts: NodeTimeouts;
  /** Blocks in flight per replication and per read. */
  readonly concurrency: number;
  /** Keep fetched blocks locally. */
  readonly cacheFetched: boolean;
  /** Node ids reads ask first for every block. */
  readonly preferPeers: readonly string[];
  /** Store durability. */
  readonly durability: "fsync" | "none";
  /** Most bytes the store may hold, or `undefined` for no bound. */
  readonly maxStoreBytes: number | undefined;
  /** Most bytes accepted from one peer's pushes, or `undefined` for no bound. */
  readonly maxStorePerPeer: number | undefined;
  /** DHT knobs as given (defaults are filled by the DHT). */
  readonly dht: DhtTuning;
  /** Peer layer knobs. */
  readonly peer: Partial<PeerOptions>;
  /** A store given by the caller, if any. */
  readonly store: BlockStore | undefined;
  /** Log sink. */
  readonly log: NodeLogger;
  /**
   * The cluster key (a private copy), or `undefined` for an open cluster. Not enumerable, so
   * printing or serialising the options never shows it.
   */
  readonly clusterKey: Uint8Array | undefined;
  /** How peer connections are protected. */
  readonly encryption: "noise" | "plaintext";
}

/** The defaults of {@linkcode NodeOptions}. */
export const NODE_DEFAULTS: Readonly<{
  dataDir: string;
  listen: NetAddress;
  replication: number;
  blockSize: number;
  timeouts: NodeTimeouts;
  concurrency: number;
}> = Object.freeze({
  dataDir: ".dfs",
  listen: Object.freeze({ hostname: "127.0.0.1", port: 0 }),
  replication: 3,
  blockSize: 256 * 1024,
  timeouts: Object.freeze({ requestMs: 30_000 }),
  concurrency: 8,
});

/**
 * Parses `"host:port"` (IPv6 as `[::1]:port`) or passes an address object through, checked.
 * Throws {@linkcode InvalidArgumentError} on anything else.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./options.ts";
 * parseAddress("127.0.0.1:4000"); // { hostname: "127.0.0.1", port: 4000 }
 * parseAddress(":4000"); // { hostname: "127.0.0.1", port: 4000 }
 * ```
 */
export function parseAddress(value: NetAddress | string): NetAddress {
  if (typeof value !== "string") {
    checkPort(value?.port, JSON.stringify(value));
    if (typeof value.hostname !== "string" || value.hostname === "") {
      throw new InvalidArgumentError(`address needs a hostname: ${JSON.stringify(value)}`);
    }
    return { hostname: value.hostname, port: value.port };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected "host:port", got ${JSON.stringify(value)}`);
  const port = Number(m[3]);
  checkPort(port, value);
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}

// "host:port" ([v6]:port for IPv6): the peer layer's formatter, one for the whole module.
export { formatAddress } from "../peer/address.ts";

function checkPort(port: unknown, what: string): void {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`port must be 0..65535 in ${what}`);
  }
}

/**
 * Fills in the defaults and checks the values (a `clusterKey` must be 16..1024 bytes). Throws
 * {@linkcode InvalidArgumentError}.
 *
 * @example
 * ```ts ignore
 * const opts = resolveNodeOptions({ runtime, bootstrap: ["127.0.0.1:4000"] });
 * opts.replication; // 3
 * ```
 */
export function resolveNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  if (!options || !options.runtime) throw new InvalidArgumentError("node options need a runtime");
  const replication = options.replication ?? NODE_DEFAULTS.replication;
  if (!Number.isInteger(replication) || replication < 1 || replication > 64) {
    throw new InvalidArgumentError(`replication must be 1..64, got ${replication}`);
  }
  const redundancy = options.redundancy === undefined
    ? { kind: "replicas" as const, min: replication, max: replication }
    : typeof options.redundancy === "string"
    ? parseRedundancy(options.redundancy)
    : checkRedundancy(options.redundancy);
  const blockSize = options.blockSize ?? NODE_DEFAULTS.blockSize;
  if (!Number.isInteger(blockSize) || blockSize < 1024 || blockSize > 4 * 1024 * 1024) {
    throw new InvalidArgumentError(`blockSize must be 1 KiB..4 MiB, got ${blockSize}`);
  }
  const max = options.maxStoreBytes;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 0)) {
    throw new InvalidArgumentError(`maxStoreBytes must be a non-negative integer, got ${max}`);
  }
  const perPeer = options.maxStorePerPeer;
  if (perPeer !== undefined && (!Number.isSafeInteger(perPeer) || perPeer < 1)) {
    throw new InvalidArgumentError(`maxStorePerPeer must be a positive integer, got ${perPeer}`);
  }
  if (max !== undefined && options.store !== undefined) {
    throw new InvalidArgumentError(
      "maxStoreBytes bounds the store the node opens; give your own store its maxBytes instead",
    );
  }
  const concurrency = options.concurrency ?? NODE_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new InvalidArgumentError(`concurrency must be 1..64, got ${concurrency}`);
  }
  const timeouts = { ...NODE_DEFAULTS.timeouts, ...stripUndefined(options.timeouts ?? {}) };
  for (const [k, v] of Object.entries(timeouts)) {
    if (typeof v !== "number" || !(v > 0)) {
      throw new InvalidArgumentError(`timeout ${k} must be a positive number, got ${v}`);
    }
  }
  const clusterKey = checkClusterKey(options.clusterKey);
  const peer: Partial<PeerOptions> = { ...(options.peer ?? {}) };
  const resolved: Omit<ResolvedNodeOptions, "clusterKey"> = {
    runtime: options.runtime,
    dataDir: options.dataDir ?? NODE_DEFAULTS.dataDir,
    listen: parseAddress(options.listen ?? NODE_DEFAULTS.listen),
    bootstrap: (options.bootstrap ?? []).map(parseAddress),
    replication: redundancy.kind === "replicas" ? redundancy.max : replication,
    redundancy,
    upkeep: resolveUpkeepOptions(options.upkeep),
    blockSize,
    timeouts,
    concurrency,
    cacheFetched: options.cacheFetched ?? false,
    preferPeers: options.preferPeers ?? [],
    durability: options.durability ?? "fsync",
    maxStoreBytes: options.maxStoreBytes,
    maxStorePerPeer: perPeer,
    peer,
    dht: { ...(options.dht ?? {}) },
    store: options.store,
    log: withCategory(options.log ?? logtapeLogger, "dfs.node"),
    encryption: options.encryption ?? "noise",
  };
  // Not enumerable: printing or serialising the options (`node.options`) shows no key bytes.
  Object.defineProperty(resolved, "clusterKey", { value: clusterKey, enumerable: false });
  return resolved as ResolvedNodeOptions;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
