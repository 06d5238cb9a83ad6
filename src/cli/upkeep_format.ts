/**
 * Human text for durability: a file's policy and health (`dfs stat`), the upkeep figures
 * (`dfs status`), a drain report (`dfs drain`, `serve --drain`) and a delete's tombstones
 * (`dfs rm`). Row builders return `[label, value]` rows for `info.ts`'s table.
 *
 * @module
 */

import type {
  DeleteResult,
  DrainReport,
  FileHealth,
  FileStat,
  UpkeepFigures,
} from "../node/types.ts";
import { formatBytes } from "./bytes.ts";

/** `n` and the noun, plural unless `n` is 1: `1 file`, `3 files`. */
export function count(n: number, noun: string, plural = noun + "s"): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A node id as the CLI shows it: its first 16 hex digits. */
export function shortNodeId(nodeId: string): string {
  return nodeId.slice(0, 16);
}

/** True for a Reed-Solomon policy's text (`rs:4+2`). */
function isErasure(redundancy: string | undefined): boolean {
  return redundancy?.startsWith("rs:") ?? false;
}

/**
 * The `redundancy:` row of `dfs stat`: the policy, and the stripes of a Reed-Solomon file;
 * none for a node that does not report a policy.
 *
 * @example
 * ```ts
 * import { policyRows } from "./upkeep_format.ts";
 * policyRows({ redundancy: "rs:4+2", stripes: 3 }); // [["redundancy:", "rs:4+2, 3 stripes"]]
 * ```
 */
export function policyRows(s: Pick<FileStat, "redundancy" | "stripes">): string[][] {
  if (s.redundancy === undefined) return [];
  const stripes = s.stripes !== undefined ? `, ${count(s.stripes, "stripe")}` : "";
  return [["redundancy:", `${s.redundancy}${stripes}`]];
}

/**
 * `live` against `target`: `2 of 3 copies`, or for Reed-Solomon `4 of 6 shards per stripe`.
 *
 * @example
 * ```ts
 * import { liveText } from "./upkeep_format.ts";
 * liveText({ live: 4, target: 6 }, "rs:4+2"); // "4 of 6 shards per stripe"
 * ```
 */
export function liveText(h: Pick<FileHealth, "live" | "target">, redundancy?: string): string {
  return isErasure(redundancy)
    ? `${h.live} of ${h.target} shards per stripe`
    : `${h.live} of ${count(h.target, "copy", "copies")}`;
}

/** A holder's columns: `column 3`, `columns 0, 1`. */
function columnsText(columns: readonly number[]): string {
  return `${columns.length === 1 ? "column" : "columns"} ${columns.join(", ")}`;
}

/**
 * The rows `dfs stat --health` adds: health word, live against target, one row per holder
 * (short node id, and its shard columns for Reed-Solomon), unreachable nodes, and the delete
 * time when a tombstone exists. `undefined` health (a node without upkeep) says so.
 */
export function healthRows(h: FileHealth | undefined, redundancy?: string): string[][] {
  if (h === undefined) return [["health:", "unknown (the node did not check its holders)"]];
  const holders = h.holders.length === 0 ? [["holders:", "none"]] : h.holders.map((holder, i) => [
    i === 0 ? "holders:" : "",
    holder.columns === undefined
      ? shortNodeId(holder.nodeId)
      : `${shortNodeId(holder.nodeId)}  ${columnsText(holder.columns)}`,
  ]);
  return [
    ["health:", h.health],
    ["live:", liveText(h, redundancy)],
    ...(h.spread !== undefined && h.spread < h.target
      ? [["spread:", `${h.spread} of ${h.target} columns on a node of their own`]]
      : []),
    ...(h.survives >= 0
      ? [["survives:", count(h.survives, "more holder loss", "more holder losses")]]
      : []),
    ...holders,
    ["unreachable:", count(h.unreachable, "node")],
    ...(h.deletedAt !== undefined
      ? [["tombstone:", `deleted at ${new Date(h.deletedAt).toISOString()}`]]
      : []),
  ];
}

/**
 * The rows `dfs status` adds for the upkeep loops: repair queue, what repair did, scrub
 * progress (or `off`), garbage collection and tombstones.
 *
 * @example
 * ```ts ignore
 * upkeepRows(status.upkeep!);
 * // repair queue:  2 files (1 being repaired); 120 checks
 * // repaired:      14 copies or shards, 3 trimmed, 12.0 MiB pushed, 1 failed
 * // scrub:         1200 blocks (300.0 MiB) verified in 3 passes; 2 corrupt, 2 repaired
 * // gc:            12 blocks removed in 5 passes; 3 pending
 * // tombstones:    4
 * ```
 */
export function upkeepRows(u: UpkeepFigures): string[][] {
  const r = u.repair;
  const s = u.scrub;
  return [
    [
      "repair queue:",
      `${count(r.queue, "file")} (${r.active} being repaired); ${count(r.checks, "check")}`,
    ],
    [
      "repaired:",
      `${count(r.repaired, "copy or shard", "copies or shards")}, ${r.trimmed} trimmed, ` +
      `${formatBytes(r.bytes)} pushed, ${r.failed} failed`,
    ],
    [
      "scrub:",
      s === undefined
        ? "off"
        : `${count(s.scanned, "block")} (${formatBytes(s.bytes)}) verified in ` +
          `${count(s.passes, "pass", "passes")}; ${s.corrupt} corrupt, ${s.repaired} repaired`,
    ],
    [
      "gc:",
      `${count(u.gc.removed, "block")} removed in ${count(u.gc.passes, "pass", "passes")}; ` +
      `${u.gc.pending} pending`,
    ],
    ["tombstones:", String(u.tombstones)],
  ];
}

/**
 * One line for a drain report.
 *
 * @example
 * ```ts
 * import { formatDrain } from "./upkeep_format.ts";
 * formatDrain({ files: 12, handedOff: 11, failed: 1, bytes: 1536 });
 * // "12 files, 11 handed off, 1 failed, 1.5 KiB pushed"
 * ```
 */
export function formatDrain(r: DrainReport): string {
  return `${count(r.files, "file")}, ${r.handedOff} handed off, ${r.failed} failed, ` +
    `${formatBytes(r.bytes)} pushed`;
}

/** The warning for files a drain could not hand off, or `undefined` when there are none. */
export function drainWarning(r: DrainReport): string | undefined {
  if (r.failed === 0) return undefined;
  return `${count(r.failed, "file")} could not be handed off (no node took ${
    r.failed === 1 ? "it" : "them"
  }): below target without this node; keep its data directory`;
}

/**
 * What `dfs rm` prints about a delete.
 *
 * @example
 * ```ts
 * import { formatDelete } from "./upkeep_format.ts";
 * formatDelete({ id: "1220ab", local: true, remote: 2, tombstones: 3 });
 * // "deleted 1220ab (local copy removed; 2 remote holders confirmed; tombstone kept by 3 nodes)"
 * ```
 */
export function formatDelete(r: DeleteResult): string {
  // A node from before tombstones reports none; one without upkeep reports 0.
  const tomb = r.tombstones === undefined
    ? ""
    : r.tombstones === 0
    ? "; no tombstone kept"
    : `; tombstone kept by ${count(r.tombstones, "node")}`;
  return `deleted ${r.id} (${r.local ? "local copy removed" : "no local copy"}; ` +
    `${count(r.remote, "remote holder")} confirmed${tomb})`;
}
