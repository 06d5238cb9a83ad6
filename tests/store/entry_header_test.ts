import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { crc32 } from "../../src/store/crc32.ts";
import {
  BadHeaderError,
  decodeHeader,
  encodeHeader,
  headerLength,
  MAX_HEADER_BYTES,
} from "../../src/store/entry_header.ts";
import { Rng, seedFrom, seedText, withSeed } from "../util/prng.ts";

const te = new TextEncoder();

Deno.test("crc32_matches_the_standard_check_value", () => {
  assert.equal(crc32(te.encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("header_roundtrips_content_and_keyed_entries", async () => {
  const id = await ContentId.of(te.encode("abc"));
  const h1 = new Uint8Array(headerLength(id.bytes.length, 0));
  encodeHeader(h1, id, new Uint8Array(0), 3);
  const d1 = decodeHeader(h1);
  assert.ok(d1.id.equals(id));
  assert.equal(d1.key, null);
  assert.equal(d1.size, 3);
  assert.equal(d1.length, h1.length);
  assert.equal(h1.length, 17 + 34 + 4);

  const sha1 = await ContentId.of(te.encode("abc"), "sha-1");
  const key = te.encode("ключ/../\0");
  const big = 2 ** 40 + 5;
  const h2 = new Uint8Array(headerLength(sha1.bytes.length, key.length));
  encodeHeader(h2, sha1, key, big);
  const d2 = decodeHeader(h2);
  assert.ok(d2.id.equals(sha1));
  assert.equal(d2.key, "ключ/../\0");
  assert.equal(d2.size, big);
  assert.ok(MAX_HEADER_BYTES >= h2.length);
});

Deno.test("header_starts_with_magic_and_version", async () => {
  const id = await ContentId.of(te.encode("x"));
  const h = new Uint8Array(headerLength(id.bytes.length, 0));
  encodeHeader(h, id, new Uint8Array(0), 1);
  assert.deepEqual([...h.subarray(0, 5)], [0x44, 0x46, 0x53, 0x42, 1]);
});

Deno.test("header_decode_rejects_every_single_byte_change", async () => {
  const id = await ContentId.of(te.encode("x"));
  const key = te.encode("some key");
  const h = new Uint8Array(headerLength(id.bytes.length, key.length));
  encodeHeader(h, id, key, 1);
  for (let i = 0; i < h.length; i++) {
    const bad = h.slice();
    bad[i] ^= 0x40;
    assert.throws(() => decodeHeader(bad), BadHeaderError, `byte ${i}`);
  }
});

Deno.test("header_decode_rejects_truncation", async () => {
  const id = await ContentId.of(te.encode("x"));
  const h = new Uint8Array(headerLength(id.bytes.length, 0));
  encodeHeader(h, id, new Uint8Array(0), 1);
  for (let n = 0; n < h.length; n++) {
    assert.throws(() => decodeHeader(h.subarray(0, n)), BadHeaderError, `${n} bytes`);
  }
});

Deno.test("header_decode_never_throws_anything_but_bad_header_on_random_input", () => {
  const seed = seedFrom(seedText() ?? "7");
  const rng = new Rng(seed);
  return withSeed(seed, () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = rng.bytes(rng.int(120));
      if (rng.int(2) === 0 && bytes.length >= 5) bytes.set([0x44, 0x46, 0x53, 0x42, 1]);
      assert.throws(() => decodeHeader(bytes), BadHeaderError);
    }
  });
});
