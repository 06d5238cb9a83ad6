/**
 * The public shape of a running dfs node, as the HTTP API and the command line see it.
 * `src/node/node.ts` implements it; `src/api/` and `src/cli/` depend only on this file.
 *
 * @module
 */

import type { DhtStats } from "../dht/dht.ts";
import type { BucketCount } from "../dht/routing_table.ts";

/** Bytes in: a whole array or a stream. */
export type FileInput = Uint8Array | ReadableStream<Uint8Array>;

/** Options for {@linkcode DfsNode.put}. */
export interface PutOptions {
  /** Also bind this name to the new file id (a record signed by this node, see docs/node.md). */
  readonly name?: string;
  /**
   * With `name` and an encrypted file: the name maps to the read capability, key included, so
   * whoever resolves the name can read the file (a name is public). Default false: the name
   * maps to the file id alone, and reading still needs the capability.
   */
  readonly shareKey?: boolean;
  /**
   * How the file is stored (default `true`):
   * - `true`: encrypted under a fresh random key; the put returns the read `capability`;
   * - `"convergent"`: encrypted under a key derived from the bytes, so the same bytes give the
   *   same id and share blocks (anyone holding the same file can confirm you stored it: see
   *   docs/node.md, "Security"). A stream is read once: give its `convergentKey` (computed with
   *   `convergentKey()` from a first read of a re-readable source); bytes need none;
   * - `false`: plaintext ("public"), readable by id, deduplicated across puts.
   */
  readonly encrypt?: boolean | "convergent";
  /**
   * Record this node's key as the file's owner in its root manifest (default `true`): only the
   * owner's signed tombstone then deletes the file on other nodes. `false` makes an ownerless
   * file, deleted by any node's signed tombstone, whose id is the same whichever node puts the
   * same bytes with the same options (content meant to be shared by id).
   */
  readonly owner?: boolean;
  /** `encrypt: "convergent"` of a stream: its convergent key (32 bytes, `convergentKey()`). */
  readonly convergentKey?: Uint8Array;
  /** Total copies wanted, including the local one: short for `redundancy: "replicas:N"`. */
  readonly copies?: number;
  /**
   * The file's redundancy policy (`replicas:3`, `replicas:2-4`, `rs:4+2`; default: the node's
   * `redundancy`). Recorded in the file's manifests, so it is part of the file id.
   */
  readonly redundancy?: string;
  /** Called with the number of bytes taken in so far. */
  readonly onProgress?: (bytes: number) => void;
  /** Cancels the put. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode DfsNode.put} reports. */
export interface PutResult {
  /** File id (text form of the manifest's content id). */
  readonly id: string;
  /**
   * Encrypted files: the read capability `dfs:r:<id>:<key>`, the one string that reads the
   * file (absent for a public file, read by `id`).
   */
  readonly capability?: string;
  /** File size in bytes. */
  readonly size: number;
  /** Number of data blocks. */
  readonly blocks: number;
  /**
   * Replicas: nodes that hold the whole file when put resolved, the local one included.
   * Reed-Solomon: shard columns (0..k+m) placed on a node.
   */
  readonly copies: number;
  /** Copies (replicas: the policy's max) or shard columns (k + m) that were asked for. */
  readonly wanted: number;
  /** The file's redundancy policy, e.g. `"replicas:3"` or `"rs:4+2"`. */
  readonly redundancy: string;
  /** The name bound, if one was given. */
  readonly name?: string;
}

/** A byte range, `end` inclusive (as in HTTP). */
export interface ByteRange {
  /** First byte. */
  readonly start: number;
  /** Last byte, inclusive; default the last byte of the file. */
  readonly end?: number;
}

/** Options for {@linkcode DfsNode.get}. */
export interface GetOptions {
  /** Only these bytes. */
  readonly range?: ByteRange;
  /** Cancels the get. */
  readonly signal?: AbortSignal;
  /**
   * Called once when the returned stream ends: `"ok"` after its last byte, `"error"` when it
   * fails, `"cancelled"` when its consumer cancels it first (not when `get` itself rejects).
   */
  readonly onEnd?: (outcome: "ok" | "error" | "cancelled") => void;
}

/** What {@linkcode DfsNode.get} returns. */
export interface GetResult {
  /** File id. */
  readonly id: string;
  /** Size of the whole file. */
  readonly size: number;
  /** The range delivered (`start`..`end` inclusive); the whole file when none was asked. */
  readonly start: number;
  /** Last byte delivered, inclusive (-1 for an empty file). */
  readonly end: number;
  /** The bytes, verified block by block, in order, with backpressure. */
  readonly stream: ReadableStream<Uint8Array>;
}

/** What {@linkcode DfsNode.drain} did. */
export interface DrainReport {
  /** Files held here. */
  readonly files: number;
  /** Files now at target without this node (copies or shard columns re-created elsewhere). */
  readonly handedOff: number;
  /** Files that would fall below target and could not be handed off (no node took them). */
  readonly failed: number;
  /** Bytes pushed. */
  readonly bytes: number;
}

/** Options for {@linkcode DfsNode.stat}. */
export interface StatOptions {
  /** Also probe the file's holders and report its health (a few requests; default false). */
  readonly health?: boolean;
}

/** What {@linkcode DfsNode.stat} reports. */
export interface FileStat {
  /** File id. */
  readonly id: string;
  /** Size in bytes (of the plaintext, for an encrypted file: known without its key). */
  readonly size: number;
  /** Present, true, when the file is encrypted: reading it needs its capability. */
  readonly encrypted?: true;
  /** The read capability, when the file was asked for by one (or by a name that shares it). */
  readonly capability?: string;
  /** Number of data blocks. */
  readonly blocks: number;
  /** Block size used when it was put. */
  readonly blockSize: number;
  /**
   * True when this node holds its part of the file: every block (replicas) or its shard
   * columns and every manifest (Reed-Solomon).
   */
  readonly local: boolean;
  /** The policy the file records (`"replicas:3"` for a file put before policies existed). */
  readonly redundancy: string;
  /** Reed-Solomon files: number of stripes. */
  readonly stripes?: number;
  /** How the network holds the file now (asked with `stat(id, { health: true })`). */
  readonly health?: FileHealth;
}

/** A health word: how close a file is to being lost. */
export type HealthWord = "healthy" | "degraded" | "at risk" | "lost";

/** How the network holds one file, from a check of its holders. */
export interface FileHealth {
  /**
   * `healthy`: at target (replicas: at least min copies; rs: all k + m columns, each on a node
   * of its own); `degraded`: below target, but one more holder loss is survived; `at risk`: one
   * more loss loses data (one copy; exactly k shards); `lost`: not readable from the nodes that
   * answered.
   */
  readonly health: HealthWord;
  /** Replicas: nodes holding the whole file. Reed-Solomon: shards per stripe held (0..k+m). */
  readonly live: number;
  /** What repair keeps: replicas min, or k + m. */
  readonly target: number;
  /** Reed-Solomon: columns on distinct nodes (a node holding two counts once); k + m at target. */
  readonly spread?: number;
  /** Further holder losses the file survives now (-1: it is not readable from these nodes). */
  readonly survives: number;
  /** The nodes that hold (part of) the file: node id, and for Reed-Solomon the shard columns. */
  readonly holders: readonly { readonly nodeId: string; readonly columns?: readonly number[] }[];
  /** Nodes asked that did not answer. */
  readonly unreachable: number;
  /** Present when a node holds a tombstone for the file: it was deleted at this time (ms). */
  readonly deletedAt?: number;
}

/** A local file, as listed by {@linkcode DfsNode.list}. */
export interface FileEntry {
  /** File id. */
  readonly id: string;
  /** Size in bytes. */
  readonly size: number;
  /** Names bound to it, as known locally. */
  readonly names: readonly string[];
}

/** A name binding. */
export interface NameRecord {
  /** The name. */
  readonly name: string;
  /** The file id it points to. */
  readonly id: string;
  /** The read capability, when the publisher shared the key with the name (`shareKey`). */
  readonly capability?: string;
  /** Sequence number of the signed record; a higher one replaces a lower one. */
  readonly version: number;
  /** Node id (hex) of the node whose key signed this version. */
  readonly nodeId: string;
  /** When the record expires unless republished (ms since the epoch). */
  readonly expires?: number;
}

/** What {@linkcode DfsNode.delete} reports. */
export interface DeleteResult {
  /** File id. */
  readonly id: string;
  /** True when a local copy was removed. */
  readonly local: boolean;
  /** Number of remote holders that took the delete's signed tombstone (and so dropped their copy). */
  readonly remote: number;
  /** Nodes that keep the delete's tombstone, this one included (0 without upkeep). */
  readonly tombstones: number;
}

/** A peer as listed by {@linkcode DfsNode.peers}. */
export interface PeerSummary {
  /** Node id, hex. */
  readonly nodeId: string;
  /** Address it listens on ("host:port"), if known. */
  readonly address: string;
  /** Connection state. */
  readonly state: string;
  /** Milliseconds since the epoch when it was last heard from. */
  readonly lastSeen: number;
  /** Last measured round-trip time in ms, if any. */
  readonly rttMs?: number;
  /** Blocks this peer sent that failed verification (since this node started). */
  readonly badBlocks?: number;
}

/** What {@linkcode DfsNode.status} reports. */
export interface NodeStatus {
  /** Node id, hex. */
  readonly nodeId: string;
  /** P2P listen address ("host:port"). */
  readonly address: string;
  /** Runtime name (deno, bun, node, memory). */
  readonly runtime: string;
  /** dfs version. */
  readonly version: string;
  /** Milliseconds since start. */
  readonly uptimeMs: number;
  /** Connected peers. */
  readonly peers: number;
  /** Local store counts, and its bound (`maxStoreBytes`) when it has one. */
  readonly store: { readonly count: number; readonly bytes: number; readonly maxBytes?: number };
  /** Files in the local index. */
  readonly files?: number;
  /**
   * Blocks that failed verification when fetched from peers, per peer node id (hex): the peer
   * SENT bytes not matching their id (a buggy or lying peer).
   */
  readonly badBlocks?: Readonly<Record<string, number>>;
  /**
   * Block reads that a holder refused because its own copy failed verification (ERROR CORRUPT:
   * it quarantined the copy and sent nothing), per holder node id (hex). The block was then read
   * from another holder. An honest holder with a rotten disk shows up here, never in `badBlocks`.
   */
  readonly corruptHolders?: Readonly<Record<string, number>>;
  /** Entries in this node's store quarantine (its own copies that failed verification). */
  readonly quarantined?: number;
  /** Blocks fetched from peers (each verified against its id before use) and their bytes. */
  readonly fetched?: { readonly blocks: number; readonly bytes: number };
  /** Bytes of peer message frames sent and received (before encryption), since start. */
  readonly traffic?: { readonly sent: number; readonly received: number };
  /** DHT figures (absent when the node runs without a DHT). */
  readonly dht?: DhtFigures;
  /** Repair, scrub and garbage collection figures. */
  readonly upkeep?: UpkeepFigures;
}

/** What a node's upkeep loops did so far (cumulative since start). */
export interface UpkeepFigures {
  /** The repair loop. */
  readonly repair: {
    /** Files checked in all. */
    readonly checks: number;
    /** Files below target now, waiting out the grace period or being repaired. */
    readonly queue: number;
    /** Files being repaired right now. */
    readonly active: number;
    /** Copies or shard columns re-created. */
    readonly repaired: number;
    /** Copies trimmed above a replicas policy's max. */
    readonly trimmed: number;
    /** Bytes pushed by repair. */
    readonly bytes: number;
    /** Repairs that failed (retried at the next check). */
    readonly failed: number;
  };
  /** The scrubber (absent when scrubbing is off). */
  readonly scrub?: {
    /** Passes completed. */
    readonly passes: number;
    /** Blocks re-verified. */
    readonly scanned: number;
    /** Bytes re-verified. */
    readonly bytes: number;
    /** Blocks found corrupt (quarantined). */
    readonly corrupt: number;
    /** Corrupt blocks restored from a peer or rebuilt. */
    readonly repaired: number;
    /** Bytes re-verified so far by the pass under way (0 between passes). */
    readonly passBytes: number;
    /** When the last complete pass ended, ms since the epoch (absent before the first). */
    readonly lastPassEndedAt?: number;
  };
  /** Garbage collection. */
  readonly gc: {
    /** Passes completed. */
    readonly passes: number;
    /** Blocks removed. */
    readonly removed: number;
    /** Blocks no file refers to, waiting out the grace period. */
    readonly pending: number;
  };
  /** Tombstones held. */
  readonly tombstones: number;
}

/**
 * A node's DHT figures, in `status()` and `dhtInfo()`: the DHT's own figures (`DhtStats`) but
 * the per-bucket list.
 */
export type DhtFigures = Omit<DhtStats, "buckets">;

/** One k-bucket of the routing table (index, contacts, replacements). */
export type BucketFigures = BucketCount;

/** What `dfs peers` and `GET /api/v1/dht` show of the DHT. */
export interface DhtInfo extends DhtFigures {
  /** Bucket size (k). */
  readonly k: number;
  /** Non-empty buckets, shallowest first. */
  readonly buckets: readonly BucketFigures[];
  /** Open peer connections. */
  readonly connections: number;
  /** Most peer connections kept open (`--max-connections`). */
  readonly maxConnections: number;
}

/**
 * A running node — what the HTTP API and the CLI use. Errors are `DfsError`s: `NotFoundError`
 * (code `NOT_FOUND`) when no reachable node has a file or name, `InvalidIdError` for a
 * malformed id, `RangeNotSatisfiableError` for a bad range.
 */
export interface DfsNode {
  /** This node's id, hex. */
  readonly nodeId: string;
  /** Stores a file locally and replicates it. */
  put(input: FileInput, options?: PutOptions): Promise<PutResult>;
  /**
   * Streams a file (id, read capability or name) from the local store or the network, verified
   * (and decrypted with a capability). An encrypted file asked for by id: `CapabilityRequiredError`.
   */
  get(idOrName: string, options?: GetOptions): Promise<GetResult>;
  /** Describes a file (id, capability or name), fetching manifests from the network if needed. */
  stat(idOrName: string, options?: StatOptions): Promise<FileStat>;
  /** Hands this node's data off to other nodes before it leaves (then close it). */
  drain(signal?: AbortSignal): Promise<DrainReport>;
  /** True when the whole file is local. */
  has(id: string): Promise<boolean>;
  /** Deletes the local copy and tells the holders; see the node docs for what is guaranteed. */
  delete(idOrName: string): Promise<DeleteResult>;
  /** Lists files held locally. */
  list(): Promise<FileEntry[]>;
  /** Resolves a name to its latest binding across the cluster. */
  resolveName(name: string): Promise<NameRecord>;
  /** Lists known peers. */
  peers(): PeerSummary[];
  /** Node status. */
  status(): Promise<NodeStatus>;
  /** The routing table and DHT figures, or null when the node runs without a DHT. */
  dhtInfo(): DhtInfo | null;
  /** Stops the node (closes connections and the store). Idempotent. */
  close(): Promise<void>;
}
