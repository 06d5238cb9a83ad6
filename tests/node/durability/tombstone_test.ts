/**
 * Tombstones: signed by the issuing node, verified against exactly the signed fields, checked
 * for times and clock skew, encoded within bounds with typed errors, and the same bytes as the
 * wire's tombstone layout.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { ContentId } from "../../../src/id/content_id.ts";
import {
  checkTombstone,
  decodeTombstone,
  DEFAULT_TOMBSTONE_TTL_MS,
  encodeTombstone,
  fromWireTombstone,
  InvalidTombstoneError,
  MAX_TOMBSTONE_CLOCK_SKEW_MS,
  MAX_TOMBSTONE_TTL_MS,
  sameTombstone,
  signRevival,
  signTombstone,
  type Tombstone,
  tombstoneIssuerId,
  tombstoneSignedBytes,
  toWireTombstone,
  validateTombstone,
  verifyTombstone,
} from "../../../src/node/durability/tombstone.ts";
import { NodeIdentity } from "../../../src/peer/identity.ts";
import { toHex } from "../../../src/util/hex.ts";
import { encodeMessage } from "../../../src/wire/codec.ts";
import { MessageType } from "../../../src/wire/messages.ts";
import { makeRng, testSeed } from "../../util/prng.ts";

const rng = makeRng(testSeed(0x7007));
const NOW = 1_790_000_000_000;
const me = await NodeIdentity.generate();
const fileId = await ContentId.of(rng.bytes(100));
const sha1File = await ContentId.of(rng.bytes(100), "sha-1");

function reasonIs(reason: string) {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidTombstoneError, `not an InvalidTombstoneError: ${err}`);
    assert.equal(err.code, "INVALID_TOMBSTONE");
    assert.equal(err.reason, reason);
    assert.ok(err.message.startsWith(`${reason}: `), err.message);
    return true;
  };
}

Deno.test("a_signed_tombstone_verifies_and_names_its_issuer", async () => {
  const t = await signTombstone(me, fileId, { now: NOW });
  assert.ok(t.fileId.equals(fileId));
  assert.deepEqual(t.issuer, me.publicKey);
  assert.equal(t.deletedAt, NOW);
  assert.equal(t.expiresAt, NOW + DEFAULT_TOMBSTONE_TTL_MS);
  assert.equal(DEFAULT_TOMBSTONE_TTL_MS, 30 * 24 * 3600 * 1000);
  assert.equal(t.signature.length, 64);
  assert.ok(await verifyTombstone(t));
  await validateTombstone(t, NOW);
  assert.equal(await tombstoneIssuerId(t), me.nodeIdHex);
  const short = await signTombstone(me, sha1File, { now: NOW, ttlMs: 1000 });
  assert.equal(short.expiresAt, NOW + 1000);
  assert.ok(await verifyTombstone(short));
});

Deno.test("the_signature_covers_every_field", async () => {
  const t = await signTombstone(me, fileId, { now: NOW });
  const other = await NodeIdentity.generate();
  const flipped = t.signature.slice();
  flipped[10] ^= 1;
  const tampered: Tombstone[] = [
    { ...t, fileId: sha1File },
    { ...t, fileId: await ContentId.of(rng.bytes(10)) },
    { ...t, issuer: other.publicKey },
    { ...t, deletedAt: t.deletedAt - 1 },
    { ...t, expiresAt: t.expiresAt + 1 },
    { ...t, signature: flipped },
  ];
  for (const bad of tampered) {
    assert.equal(await verifyTombstone(bad), false);
    await assert.rejects(validateTombstone(bad, NOW), reasonIs("BAD_SIGNATURE"));
  }
  // A signature by another key over the same fields, claiming our key, fails too.
  const forged = await other.sign(tombstoneSignedBytes(t));
  assert.equal(await verifyTombstone({ ...t, signature: forged }), false);
  // Malformed fields never throw from verify.
  assert.equal(await verifyTombstone({ ...t, issuer: new Uint8Array(31) }), false);
  assert.equal(await verifyTombstone({ ...t, signature: new Uint8Array(0) }), false);
  assert.equal(await verifyTombstone({ ...t, deletedAt: -1 }), false);
  assert.equal(await verifyTombstone(null as unknown as Tombstone), false);
});

Deno.test("the_signed_bytes_are_the_documented_layout", () => {
  const issuer = Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i);
  const bytes = tombstoneSignedBytes({ fileId, issuer, deletedAt: 1, expiresAt: 0x1_0000_0002 });
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 16)), "dfs/tombstone/1\n");
  assert.deepEqual(bytes.subarray(16, 50), fileId.bytes);
  assert.deepEqual(bytes.subarray(50, 82), issuer);
  assert.equal(toHex(bytes.subarray(82)), "0000000000000001" + "0000000100000002");
});

Deno.test("time_checks_refuse_what_cannot_be_right", async () => {
  const t = await signTombstone(me, fileId, { now: NOW });
  checkTombstone(t, NOW);
  checkTombstone(t, t.expiresAt - 1);
  assert.throws(() => checkTombstone(t, t.expiresAt), reasonIs("EXPIRED"));
  await assert.rejects(validateTombstone(t, t.expiresAt + 5), reasonIs("EXPIRED"));
  // Deleted up to 10 minutes in the future is clock skew; more is refused.
  checkTombstone(t, NOW - MAX_TOMBSTONE_CLOCK_SKEW_MS);
  assert.throws(
    () => checkTombstone(t, NOW - MAX_TOMBSTONE_CLOCK_SKEW_MS - 1),
    reasonIs("FROM_THE_FUTURE"),
  );
  // Well signed, but wrong times: signed over them, so refused before the signature counts.
  const backwards = await signTombstoneRaw({ deletedAt: NOW, expiresAt: NOW });
  assert.ok(await verifyTombstone(backwards));
  assert.throws(() => checkTombstone(backwards, NOW), reasonIs("BAD_TIMES"));
  const tooLong = await signTombstoneRaw({
    deletedAt: NOW,
    expiresAt: NOW + MAX_TOMBSTONE_TTL_MS + 1,
  });
  assert.throws(() => checkTombstone(tooLong, NOW), reasonIs("TTL_TOO_LONG"));
  const longest = await signTombstoneRaw({ deletedAt: NOW, expiresAt: NOW + MAX_TOMBSTONE_TTL_MS });
  await validateTombstone(longest, NOW);
  assert.throws(
    () => checkTombstone({ ...t, issuer: new Uint8Array(3) }, NOW),
    reasonIs("MALFORMED"),
  );
});

/** Signs arbitrary times (signTombstone itself refuses bad ones). */
async function signTombstoneRaw(times: { deletedAt: number; expiresAt: number }) {
  const fields = { fileId, issuer: me.publicKey, ...times };
  return { ...fields, signature: await me.sign(tombstoneSignedBytes(fields)) };
}

