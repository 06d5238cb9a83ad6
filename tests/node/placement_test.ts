import assert from "node:assert/strict";
import { closestPeers, compareDistance, xorDistance } from "../../src/node/placement.ts";
import { toHex } from "../../src/util/hex.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";

Deno.test("xor_distance_is_bytewise_xor_and_symmetric", () => {
  const a = new Uint8Array([0xf0, 0x0f]);
  const b = new Uint8Array([0xff, 0x00]);
  assert.deepEqual(xorDistance(a, b), new Uint8Array([0x0f, 0x0f]));
  assert.deepEqual(xorDistance(b, a), xorDistance(a, b));
  assert.deepEqual(xorDistance(a, a), new Uint8Array([0, 0]));
});

Deno.test("compare_distance_orders_big_endian", () => {
  assert.ok(compareDistance(new Uint8Array([0, 9]), new Uint8Array([1, 0])) < 0);
  assert.ok(compareDistance(new Uint8Array([2, 0]), new Uint8Array([1, 255])) > 0);
  assert.equal(compareDistance(new Uint8Array([3]), new Uint8Array([3])), 0);
});

Deno.test("closest_peers_picks_the_n_closest_by_xor", () => {
  const key = new Uint8Array([0x80, 0x00]);
  const peers = ["0000", "8001", "ff00", "8100", "7fff"].map((nodeId) => ({ nodeId }));
  const got = closestPeers(key, peers, 3).map((p) => p.nodeId);
  assert.deepEqual(got, ["8001", "8100", "ff00"]);
  assert.deepEqual(closestPeers(key, peers, 0), []);
  assert.equal(closestPeers(key, peers, 10).length, 5);
});

Deno.test("closest_peers_is_stable_and_ignores_non_hex_ids", () => {
  const peers = [{ nodeId: "zz" }, { nodeId: "01" }, { nodeId: "01" }];
  const got = closestPeers(new Uint8Array([0]), peers, 5);
  assert.equal(got.length, 2);
  assert.strictEqual(got[0], peers[1]);
});

Deno.test("closest_peers_rejects_a_bad_count", () => {
  assert.throws(() => closestPeers(new Uint8Array(1), [], -1), { code: "INVALID_ARGUMENT" });
  assert.throws(() => closestPeers(new Uint8Array(1), [], 1.5), { code: "INVALID_ARGUMENT" });
});

Deno.test("closest_peers_matches_a_brute_force_order_on_random_ids", () => {
  const seed = testSeed(42);
  const rng = new Rng(seed);
  const rnd = () => rng.int(256);
  return withSeed(seed, () => {
    for (let round = 0; round < 50; round++) {
      const key = Uint8Array.from({ length: 8 }, rnd);
      const peers = Array.from(
        { length: 20 },
        () => ({ nodeId: toHex(Uint8Array.from({ length: 8 }, rnd)) }),
      );
      const got = closestPeers(key, peers, 4);
      const dist = (id: string) => BigInt("0x" + id) ^ BigInt("0x" + toHex(key));
      const want = [...peers].sort((a, b) => {
        const d = dist(a.nodeId) - dist(b.nodeId);
        return d < 0n ? -1 : d > 0n ? 1 : 0;
      }).slice(0, 4);
      assert.deepEqual(got.map((p) => p.nodeId), want.map((p) => p.nodeId));
    }
  });
});
