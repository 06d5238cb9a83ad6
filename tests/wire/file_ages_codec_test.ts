/**
 * FILE_STATE's flag AGES (0x02): the missing-unit ages a holder's repair loop knows round-trip
 * after the answers, with or without a tombstone, and bad counts or flags are typed errors.
 */

import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  FLAG_AGES,
  FLAG_TOMBSTONE,
  MalformedMessageError,
  MAX_FILE_AGES,
  type Message,
  MessageType,
} from "../../src/wire/mod.ts";
import { TOMBSTONE } from "./samples.ts";

function roundTrip(msg: Message): Message {
  return decodeMessage(encodeMessage(msg).subarray(4));
}

const AGES = [
  { unit: 3, ageSeconds: 600 },
  { unit: 0x8001, ageSeconds: 0xffffffff },
];

Deno.test("file_state_ages_round_trip_with_and_without_a_tombstone", () => {
  const most = Array.from({ length: MAX_FILE_AGES }, (_, i) => ({ unit: i, ageSeconds: i }));
  const messages: Message[] = [
    { type: MessageType.FILE_STATE, requestId: 1, has: [true, false], ages: AGES },
    { type: MessageType.FILE_STATE, requestId: 1, has: [], ages: [] },
    { type: MessageType.FILE_STATE, requestId: 1, has: [true], ages: most },
    { type: MessageType.FILE_STATE, requestId: 1, tombstone: TOMBSTONE, has: [false], ages: AGES },
  ];
  for (const msg of messages) assert.deepEqual(roundTrip(msg), msg);
});

Deno.test("file_state_sets_flag_ages_only_with_ages_and_writes_them_last", () => {
  const plain = encodeMessage({ type: MessageType.FILE_STATE, requestId: 2, has: [true] });
  const aged = encodeMessage({
    type: MessageType.FILE_STATE,
    requestId: 2,
    has: [true],
    ages: AGES,
  });
  assert.equal(plain[6], 0);
  assert.equal(aged[6], FLAG_AGES);
  // After the answers: count u8, then per age unit u16 and seconds u32, big-endian.
  assert.deepEqual(
    [...aged.subarray(plain.length)],
    [2, 0x00, 0x03, 0x00, 0x00, 0x02, 0x58, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff],
  );
  const both = encodeMessage({
    type: MessageType.FILE_STATE,
    requestId: 2,
    has: [true],
    tombstone: TOMBSTONE,
    ages: [],
  });
  assert.equal(both[6], FLAG_TOMBSTONE | FLAG_AGES);
});

Deno.test("encoder_refuses_out_of_bound_ages", () => {
  const state = { type: MessageType.FILE_STATE, requestId: 1, has: [] };
  const bad = [
    { ...state, ages: new Array(MAX_FILE_AGES + 1).fill({ unit: 0, ageSeconds: 0 }) },
    { ...state, ages: [{ unit: 0x10000, ageSeconds: 0 }] },
    { ...state, ages: [{ unit: 0, ageSeconds: 2 ** 32 }] },
    { ...state, ages: [{ unit: 0, ageSeconds: -1 }] },
    { ...state, ages: [{ unit: 0 }] },
    { ...state, ages: null },
    { ...state, ages: {} },
  ];
  for (const msg of bad) {
    assert.throws(
      () => encodeMessage(msg as unknown as Message),
      MalformedMessageError,
      JSON.stringify(msg),
    );
  }
});

Deno.test("decoder_refuses_bad_ages_with_typed_errors", () => {
  const body = encodeMessage({ type: MessageType.FILE_STATE, requestId: 1, has: [], ages: AGES })
    .subarray(4);
  // Every cut inside the ages is a truncated field; one byte more is a trailing byte.
  for (let cut = 9; cut < body.length; cut++) {
    assert.throws(() => decodeMessage(body.subarray(0, cut)), MalformedMessageError);
  }
  const longer = new Uint8Array(body.length + 1);
  longer.set(body);
  assert.throws(() => decodeMessage(longer), MalformedMessageError);
  // A count over MAX_FILE_AGES (65..255 fit the u8) is refused before any age is read.
  const many = new Uint8Array([2, 0x54, FLAG_AGES, 0, 0, 0, 1, 0, 0, MAX_FILE_AGES + 1]);
  assert.throws(() => decodeMessage(many), /ages has 65 items, max 64/);
  many[9] = 255;
  assert.throws(() => decodeMessage(many), MalformedMessageError);
  // Flag AGES without the count; an undefined flag bit next to it.
  assert.throws(
    () => decodeMessage(new Uint8Array([2, 0x54, FLAG_AGES, 0, 0, 0, 1, 0, 0])),
    MalformedMessageError,
  );
  const undefinedFlag = body.slice();
  undefinedFlag[2] = FLAG_AGES | 0x04;
  assert.throws(() => decodeMessage(undefinedFlag), MalformedMessageError);
});
