/** The column rating of Reed-Solomon files: shards held, spread over nodes, losses survived. */

import assert from "node:assert/strict";
import { rateColumns } from "../../../src/node/durability/column_rating.ts";
import { Rng, testSeed, withSeed } from "../../util/prng.ts";

const ALL6 = [0, 1, 2, 3, 4, 5];

Deno.test("each_column_on_its_own_node_survives_m_losses", () => {
  const r = rateColumns(ALL6.map((c) => [c]), ALL6, 4, 2);
  assert.deepEqual(r, { live: 6, spread: 6, survives: 2, unspread: [], absent: [] });
});

Deno.test("lost_columns_are_absent_and_unspread", () => {
  const r = rateColumns([[0], [1], [2], [3]], ALL6, 4, 2);
  assert.deepEqual(r, { live: 4, spread: 4, survives: 0, unspread: [4, 5], absent: [4, 5] });
  const gone = rateColumns([[0], [1], [2]], ALL6, 4, 2);
  assert.equal(gone.live, 3);
  assert.equal(gone.survives, -1);
});

Deno.test("a_node_with_two_columns_counts_once_but_its_loss_is_survived", () => {
  // Four nodes hold six columns (two of them doubled): any single loss leaves >= 4 shards.
  const r = rateColumns([[0, 4], [1, 5], [2], [3]], ALL6, 4, 2);
  assert.equal(r.live, 6);
  assert.equal(r.spread, 4);
  assert.equal(r.survives, 1);
  assert.deepEqual(r.absent, []);
  assert.equal(r.unspread.length, 2);
});

Deno.test("zero_columns_of_a_short_stripe_count_as_held", () => {
  // rs:4+2 whose first stripe has 2 data blocks: columns 2 and 3 are zeros.
  const r = rateColumns([[0], [1], [4], [5]], [0, 1, 4, 5], 4, 2);
  assert.deepEqual(r, { live: 6, spread: 6, survives: 2, unspread: [], absent: [] });
});

Deno.test("survives_matches_a_brute_force_count", async () => {
  const seed = testSeed(31);
  await withSeed(seed, () => {
    const rand = new Rng(seed);
    for (let round = 0; round < 200; round++) {
      const k = 1 + rand.int(5);
      const m = 1 + rand.int(3);
      const n = 1 + rand.int(7);
      const real = Array.from({ length: k + m }, (_, c) => c);
      const held = Array.from({ length: n }, () => real.filter(() => rand.int(3) === 0));
      const r = rateColumns(held, real, k, m);
      // Brute force: the smallest set of nodes whose loss leaves fewer than k columns.
      let best = Infinity;
      for (let mask = 0; mask < 1 << n; mask++) {
        const left = new Set<number>();
        held.forEach((h, i) => {
          if (!(mask & (1 << i))) { for (const c of h) left.add(c); }
        });
        if (left.size < k) best = Math.min(best, popcount(mask));
      }
      const expected = r.live < k ? -1 : Math.min(best, m + 3) - 1;
      const got = Math.min(r.survives, m + 2);
      assert.equal(got, expected, `round ${round}: ${JSON.stringify({ held, k, m })}`);
    }
  });
});

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}
