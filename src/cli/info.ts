/**
 * The small client subcommands: `rm`, `ls`, `stat`, `peers`, `status`.
 *
 * @module
 */

import type {
  DhtFigures,
  DhtInfo,
  FileEntry,
  FileStat,
  NodeStatus,
  PeerSummary,
} from "../node/types.ts";
import type { ParseArgsOptionsConfig } from "node:util";
import { CLIENT_OPTIONS } from "./args.ts";
import { formatBytes } from "./bytes.ts";
import { clientFor, printJson } from "./client_for.ts";
import { parseOrHelp } from "./command_args.ts";
import type { CliContext } from "./context.ts";
import { EXIT } from "./errors.ts";
import { formatDuration } from "./progress.ts";
import {
  count,
  formatDelete,
  healthRows,
  policyRows,
  shortNodeId,
  upkeepRows,
} from "./upkeep_format.ts";

/**
 * Lays out rows as left-aligned columns separated by two spaces (the last column unpadded).
 *
 * @example
 * ```ts
 * import { table } from "./info.ts";
 * table([["ID", "SIZE"], ["1220ab", "3 B"]]); // "ID      SIZE\n1220ab  3 B\n"
 * ```
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => widths[i] = Math.max(widths[i] ?? 0, c.length));
  return rows.map((row) =>
    row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join("  ")
  ).join("\n") + "\n";
}

/** `size` as `24 B` or `1.5 KiB (1536 bytes)`. */
function sizeText(size: number): string {
  return size < 1024 ? `${size} B` : `${formatBytes(size)} (${size} bytes)`;
}

/** Human form of a file listing. */
export function formatList(files: readonly FileEntry[]): string {
  if (files.length === 0) return "";
  return table([
    ["ID", "SIZE", "NAMES"],
    ...files.map((f) => [f.id, formatBytes(f.size), f.names.join(", ")]),
  ]);
}

/**
 * Human form of a file's description: id, size, blocks, policy (and stripes), whether it is
 * local, and with `health` (`dfs stat --health`) how the network holds it.
 *
 * @example
 * ```ts ignore
 * formatStat(stat, { health: true });
 * // id:           1220…
 * // size:         1.5 MiB (1572864 bytes)
 * // blocks:       6 of 256.0 KiB
 * // redundancy:   rs:4+2, 2 stripes
 * // local:        yes (its shards and manifests are on this node)
 * // health:       degraded
 * // live:         5 of 6 shards per stripe
 * // holders:      cdcdcdcdcdcdcdcd  columns 0, 1
 * //               efefefefefefefef  column 2
 * // unreachable:  1 node
 * ```
 */
export function formatStat(s: FileStat, options: { health?: boolean } = {}): string {
  const rs = s.redundancy?.startsWith("rs:") ?? false;
  const local = !s.local
    ? "no"
    : rs
    ? "yes (its shards and manifests are on this node)"
    : "yes (every block is on this node)";
  return table([
    ["id:", s.id],
    ["size:", sizeText(s.size)],
    ["blocks:", `${s.blocks} of ${formatBytes(s.blockSize)}`],
    ...policyRows(s),
    ["local:", local],
    ...(options.health ? healthRows(s.health, s.redundancy) : []),
  ]);
}

/** Human form of a peer list, relative to `now` (ms since the epoch). */
export function formatPeers(peers: readonly PeerSummary[], now: number): string {
  if (peers.length === 0) return "no peers\n";
  return table([
    ["NODE", "ADDRESS", "STATE", "RTT", "LAST SEEN"],
    ...peers.map((p) => [
      shortNodeId(p.nodeId),
      p.address || "-",
      p.state,
      p.rttMs === undefined ? "-" : `${Math.round(p.rttMs)} ms`,
      `${formatDuration(Math.max(0, now - p.lastSeen) / 1000)} ago`,
    ]),
  ]);
}

/**
 * Human form of the routing table: a summary line, then one row per non-empty bucket.
 *
 * @example
 * ```ts ignore
 * formatDht(info);
 * // DHT: 23 contacts in 2 buckets (k = 20); 12 of 64 connections open
 * // BUCKET  CONTACTS  REPLACEMENTS
 * // 0       20        3
 * // 1       3         0
 * ```
 */
export function formatDht(d: DhtInfo): string {
  const head = `DHT: ${count(d.tableSize, "contact")} in ${count(d.buckets.length, "bucket")} ` +
    `(k = ${d.k}); ${d.connections} of ${count(d.maxConnections, "connection")} open\n`;
  if (d.buckets.length === 0) return head;
  return head + table([
    ["BUCKET", "CONTACTS", "REPLACEMENTS"],
    ...d.buckets.map((b) => [String(b.index), String(b.size), String(b.replacements)]),
  ]);
}

