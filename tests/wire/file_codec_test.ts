/**
 * The file messages (FILE_PROBE, FILE_STATE, TOMBSTONE): the encoder refuses what the decoder
 * would refuse, fields at their bounds round-trip, and bad bytes are typed errors.
 */

import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  FLAG_REVIVAL,
  FLAG_STATE_REVIVAL,
  FLAG_TOMBSTONE,
  MalformedMessageError,
  MAX_PROBE_IDS,
  type Message,
  MessageType,
  UnknownMessageTypeError,
} from "../../src/wire/mod.ts";
import { seq, sha1Id, sha256Id, TOMBSTONE } from "./samples.ts";

function roundTrip(msg: Message): Message {
  return decodeMessage(encodeMessage(msg).subarray(4));
}

Deno.test("file_messages_round_trip_at_their_bounds", () => {
  const ids = Array.from({ length: MAX_PROBE_IDS }, (_, i) => i % 2 ? sha1Id(i) : sha256Id(i));
  const messages: Message[] = [
    { type: MessageType.FILE_PROBE, requestId: 1, fileId: sha1Id(0), ids },
    { type: MessageType.FILE_PROBE, requestId: 1, fileId: sha256Id(0), ids: [] },
    {
      type: MessageType.FILE_STATE,
      requestId: 1,
      has: ids.map((_, i) => i % 3 === 0),
      tombstone: { ...TOMBSTONE, fileId: sha1Id(0x10) },
    },
    { type: MessageType.FILE_STATE, requestId: 1, has: [] },
    {
      type: MessageType.TOMBSTONE,
      requestId: 0xffffffff,
      tombstone: { ...TOMBSTONE, deletedAt: 0, expiresAt: Number.MAX_SAFE_INTEGER },
    },
  ];
  for (const msg of messages) assert.deepEqual(roundTrip(msg), msg);
  // The largest FILE_PROBE (1024 SHA-256 ids) fits a frame with room to spare.
  const big = encodeMessage({
    type: MessageType.FILE_PROBE,
    requestId: 1,
    fileId: sha256Id(0),
    ids: new Array(MAX_PROBE_IDS).fill(sha256Id(0)),
  });
  assert.equal(big.length, 4 + 7 + 34 + 2 + MAX_PROBE_IDS * 34);
});

Deno.test("file_state_sets_flag_tombstone_only_with_a_tombstone", () => {
  const withT = encodeMessage({
    type: MessageType.FILE_STATE,
    requestId: 2,
    has: [true],
    tombstone: TOMBSTONE,
  });
  const without = encodeMessage({ type: MessageType.FILE_STATE, requestId: 2, has: [true] });
  assert.equal(withT[6], FLAG_TOMBSTONE);
  assert.equal(without[6], 0);
  assert.equal(withT.length - without.length, 34 + 32 + 8 + 8 + 64);
});

Deno.test("a_revival_travels_as_a_tombstone_with_flag_revival", () => {
  const revival = { ...TOMBSTONE, revival: true };
  const state = encodeMessage({
    type: MessageType.FILE_STATE,
    requestId: 3,
    has: [],
    tombstone: revival,
  });
  assert.equal(state[6], FLAG_TOMBSTONE | FLAG_STATE_REVIVAL);
  const offer = encodeMessage({ type: MessageType.TOMBSTONE, requestId: 4, tombstone: revival });
  assert.equal(offer[6], FLAG_REVIVAL);
  const plain = encodeMessage({ type: MessageType.TOMBSTONE, requestId: 4, tombstone: TOMBSTONE });
  assert.equal(plain[6], 0);
  assert.equal(offer.length, plain.length, "same layout, only the flag differs");
  for (const bytes of [state, offer]) {
    const m = decodeMessage(bytes.subarray(4)) as { tombstone?: { revival?: boolean } };
    assert.equal(m.tombstone?.revival, true);
  }
  // REVIVAL without a tombstone is malformed.
  const bare = encodeMessage({ type: MessageType.FILE_STATE, requestId: 3, has: [] }).slice();
  bare[6] = FLAG_STATE_REVIVAL;
  assert.throws(() => decodeMessage(bare.subarray(4)), MalformedMessageError);
});

