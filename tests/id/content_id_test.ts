import assert from "node:assert/strict";
import { ContentId, InvalidIdError } from "../../src/id/content_id.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("sha256_ids_match_published_vectors", async () => {
  // FIPS 180-2 examples: SHA-256("abc") and SHA-256("").
  const abc = await ContentId.of(text("abc"));
  assert.equal(
    abc.toString(),
    "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  const empty = await ContentId.of(new Uint8Array(0));
  assert.equal(
    empty.toString(),
    "1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("sha1_ids_match_published_vectors", async () => {
  const abc = await ContentId.of(text("abc"), "sha-1");
  assert.equal(abc.toString(), "1114a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(abc.algorithm, "sha-1");
  assert.equal(abc.bytes.length, 22);
});

Deno.test("ids_round_trip_through_text_and_bytes", async () => {
  for (const alg of ["sha-256", "sha-1"] as const) {
    const id = await ContentId.of(text("round trip"), alg);
    assert.ok(ContentId.parse(id.toString()).equals(id));
    assert.ok(ContentId.fromBytes(id.bytes).equals(id));
    assert.ok(ContentId.parse(id.toString().toUpperCase()).equals(id));
    assert.equal(JSON.stringify({ id }), JSON.stringify({ id: id.toString() }));
  }
});

Deno.test("matches_detects_other_bytes", async () => {
  const id = await ContentId.of(text("a"));
  assert.equal(await id.matches(text("a")), true);
  assert.equal(await id.matches(text("b")), false);
});

Deno.test("parse_rejects_malformed_ids_with_typed_error", () => {
  const bad = [
    "",
    "12",
    "zz20",
    "1220", // no digest
    "1220" + "00".repeat(31), // short digest
    "1220" + "00".repeat(33), // long digest
    "1221" + "00".repeat(32), // wrong length byte
    "1314" + "00".repeat(20), // unknown code
    "1114" + "00".repeat(32), // sha-1 code with a sha-256 length
    "../../etc/passwd",
    "a".repeat(10_000),
  ];
  for (const s of bad) {
    assert.throws(() => ContentId.parse(s), InvalidIdError, `accepted ${s.slice(0, 40)}`);
    assert.equal(ContentId.tryParse(s), null);
  }
  assert.throws(() => ContentId.fromDigest("sha-256", new Uint8Array(20)), InvalidIdError);
});

Deno.test("equals_distinguishes_algorithms", async () => {
  const a = await ContentId.of(text("x"), "sha-256");
  const b = await ContentId.of(text("x"), "sha-1");
  assert.equal(a.equals(b), false);
  assert.equal(a.equals(ContentId.fromDigest("sha-256", a.digest)), true);
});
