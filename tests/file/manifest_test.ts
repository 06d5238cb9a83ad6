import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { InvalidManifestError } from "../../src/file/errors.ts";
import {
  decodeManifest,
  encodeManifest,
  type Manifest,
  MANIFEST_HEADER_SIZE,
  manifestEntrySize,
  MAX_FANOUT,
} from "../../src/file/manifest.ts";
import { withSeed } from "./_fakes.ts";

const enc = new TextEncoder();

async function leaf(sizes: number[], blockSize = 1024, algorithm: "sha-256" | "sha-1" = "sha-256") {
  const children = [];
  let i = 0;
  for (const size of sizes) {
    children.push({ id: await ContentId.of(enc.encode(`b${i++}`), algorithm), size });
  }
  const m: Manifest = {
    kind: "leaf",
    height: 0,
    algorithm,
    blockSize,
    size: sizes.reduce((a, b) => a + b, 0),
    children,
  };
  return m;
}

function expectInvalid(bytes: Uint8Array, pattern: RegExp) {
  assert.throws(() => decodeManifest(bytes), (err: unknown) => {
    assert.ok(err instanceof InvalidManifestError, `not typed: ${err}`);
    assert.equal(err.code, "INVALID_MANIFEST");
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("manifest_round_trips_leaf_and_inner", async () => {
  const l = await leaf([1024, 1024, 7]);
  assert.deepEqual(decodeManifest(encodeManifest(l)), l);
  const inner: Manifest = {
    kind: "inner",
    height: 2,
    algorithm: "sha-256",
    blockSize: 1024,
    size: 5000,
    children: [{ id: await ContentId.of(enc.encode("x")), size: 4000 }, {
      id: await ContentId.of(enc.encode("y")),
      size: 1000,
    }],
  };
  assert.deepEqual(decodeManifest(encodeManifest(inner)), inner);
  const sha1 = await leaf([4096, 1], 4096, "sha-1");
  const bytes = encodeManifest(sha1);
  assert.equal(bytes.length, MANIFEST_HEADER_SIZE + 2 * 30);
  assert.deepEqual(decodeManifest(bytes), sha1);
});

Deno.test("manifest_layout_matches_documented_bytes", async () => {
  const id = await ContentId.of(enc.encode("hello"));
  const bytes = encodeManifest({
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: 262144,
    size: 5,
    children: [{ id, size: 5 }],
  });
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(
    hex,
    "4446534d" + "01" + "00" + "00" + "12" + "00040000" + "0000000000000005" + "00000001" +
      id.toString() + "0000000000000005",
  );
  assert.equal(bytes.length, MANIFEST_HEADER_SIZE + manifestEntrySize("sha-256"));
});

Deno.test("manifest_of_empty_file_is_an_empty_leaf", async () => {
  const m = await leaf([]);
  const bytes = encodeManifest(m);
  assert.equal(bytes.length, MANIFEST_HEADER_SIZE);
  assert.deepEqual(decodeManifest(bytes), m);
});

Deno.test("manifest_decoder_rejects_each_malformation", async () => {
  const good = encodeManifest(await leaf([1024, 1024, 10]));
  const mutate = (f: (b: Uint8Array, v: DataView) => void) => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  expectInvalid(good.subarray(0, 10), /truncated/);
  expectInvalid(good.subarray(0, good.length - 1), /truncated/);
  expectInvalid(new Uint8Array([...good, 0]), /trailing/);
  expectInvalid(mutate((b) => b[0] = 0x45), /magic/);
  expectInvalid(mutate((b) => b[4] = 3), /version 3/);
  expectInvalid(mutate((b) => b[5] = 7), /kind 7/);
  expectInvalid(mutate((b) => b[6] = 1), /height/);
  expectInvalid(mutate((b) => (b[5] = 1, b[6] = 0)), /height/);
  expectInvalid(mutate((b) => (b[5] = 1, b[6] = 49)), /height/);
  expectInvalid(mutate((b) => b[7] = 0x13), /hash code/);
  expectInvalid(mutate((b) => b[7] = 0x11), /truncated|trailing|sha-1/);
  expectInvalid(mutate((_, v) => v.setUint32(8, 512)), /block size/);
  expectInvalid(mutate((_, v) => v.setUint32(8, 8 * 1024 * 1024)), /block size/);
  expectInvalid(mutate((_, v) => v.setUint32(12, 0x0020_0000)), /2\^53/);
  expectInvalid(mutate((_, v) => v.setUint32(16, 2059)), /add up/);
  expectInvalid(mutate((_, v) => v.setUint32(20, MAX_FANOUT + 1)), /at most 4096/);
  expectInvalid(mutate((_, v) => v.setUint32(20, 0xffff_ffff)), /at most 4096/);
  expectInvalid(mutate((_, v) => v.setUint32(20, 2)), /trailing/);
  expectInvalid(mutate((b) => b[MANIFEST_HEADER_SIZE] = 0x11), /not a sha-256 id/);
  expectInvalid(mutate((b) => b[MANIFEST_HEADER_SIZE + 1] = 20), /not a sha-256 id/);
  // first block short although not last
  expectInvalid(mutate((_, v) => (v.setUint32(24 + 34 + 4, 1000), v.setUint32(16, 2034))), /last/);
  // a block larger than the block size
  expectInvalid(
    mutate((_, v) => (v.setUint32(24 + 2 * 42 + 34 + 4, 1025), v.setUint32(16, 3073))),
    /larger/,
  );
  // zero-sized child
  expectInvalid(
    mutate((_, v) => (v.setUint32(24 + 2 * 42 + 34 + 4, 0), v.setUint32(16, 2048))),
    /size 0/,
  );
  // empty inner manifest
  expectInvalid(
    encodeManifestUnchecked({ kind: 1, height: 1, count: 0, size: 0 }),
    /at least one child/,
  );
  // not bytes at all
  assert.throws(() => decodeManifest("x" as unknown as Uint8Array), InvalidManifestError);
});

Deno.test("manifest_encoder_refuses_what_the_decoder_would_reject", async () => {
  const m = await leaf([1024, 10]);
  assert.throws(() => encodeManifest({ ...m, size: 1 }), InvalidArgumentError);
  assert.throws(() => encodeManifest({ ...m, height: 1 }), InvalidArgumentError);
  assert.throws(() => encodeManifest({ ...m, blockSize: 100 }), InvalidArgumentError);
  const sha1 = await ContentId.of(enc.encode("z"), "sha-1");
  assert.throws(
    () => encodeManifest({ ...m, children: [m.children[0], { id: sha1, size: 10 }] }),
    InvalidArgumentError,
  );
});

Deno.test("manifest_decoder_fuzz_only_throws_typed_errors", async () => {
  const seeds = [
    encodeManifest(await leaf([1024, 1024, 1024, 5])),
    encodeManifest(await leaf([])),
    encodeManifest(await leaf([2048, 2048, 2048], 2048, "sha-1")),
    encodeManifest({
      kind: "inner",
      height: 3,
      algorithm: "sha-256",
      blockSize: 4096,
      size: 9 * 4096 + 1,
      children: [
        { id: await ContentId.of(enc.encode("a")), size: 8 * 4096 },
        { id: await ContentId.of(enc.encode("b")), size: 4097 },
      ],
    }),
  ];
  await withSeed(0xf11e, (rand) => {
    let decoded = 0;
    let rejected = 0;
    for (let iter = 0; iter < 3000; iter++) {
      let b = seeds[rand.int(seeds.length)].slice();
      const ops = 1 + rand.int(4);
      for (let k = 0; k < ops; k++) {
        switch (rand.int(6)) {
          case 0: // flip a byte anywhere
            if (b.length) b[rand.int(b.length)] ^= 1 + rand.int(255);
            break;
          case 1: // flip a header byte
            b[rand.int(Math.min(b.length, MANIFEST_HEADER_SIZE))] = rand.int(256);
            break;
          case 2: // truncate
            b = b.slice(0, rand.int(b.length + 1));
            break;
          case 3: // extend with random bytes
            b = new Uint8Array([...b, ...rand.bytes(1 + rand.int(50))]);
            break;
          case 4: // random bytes after a valid magic
            b = new Uint8Array([0x44, 0x46, 0x53, 0x4d, ...rand.bytes(rand.int(200))]);
            break;
          default: // overwrite a count or size field
            if (b.length >= MANIFEST_HEADER_SIZE) {
              new DataView(b.buffer).setUint32([8, 12, 16, 20][rand.int(4)], rand.u32());
            }
        }
      }
      try {
        const m = decodeManifest(b);
        decoded++;
        // anything that decodes re-encodes to the same bytes (one encoding per manifest)
        assert.deepEqual(encodeManifest(m), b);
      } catch (err) {
        if (!(err instanceof InvalidManifestError)) throw err;
        rejected++;
      }
    }
    assert.ok(rejected > 2000, `rejected ${rejected}, decoded ${decoded}`);
  });
});

/** Writes a header with no children, bypassing the encoder's checks. */
function encodeManifestUnchecked(h: { kind: number; height: number; count: number; size: number }) {
  const b = new Uint8Array(MANIFEST_HEADER_SIZE);
  const v = new DataView(b.buffer);
  b.set([0x44, 0x46, 0x53, 0x4d, 1, h.kind, h.height, 0x12]);
  v.setUint32(8, 1024);
  v.setUint32(16, h.size);
  v.setUint32(20, h.count);
  return b;
}