Deno.test("encoder_refuses_out_of_bound_file_fields", () => {
  const bad = [
    { type: MessageType.FILE_PROBE, requestId: 1, fileId: seq(34), ids: [] },
    { type: MessageType.FILE_PROBE, requestId: 1, fileId: sha256Id(0), ids: [seq(34)] },
    {
      type: MessageType.FILE_PROBE,
      requestId: 1,
      fileId: sha256Id(0),
      ids: new Array(MAX_PROBE_IDS + 1).fill(sha256Id(0)),
    },
    { type: MessageType.FILE_PROBE, requestId: 1, ids: [] },
    { type: MessageType.FILE_STATE, requestId: 1, has: new Array(MAX_PROBE_IDS + 1).fill(true) },
    { type: MessageType.FILE_STATE, requestId: 1, has: [1] },
    { type: MessageType.FILE_STATE, requestId: 1, has: [], tombstone: null },
    { type: MessageType.FILE_STATE, requestId: 1, tombstone: TOMBSTONE },
    { type: MessageType.TOMBSTONE, requestId: 1 },
    { type: MessageType.TOMBSTONE, requestId: 1, tombstone: { ...TOMBSTONE, fileId: seq(22) } },
    { type: MessageType.TOMBSTONE, requestId: 1, tombstone: { ...TOMBSTONE, issuer: seq(31) } },
    { type: MessageType.TOMBSTONE, requestId: 1, tombstone: { ...TOMBSTONE, signature: seq(65) } },
    { type: MessageType.TOMBSTONE, requestId: 1, tombstone: { ...TOMBSTONE, deletedAt: -1 } },
    { type: MessageType.TOMBSTONE, requestId: 1, tombstone: { ...TOMBSTONE, expiresAt: 2 ** 53 } },
    { type: MessageType.TOMBSTONE, requestId: 1, tombstone: { ...TOMBSTONE, deletedAt: 1.5 } },
  ];
  for (const msg of bad) {
    assert.throws(
      () => encodeMessage(msg as unknown as Message),
      MalformedMessageError,
      JSON.stringify(msg),
    );
  }
});

Deno.test("decoder_refuses_bad_file_messages_with_typed_errors", () => {
  const tombstone = encodeMessage({
    type: MessageType.TOMBSTONE,
    requestId: 1,
    tombstone: TOMBSTONE,
  })
    .subarray(4);
  // Every cut inside the payload is a truncated field; one byte more is a trailing byte.
  for (let cut = 7; cut < tombstone.length; cut++) {
    assert.throws(() => decodeMessage(tombstone.subarray(0, cut)), MalformedMessageError);
  }
  const longer = new Uint8Array(tombstone.length + 1);
  longer.set(tombstone);
  assert.throws(() => decodeMessage(longer), MalformedMessageError);
  // A bad file id prefix.
  const badId = tombstone.slice();
  badId[8] = 0x21;
  assert.throws(() => decodeMessage(badId), MalformedMessageError);
  // FILE_STATE: flag bit 2 is undefined; TOMBSTONE flag without a tombstone.
  const state = encodeMessage({ type: MessageType.FILE_STATE, requestId: 1, has: [true] })
    .subarray(4).slice();
  state[2] = 0x04;
  assert.throws(() => decodeMessage(state), MalformedMessageError);
  state[2] = FLAG_TOMBSTONE;
  assert.throws(() => decodeMessage(state), MalformedMessageError);
  // Types next to the assigned ones are unknown.
  for (const type of [0x50, 0x52, 0x56, 0x6f]) {
    assert.throws(
      () => decodeMessage(new Uint8Array([2, type, 0, 0, 0, 0, 1])),
      UnknownMessageTypeError,
    );
  }
});
