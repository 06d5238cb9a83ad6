/**
 * Manifest version 2: the redundancy policy in bytes 24..27 and, for Reed-Solomon leaves, the
 * parity ids after the children. Version 1 must be untouched when no policy is given.
 */
import assert from "node:assert/strict";
import { ContentId, type HashAlgorithm } from "../../src/id/content_id.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { InvalidManifestError } from "../../src/file/errors.ts";
import {
  decodeManifest,
  encodeManifest,
  type Manifest,
  MANIFEST_HEADER_SIZE,
  MANIFEST_HEADER_SIZE_V2,
  MANIFEST_VERSION,
  MANIFEST_VERSION_2,
  manifestEntrySize,
  manifestSize,
  manifestSizeV2,
  MAX_BLOCK_SIZE,
  MAX_FANOUT,
  parityCount,
} from "../../src/file/manifest.ts";
import type { Redundancy } from "../../src/file/redundancy.ts";
import { withSeed } from "./_fakes.ts";

const enc = new TextEncoder();
const RS21: Redundancy = { kind: "rs", k: 2, m: 1 };
const RS42: Redundancy = { kind: "rs", k: 4, m: 2 };
const REP24: Redundancy = { kind: "replicas", min: 2, max: 4 };

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const u64 = (n: number) => n.toString(16).padStart(16, "0");

async function ids(prefix: string, n: number, algorithm: HashAlgorithm = "sha-256") {
  const out: ContentId[] = [];
  for (let i = 0; i < n; i++) out.push(await ContentId.of(enc.encode(`${prefix}${i}`), algorithm));
  return out;
}

/** A leaf of `n` blocks (the last one `last` bytes) under `redundancy`, with its parity. */
async function leafOf(
  n: number,
  redundancy: Redundancy | undefined,
  options: { blockSize?: number; last?: number; algorithm?: HashAlgorithm } = {},
): Promise<Manifest> {
  const { blockSize = 1024, algorithm = "sha-256" } = options;
  const last = options.last ?? blockSize;
  const data = await ids("d", n, algorithm);
  const children = data.map((id, i) => ({ id, size: i === n - 1 ? last : blockSize }));
  const size = children.reduce((a, c) => a + c.size, 0);
  const base: Manifest = { kind: "leaf", height: 0, algorithm, blockSize, size, children };
  if (!redundancy) return base;
  return { ...base, redundancy, parity: await ids("p", parityCount(redundancy, n), algorithm) };
}

function expectInvalid(bytes: Uint8Array, pattern: RegExp) {
  assert.throws(() => decodeManifest(bytes), (err: unknown) => {
    assert.ok(err instanceof InvalidManifestError, `not typed: ${err}`);
    assert.equal(err.code, "INVALID_MANIFEST");
    assert.match(err.message, pattern);
    return true;
  });
}

