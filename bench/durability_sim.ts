/**
 * Durability at scale: the seeded simulation of `tests/sim/durability_sim.ts` (the real repair
 * loop, health check and DHT of every node on the simulated network and a virtual clock; the
 * data plane modeled) with 200 nodes and 1,000 files of mixed policies, 30% of the nodes killed
 * over a simulated week and transient outages shorter than the grace period. Prints markdown
 * tables and replaces (or appends) the "Durability simulation" section of `bench/RESULTS.md`.
 *
 * Usage:
 *   deno run -A bench/durability_sim.ts [--nodes 200] [--files 1000] [--days 7] [--seed 1]
 *     [--outages 40] [--check-lookup node|complete] [--dry-run]
 *
 * `--check-lookup complete` runs the proposed fix of the checks' candidate lookup (see
 * `DurabilityConfig.checkLookup`); `--dry-run` prints without touching `bench/RESULTS.md`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type DurabilityReport, runDurabilitySimulation } from "../tests/sim/durability_sim.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "200" },
    files: { type: "string", default: "1000" },
    days: { type: "string", default: "7" },
    seed: { type: "string", default: "1" },
    outages: { type: "string", default: "40" },
    "check-lookup": { type: "string", default: "node" },
    "dry-run": { type: "boolean", default: false },
  },
});

const lookup = values["check-lookup"];
if (lookup !== "node" && lookup !== "complete") throw new Error("--check-lookup node|complete");
const started = new Date();
const report = await runDurabilitySimulation({
  nodes: Number(values.nodes),
  files: Number(values.files),
  seed: Number(values.seed),
  churnMs: Number(values.days) * 24 * 3600_000,
  outages: Number(values.outages),
  checkLookup: lookup,
  progress: (line) => console.error(line),
});

const GIB = 1024 ** 3;
const min = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
const gib = (b: number) => `${(b / GIB).toFixed(1)} GiB`;
const n = (x: number) => x.toLocaleString("en");

function tables(r: DurabilityReport): string {
  const c = r.config;
  const days = c.churnMs / 86_400_000;
  const rep = r.repair;
  const rows: [string, string][] = [
    [
      "nodes / files / churn",
      `${c.nodes} / ${n(c.files)} / ${days} days (+ ${c.tailMs / 3600_000} h tail)`,
    ],
    ["nodes killed / transient outages", `${r.nodes.killed} / ${r.nodes.outages}`],
    ["files ever unreadable", `**${r.unreadable.length}**`],
    ["files at target at the end", `**${r.filesAtTarget} / ${c.files}**`],
    ["episodes below target", n(r.episodes)],
    [
      "time below target p50 / p95 / p99 / max",
      `${min(r.belowMs.p50)} / ${min(r.belowMs.p95)} / **${min(r.belowMs.p99)}** / **${
        min(r.belowMs.max)
      }**`,
    ],
    [
      "episodes over their bound; worst margin",
      `**${r.violations.count}**; ${(r.worstMarginMs / 1000).toFixed(0)} s (bound ${
        min(r.boundOfWorstMs)
      })`,
    ],
    [
      "repair calls / copies and columns re-created / failed",
      `${n(rep.calls)} / ${n(rep.units)} / ${rep.failed}`,
    ],
    ["repairs started while another node repaired the file", `**${rep.concurrentStarts}**`],
    ["repairs by a node while a closer holder was up", `${rep.notClosest}`],
    ["repairs in an episode of outages only (grace broken)", `**${rep.graceBreaks}**`],
    [
      "repairs of a file at target (a check missed a live holder)",
      `${rep.phantom} (${rep.unseenHolders} pushes to a node that held it)`,
    ],
    [
      "re-created while a node only down held it / while an up node held it",
      `${rep.extraWhileDown} / ${rep.extraWhileUp} (${rep.outageOnly} repairs of a deficit of down nodes only)`,
    ],
    ["copies trimmed", `${rep.trims}`],
    [
      "bytes lost / repair bytes moved / wasted",
      `${gib(r.bytes.lost)} / ${gib(r.bytes.moved)} / ${gib(r.bytes.wasted)}`,
    ],
    ["**repair bytes moved per byte lost**", `**${(r.bytes.moved / r.bytes.lost).toFixed(2)}**`],
    [
      "checks / provider lookups by checks / DHT messages",
      `${n(rep.checks)} / ${n(rep.lookups)} / ${n(r.dhtMessages)}`,
    ],
    [
      "wall time / peak RSS",
      `${(r.wallMs / 60_000).toFixed(1)} min / ${(r.peakRssBytes / 1024 ** 2).toFixed(0)} MiB`,
    ],
  ];
  const lines = ["| figure | value |", "| --- | --- |"];
  for (const [k, v] of rows) lines.push(`| ${k} | ${v} |`);
  lines.push(
    "",
    "| policy | files | bytes lost | repair bytes moved | moved per lost | re-created | episodes | longest below |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const [policy, f] of Object.entries(r.byPolicy)) {
    const ratio = f.bytesLost > 0 ? (f.bytesMoved / f.bytesLost).toFixed(2) : "-";
    lines.push(
      `| ${policy} | ${f.files} | ${gib(f.bytesLost)} | ${gib(f.bytesMoved)} | ${ratio} | ` +
        `${f.units} | ${f.episodes} | ${min(f.maxBelowMs)} |`,
    );
  }
  return lines.join("\n");
}

/** The episodes that overran their bound (at most 5), as lines of the section. */
function overruns(r: DurabilityReport): string[] {
  if (r.violations.count === 0) return [];
  const lines = [
    `Episodes over their bound (${r.violations.count}; the first ${
      Math.min(5, r.violations.first.length)
    }): file, policy, start (h into the run), time below / bound, holder losses (deaths), ` +
    "repair calls:",
    "",
  ];
  for (const e of r.violations.first.slice(0, 5)) {
    lines.push(
      `- file ${e.file}, ${e.policy}, at ${(e.start / 3600_000).toFixed(1)} h: ${min(e.ms)} / ` +
        `${min(e.boundMs)}, ${e.losses} (${e.deaths}), ${e.repairs}`,
    );
  }
  lines.push("");
  return lines;
}

