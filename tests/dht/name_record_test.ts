import assert from "node:assert/strict";
import {
  bytesEqual,
  MAX_RECORD_NAME_BYTES,
  MAX_RECORD_VALUE_BYTES,
  sameRecord,
  signedBytes,
  type SignedNameRecord,
  signNameRecord,
  verifyNameRecord,
} from "../../src/dht/name_record.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";

const EXPIRES = 1_790_000_000_000;

async function sample(): Promise<{ me: NodeIdentity; record: SignedNameRecord }> {
  const me = await NodeIdentity.generate();
  const record = await signNameRecord(me, {
    name: "docs/été",
    value: new Uint8Array([0x12, 0x20, 1, 2, 3, 4]),
    seq: 7,
    expires: EXPIRES,
  });
  return { me, record };
}

/** `bytes` with bit `bit` of byte `i` flipped (a copy). */
function flip(bytes: Uint8Array, i: number, bit = 0): Uint8Array {
  const out = bytes.slice();
  out[i] ^= 1 << bit;
  return out;
}

Deno.test("a_signed_record_verifies", async () => {
  const { me, record } = await sample();
  assert.deepEqual(record.publicKey, me.publicKey);
  assert.equal(record.signature.length, 64);
  assert.equal(record.seq, 7);
  assert.equal(record.expires, EXPIRES);
  assert.equal(await verifyNameRecord(record), true);
});

Deno.test("signed_bytes_are_tag_name_value_seq_expires_and_key", async () => {
  const { record } = await sample();
  const bytes = signedBytes(record)!;
  const tag = new TextEncoder().encode("dfs/name-record/1\n");
  const name = new TextEncoder().encode(record.name);
  assert.equal(bytes.length, tag.length + 2 + name.length + 2 + record.value.length + 16 + 32);
  assert.deepEqual(bytes.subarray(0, tag.length), tag);
  let at = tag.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint16(at), name.length);
  at += 2;
  assert.deepEqual(bytes.subarray(at, at + name.length), name);
  at += name.length;
  assert.equal(view.getUint16(at), record.value.length);
  at += 2 + record.value.length;
  assert.equal(view.getBigUint64(at), 7n);
  assert.equal(view.getBigUint64(at + 8), BigInt(EXPIRES));
  assert.deepEqual(bytes.subarray(at + 16), record.publicKey);
});

Deno.test("a_change_to_any_field_fails_verification", async () => {
  const { record } = await sample();
  const other = await NodeIdentity.generate();
  const tampered: [string, SignedNameRecord][] = [
    ["name", { ...record, name: "docs/ete" }],
    ["name, one more char", { ...record, name: record.name + "x" }],
    ["value", { ...record, value: flip(record.value, 3) }],
    ["value, one byte longer", { ...record, value: new Uint8Array([...record.value, 0]) }],
    ["seq", { ...record, seq: record.seq + 1 }],
    ["expires", { ...record, expires: record.expires + 1 }],
    ["public key", { ...record, publicKey: flip(record.publicKey, 0) }],
    ["another key", { ...record, publicKey: other.publicKey }],
  ];
  for (let i = 0; i < 64; i += 9) {
    tampered.push([`signature byte ${i}`, {
      ...record,
      signature: flip(record.signature, i, i % 8),
    }]);
  }
  for (const [what, r] of tampered) {
    assert.equal(await verifyNameRecord(r), false, what);
  }
  assert.equal(await verifyNameRecord(record), true, "the original still verifies");
});

