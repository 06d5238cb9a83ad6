/**
 * What every command receives: the runtime, the process, `fetch`, and helpers to print.
 *
 * @module
 */

import type { DfsNode } from "../node/types.ts";
import type { Logger } from "../util/log.ts";
import type { NetAddress, ProcessHost, Runtime } from "../runtime/types.ts";
import type { FetchFn } from "./client.ts";

/** Options the CLI hands to {@linkcode StartNode}; see `docs/cli.md`. */
export interface StartNodeOptions {
  /** The runtime to run on. */
  readonly runtime: Runtime;
  /** P2P listen address. */
  readonly listen: NetAddress;
  /** Data directory (keys, blocks). */
  readonly dataDir: string;
  /** Peers to join through, `host:port` each. */
  readonly bootstrap: readonly string[];
  /** Copies of each file, the local one included. */
  readonly replication?: number;
  /** The default redundancy policy of a put (`--redundancy`), e.g. `rs:4+2`. */
  readonly redundancy?: string;
  /** Repair, scrub, GC and tombstone knobs the flags set; the node defaults the rest. */
  readonly upkeep?: CliUpkeepOptions;
  /** Block size in bytes for new files. */
  readonly blockSize?: number;
  /** Most bytes the node's store may hold (`--max-store`); absent: no bound. */
  readonly maxStoreBytes?: number;
  /** Most bytes of new blocks accepted from one peer (`--max-store-per-peer`); absent: no bound. */
  readonly maxStorePerPeer?: number;
  /**
   * Peer layer knobs the CLI sets: `maxConnections` (`--max-connections`),
   * `maxRequestsPerSecond` (`--max-requests-per-peer`), `maxConnectionsPerHost`
   * (`--max-connections-per-host`).
   */
  readonly peer?: {
    readonly maxConnections?: number;
    readonly maxRequestsPerSecond?: number;
    readonly maxConnectionsPerHost?: number;
  };
  /** Where the node logs (the CLI's pipeline: `--log-level`, `--log-format`, redacted). */
  readonly log?: Logger;
  /** The private cluster's key (`--cluster-key-file`), raw bytes; absent: an open cluster. */
  readonly clusterKey?: Uint8Array;
  /** `plaintext` with `--insecure-plaintext`; the node's default (Noise) otherwise. */
  readonly encryption?: "noise" | "plaintext";
}

/**
 * The upkeep knobs `serve` sets (the node's `UpkeepOptions`, `src/node/durability/options.ts`,
 * each optional).
 */
export interface CliUpkeepOptions {
  /** Run the repair loop (`--no-repair`: false). */
  readonly repair?: boolean;
  /** Time between two repair checks of a file (`--repair-interval`). */
  readonly repairIntervalMs?: number;
  /** How long a copy must stay unreachable before repair re-creates it (`--repair-grace`). */
  readonly repairGraceMs?: number;
  /** Bytes per second repair may push (`--repair-rate`). */
  readonly repairBytesPerSecond?: number;
  /** Bytes per second the scrubber re-verifies, 0 off (`--scrub-rate`). */
  readonly scrubBytesPerSecond?: number;
  /** How long unreferenced blocks are kept before GC (`--gc-grace`). */
  readonly gcGraceMs?: number;
  /** How long a delete's tombstone is kept (`--tombstone-ttl`). */
  readonly tombstoneTtlMs?: number;
}

/** Log levels, least to most severe. */
export type { LogLevel } from "../util/log.ts";

/** Starts a node (the real one is `Node.start` from `src/node/node.ts`; tests pass a fake). */
export type StartNode = (options: StartNodeOptions) => Promise<DfsNode>;

/** Everything a command needs from outside. */
export interface CliContext {
  /** The runtime. */
  readonly runtime: Runtime;
  /** The process (arguments, environment, stdio, signals). */
  readonly process: ProcessHost;
  /** HTTP client. */
  readonly fetch: FetchFn;
  /** Starts a node for `serve`. */
  readonly startNode: StartNode;
  /** Clock in milliseconds, for the progress bar. */
  readonly now: () => number;
  /** Writes text to stdout. */
  out(text: string): Promise<void>;
  /** Writes text to stderr. */
  err(text: string): Promise<void>;
}

const encoder = new TextEncoder();

/** Builds the text writers of a {@linkcode CliContext} over a process. */
export function writers(process: ProcessHost): Pick<CliContext, "out" | "err"> {
  return {
    out: (text) => process.writeStdout(encoder.encode(text)),
    err: (text) => process.writeStderr(encoder.encode(text)),
  };
}