const args = Deno.args.length ? ` ${Deno.args.join(" ")}` : "";
const command = `deno run -A bench/durability_sim.ts${args}`;
const body = tables(report);
console.log(body);
for (const e of report.violations.first) console.error(`over its bound: ${JSON.stringify(e)}`);

if (!values["dry-run"]) {
  const c = report.config;
  const section = [
    "## Durability simulation",
    "",
    `Command: \`${command}\` (Deno ${Deno.version.deno}; ${
      started.toISOString().slice(0, 16).replace("T", " ")
    } UTC; seed ${c.seed}, check lookup \`${c.checkLookup}\`).`,
    "The simulation (`tests/sim/durability_sim.ts`) runs, for every node, the real repair loop",
    "(`Repairer`), the real health check (`checkFile`) and a real DHT (`Dht`, provider records",
    "republished every 22 h) on the simulated network and a virtual clock; the data plane is",
    "modeled: no bytes, each node knows which copies and shard columns it holds, probes are",
    "answered from that, a transfer takes bytes / bandwidth of virtual time on both ends' links",
    `(${c.linkBytesPerSecond / 1024 ** 2} MiB/s per node) and the repair rate (${
      c.repairBytesPerSecond / 1024 ** 2
    } MiB/s, the real token bucket), and fails when either end goes away. Files: ${
      c.mix.map((m) => `${Math.round(m.share * 100)}% ${m.policy}`).join(", ")
    }, ${c.sizeBytes.min / 1024 ** 2} MiB to ${
      c.sizeBytes.max / 1024 ** 3
    } GiB log-uniform, placed as a put places them. Repair with the node's defaults:`,
    `interval ${c.intervalMs / 60_000} min (±25%), grace ${c.graceMs / 60_000} min, probe timeout ${
      c.probeTimeoutMs / 1000
    } s. Outages last ${c.outageMs.min / 60_000}-${
      c.outageMs.max / 60_000
    } min (below the grace period); a killed node stays dead.`,
    "",
    "The bound each episode below target is held to (`boundMs` in `tests/sim/durability_track.ts`):",
    "t_last − start + grace + 1.25 × interval + 2 × tick (30 s) + 2 × check (lookup deadline 30 s +",
    "2 × probe timeout) + the file's repair time in the episode (+ re-check, tick and check for each",
    "repair round after the first), where t_last is the latest holder loss in the episode.",
    "Bytes lost are the copies and columns that died with their nodes; bytes moved are every",
    "byte repair sent, reads to rebuild a Reed-Solomon column included.",
    "",
    body,
    "",
    ...overruns(report),
  ].join("\n");
  const path = new URL("./RESULTS.md", import.meta.url);
  const text = await Deno.readTextFile(path);
  // The section's heading may carry a suffix (e.g. "(issue 9)"): any "## Durability simulation".
  const at = text.search(/\n## Durability simulation[^\n]*\n/);
  let next: string;
  if (at < 0) {
    next = `${text.trimEnd()}\n\n${section}`;
  } else {
    const after = text.indexOf("\n## ", at + 1);
    next = text.slice(0, at + 1) + section + (after < 0 ? "" : `\n${text.slice(after + 1)}`);
  }
  await Deno.writeTextFile(path, next);
  console.error(`wrote the "Durability simulation" section of bench/RESULTS.md`);
}
