/**
 * How many bytes each peer may have this node store (`maxStorePerPeer`, `--max-store-per-peer`).
 *
 * The node counts, per peer node id, the bytes of the blocks it accepted from that peer's
 * PUT_BLOCK pushes that were new here (a block already held costs nothing). A push that would
 * take a peer past the bound is answered ERROR LIMIT ({@linkcode PeerQuotaError}); every other
 * peer is served as before. The counts are kept in `peer-store.json` in the data directory
 * (written about once a second while they change, and on close; not synced, so a crash may
 * forget the last second), so a restart does not reset them.
 *
 * The count is of bytes accepted, not of bytes still held: it does not go down when a block is
 * later deleted or collected (the store keeps no record of who pushed a block). It bounds what
 * one peer identity can make this node write over time; an operator resets it by removing the
 * file while the node is stopped. At most {@linkcode MAX_TRACKED_PEERS} peers are tracked (the
 * smallest count is forgotten first), so the file stays small.
 *
 * @module
 */

import { DfsError, errorText } from "../errors.ts";
import { PeerRemoteError } from "../peer/errors.ts";
import type { FileSystem } from "../runtime/types.ts";
import { WireErrorCode } from "../wire/messages.ts";

/** The file in the data directory that keeps the counts. */
export const PEER_STORE_FILE = "peer-store.json";
/** Peers whose counts are kept at most. */
export const MAX_TRACKED_PEERS = 10_000;
/** Largest counts file read (bytes); a larger one is ignored. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Delay between a change and the write of the counts (ms). */
const FLUSH_DELAY_MS = 1000;

/**
 * A peer pushed a block that would take it past its store quota. Answered to the peer as ERROR
 * LIMIT (it is a {@linkcode PeerRemoteError} with wire code LIMIT).
 *
 * @example
 * ```ts
 * import { PeerQuotaError } from "./peer_store_quota.ts";
 * const err = new PeerQuotaError(1024);
 * console.log(err.wireCode); // 5 (LIMIT)
 * ```
 */
export class PeerQuotaError extends PeerRemoteError {
  /** The bound per peer, in bytes. */
  readonly limit: number;
  /** Creates the error. */
  constructor(limit: number) {
    super(WireErrorCode.LIMIT, `this node stores at most ${limit} bytes per peer`);
    this.limit = limit;
  }
}

/** Options of {@linkcode PeerStoreQuota.open}. */
export interface PeerStoreQuotaOptions {
  /** Where problems reading or writing the counts are reported. */
  readonly log?: (level: "warn", message: string, fields: Record<string, unknown>) => void;
  /** Delay between a change and its write, ms (default 1000). */
  readonly flushDelayMs?: number;
}

/**
 * The per-peer store quota and its counts.
 *
 * @example
 * ```ts
 * import { memoryRuntime } from "../runtime/memory.ts";
 * import { PeerStoreQuota } from "./peer_store_quota.ts";
 * const { fs } = memoryRuntime();
 * const quota = await PeerStoreQuota.open(fs, "/data", 1000);
 * const undo = quota.reserve("ab12", 600); // accepted: counted
 * try {
 *   quota.reserve("ab12", 600); // would be 1200 > 1000: PeerQuotaError
 * } catch (err) {
 *   console.log((err as Error).name); // "PeerQuotaError"
 * }
 * undo(); // the block was not stored after all
 * console.log(quota.used("ab12")); // 0
 * await quota.close();
 * ```
 */
export class PeerStoreQuota {
  /** The bound per peer, in bytes. */
  readonly limit: number;
  readonly #fs: FileSystem;
  readonly #path: string;
  readonly #counts: Map<string, number>;
  readonly #log: NonNullable<PeerStoreQuotaOptions["log"]>;
  readonly #delay: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;
  #closed = false;

  private constructor(
    fs: FileSystem,
    path: string,
    limit: number,
    counts: Map<string, number>,
    options: PeerStoreQuotaOptions,
  ) {
    this.#fs = fs;
    this.#path = path;
    this.limit = limit;
    this.#counts = counts;
    this.#log = options.log ?? (() => {});
    this.#delay = options.flushDelayMs ?? FLUSH_DELAY_MS;
  }

