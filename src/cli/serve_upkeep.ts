/**
 * `serve`'s durability flags: the node's default redundancy policy and its upkeep knobs
 * (repair, scrubbing, garbage collection, tombstones), turned into node options.
 *
 * @module
 */

import { decimal } from "./args.ts";
import type { CliUpkeepOptions } from "./context.ts";
import type { SettingsInput } from "./config/input.ts";
import { checked, describeSource, sourceRank } from "./config/resolve.ts";
import { UsageError } from "./errors.ts";
import { parsePolicy } from "./policy.ts";

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
 * Reads the durability settings of `serve`. When both `redundancy` and `replication` are set, the
 * one from the stronger source wins (flags > `$DFS_*` > config file); from the same source they
 * are an error. Durations are seconds (days for `tombstone-ttl`), decimals allowed; rates are
 * MiB/s (`scrub-rate 0` turns scrubbing off).
 *
 * @example
 * ```ts ignore
 * upkeepFlags(new SettingsInput(await resolveConfig(ctx, "serve", ["--repair-grace", "5", "-R", "rs:4+2"])));
 * // { redundancy: "rs:4+2", upkeep: { repairGraceMs: 5000 }, drain: false }
 * ```
 */
export function upkeepFlags(input: SettingsInput): UpkeepFlags {
  const red = input.get("redundancy");
  const rep = input.get("replication");
  let useRedundancy = red.value !== undefined;
  if (useRedundancy && rep.value !== undefined) {
    if (sourceRank(red.source) === sourceRank(rep.source)) {
      checked(red, () => {
        throw new UsageError(
          `give ${describeSource("replication", rep.source)} or ${
            describeSource("redundancy", red.source)
          }, not both (--replication N is replicas:N)`,
          "serve",
        );
      });
    }
    useRedundancy = sourceRank(red.source) > sourceRank(rep.source);
  }
  const redundancy = useRedundancy
    ? input.parse("redundancy", (t, what) => parsePolicy(t, what, "serve"))
    : undefined;

  const upkeep: Record<string, number | boolean> = {};
  const scaled = (name: string, key: keyof CliUpkeepOptions, unit: number, zero = false) => {
    const value = input.parse(name, (t, what) => decimal(t, what, "serve", zero));
    if (value === undefined) return;
    const scaledValue = value * unit;
    // Milliseconds and bytes are whole; a positive value never rounds down to 0.
    upkeep[key] = scaledValue === 0 ? 0 : Math.max(1, Math.round(scaledValue));
  };
  scaled("repair-interval", "repairIntervalMs", SECOND);
  scaled("repair-grace", "repairGraceMs", SECOND);
  scaled("repair-rate", "repairBytesPerSecond", MIB);
  scaled("scrub-rate", "scrubBytesPerSecond", MIB, true);
  scaled("gc-grace", "gcGraceMs", SECOND);
  scaled("tombstone-ttl", "tombstoneTtlMs", DAY);
  if (input.bool("no-repair")) upkeep.repair = false;

  return {
    ...(redundancy !== undefined ? { redundancy } : {}),
    ...(Object.keys(upkeep).length > 0 ? { upkeep: upkeep as CliUpkeepOptions } : {}),
    drain: input.bool("drain"),
  };
}