Deno.test("a_flipped_bit_anywhere_in_the_signed_bytes_fails_verification", async () => {
  // Flip one bit of every byte of the name, value, seq, expires and key, one at a time.
  const { record } = await sample();
  const name = new TextEncoder().encode(record.name);
  for (let i = 0; i < name.length; i++) {
    const changed = new TextDecoder().decode(flip(name, i, 0));
    if (changed === record.name) continue;
    assert.equal(await verifyNameRecord({ ...record, name: changed }), false, `name byte ${i}`);
  }
  for (let i = 0; i < record.value.length; i++) {
    const r = { ...record, value: flip(record.value, i, 7) };
    assert.equal(await verifyNameRecord(r), false, `value byte ${i}`);
  }
  for (let bit = 0; bit < 53; bit += 4) {
    const seq = Number(BigInt(record.seq) ^ (1n << BigInt(bit)));
    assert.equal(await verifyNameRecord({ ...record, seq }), false, `seq bit ${bit}`);
    const expires = Number(BigInt(record.expires) ^ (1n << BigInt(bit)));
    assert.equal(await verifyNameRecord({ ...record, expires }), false, `expires bit ${bit}`);
  }
  for (let i = 0; i < 32; i++) {
    const r = { ...record, publicKey: flip(record.publicKey, i, i % 8) };
    assert.equal(await verifyNameRecord(r), false, `key byte ${i}`);
  }
});

Deno.test("a_malformed_record_does_not_verify_and_does_not_throw", async () => {
  const { record } = await sample();
  const bad: [string, SignedNameRecord][] = [
    ["short signature", { ...record, signature: record.signature.subarray(0, 63) }],
    ["long signature", { ...record, signature: new Uint8Array([...record.signature, 0]) }],
    ["short key", { ...record, publicKey: record.publicKey.subarray(0, 31) }],
    ["zero key", { ...record, publicKey: new Uint8Array(32) }],
    ["negative seq", { ...record, seq: -1 }],
    ["fractional seq", { ...record, seq: 1.5 }],
    ["unsafe seq", { ...record, seq: 2 ** 53 }],
    ["NaN expires", { ...record, expires: NaN }],
    ["empty name", { ...record, name: "" }],
    ["long name", { ...record, name: "n".repeat(MAX_RECORD_NAME_BYTES + 1) }],
    ["long value", { ...record, value: new Uint8Array(MAX_RECORD_VALUE_BYTES + 1) }],
    ["value not bytes", { ...record, value: [1, 2] as unknown as Uint8Array }],
    ["signature not bytes", { ...record, signature: "sig" as unknown as Uint8Array }],
  ];
  for (const [what, r] of bad) assert.equal(await verifyNameRecord(r), false, what);
});

Deno.test("signing_a_record_that_cannot_be_encoded_throws_a_range_error", async () => {
  const me = await NodeIdentity.generate();
  const fields = { name: "a", value: new Uint8Array(1), seq: 1, expires: EXPIRES };
  await assert.rejects(signNameRecord(me, { ...fields, name: "" }), RangeError);
  await assert.rejects(
    signNameRecord(me, { ...fields, name: "é".repeat(101) }), // 202 UTF-8 bytes
    RangeError,
  );
  await assert.rejects(
    signNameRecord(me, { ...fields, value: new Uint8Array(MAX_RECORD_VALUE_BYTES + 1) }),
    RangeError,
  );
  await assert.rejects(signNameRecord(me, { ...fields, seq: -1 }), RangeError);
  // The largest encodable fields are fine.
  const big = await signNameRecord(me, {
    name: "n".repeat(MAX_RECORD_NAME_BYTES),
    value: new Uint8Array(MAX_RECORD_VALUE_BYTES),
    seq: Number.MAX_SAFE_INTEGER,
    expires: Number.MAX_SAFE_INTEGER,
  });
  assert.equal(await verifyNameRecord(big), true);
});

Deno.test("same_record_compares_every_field_and_the_signature", async () => {
  const { record } = await sample();
  const copy = { ...record, value: record.value.slice(), signature: record.signature.slice() };
  assert.equal(sameRecord(record, copy), true);
  assert.equal(sameRecord(record, { ...record, seq: 8 }), false);
  assert.equal(sameRecord(record, { ...record, expires: 1 }), false);
  assert.equal(sameRecord(record, { ...record, name: "x" }), false);
  assert.equal(sameRecord(record, { ...record, value: flip(record.value, 0) }), false);
  assert.equal(sameRecord(record, { ...record, signature: flip(record.signature, 63) }), false);
  assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1])), false);
});
