/**
 * The DHT at scale: runs the seeded simulation of `tests/sim/dht_sim.ts` (the real `src/dht`
 * code on the simulated network, virtual clock, every message through the wire codec) for each
 * network size and prints one markdown table per run, for `bench/RESULTS.md`.
 *
 * Usage:
 *   deno run -A bench/dht_sim.ts [--nodes 1000,5000,10000] [--seed 1] [--lookups 1000]
 *     [--provider-lookups 1000] [--loss 0]
 *
 * Each size runs in a fresh process (so peak memory is that run's own), one after another.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { runDhtSimulation, type SimReport, type Spread } from "../tests/sim/dht_sim.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000,5000,10000" },
    seed: { type: "string", default: "1" },
    lookups: { type: "string", default: "1000" },
    "provider-lookups": { type: "string", default: "1000" },
    loss: { type: "string", default: "0" },
    child: { type: "boolean", default: false },
  },
});

const sizes = values.nodes!.split(",").map(Number);
const seed = Number(values.seed);

if (values.child) {
  const report = await runDhtSimulation({
    nodes: sizes[0],
    seed,
    lookups: Number(values.lookups),
    providerLookups: Number(values["provider-lookups"]),
    publishers: 100,
    keysPerPublisher: 10,
    kills: [0.1, 0.3],
    loss: Number(values.loss),
    progress: (line) => console.error(`[${sizes[0]}] ${line}`),
  });
  console.log(JSON.stringify(report));
  process.exit(0);
}

const s = (x: Spread) => `${x.p50} / ${x.p95} / ${x.p99}`;
const mib = (b: number) => (b / 1048576).toFixed(0);

function table(r: SimReport): string {
  const alive = r.phases.findIndex((p) => p.phase === "provider lookups, all alive");
  const lines = [
    `#### ${r.config.nodes} nodes, seed ${r.config.seed}, loss ${r.config.loss ?? 0}`,
    "",
    `- join + 2,000 lookups (all alive): **${
      (r.phases[alive].wallMsAt / 1000).toFixed(1)
    } s** wall; ` +
    `whole run (with the kill phases): ${(r.wallMs / 1000).toFixed(1)} s wall, ` +
    `peak RSS **${mib(r.peakRssBytes)} MiB**, ${
      r.networkMessages.toLocaleString("en")
    } messages, ` +
    `${(r.virtualMs / 3600_000).toFixed(1)} h virtual`,
    `- join: messages ${s(r.join.messages)}, rounds ${s(r.join.rounds)}, ` +
    `routing table size after all joined ${s(r.join.tableSize)} (p50 / p95 / p99)`,
    "",
    "| phase | success | rounds p50 / p95 / p99 | messages p50 / p95 / p99 | virtual ms p50 / p95 | deadline hit |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const p of r.phases) {
    lines.push(
      `| ${p.phase} | ${(p.success * 100).toFixed(1)}% | ${s(p.rounds)} | ${s(p.messages)} | ` +
        `${p.latencyMs.p50} / ${p.latencyMs.p95} | ${p.timedOut} |`,
    );
  }
  return lines.join("\n");
}

const self = new URL(import.meta.url).pathname;
for (const n of sizes) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      self,
      "--child",
      "--nodes",
      String(n),
      "--seed",
      String(seed),
      "--lookups",
      values.lookups!,
      "--provider-lookups",
      values["provider-lookups"]!,
      "--loss",
      values.loss!,
    ],
    stdout: "piped",
    stderr: "inherit",
  });
  const out = await cmd.output();
  if (!out.success) throw new Error(`simulation of ${n} nodes failed`);
  console.log(table(JSON.parse(new TextDecoder().decode(out.stdout))));
  console.log();
}
