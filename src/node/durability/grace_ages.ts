/**
 * The grace clocks of the repair loop on the wire: a holder answers a repair probe with the
 * copies or columns its own loop sees missing and how long ago it first saw each missing
 * (FILE_STATE flag AGES, `docs/protocol.md`), so a checker that restarted, or was down when
 * the loss began, does not start a whole new grace period for a loss the others have timed.
 *
 * Units are the repairer's names (`c<column>` for a Reed-Solomon column, `r<i>` for the i-th
 * missing copy); on the wire a column `c` is `c` and a copy `i` is `0x8000 | i`. Ages are
 * relative (whole seconds on the wire, milliseconds here), so clocks need not agree.
 *
 * @module
 */

import { MAX_FILE_AGES } from "../../wire/limits.ts";
import type { WireMissingAge } from "../../wire/messages.ts";

import { MAX_PEER_AGE_MS } from "./repairer.ts";

const REPLICA_BIT = 0x8000;
const MAX_U32 = 0xffffffff;

/** A unit name as its wire number, or `undefined` for a name that has none. */
function unitToWire(unit: string): number | undefined {
  const m = /^([cr])(\d{1,5})$/.exec(unit);
  if (!m) return undefined;
  const n = Number(m[2]);
  if (n >= REPLICA_BIT) return undefined;
  return m[1] === "c" ? n : REPLICA_BIT | n;
}

/** A wire unit number as the repairer's unit name. */
function unitFromWire(unit: number): string {
  return unit & REPLICA_BIT ? `r${unit & ~REPLICA_BIT & 0xffff}` : `c${unit}`;
}

/**
 * The repairer's missing-unit ages (unit -> ms) as FILE_STATE ages: whole seconds, at most
 * {@linkcode MAX_FILE_AGES} entries (the oldest kept), units without a wire number skipped.
 *
 * @example
 * ```ts
 * import { toWireAges } from "./grace_ages.ts";
 * console.log(toWireAges(new Map([["c3", 600_400], ["r1", 5_000]])));
 * // [ { unit: 3, ageSeconds: 600 }, { unit: 32769, ageSeconds: 5 } ]
 * ```
 */
export function toWireAges(ages: ReadonlyMap<string, number>): WireMissingAge[] {
  const out: WireMissingAge[] = [];
  for (const [name, ms] of ages) {
    const unit = unitToWire(name);
    if (unit === undefined || !Number.isFinite(ms)) continue;
    out.push({ unit, ageSeconds: Math.min(MAX_U32, Math.max(0, Math.floor(ms / 1000))) });
  }
  if (out.length <= MAX_FILE_AGES) return out;
  return out.sort((a, b) => b.ageSeconds - a.ageSeconds).slice(0, MAX_FILE_AGES);
}

/**
 * FILE_STATE ages as unit -> ms, each capped at `MAX_PEER_AGE_MS` (30 days) (a unit listed
 * twice keeps its larger age).
 *
 * @example
 * ```ts
 * import { fromWireAges } from "./grace_ages.ts";
 * console.log(fromWireAges([{ unit: 0x8000, ageSeconds: 90 }])); // Map(1) { "r0" => 90000 }
 * ```
 */
export function fromWireAges(ages: readonly WireMissingAge[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { unit, ageSeconds } of ages) {
    const name = unitFromWire(unit);
    const ms = Math.min(MAX_PEER_AGE_MS, ageSeconds * 1000);
    out.set(name, Math.max(out.get(name) ?? 0, ms));
  }
  return out;
}