function expectEncodeRefused(m: Manifest, pattern: RegExp) {
  assert.throws(() => encodeManifest(m), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `not typed: ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

function mutated(good: Uint8Array, f: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const b = good.slice();
  f(b, new DataView(b.buffer));
  return b;
}

Deno.test("manifest_v2_constants_and_sizes", () => {
  assert.equal(MANIFEST_VERSION, 1);
  assert.equal(MANIFEST_VERSION_2, 2);
  assert.equal(MANIFEST_HEADER_SIZE_V2, 28);
  assert.equal(manifestSizeV2("sha-256", 0), 28);
  assert.equal(manifestSizeV2("sha-256", 3, 2), 28 + 3 * 42 + 2 * 34);
  assert.equal(manifestSizeV2("sha-1", 3, 2), 28 + 3 * 30 + 2 * 22);
  assert.equal(parityCount(undefined, 10), 0);
  assert.equal(parityCount(REP24, 10), 0);
  assert.equal(parityCount(RS42, 0), 0);
  assert.equal(parityCount(RS42, 1), 2);
  assert.equal(parityCount(RS42, 4), 2);
  assert.equal(parityCount(RS42, 5), 4);
  assert.equal(parityCount(RS42, 8), 4);
  assert.equal(parityCount(RS42, 9), 6);
  assert.equal(parityCount({ kind: "rs", k: 10, m: 4 }, 4096), Math.ceil(4096 / 10) * 4);
});

Deno.test("manifest_v2_round_trips_replicas_leaf", async () => {
  for (const algorithm of ["sha-256", "sha-1"] as const) {
    for (const redundancy of [REP24, { kind: "replicas", min: 3, max: 3 } as Redundancy]) {
      const m = await leafOf(3, redundancy, { last: 7, algorithm });
      assert.deepEqual(m.parity, []);
      const bytes = encodeManifest(m);
      assert.equal(bytes.length, manifestSizeV2(algorithm, 3, 0));
      assert.equal(bytes[4], 2);
      const { min, max } = redundancy as { min: number; max: number };
      assert.deepEqual([...bytes.subarray(24, 28)], [0, min, max, 0]);
      assert.deepEqual(decodeManifest(bytes), m);
    }
  }
  // Without a `parity` field the decoder reports an empty one.
  const { parity: _, ...noParity } = await leafOf(2, REP24, { last: 1 });
  assert.deepEqual(decodeManifest(encodeManifest(noParity)), { ...noParity, parity: [] });
});

Deno.test("manifest_v2_round_trips_rs_leaves_with_parity_per_stripe", async () => {
  const cases: [Redundancy & { kind: "rs" }, number][] = [
    [{ kind: "rs", k: 4, m: 2 }, 1],
    [{ kind: "rs", k: 4, m: 2 }, 4],
    [{ kind: "rs", k: 4, m: 2 }, 5],
    [{ kind: "rs", k: 4, m: 2 }, 12],
    [{ kind: "rs", k: 10, m: 4 }, 23],
    [{ kind: "rs", k: 1, m: 1 }, 3],
    [{ kind: "rs", k: 3, m: 5 }, 7],
  ];
  for (const algorithm of ["sha-256", "sha-1"] as const) {
    for (const [policy, n] of cases) {
      const m = await leafOf(n, policy, { last: 100, algorithm });
      const p = Math.ceil(n / policy.k) * policy.m;
      assert.equal(m.parity!.length, p);
      const bytes = encodeManifest(m);
      const entry = manifestEntrySize(algorithm);
      assert.equal(bytes.length, 28 + n * entry + p * (entry - 8));
      assert.deepEqual([...bytes.subarray(24, 28)], [1, policy.k, policy.m, 0]);
      // Children start at 28; the parity ids follow the last child, in order.
      assert.deepEqual(
        bytes.subarray(28, 28 + m.children[0].id.bytes.length),
        m.children[0].id.bytes,
      );
      let at = 28 + n * entry;
      for (const id of m.parity!) {
        assert.deepEqual(bytes.subarray(at, at + id.bytes.length), id.bytes);
        at += id.bytes.length;
      }
      assert.equal(at, bytes.length);
      const back = decodeManifest(bytes);
      assert.deepEqual(back, m);
      // Stripe s owns parity entries s*m .. s*m+m-1.
      for (let s = 0; s < Math.ceil(n / policy.k); s++) {
        for (let j = 0; j < policy.m; j++) {
          assert.ok(back.parity![s * policy.m + j].equals(m.parity![s * policy.m + j]));
        }
      }
    }
  }
});

Deno.test("manifest_v2_round_trips_empty_rs_leaf", async () => {
  const m = await leafOf(0, RS42);
  assert.deepEqual(m.parity, []);
  const bytes = encodeManifest({ ...m, size: 0 });
  assert.equal(bytes.length, 28);
  assert.equal(hex(bytes), "4446534d020000120000040000000000000000000000000001040200");
  assert.deepEqual(decodeManifest(bytes), { ...m, size: 0 });
});

Deno.test("manifest_v2_round_trips_inner_manifests_without_parity", async () => {
  const [a, b] = await ids("child", 2);
  for (const redundancy of [RS42, REP24]) {
    const inner: Manifest = {
      kind: "inner",
      height: 1,
      algorithm: "sha-256",
      blockSize: 1024,
      size: 8 * 1024 + 10,
      children: [{ id: a, size: 8 * 1024 }, { id: b, size: 10 }],
      redundancy,
      parity: [],
    };
    const bytes = encodeManifest(inner);
    assert.equal(bytes.length, 28 + 2 * 42);
    assert.equal(
      hex(bytes),
      "4446534d" + "02" + "01" + "01" + "12" + "00000400" + u64(8 * 1024 + 10) + "00000002" +
        (redundancy.kind === "rs" ? "01040200" : "00020400") +
        a.toString() + u64(8 * 1024) + b.toString() + u64(10),
    );
    assert.deepEqual(decodeManifest(bytes), inner);
    // An inner manifest lists no parity: one is refused by the encoder, and trailing bytes
    // where it would be are refused by the decoder.
    expectEncodeRefused({ ...inner, parity: [a] }, /1 parity ids, expected 0/);
    expectInvalid(new Uint8Array([...bytes, ...a.bytes]), /34 trailing bytes/);
  }
});

Deno.test("manifest_v2_rs_2_1_leaf_matches_documented_bytes", async () => {
  const [d0, d1, d2] = await Promise.all(
    ["alpha", "beta", "gamma"].map((s) => ContentId.of(enc.encode(s))),
  );
  const [p0, p1] = await Promise.all(
    ["parity0", "parity1"].map((s) => ContentId.of(enc.encode(s))),
  );
  const m: Manifest = {
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: 1024,
    size: 2053,
    children: [{ id: d0, size: 1024 }, { id: d1, size: 1024 }, { id: d2, size: 5 }],
    redundancy: RS21,
    parity: [p0, p1],
  };
  const bytes = encodeManifest(m);
  const expected = "4446534d" + // magic
    "02" + // version 2
    "00" + // leaf
    "00" + // height 0
    "12" + // sha-256
    "00000400" + // block size 1024
    "0000000000000805" + // total 2053
    "00000003" + // three children
    "01" + "02" + "01" + "00" + // rs, k=2, m=1, reserved
    d0.toString() + "0000000000000400" +
    d1.toString() + "0000000000000400" +
    d2.toString() + "0000000000000005" +
    p0.toString() + // stripe 0: blocks 0, 1
    p1.toString(); // stripe 1: block 2 (short)
  assert.equal(hex(bytes), expected);
  assert.equal(bytes.length, 28 + 3 * 42 + 2 * 34);
  assert.deepEqual([...bytes.subarray(24, 28)], [0x01, 0x02, 0x01, 0x00]);
  // The ids are the SHA-256 of fixed bytes: pin one so a change of hashing shows up here.
  assert.equal(
    d0.toString(),
    "12208ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8",
  );
  assert.deepEqual(decodeManifest(bytes), m);
});

Deno.test("manifest_v1_encoding_unchanged_without_redundancy", async () => {
  const m = await leafOf(2, undefined, { last: 9 });
  assert.equal("redundancy" in m, false);
  const bytes = encodeManifest(m);
  assert.equal(bytes.length, manifestSize("sha-256", 2));
  assert.equal(
    hex(bytes),
    "4446534d" + "01" + "00" + "00" + "12" + "00000400" + u64(1033) + "00000002" +
      m.children[0].id.toString() + u64(1024) + m.children[1].id.toString() + u64(9),
  );
  // An explicit empty parity list without a policy changes nothing either.
  assert.deepEqual(encodeManifest({ ...m, parity: [] }), bytes);
});

Deno.test("manifest_v1_still_decodes_with_no_redundancy", async () => {
  const m = await leafOf(3, undefined, { last: 1 });
  const back = decodeManifest(encodeManifest(m));
  assert.deepEqual(back, m);
  assert.equal("redundancy" in back, false);
  assert.equal("parity" in back, false);
  assert.equal(back.redundancy, undefined);
  // A v1 inner manifest too.
  const [a] = await ids("x", 1);
  const inner: Manifest = {
    kind: "inner",
    height: 2,
    algorithm: "sha-256",
    blockSize: 1024,
    size: 5,
    children: [{ id: a, size: 5 }],
  };
  const innerBack = decodeManifest(encodeManifest(inner));
  assert.deepEqual(innerBack, inner);
  assert.equal("redundancy" in innerBack, false);
});

Deno.test("manifest_v2_decoder_rejects_bad_policy_bytes", async () => {
  const good = encodeManifest(await leafOf(3, RS21, { last: 5 }));
  assert.deepEqual(decodeManifest(good).redundancy, RS21);
  expectInvalid(mutated(good, (b) => b[24] = 2), /unknown redundancy scheme 2/);
  expectInvalid(mutated(good, (b) => b[24] = 0xff), /unknown redundancy scheme 255/);
  // byte 27 holds flags: bit 0 (encrypted) needs every data entry longer than its 16-byte tag
  expectInvalid(mutated(good, (b) => b[27] = 1), /encrypted block 2 has size 5/);
  // bit 1 (owner) says 32 key bytes follow the header: the entries no longer add up
  expectInvalid(mutated(good, (b) => b[27] = 2), /trailing|truncated|size/);
  expectInvalid(mutated(good, (b) => b[27] = 4), /flags byte 27 is 4: unknown flags set/);
  expectInvalid(mutated(good, (b) => b[27] = 0x80), /flags byte 27 is 128/);
  // bad k / m
  expectInvalid(mutated(good, (b) => b[25] = 0), /got 0\+1/);
  expectInvalid(mutated(good, (b) => b[26] = 0), /got 2\+0/);
  expectInvalid(mutated(good, (b) => (b[25] = 60, b[26] = 5)), /got 60\+5/);
  expectInvalid(mutated(good, (b) => (b[25] = 200, b[26] = 200)), /got 200\+200/);
  // the scheme byte turned to replicas: 2-1 is min > max
  expectInvalid(mutated(good, (b) => b[24] = 0), /got 2-1/);

  const rep = encodeManifest(await leafOf(2, REP24, { last: 5 }));
  assert.deepEqual(decodeManifest(rep).redundancy, REP24);
  expectInvalid(mutated(rep, (b) => b[25] = 0), /got 0-4/);
  expectInvalid(mutated(rep, (b) => b[25] = 5), /got 5-4/);
  expectInvalid(mutated(rep, (b) => b[26] = 65), /got 2-65/);
  expectInvalid(mutated(rep, (b) => b[27] = 9), /flags byte 27 is 9/);
});

Deno.test("manifest_v2_decoder_rejects_bad_parity", async () => {
  const m = await leafOf(3, RS21, { last: 5 });
  const good = encodeManifest(m);
  const parityAt = 28 + 3 * 42;
  // parity ids of the wrong hash
  expectInvalid(mutated(good, (b) => b[parityAt] = 0x11), /parity 0 is not a sha-256 id/);
  expectInvalid(mutated(good, (b) => b[parityAt + 34 + 1] = 20), /parity 1 is not a sha-256 id/);
  expectInvalid(mutated(good, (b) => b[parityAt + 34] = 0x00), /parity 1 is not a sha-256 id/);
  // truncated parity: one byte short, a whole id short, all parity gone
  expectInvalid(good.subarray(0, good.length - 1), /truncated: 221 bytes, 3 children need 222/);
  expectInvalid(good.subarray(0, good.length - 34), /truncated/);
  expectInvalid(good.subarray(0, parityAt), /truncated/);
  // trailing bytes after the parity
  expectInvalid(new Uint8Array([...good, 0]), /1 trailing bytes after 3 manifest children/);
  expectInvalid(new Uint8Array([...good, ...m.parity![0].bytes]), /34 trailing bytes/);
  // a count that implies another number of stripes: 2 children want 1 parity id, 4 want 2
  expectInvalid(mutated(good, (_, v) => v.setUint32(20, 2)), /trailing/);
  // a replicas leaf followed by parity-like bytes
  const rep = encodeManifest(await leafOf(3, REP24, { last: 5 }));
  expectInvalid(new Uint8Array([...rep, ...m.parity![0].bytes]), /34 trailing bytes/);
  // a version 2 header cut short
  expectInvalid(good.subarray(0, 26), /version 2 header is 28/);
  expectInvalid(good.subarray(0, 27), /truncated: 27 bytes/);
  // a v1 manifest relabelled as v2 (or the reverse) does not decode
  const v1 = encodeManifest(await leafOf(3, undefined, { last: 5 }));
  expectInvalid(mutated(v1, (b) => b[4] = 2), /not a sha-256 id|flags|scheme|trailing|got/);
  expectInvalid(mutated(good, (b) => b[4] = 1), /not a sha-256 id|trailing|truncated/);
  expectInvalid(mutated(good, (b) => b[4] = 3), /unsupported manifest version 3/);
});

Deno.test("manifest_v2_sha1_parity_must_be_sha1", async () => {
  const m = await leafOf(2, RS21, { algorithm: "sha-1", last: 3 });
  const bytes = encodeManifest(m);
  assert.equal(bytes.length, 28 + 2 * 30 + 1 * 22);
  assert.deepEqual(decodeManifest(bytes), m);
  expectInvalid(mutated(bytes, (b) => b[28 + 60] = 0x12), /parity 0 is not a sha-1 id/);
});

Deno.test("manifest_v2_decoder_bounds_rs_leaf_size", () => {
  // rs:1+63 with 4096 children needs 4096*63 parity ids: well past 4 MiB.
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  b.set([0x44, 0x46, 0x53, 0x4d, 2, 0, 0, 0x12]);
  v.setUint32(8, 1024);
  v.setUint32(20, MAX_FANOUT);
  b.set([1, 1, 63, 0], 24);
  const wanted = manifestSizeV2("sha-256", MAX_FANOUT, MAX_FANOUT * 63);
  assert.ok(wanted > MAX_BLOCK_SIZE);
  expectInvalid(b, new RegExp(`manifest would be ${wanted} bytes, at most ${MAX_BLOCK_SIZE}`));
});

Deno.test("manifest_v2_encoder_refuses_what_the_decoder_would_reject", async () => {
  const m = await leafOf(5, RS21, { last: 5 });
  assert.equal(m.parity!.length, 3);
  expectEncodeRefused({ ...m, parity: m.parity!.slice(0, 2) }, /2 parity ids, expected 3/);
  expectEncodeRefused({ ...m, parity: [...m.parity!, m.parity![0]] }, /4 parity ids, expected 3/);
  const { parity: _, ...noParity } = m;
  expectEncodeRefused(noParity, /0 parity ids, expected 3/);
  const [sha1] = await ids("s", 1, "sha-1");
  expectEncodeRefused(
    { ...m, parity: [m.parity![0], sha1, m.parity![2]] },
    /parity 1 is not a sha-256 id/,
  );
  // parity without an rs policy
  const rep = await leafOf(2, REP24, { last: 1 });
  expectEncodeRefused({ ...rep, parity: [m.parity![0]] }, /1 parity ids, expected 0/);
  const v1 = await leafOf(2, undefined, { last: 1 });
  expectEncodeRefused({ ...v1, parity: [m.parity![0]] }, /1 parity ids, expected 0/);
  // out-of-bounds policies
  expectEncodeRefused({ ...rep, redundancy: { kind: "replicas", min: 0, max: 2 } }, /got 0-2/);
  expectEncodeRefused({ ...rep, redundancy: { kind: "replicas", min: 3, max: 2 } }, /got 3-2/);
  expectEncodeRefused({ ...rep, redundancy: { kind: "replicas", min: 1, max: 65 } }, /got 1-65/);
  expectEncodeRefused({ ...m, redundancy: { kind: "rs", k: 0, m: 1 }, parity: [] }, /got 0\+1/);
  expectEncodeRefused({ ...m, redundancy: { kind: "rs", k: 2, m: 0 }, parity: [] }, /got 2\+0/);
  expectEncodeRefused(
    { ...m, redundancy: { kind: "rs", k: 40, m: 30 }, parity: [] },
    /got 40\+30/,
  );
  // a leaf whose parity would not fit one block
  const [one] = await ids("q", 1);
  const huge: Manifest = {
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: 1024,
    size: MAX_FANOUT * 1024,
    children: Array.from({ length: MAX_FANOUT }, () => ({ id: one, size: 1024 })),
    redundancy: { kind: "rs", k: 1, m: 63 },
    parity: Array.from({ length: MAX_FANOUT * 63 }, () => one),
  };
  expectEncodeRefused(huge, /manifest larger than 4194304 bytes/);
});

Deno.test("manifest_v2_decoder_fuzz_only_throws_typed_errors", async () => {
  const [a, b] = await ids("inner", 2);
  const seeds = [
    encodeManifest(await leafOf(3, RS21, { last: 5 })),
    encodeManifest(await leafOf(9, RS42, { last: 77 })),
    encodeManifest(await leafOf(0, RS42, { last: 0 })),
    encodeManifest(await leafOf(4, REP24, { last: 1 })),
    encodeManifest(await leafOf(5, { kind: "rs", k: 2, m: 3 }, { algorithm: "sha-1", last: 9 })),
    encodeManifest({
      kind: "inner",
      height: 2,
      algorithm: "sha-256",
      blockSize: 4096,
      size: 9 * 4096 + 1,
      children: [{ id: a, size: 8 * 4096 }, { id: b, size: 4097 }],
      redundancy: RS42,
      parity: [],
    }),
    encodeManifest(await leafOf(2, undefined, { last: 3 })),
  ];
  await withSeed(0x2f22, (rand) => {
    let decoded = 0;
    let rejected = 0;
    for (let iter = 0; iter < 5000; iter++) {
      let bytes = seeds[rand.int(seeds.length)].slice();
      const ops = 1 + rand.int(4);
      for (let op = 0; op < ops; op++) {
        switch (rand.int(8)) {
          case 0: // flip a byte anywhere
            if (bytes.length) bytes[rand.int(bytes.length)] ^= 1 + rand.int(255);
            break;
          case 1: // a policy byte
            if (bytes.length >= 28) bytes[24 + rand.int(4)] = rand.int(256);
            break;
          case 2: // a small policy value (more likely to pass the policy check)
            if (bytes.length >= 28) bytes[24 + rand.int(3)] = rand.int(6);
            break;
          case 3: // truncate
            bytes = bytes.slice(0, rand.int(bytes.length + 1));
            break;
          case 4: // extend with random bytes, or a copy of the tail
            bytes = rand.int(2)
              ? new Uint8Array([...bytes, ...rand.bytes(1 + rand.int(60))])
              : new Uint8Array([...bytes, ...bytes.subarray(Math.max(0, bytes.length - 34))]);
            break;
          case 5: // a header byte
            bytes[rand.int(Math.min(bytes.length, MANIFEST_HEADER_SIZE_V2))] = rand.int(256);
            break;
          case 6: // the version byte
            if (bytes.length > 4) bytes[4] = rand.int(4);
            break;
          default: // a count or size field
            if (bytes.length >= MANIFEST_HEADER_SIZE) {
              const field = [8, 12, 16, 20][rand.int(4)];
              new DataView(bytes.buffer).setUint32(field, rand.int(2) ? rand.u32() : rand.int(16));
            }
        }
      }
      try {
        const m = decodeManifest(bytes);
        decoded++;
        // Whatever decodes re-encodes to the same bytes: one encoding per manifest.
        assert.deepEqual(encodeManifest(m), bytes);
        if (bytes[4] === 2) assert.ok(m.redundancy, "a v2 manifest has a policy");
        else assert.equal(m.redundancy, undefined);
      } catch (err) {
        if (!(err instanceof InvalidManifestError)) throw err;
        rejected++;
      }
    }
    assert.equal(decoded + rejected, 5000);
    assert.ok(decoded > 100, `only ${decoded} mutants decoded: the fuzz reaches nothing valid`);
    assert.ok(rejected > 4000, `rejected ${rejected}, decoded ${decoded}`);
  });
});