  /**
   * Opens the quota of `dataDir` with `limit` bytes per peer, reading the counts kept there (a
   * missing file is no counts; an unreadable or malformed one is reported and starts from
   * none).
   */
  static async open(
    fs: FileSystem,
    dataDir: string,
    limit: number,
    options: PeerStoreQuotaOptions = {},
  ): Promise<PeerStoreQuota> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new DfsError("INVALID_ARGUMENT", `maxStorePerPeer must be a positive integer`);
    }
    const dir = dataDir.replace(/\/+$/, "");
    const path = `${dir}/${PEER_STORE_FILE}`;
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const counts = new Map<string, number>();
    try {
      if (await fs.stat(path) !== null) {
        const text = new TextDecoder().decode(
          await fs.readFile(path, { maxBytes: MAX_FILE_BYTES }),
        );
        for (const [peer, n] of Object.entries(parseCounts(text))) counts.set(peer, n);
      }
    } catch (err) {
      options.log?.("warn", "peer store counts unreadable; starting from none", {
        path,
        error: errorText(err),
      });
      counts.clear();
    }
    return new PeerStoreQuota(fs, path, limit, counts, options);
  }

  /** Bytes counted for `peer` (its node id, hex). */
  used(peer: string): number {
    return this.#counts.get(peer) ?? 0;
  }

  /**
   * Counts `bytes` for `peer`, or throws {@linkcode PeerQuotaError} (counting nothing) when that
   * would take it past the limit. Returns the undo, for a block that then was not stored.
   */
  reserve(peer: string, bytes: number): () => void {
    const before = this.used(peer);
    if (before + bytes > this.limit) throw new PeerQuotaError(this.limit);
    this.#set(peer, before + bytes);
    let undone = false;
    return () => {
      if (undone) return;
      undone = true;
      this.#set(peer, Math.max(0, this.used(peer) - bytes));
    };
  }

  /** Writes the counts now if they changed. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#dirty) return await this.#writing;
    this.#dirty = false;
    const text = JSON.stringify({ version: 1, peers: Object.fromEntries(this.#counts) });
    this.#writing = this.#writing.then(() => this.#write(text));
    await this.#writing;
  }

  /** Writes the counts and stops writing them. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #set(peer: string, n: number): void {
    if (n === 0) this.#counts.delete(peer);
    else this.#counts.set(peer, n);
    if (this.#counts.size > MAX_TRACKED_PEERS) this.#forgetSmallest();
    this.#dirty = true;
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => void this.flush(), this.#delay);
    }
  }

  #forgetSmallest(): void {
    let smallest: string | undefined;
    for (const [peer, n] of this.#counts) {
      if (smallest === undefined || n < this.#counts.get(smallest)!) smallest = peer;
    }
    if (smallest !== undefined) this.#counts.delete(smallest);
  }

  async #write(text: string): Promise<void> {
    const tmp = `${this.#path}.tmp`;
    try {
      const file = await this.#fs.create(tmp, { mode: 0o600 });
      try {
        await file.write(new TextEncoder().encode(text));
      } finally {
        await file.close();
      }
      await this.#fs.rename(tmp, this.#path);
    } catch (err) {
      this.#log("warn", "writing peer store counts failed", {
        path: this.#path,
        error: errorText(err),
      });
    }
  }
}

/** The `peers` map of a counts file: node id hex -> whole bytes; anything else is dropped. */
function parseCounts(text: string): Record<string, number> {
  const doc = JSON.parse(text);
  const peers = doc?.peers;
  if (doc?.version !== 1 || typeof peers !== "object" || peers === null) {
    throw new DfsError("INVALID_ARGUMENT", "not a version 1 peer store counts file");
  }
  const out: Record<string, number> = {};
  for (const [peer, n] of Object.entries(peers)) {
    if (/^[0-9a-f]{1,128}$/.test(peer) && Number.isSafeInteger(n) && (n as number) > 0) {
      out[peer] = n as number;
    }
  }
  return out;
}

/**
 * The node's per-peer quota: opened under `opts.dataDir` when `opts.maxStorePerPeer` is set,
 * else `undefined` (no bound).
 *
 * @example
 * ```ts ignore
 * const quota = await openPeerStoreQuota(runtime.fs, resolveNodeOptions(options));
 * ```
 */
export async function openPeerStoreQuota(
  fs: FileSystem,
  opts: {
    readonly dataDir: string;
    readonly maxStorePerPeer: number | undefined;
    readonly log?: (level: "warn", message: string, fields: Record<string, unknown>) => void;
  },
): Promise<PeerStoreQuota | undefined> {
  if (opts.maxStorePerPeer === undefined) return undefined;
  return await PeerStoreQuota.open(fs, opts.dataDir, opts.maxStorePerPeer, { log: opts.log });
}
