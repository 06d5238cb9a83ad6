/**
 * The knobs of a node's upkeep — repair, scrubbing, garbage collection and tombstones — with
 * their defaults and checks in one table.
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";

/** How a node keeps its files alive. Every field has a default ({@linkcode UPKEEP_DEFAULTS}). */
export interface UpkeepOptions {
  /** Run the repair loop (default true). */
  readonly repair: boolean;
  /** Time between two repair checks of a file, before jitter (default 10 min). */
  readonly repairIntervalMs: number;
  /**
   * How long a copy or shard must stay unreachable before repair re-creates it (default 15 min):
   * a node that restarts for an upgrade does not set off a copy storm.
   */
  readonly repairGraceMs: number;
  /** Bytes per second repair may push to other nodes (default 32 MiB/s; Infinity: no bound). */
  readonly repairBytesPerSecond: number;
  /** Bytes per second the scrubber re-reads and re-verifies (default 16 MiB/s; 0: off). */
  readonly scrubBytesPerSecond: number;
  /** Pause between two scrub passes (default 1 h). */
  readonly scrubPauseMs: number;
  /** Delay before the first scrub pass after start (default 1 min). */
  readonly scrubStartDelayMs: number;
  /** How long a block no file refers to is kept before garbage collection (default 1 h). */
  readonly gcGraceMs: number;
  /** Time between two garbage collection passes (default 10 min). */
  readonly gcIntervalMs: number;
  /** How long a delete's tombstone is kept and honoured (default 30 days). */
  readonly tombstoneTtlMs: number;
  /**
   * Wait before trying again to restore a rotten local copy that could not be restored (no good
   * copy reachable then); doubled after each failure, {@linkcode RESTORE_ATTEMPTS} tries in all
   * (default 1 min: tries at 0, 1, 3, 7, 15 and 31 min).
   */
  readonly restoreRetryMs: number;
}

/** Tries to restore one rotten local copy (see {@linkcode UpkeepOptions.restoreRetryMs}). */
export const RESTORE_ATTEMPTS = 6;

const MINUTE = 60_000;
const MIB = 1024 * 1024;

/** The defaults of {@linkcode UpkeepOptions}. */
export const UPKEEP_DEFAULTS: UpkeepOptions = Object.freeze({
  repair: true,
  repairIntervalMs: 10 * MINUTE,
  repairGraceMs: 15 * MINUTE,
  repairBytesPerSecond: 32 * MIB,
  scrubBytesPerSecond: 16 * MIB,
  scrubPauseMs: 60 * MINUTE,
  scrubStartDelayMs: MINUTE,
  gcGraceMs: 60 * MINUTE,
  gcIntervalMs: 10 * MINUTE,
  tombstoneTtlMs: 30 * 24 * 60 * MINUTE,
  restoreRetryMs: MINUTE,
});

/**
 * Fills in the defaults and checks the values. Throws {@linkcode InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { resolveUpkeepOptions } from "./options.ts";
 * console.log(resolveUpkeepOptions({ repairGraceMs: 5000 }).repairIntervalMs); // 600000
 * ```
 */
export function resolveUpkeepOptions(given: Partial<UpkeepOptions> = {}): UpkeepOptions {
  const out: Record<string, unknown> = { ...UPKEEP_DEFAULTS };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!(key in UPKEEP_DEFAULTS)) throw new InvalidArgumentError(`unknown upkeep option ${key}`);
    if (key === "repair") {
      if (typeof value !== "boolean") throw new InvalidArgumentError("repair must be a boolean");
    } else if (
      typeof value !== "number" || Number.isNaN(value) || value < 0 ||
      (key.endsWith("Ms") && (value === 0 || !Number.isFinite(value))) ||
      (key === "repairBytesPerSecond" && value === 0)
    ) {
      throw new InvalidArgumentError(`${key} must be a positive number, got ${String(value)}`);
    }
    out[key] = value;
  }
  return Object.freeze(out) as unknown as UpkeepOptions;
}
