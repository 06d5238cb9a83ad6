/**
 * The small DHT simulation that runs on every CI run: 300 nodes on the simulated network, the
 * same phases as `bench/dht_sim.ts`, with bounds that fail if lookups degrade toward flooding
 * (a flooding lookup would ask hundreds of the 300 nodes) or stop finding what they should.
 */

import assert from "node:assert/strict";
import { runDhtSimulation, type SimReport } from "./dht_sim.ts";
import { testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(1);

function phase(r: SimReport, name: string) {
  const p = r.phases.find((x) => x.phase === name);
  assert.ok(p, `no phase ${name}`);
  return p;
}

Deno.test("dht_simulation_of_300_nodes_finds_keys_in_few_rounds_and_survives_30_percent_loss_of_nodes", async () => {
  await withSeed(SEED, async () => {
    const r = await runDhtSimulation({
      nodes: 300,
      seed: SEED,
      lookups: 200,
      publishers: 20,
      keysPerPublisher: 10,
      providerLookups: 200,
      kills: [0.1, 0.3],
    });
    const alive = phase(r, "random lookups, all alive");
    assert.ok(alive.success >= 0.99, `random lookups found the closest node ${alive.success}`);
    assert.ok(alive.rounds.p50 <= 4, `median rounds ${alive.rounds.p50}`);
    assert.ok(alive.rounds.p99 <= 6, `p99 rounds ${alive.rounds.p99}`);
    assert.ok(alive.messages.p50 <= 40, `median messages ${alive.messages.p50}`);
    assert.ok(alive.messages.p99 <= 60, `p99 messages ${alive.messages.p99}`);
    assert.equal(alive.timedOut, 0);
    assert.equal(phase(r, "provider lookups, all alive").success, 1);
    assert.equal(phase(r, "provider lookups, 10% dead, before republish").success, 1);
    assert.equal(phase(r, "provider lookups, 10% dead, after republish").success, 1);
    const dead30 = phase(r, "provider lookups, 30% dead, after republish");
    assert.ok(dead30.success >= 0.99, `provider lookups with 30% dead: ${dead30.success}`);
    const random30 = phase(r, "random lookups, 30% dead, after republish");
    assert.ok(random30.success >= 0.95, `random lookups with 30% dead: ${random30.success}`);
    assert.ok(random30.messages.p99 <= 80, `p99 messages with 30% dead ${random30.messages.p99}`);
    // Joining costs a lookup, not a flood.
    assert.ok(r.join.messages.p99 <= 60, `p99 join messages ${r.join.messages.p99}`);
  });
});

Deno.test("dht_simulation_gives_the_same_figures_for_the_same_seed", async () => {
  await withSeed(SEED, async () => {
    const config = {
      nodes: 80,
      seed: SEED,
      lookups: 40,
      publishers: 5,
      keysPerPublisher: 4,
      providerLookups: 40,
      kills: [0.2],
      loss: 0.01,
    };
    const strip = (r: SimReport) => ({
      ...r,
      wallMs: 0,
      peakRssBytes: 0,
      phases: r.phases.map((p) => ({ ...p, wallMsAt: 0 })),
    });
    const a = strip(await runDhtSimulation(config));
    const b = strip(await runDhtSimulation(config));
    assert.deepEqual(a, b);
    const c = strip(await runDhtSimulation({ ...config, seed: SEED + 1 }));
    assert.notDeepEqual(a.phases, c.phases);
  });
});
