import assert from "node:assert/strict";
import { RttEstimator } from "../../src/dht/rtt.ts";

Deno.test("the_request_timeout_is_the_ceiling_until_a_round_trip_is_seen", () => {
  const rtt = new RttEstimator(1_000, 5_000);
  assert.equal(rtt.srttMs, undefined);
  assert.equal(rtt.timeoutMs(), 5_000);
});

Deno.test("fast_round_trips_bring_the_timeout_down_to_the_floor", () => {
  const rtt = new RttEstimator(1_000, 5_000);
  for (let i = 0; i < 30; i++) rtt.sample(100);
  assert.equal(Math.round(rtt.srttMs!), 100);
  assert.equal(rtt.timeoutMs(), 1_000);
});

Deno.test("the_timeout_follows_srtt_plus_four_rttvar_between_floor_and_ceiling", () => {
  const rtt = new RttEstimator(100, 30_000);
  rtt.sample(1_000); // srtt 1000, rttvar 500
  assert.equal(rtt.timeoutMs(), 3_000);
  rtt.sample(2_000); // rttvar 0.75 * 500 + 0.25 * 1000 = 625, srtt 1125
  assert.equal(rtt.timeoutMs(), 1_125 + 4 * 625);
  for (let i = 0; i < 50; i++) rtt.sample(40_000);
  assert.equal(rtt.timeoutMs(), 30_000, "never above the ceiling");
});

Deno.test("a_bad_sample_is_ignored", () => {
  const rtt = new RttEstimator(10, 5_000);
  rtt.sample(-1);
  rtt.sample(NaN);
  rtt.sample(Infinity);
  assert.equal(rtt.srttMs, undefined);
  assert.equal(rtt.timeoutMs(), 5_000);
});

Deno.test("a_floor_above_the_ceiling_is_the_ceiling", () => {
  const rtt = new RttEstimator(10_000, 5_000);
  rtt.sample(1);
  assert.equal(rtt.timeoutMs(), 5_000);
});