/** What `dfs peers` fetches: the peer list and the routing table (`null`: no DHT). */
export interface PeersView {
  /** The node's peers. */
  readonly peers: PeerSummary[];
  /** Its routing table and DHT figures, or `null` when it runs without a DHT. */
  readonly dht: DhtInfo | null;
}

/** Human form of `dfs peers`: the peer table, then the routing table when there is one. */
export function formatPeersView(v: PeersView, now: number): string {
  const list = formatPeers(v.peers, now);
  return v.dht ? `${list}\n${formatDht(v.dht)}` : list;
}

/** The rows `dfs status` adds for a node's DHT figures. */
function dhtRows(d: DhtFigures): string[][] {
  const perLookup = d.lookups > 0 ? (d.lookupMessages / d.lookups).toFixed(1) : "0";
  return [
    ["dht table:", count(d.tableSize, "contact")],
    [
      "dht lookups:",
      `${d.lookups} (${perLookup} messages each, ${d.lookupsTimedOut} timed out)`,
    ],
    [
      "dht providers:",
      `${count(d.providerRecords, "record")} held for ${count(d.providerKeys, "key")}; ` +
      `providing ${count(d.providing, "key")}`,
    ],
    [
      "dht names:",
      `${count(d.nameRecords, "record")} held; publishing ${count(d.publishing, "name")}`,
    ],
    ["dht served:", count(d.requestsServed, "request")],
  ];
}

/** Human form of a node status (with its upkeep and DHT figures when it has them). */
export function formatStatus(s: NodeStatus): string {
  return table([
    ["node:", s.nodeId],
    ["address:", s.address],
    ["runtime:", s.runtime],
    ["version:", s.version],
    ["uptime:", formatDuration(s.uptimeMs / 1000)],
    ["peers:", String(s.peers)],
    [
      "store:",
      `${s.store.count} entries, ${formatBytes(s.store.bytes)}${
        s.store.maxBytes !== undefined ? ` of ${formatBytes(s.store.maxBytes)} allowed` : ""
      }`,
    ],
    ...(s.upkeep ? upkeepRows(s.upkeep) : []),
    ...(s.dht ? dhtRows(s.dht) : []),
  ]);
}

async function simple<T>(
  ctx: CliContext,
  command: string,
  args: readonly string[],
  positionals: number,
  call: (client: ReturnType<typeof clientFor>, arg: string) => Promise<T>,
  human: (value: T) => string,
): Promise<number> {
  const p = await parseOrHelp(ctx, command, args, CLIENT_OPTIONS, positionals, positionals);
  if (!p) return EXIT.OK;
  const value = await call(clientFor(ctx, p), p.positionals[0]);
  if (p.values.json) await printJson(ctx, value);
  else await ctx.out(human(value));
  return EXIT.OK;
}

/** Runs `dfs rm ID|NAME`. */
export function rm(ctx: CliContext, args: readonly string[]): Promise<number> {
  return simple(
    ctx,
    "rm",
    args,
    1,
    (c, key) => c.delete(key),
    (r) => formatDelete(r) + "\n",
  );
}

/** Runs `dfs ls`. */
export function ls(ctx: CliContext, args: readonly string[]): Promise<number> {
  return simple(ctx, "ls", args, 0, (c) => c.list(), formatList);
}

const STAT_OPTIONS: ParseArgsOptionsConfig = {
  ...CLIENT_OPTIONS,
  health: { type: "boolean" },
  "no-health": { type: "boolean" },
};

/** Runs `dfs stat ID|NAME [--no-health]` (`--health`, the default, is still accepted). */
export async function stat(ctx: CliContext, args: readonly string[]): Promise<number> {
  const p = await parseOrHelp(ctx, "stat", args, STAT_OPTIONS, 1, 1);
  if (!p) return EXIT.OK;
  // Health is what people run `stat` for: on unless `--no-health` asks for the manifests only.
  const health = p.values["no-health"] !== true;
  const value = await clientFor(ctx, p).stat(p.positionals[0], { health });
  if (p.values.json) await printJson(ctx, value);
  else await ctx.out(formatStat(value, { health }));
  return EXIT.OK;
}

/**
 * Runs `dfs peers`: the peer list and the routing table. With `--json` it prints
 * `{ "peers": [...], "dht": {...} }` (`"dht": null` when the node runs without a DHT).
 */
export function peers(ctx: CliContext, args: readonly string[]): Promise<number> {
  return simple(
    ctx,
    "peers",
    args,
    0,
    async (c): Promise<PeersView> => {
      const [list, dht] = await Promise.all([c.peers(), c.dhtInfo()]);
      return { peers: list, dht };
    },
    (v) => formatPeersView(v, Date.now()),
  );
}

/** Runs `dfs status`. */
export function status(ctx: CliContext, args: readonly string[]): Promise<number> {
  return simple(ctx, "status", args, 0, (c) => c.status(), formatStatus);
}
