import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { InvalidKeyError } from "../../src/store/errors.ts";
import { MAX_KEY_BYTES, normalizeKey } from "../../src/store/key.ts";

Deno.test("content_id_keys_normalize_to_lowercase_text", async () => {
  const id = await ContentId.of(new Uint8Array([1, 2, 3]));
  const fromText = normalizeKey(id.toString().toUpperCase());
  assert.equal(fromText.text, id.toString());
  assert.ok(fromText.id?.equals(id));
  assert.equal(normalizeKey(id).text, id.toString());
});

Deno.test("arbitrary_keys_are_kept_as_given", () => {
  for (const key of ["a", "../x", "/abs", "nul\0", "1220", "💾".repeat(10)]) {
    const k = normalizeKey(key);
    assert.equal(k.text, key);
    assert.equal(k.id, null);
  }
  // Hex that is not a valid id (wrong length byte) stays an arbitrary key.
  assert.equal(normalizeKey("1221" + "00".repeat(32)).id, null);
});

Deno.test("invalid_keys_are_rejected", () => {
  const bad: unknown[] = ["", "x".repeat(MAX_KEY_BYTES + 1), "€".repeat(1366), "\udc00", 42, null];
  for (const key of bad) {
    assert.throws(() => normalizeKey(key as string), InvalidKeyError, String(key).slice(0, 20));
  }
  assert.equal(normalizeKey("x".repeat(MAX_KEY_BYTES)).bytes.length, MAX_KEY_BYTES);
});
