import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/util/hex.ts";

Deno.test("hex_round_trips_every_byte_value", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = toHex(all);
  assert.equal(text.length, 512);
  assert.equal(text.slice(0, 6), "000102");
  assert.deepEqual(fromHex(text), all);
  assert.deepEqual(fromHex(text.toUpperCase()), all);
});

Deno.test("fromHex_rejects_odd_length_and_non_hex", () => {
  assert.equal(fromHex("abc"), null);
  assert.equal(fromHex("zz"), null);
  assert.equal(fromHex("0x12"), null);
  assert.deepEqual(fromHex(""), new Uint8Array(0));
});
