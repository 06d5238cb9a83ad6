import assert from "node:assert/strict";
import { type SignedNameRecord, signNameRecord } from "../../src/dht/name_record.ts";
import { pickRecord } from "../../src/dht/name_resolution.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { toHex } from "../../src/util/hex.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0x5eed_0d01);
const EXPIRES = 1_790_000_000_000;

const [alice, bob, carol] = await Promise.all([
  NodeIdentity.generate(),
  NodeIdentity.generate(),
  NodeIdentity.generate(),
]);

function rec(
  who: NodeIdentity,
  seq: number,
  value = "v",
  expires = EXPIRES,
): Promise<SignedNameRecord> {
  return signNameRecord(who, {
    name: "docs",
    value: new TextEncoder().encode(value),
    seq,
    expires,
  });
}

/** Every order of `items` (small arrays only). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest])
  );
}

Deno.test("no_records_picks_nothing", () => {
  assert.equal(pickRecord([], false), null);
  assert.equal(pickRecord([], true), null);
});

Deno.test("the_key_held_by_most_holders_wins_in_an_open_network", async () => {
  const a1 = await rec(alice, 1);
  const a2 = await rec(alice, 2, "newer");
  const b9 = await rec(bob, 9, "squatter");
  // Three holders kept alice's key (one of them her newer record), two bob's.
  const records = [a1, b9, a1, b9, a2];
  assert.equal(pickRecord(records, false), a2, "alice's key, and its highest sequence");
});

Deno.test("the_highest_sequence_wins_in_a_private_cluster", async () => {
  const a1 = await rec(alice, 1);
  const b9 = await rec(bob, 9, "bob's");
  const c3 = await rec(carol, 3);
  assert.equal(pickRecord([a1, a1, a1, b9, c3], true), b9, "votes do not count");
});

Deno.test("a_tie_of_votes_goes_to_the_key_with_the_highest_sequence", async () => {
  const a5 = await rec(alice, 5);
  const b3 = await rec(bob, 3);
  assert.equal(pickRecord([b3, a5], false), a5);
  assert.equal(pickRecord([a5, b3], false), a5);
});

Deno.test("equal_sequences_are_decided_by_expiry_then_signature_bytes", async () => {
  const early = await rec(alice, 4, "x", EXPIRES);
  const late = await rec(bob, 4, "y", EXPIRES + 1);
  assert.equal(pickRecord([early, late], true), late, "the later expiry");
  assert.equal(pickRecord([late, early], false), late);
  const a = await rec(alice, 4, "same");
  const b = await rec(bob, 4, "same");
  const smaller = compareBytes(a.signature, b.signature) < 0 ? a : b;
  assert.equal(pickRecord([a, b], true), smaller, "the smaller signature");
  assert.equal(pickRecord([b, a], true), smaller);
  assert.equal(pickRecord([a, b], false), smaller);
  assert.equal(pickRecord([b, a], false), smaller);
});

Deno.test("every_reader_picks_the_same_record_whatever_the_order_of_answers", async () => {
  await withSeed(SEED, async () => {
    const rng = new Rng(SEED);
    const people = [alice, bob, carol];
    for (let round = 0; round < 6; round++) {
      const records: SignedNameRecord[] = [];
      for (let i = 0; i < 5; i++) {
        records.push(await rec(rng.pick(people), 1 + rng.int(3), `v${rng.int(2)}`));
      }
      for (const open of [false, true]) {
        // Compared by content: equal records signed twice are equal bytes, other objects.
        const picks = new Set(
          permutations(records).map((p) => toHex(pickRecord(p, !open)!.signature)),
        );
        assert.equal(picks.size, 1, `round ${round}, ${open ? "open" : "private"}`);
      }
    }
  });
});

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
