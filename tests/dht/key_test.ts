import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import {
  commonPrefixLength,
  compareDistance,
  KEY_BITS,
  KEY_BYTES,
  keyInBucket,
  keyOfContentId,
  keyOfName,
} from "../../src/dht/key.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0x5eed_0c01);

/** The XOR of two keys as a bigint (the Kademlia distance, as a number). */
function distance(a: Uint8Array, b: Uint8Array): bigint {
  let d = 0n;
  for (let i = 0; i < KEY_BYTES; i++) d = (d << 8n) | BigInt(a[i] ^ b[i]);
  return d;
}

/** Bit `i` (0 = most significant) of `key`. */
function bit(key: Uint8Array, i: number): number {
  return (key[i >> 3] >> (7 - (i & 7))) & 1;
}

Deno.test("compare_distance_orders_by_xor_distance_to_the_target", () => {
  const t = new Uint8Array(32);
  const near = new Uint8Array(32);
  const far = new Uint8Array(32);
  near[31] = 1;
  far[0] = 1;
  assert.ok(compareDistance(t, near, far) < 0, "a low bit is closer than a high bit");
  assert.ok(compareDistance(t, far, near) > 0);
  assert.equal(compareDistance(t, near, near), 0);
  // Distance is to the target, not to zero: the target itself is the closest key.
  const target = new Uint8Array(32).fill(0xff);
  assert.ok(compareDistance(target, target, t) < 0);
});

Deno.test("compare_distance_agrees_with_the_bigint_xor_metric", async () => {
  await withSeed(SEED, () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < 500; i++) {
      const t = rng.bytes(32);
      const a = rng.bytes(32);
      // Half of the pairs share a long prefix, so the comparison goes deep into the bytes.
      const b = i % 2 === 0 ? rng.bytes(32) : a.slice();
      if (i % 2 === 1) b[rng.int(32)] ^= 1 << rng.int(8);
      const da = distance(t, a);
      const db = distance(t, b);
      const sign = Math.sign(compareDistance(t, a, b));
      assert.equal(sign, da < db ? -1 : da > db ? 1 : 0);
    }
  });
});

Deno.test("common_prefix_length_counts_leading_equal_bits", () => {
  const a = new Uint8Array(32);
  const b = new Uint8Array(32);
  assert.equal(commonPrefixLength(a, b), 256, "equal keys share all 256 bits");
  assert.equal(KEY_BITS, 256);
  b[0] = 0x80;
  assert.equal(commonPrefixLength(a, b), 0);
  b[0] = 0x01;
  assert.equal(commonPrefixLength(a, b), 7);
  b[0] = 0;
  b[1] = 0x20;
  assert.equal(commonPrefixLength(a, b), 10);
  b[1] = 0;
  b[31] = 0x01;
  assert.equal(commonPrefixLength(a, b), 255);
  assert.equal(commonPrefixLength(b, a), 255, "symmetric");
});

Deno.test("common_prefix_length_matches_a_bit_by_bit_count", async () => {
  await withSeed(SEED, () => {
    const rng = new Rng(SEED ^ 0x11);
    for (let i = 0; i < 300; i++) {
      const a = rng.bytes(32);
      const b = a.slice();
      const at = rng.int(256);
      b[at >> 3] ^= 0x80 >> (at & 7);
      // Randomize everything after the first differing bit.
      for (let j = (at >> 3) + 1; j < 32; j++) b[j] = rng.u32() & 0xff;
      let expected = 0;
      while (expected < 256 && bit(a, expected) === bit(b, expected)) expected++;
      assert.equal(expected, at);
      assert.equal(commonPrefixLength(a, b), at);
    }
  });
});

Deno.test("key_in_bucket_lands_in_the_bucket_of_every_prefix", async () => {
  await withSeed(SEED, () => {
    const rng = new Rng(SEED ^ 0x22);
    for (let round = 0; round < 4; round++) {
      const self = rng.bytes(32);
      for (let prefix = 0; prefix < KEY_BITS; prefix++) {
        const random = rng.bytes(32);
        const key = keyInBucket(self, prefix, random);
        assert.equal(key.length, KEY_BYTES);
        assert.equal(commonPrefixLength(self, key), prefix, `prefix ${prefix}`);
        // The bits after the prefix come from `random`.
        for (let j = prefix + 1; j < KEY_BITS; j++) {
          assert.equal(bit(key, j), bit(random, j), `prefix ${prefix}, bit ${j}`);
        }
      }
    }
  });
});

Deno.test("key_in_bucket_does_not_change_its_inputs", () => {
  const self = new Uint8Array(32).fill(0xaa);
  const random = new Uint8Array(32).fill(0x55);
  keyInBucket(self, 13, random);
  assert.deepEqual(self, new Uint8Array(32).fill(0xaa));
  assert.deepEqual(random, new Uint8Array(32).fill(0x55));
});

Deno.test("key_in_bucket_refuses_a_prefix_outside_0_to_255", () => {
  const self = new Uint8Array(32);
  const random = new Uint8Array(32);
  for (const bad of [-1, 256, 1.5, NaN]) {
    assert.throws(() => keyInBucket(self, bad, random), InvalidArgumentError, String(bad));
  }
});

Deno.test("key_of_content_id_right_pads_a_sha1_digest_with_zeros", async () => {
  const data = new TextEncoder().encode("hello");
  const sha1 = await ContentId.of(data, "sha-1");
  assert.equal(sha1.digest.length, 20);
  const key = keyOfContentId(sha1);
  assert.equal(key.length, 32);
  assert.deepEqual(key.subarray(0, 20), sha1.digest);
  assert.deepEqual(key.subarray(20), new Uint8Array(12));

  const sha256 = await ContentId.of(data, "sha-256");
  assert.deepEqual(keyOfContentId(sha256), sha256.digest, "a SHA-256 id is its digest");
  assert.notEqual(keyOfContentId(sha256), sha256.digest, "a copy, not the id's own bytes");
});

Deno.test("key_of_name_is_the_sha256_of_the_prefixed_name", async () => {
  const expected = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode("dfs/name/docs")),
  );
  assert.deepEqual(await keyOfName("docs"), expected);
  assert.notDeepEqual(await keyOfName("docs"), await keyOfName("Docs"));
});
