/**
 * `serve`'s durability flags: the node's default redundancy policy and its upkeep knobs
 * (repair, scrubbing, garbage collection, tombstones), turned into node options.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { decimal, type Parsed, str } from "./args.ts";
import type { CliContext, CliUpkeepOptions } from "./context.ts";
import { UsageError } from "./errors.ts";
import { parsePolicy } from "./policy.ts";

/** The flags, for `serve`'s option table. */
export const UPKEEP_FLAGS: ParseArgsOptionsConfig = {
  redundancy: { type: "string", short: "R" },
  "repair-interval": { type: "string" },
  "repair-grace": { type: "string" },
  "repair-rate": { type: "string" },
  "scrub-rate": { type: "string" },
  "gc-grace": { type: "string" },
  "tombstone-ttl": { type: "string" },
  "no-repair": { type: "boolean" },
  drain: { type: "boolean" },
};

const SECOND = 1000;
const DAY = 86_400_000;
const MIB = 1024 * 1024;

/** What the flags say. */
export interface UpkeepFlags {
  /** The node's default policy (canonical text), when given. */
  readonly redundancy?: string;
  /** The upkeep knobs given (absent: all defaults). */
  readonly upkeep?: CliUpkeepOptions;
  /** `--drain`: on SIGTERM, hand the data off before exiting. */
  readonly drain: boolean;
}

/**
 * Reads the durability flags of `serve`. `--redundancy` falls back on `$DFS_REDUNDANCY` (empty:
 * unset), unless `--replication` is given (then that is the policy); `--replication` and
 * `--redundancy` together are a usage error. Durations are seconds (days for
 * `--tombstone-ttl`), decimals allowed; rates are MiB/s (`--scrub-rate 0` turns scrubbing off).
 *
 * @example
 * ```ts ignore
 * upkeepFlags(ctx, parseCommand("serve", ["--repair-grace", "5", "-R", "rs:4+2"], OPTIONS, 0, 0));
 * // { redundancy: "rs:4+2", upkeep: { repairGraceMs: 5000 }, drain: false }
 * ```
 */
export function upkeepFlags(ctx: Pick<CliContext, "process">, p: Parsed): UpkeepFlags {
  const flag = str(p, "redundancy");
  if (flag !== undefined && str(p, "replication") !== undefined) {
    throw new UsageError(
      "give --replication or --redundancy, not both (--replication N is replicas:N)",
      "serve",
    );
  }
  const env = ctx.process.env("DFS_REDUNDANCY");
  const redundancy = flag !== undefined
    ? parsePolicy(flag, "--redundancy", "serve")
    : env !== undefined && env !== "" && str(p, "replication") === undefined
    ? parsePolicy(env, "$DFS_REDUNDANCY", "serve")
    : undefined;

  const upkeep: Record<string, number | boolean> = {};
  const scaled = (name: string, key: keyof CliUpkeepOptions, unit: number, zero = false) => {
    const text = str(p, name);
    if (text === undefined) return;
    const value = decimal(text, `--${name}`, "serve", zero) * unit;
    // Milliseconds and bytes are whole; a positive value never rounds down to 0.
    upkeep[key] = value === 0 ? 0 : Math.max(1, Math.round(value));
  };
  scaled("repair-interval", "repairIntervalMs", SECOND);
  scaled("repair-grace", "repairGraceMs", SECOND);
  scaled("repair-rate", "repairBytesPerSecond", MIB);
  scaled("scrub-rate", "scrubBytesPerSecond", MIB, true);
  scaled("gc-grace", "gcGraceMs", SECOND);
  scaled("tombstone-ttl", "tombstoneTtlMs", DAY);
  if (p.values["no-repair"]) upkeep.repair = false;

  return {
    ...(redundancy !== undefined ? { redundancy } : {}),
    ...(Object.keys(upkeep).length > 0 ? { upkeep: upkeep as CliUpkeepOptions } : {}),
    drain: p.values.drain === true,
  };
}
