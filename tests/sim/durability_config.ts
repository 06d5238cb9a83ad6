/**
 * The configuration and the report of the durability simulation (`durability_sim.ts`).
 *
 * @module
 */

import { UPKEEP_DEFAULTS } from "../../src/node/durability/options.ts";
import type { RepairerOptions, RepairStats } from "../../src/node/durability/repairer.ts";
import type { Spread } from "./dht_sim.ts";
import type { Episode, PolicyFigures } from "./durability_track.ts";

const MIB = 1024 * 1024;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Parameters of a run; all but `nodes`, `files`, `seed` and `churnMs` have defaults. */
export interface DurabilityConfig {
  /** Nodes. */
  readonly nodes: number;
  /** Files, put before the churn starts. */
  readonly files: number;
  /** Seed of everything random. */
  readonly seed: number;
  /** Virtual time over which the kills and outages happen, ms. */
  readonly churnMs: number;
  /** Share of the nodes killed for good, at uniform random times, in random order (0.3). */
  readonly killFraction?: number;
  /** Transient outages: a random live node unreachable for a while, then back with its data (0). */
  readonly outages?: number;
  /** Length of an outage, uniform in this range, ms (1-10 min: below the grace period). */
  readonly outageMs?: { readonly min: number; readonly max: number };
  /** Virtual time run after the churn window, for the last repairs (2 h). */
  readonly tailMs?: number;
  /** Policies and their shares (40% replicas:3, 20% replicas:2-4, 25% rs:4+2, 15% rs:10+4). */
  readonly mix?: readonly { readonly policy: string; readonly share: number }[];
  /** File sizes, log-uniform in this range, bytes (1 MiB..1 GiB). */
  readonly sizeBytes?: { readonly min: number; readonly max: number };
  /** Repair interval (the node's default, 10 min). */
  readonly intervalMs?: number;
  /** Repair grace period (the node's default, 15 min). */
  readonly graceMs?: number;
  /** Repair rate per node (the node's default, 32 MiB/s). */
  readonly repairBytesPerSecond?: number;
  /** Link speed per node, both ways together (100 MiB/s). */
  readonly linkBytesPerSecond?: number;
  /** Time a check allows a probe (as `upkeep.ts`: min(request timeout, 10 s) = 10 s). */
  readonly probeTimeoutMs?: number;
  /** How long a node reuses a provider lookup for a healthy check of a file (6 h). */
  readonly lookupReuseMs?: number;
  /**
   * Whom a check probes: `"node"` (default) as the node does, `readCandidates` (the providers
   * and closest nodes of a `findProviders` lookup of 20, which stops once 20 providers are
   * credited); `"complete"`, the proposed fix: a `findProviders` lookup that runs to its end,
   * so the k closest nodes are among the candidates whatever the number of provider records.
   */
  readonly checkLookup?: "node" | "complete";
  /** One-way latency range per link, ms (10-150). */
  readonly latency?: { readonly minMs: number; readonly maxMs: number };
  /** Progress lines (e.g. console.error). */
  readonly progress?: (line: string) => void;
  /** Makes each node's repair loop (default the real `Repairer`): to try a change of it. */
  readonly makeRepairer?: (options: RepairerOptions) => RepairLoop;
}

/** What the simulation uses of a repair loop. */
export interface RepairLoop {
  /** Starts it. */
  start(): void;
  /** Stops it. */
  stop(): Promise<void>;
  /** Its figures. */
  stats(): RepairStats;
  /** Its grace clocks of a file, as `Repairer.missingAges` (what probes are answered with). */
  missingAges?(fileId: string): ReadonlyMap<string, number> | undefined;
}

/** A configuration with every default filled in. */
export type Config = Omit<Required<DurabilityConfig>, "progress" | "makeRepairer">;