Deno.test("sign_refuses_bad_arguments", async () => {
  for (
    const options of [{ ttlMs: 0 }, { ttlMs: MAX_TOMBSTONE_TTL_MS + 1 }, { ttlMs: 1.5 }, {
      now: -1,
    }, { now: Number.MAX_SAFE_INTEGER }]
  ) {
    await assert.rejects(signTombstone(me, fileId, options), InvalidArgumentError);
  }
});

Deno.test("encoding_round_trips_and_matches_the_wire_layout", async () => {
  for (const id of [fileId, sha1File]) {
    const t = await signTombstone(me, id, { now: NOW });
    const bytes = encodeTombstone(t);
    assert.equal(bytes.length, id.bytes.length + 32 + 8 + 8 + 64);
    const back = decodeTombstone(bytes);
    assert.ok(sameTombstone(back, t));
    assert.ok(await verifyTombstone(back));
    // The decoded fields are copies, not views of the input.
    bytes.fill(0);
    assert.ok(sameTombstone(back, t));
    // Same bytes as the wire's TOMBSTONE payload (after the 4-byte prefix and 7-byte header).
    const frame = encodeMessage({
      type: MessageType.TOMBSTONE,
      requestId: 1,
      tombstone: toWireTombstone(t),
    });
    assert.deepEqual(frame.subarray(11), encodeTombstone(t));
    assert.ok(sameTombstone(fromWireTombstone(toWireTombstone(t)), t));
  }
});

Deno.test("decode_is_bounded_and_typed", async () => {
  const good = encodeTombstone(await signTombstone(me, fileId, { now: NOW }));
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    good.subarray(0, 10),
    good.subarray(0, good.length - 1),
    new Uint8Array([...good, 0]), // one byte over the SHA-256 size: refused before reading
    new Uint8Array(1 << 20),
  ];
  const badPrefix = good.slice();
  badPrefix[1] = 0x21;
  cases.push(badPrefix);
  const sha1Length = good.slice(0, 134); // the SHA-1 size, but a SHA-256 prefix
  cases.push(sha1Length);
  const huge = good.slice();
  huge.set([0, 0x20, 0, 0, 0, 0, 0, 0], 34 + 32); // deletedAt = 2^53
  cases.push(huge);
  for (const bytes of cases) assert.throws(() => decodeTombstone(bytes), reasonIs("MALFORMED"));
  assert.throws(
    () =>
      fromWireTombstone({ ...toWireTombstone(decodeTombstone(good)), fileId: new Uint8Array(5) }),
    reasonIs("MALFORMED"),
  );
  assert.throws(
    () => encodeTombstone({ ...decodeTombstone(good), signature: new Uint8Array(1) }),
    reasonIs("MALFORMED"),
  );
});

Deno.test("a_revival_is_signed_apart_and_round_trips_with_its_mark", async () => {
  const r = await signRevival(me, fileId, { now: NOW });
  assert.equal(r.revival, true);
  assert.equal(await verifyTombstone(r), true);
  // The same fields as a tombstone do not verify: the tag differs, so neither can be replayed
  // as the other.
  const { revival: _, ...asTombstone } = r;
  assert.equal(await verifyTombstone(asTombstone), false);
  const t = await signTombstone(me, fileId, { now: NOW });
  assert.equal(await verifyTombstone({ ...t, revival: true }), false);
  // One more byte on disk (1), for both id lengths; the wire form keeps the flag.
  for (const id of [fileId, sha1File]) {
    const rr = await signRevival(me, id, { now: NOW });
    const bytes = encodeTombstone(rr);
    assert.equal(bytes.length, id.bytes.length + 32 + 8 + 8 + 64 + 1);
    assert.equal(bytes[bytes.length - 1], 1);
    assert.ok(sameTombstone(decodeTombstone(bytes), rr));
    assert.equal(decodeTombstone(bytes).revival, true);
    assert.equal(fromWireTombstone(toWireTombstone(rr)).revival, true);
    // Another kind byte is refused.
    const other = bytes.slice();
    other[other.length - 1] = 2;
    assert.throws(() => decodeTombstone(other), reasonIs("MALFORMED"));
  }
  assert.equal(sameTombstone(r, { ...r, revival: false }), false);
});
