/**
 * The durability simulation in CI (`durability_sim.ts`; the week-long run of 200 nodes and
 * 1,000 files is `bench/durability_sim.ts`): 60 nodes, 40 files of mixed policies, 30% of the
 * nodes killed over a simulated day and transient outages shorter than the grace period, the
 * real repair loop, health check and DHT on every node with the node's defaults (check every
 * 10 min jittered, grace 15 min). Seeded: `DFS_SEED` picks another run; a failure prints the
 * seed.
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
      files: 40,
      seed: SEED,
      churnMs: 24 * HOUR,
      killFraction: 0.3,
      outages: 6,
      tailMs: HOUR,
    });
    const why = summary(r);
    assert.equal(r.nodes.killed, 18, why);
    assert.equal(r.nodes.outages, 6, why);
    // Every file stays readable: a live copy, or k live columns, after every change.
    assert.deepEqual(r.unreadable, [], why);
    // No file stays below target longer than its bound (`boundMs` of durability_track.ts).
    assert.equal(r.violations.count, 0, why);
    assert.ok(r.worstMarginMs <= 0, why);
    // Each is back at target once the churn is over.
    assert.equal(r.filesAtTarget, 40, why);
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
        `per byte lost; ${r.repair.phantom} repairs of a file at target (a check missed a ` +
        `live holder); ${(r.wallMs / 1000).toFixed(1)} s wall`,
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

// Problems of the repair loop this simulation found, and their state:
//
// 1. Fixed: the grace period ran per file, not per missing copy or column, so a holder that went
//    down while another loss of the file was pending was re-created at once
//    (`durability_simulation_with_outages_repairs_no_holder_that_is_only_down`).
// 2. Fixed: a check's provider lookup stopped once 20 providers were credited, so with more
//    records (rs:10+4 holders plus those dead holders leave for 48 h) live holders went unprobed
//    and files at target were "repaired" (`durability_simulation_checks_see_every_live_holder`).
// 3. Fixed: the loop's grace clocks lived only in memory. A leader that restarted during a loss
//    (or was down when it began) forgot it, checked the file again within one interval and
//    waited a whole new grace period, so the file stayed below target up to one outage + one
//    interval longer than the bound. Now the clocks travel with the probes: each holder answers
//    FILE_STATE with the units it sees missing and their ages (`Repairer.missingAges`, flag
//    AGES), and the checker starts its clock of a unit it sees missing too no later than the
//    oldest age reported. The modeled probes answer from the responder's current repair loop
//    (none while it is down, a fresh one after a restart); without the ages, seed 1 of
//    `durability_simulation_with_leader_restarts_keeps_the_below_target_bound` has 3 episodes
//    over their bound.
// 4. Fixed (seen at 200 nodes, `bench/durability_sim.ts`): `Repairer.runDue` checked and
//    repaired due files two at a time and started its next tick only once the whole round was
//    done. When a node died, the closest live holder of many of its files checked each of them
//    (at least one 10 s probe timeout each: the dead holder's provider records stay up to 48 h)
//    and repaired them inline, so a file whose grace ended waited behind the others and was
//    repaired minutes late. Now due files go to one queue that 8 workers drain (the default,
//    and what Upkeep passes), each tick adds the files that became due without waiting for the
//    checks under way, and a file is never queued twice
//    (`tests/node/durability/repairer_queue_test.ts`).

/**
 * The run with outages and leader restarts that the next two tests check, each for its own
 * property: simulated once (about 50 s) and shared, since a seeded run always gives the same
 * report (`durability_simulation_gives_the_same_figures_for_the_same_seed`).
 */
const OUTAGES_SEED = 1;
let outagesRun: Promise<DurabilityReport> | undefined;
function outagesReport(): Promise<DurabilityReport> {
  outagesRun ??= runDurabilitySimulation({
    nodes: 60,
    files: 100,
    seed: OUTAGES_SEED,
    churnMs: 12 * HOUR,
    outages: 8,
    tailMs: HOUR,
  });
  return outagesRun;
}

Deno.test({
  name: "durability_simulation_with_outages_repairs_no_holder_that_is_only_down",
  fn: async () => {
    await withSeed(OUTAGES_SEED, async () => {
      const r = await outagesReport();
      const why = summary(r);
      assert.deepEqual(r.unreadable, [], why);
      assert.equal(r.repair.graceBreaks, 0, why);
      assert.equal(r.repair.extraWhileDown, 0, why);
    });
  },
});

Deno.test({
  name: "durability_simulation_with_leader_restarts_keeps_the_below_target_bound",
  fn: async () => {
    await withSeed(OUTAGES_SEED, async () => {
      const r = await outagesReport();
      assert.equal(r.violations.count, 0, summary(r));
    });
  },
});

Deno.test({
  name: "durability_simulation_checks_see_every_live_holder",
  fn: async () => {
    const seed = 3;
    await withSeed(seed, async () => {
      const r = await runDurabilitySimulation({
        nodes: 60,
        files: 60,
        seed,
        churnMs: 24 * HOUR,
        outages: 6,
        tailMs: HOUR,
      });
      assert.equal(r.repair.phantom, 0, summary(r));
      assert.equal(r.repair.unseenHolders, 0, summary(r));
    });
  },
});