/** Everything a run reports. */
export interface DurabilityReport {
  /** The configuration, defaults filled in. */
  readonly config: Config;
  /** Nodes killed for good, outages, and nodes up at the end. */
  readonly nodes: { readonly killed: number; readonly outages: number; readonly upAtEnd: number };
  /** Files at target when the run ended. */
  readonly filesAtTarget: number;
  /** Files found unreadable (file index, virtual ms since the start). */
  readonly unreadable: readonly { readonly file: number; readonly at: number }[];
  /** Episodes below target. */
  readonly episodes: number;
  /** Their durations, ms. */
  readonly belowMs: Spread;
  /** Largest (duration − bound) over the episodes, ms: negative when every one kept its bound. */
  readonly worstMarginMs: number;
  /** The bound of the slowest episode relative to its bound, ms. */
  readonly boundOfWorstMs: number;
  /** The longest episode. */
  readonly longest: Episode | undefined;
  /** Episodes longer than their bound (at most 20 listed) and how many there were. */
  readonly violations: { readonly count: number; readonly first: readonly Episode[] };
  /** Repair figures. */
  readonly repair: {
    /** Checks the repair loops ran. */
    readonly checks: number;
    /** Provider lookups the checks ran (fresh ones). */
    readonly lookups: number;
    /** Repair calls (by leaders). */
    readonly calls: number;
    /** Copies or columns re-created. */
    readonly units: number;
    /** Repair calls that failed (threw). */
    readonly failed: number;
    /** Repair calls started while another node's repair of the same file was under way. */
    readonly concurrentStarts: number;
    /** Repair calls during an episode of outages only (no holder died): the grace failed. */
    readonly graceBreaks: number;
    /** Repair calls of a file that was at target (a check missed a live holder). */
    readonly phantom: number;
    /** Repair calls of a file at target counting nodes that were only down. */
    readonly outageOnly: number;
    /** Repair calls by a node while a holder closer to the file was up (a wrong leader). */
    readonly notClosest: number;
    /** Copies or columns re-created while a node that was up still held them. */
    readonly extraWhileUp: number;
    /** Repair pushes to a node that held the copy or column already (the check missed it). */
    readonly unseenHolders: number;
    /** Copies or columns re-created while a node that was only down still held them. */
    readonly extraWhileDown: number;
    /** Copies trimmed. */
    readonly trims: number;
  };
  /** What looked wrong (the first 50 anomalies the counters above count). */
  readonly notes: readonly { readonly at: number; readonly file: number; readonly what: string }[];
  /** Bytes lost with dead nodes, moved by repair (reads to rebuild included), and wasted. */
  readonly bytes: { readonly lost: number; readonly moved: number; readonly wasted: number };
  /** Per policy. */
  readonly byPolicy: Record<string, PolicyFigures>;
  /** DHT requests sent. */
  readonly dhtMessages: number;
  /** Wall time, ms. */
  readonly wallMs: number;
  /** Peak resident set size seen, bytes. */
  readonly peakRssBytes: number;
  /** Virtual time of the churn window and the tail, ms. */
  readonly virtualMs: number;
}

/** The defaults of the optional fields of {@linkcode DurabilityConfig}. */
export const DURABILITY_DEFAULTS = Object.freeze({
  killFraction: 0.3,
  outages: 0,
  outageMs: Object.freeze({ min: 1 * MINUTE, max: 10 * MINUTE }),
  tailMs: 2 * HOUR,
  mix: Object.freeze([
    { policy: "replicas:3", share: 0.4 },
    { policy: "replicas:2-4", share: 0.2 },
    { policy: "rs:4+2", share: 0.25 },
    { policy: "rs:10+4", share: 0.15 },
  ]),
  sizeBytes: Object.freeze({ min: MIB, max: 1024 * MIB }),
  intervalMs: UPKEEP_DEFAULTS.repairIntervalMs,
  graceMs: UPKEEP_DEFAULTS.repairGraceMs,
  repairBytesPerSecond: UPKEEP_DEFAULTS.repairBytesPerSecond,
  linkBytesPerSecond: 100 * MIB,
  probeTimeoutMs: 10_000,
  lookupReuseMs: 6 * HOUR,
  checkLookup: "node" as "node" | "complete",
  latency: Object.freeze({ minMs: 10, maxMs: 150 }),
});
