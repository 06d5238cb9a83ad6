/**
 * The durability simulation in CI (`durability_sim.ts`; the week-long run of 200 nodes is
 * `bench/durability_sim.ts`): 60 nodes, 100 files of mixed policies, 30% of the nodes killed
 * over 12 virtual hours plus transient outages shorter than the grace period, the real repair
 * loop on every node with the node's defaults (check every 10 min jittered, grace 15 min).
 * Seeded: `DFS_SEED` picks another run; a failure prints the seed.
 */

import assert from "node:assert/strict";
import { type DurabilityReport, runDurabilitySimulation } from "./durability_sim.ts";
import { testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(1);
const HOUR = 3600_000;

/** The figures a failure message shows. */
function summary(r: DurabilityReport): string {
  const { config: _config, byPolicy: _byPolicy, ...rest } = r;
  return JSON.stringify(rest, null, 1);
}

Deno.test("durability_simulation_keeps_every_file_readable_and_repairs_within_the_bound", async () => {
  await withSeed(SEED, async () => {
    const r = await runDurabilitySimulation({
      nodes: 60,
      files: 100,
      seed: SEED,
      churnMs: 12 * HOUR,
      killFraction: 0.3,
      outages: 8,
      tailMs: 1 * HOUR,
    });
    const why = summary(r);
    assert.equal(r.nodes.killed, 18, why);
    assert.equal(r.nodes.outages, 8, why);
    // Every file stays readable: a live copy, or k live columns, at every change.
    assert.deepEqual(r.unreadable, [], why);
    // No file stays below target longer than its bound (`boundMs` of durability_track.ts).
    assert.equal(r.violations.count, 0, why);
    assert.ok(r.worstMarginMs <= 0, why);
    // And each is back at target once the churn is over.
    assert.equal(r.filesAtTarget, 100, why);
    assert.ok(r.episodes > 0 && r.repair.calls > 0 && r.repair.units > 0, why);
    // One repairer per file at a time, and always the closest live holder.
    assert.equal(r.repair.concurrentStarts, 0, why);
    assert.equal(r.repair.notClosest, 0, why);
    // Outages shorter than the grace period never set off a repair by themselves.
    assert.equal(r.repair.graceBreaks, 0, why);
    assert.equal(r.repair.failed, 0, why);
    console.log(
      `seed ${SEED}: ${r.episodes} episodes below target, longest ${
        (r.belowMs.max / 60_000).toFixed(1)
      } min (worst margin to its bound ${(r.worstMarginMs / 1000).toFixed(0)} s); ` +
        `${r.repair.calls} repairs, ${(r.bytes.moved / r.bytes.lost).toFixed(2)} bytes moved ` +
        `per byte lost; checks that missed a live holder and repaired a file at target: ` +
        `${r.repair.phantom}; ${(r.wallMs / 1000).toFixed(1)} s wall`,
    );
  });
});

Deno.test("durability_simulation_gives_the_same_figures_for_the_same_seed", async () => {
  await withSeed(SEED, async () => {
    const config = {
      nodes: 24,
      files: 30,
      seed: SEED,
      churnMs: 3 * HOUR,
      outages: 3,
      tailMs: HOUR,
    };
    const strip = (r: DurabilityReport) => ({ ...r, wallMs: 0, peakRssBytes: 0 });
    const a = strip(await runDurabilitySimulation(config));
    const b = strip(await runDurabilitySimulation(config));
    assert.deepEqual(a, b);
    assert.ok(a.repair.calls > 0, summary(a));
  });
});
