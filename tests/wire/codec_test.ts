import assert from "node:assert/strict";
import {
  decodeMessage,
  DEFAULT_MAX_FRAME_SIZE,
  encodeMessage,
  FrameTooLargeError,
  MalformedMessageError,
  type Message,
  MessageType,
  PROTOCOL_VERSION,
  UnknownMessageTypeError,
  UnsupportedVersionError,
} from "../../src/wire/mod.ts";
import { SAMPLES, sha256Id } from "./samples.ts";

function roundTrip(msg: Message): Message {
  const frame = encodeMessage(msg);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  assert.equal(view.getUint32(0), frame.length - 4, "length prefix is the body length");
  return decodeMessage(frame.subarray(4));
}

Deno.test("every_message_type_round_trips", () => {
  const types = new Set<number>();
  for (const msg of SAMPLES) {
    assert.deepEqual(roundTrip(msg), msg);
    types.add(msg.type);
  }
  assert.equal(types.size, Object.keys(MessageType).length, "samples cover every type");
});

Deno.test("encode_frame_is_one_exact_allocation", () => {
  for (const msg of SAMPLES) {
    const frame = encodeMessage(msg);
    assert.equal(frame.byteOffset, 0);
    assert.equal(frame.buffer.byteLength, frame.length);
  }
});

Deno.test("decode_rejects_empty_and_short_bodies", () => {
  assert.throws(() => decodeMessage(new Uint8Array(0)), MalformedMessageError);
  assert.throws(
    () => decodeMessage(new Uint8Array([PROTOCOL_VERSION, 0x03, 0, 0])),
    MalformedMessageError,
  );
});

Deno.test("decode_rejects_unknown_version_and_type", () => {
  // Version 1 (retired) and a future version 3 are both refused.
  for (const version of [1, 3]) {
    assert.throws(() => decodeMessage(new Uint8Array([version, 0x03, 0, 0, 0, 0, 1])), (e) => {
      assert.ok(e instanceof UnsupportedVersionError);
      assert.equal(e.code, "UNSUPPORTED_VERSION");
      assert.equal(e.version, version);
      return true;
    });
  }
  assert.throws(
    () => decodeMessage(new Uint8Array([PROTOCOL_VERSION, 0x38, 0, 0, 0, 0, 1])),
    (e) => {
      assert.ok(e instanceof UnknownMessageTypeError);
      assert.equal(e.code, "UNKNOWN_MESSAGE_TYPE");
      assert.equal(e.messageType, 0x38);
      return true;
    },
  );
});

Deno.test("decode_rejects_trailing_bytes_and_unknown_flags", () => {
  const ok = encodeMessage({ type: MessageType.OK, requestId: 1 }).subarray(4);
  const extended = new Uint8Array(ok.length + 1);
  extended.set(ok);
  assert.throws(() => decodeMessage(extended), MalformedMessageError);
  const flagged = ok.slice();
  flagged[2] = 0x01;
  assert.throws(() => decodeMessage(flagged), MalformedMessageError);
});

Deno.test("decode_rejects_every_truncation_of_every_sample", () => {
  for (const msg of SAMPLES) {
    const body = encodeMessage(msg).subarray(4);
    // DATA's payload is "the rest of the body", so only its header can be truncated.
    const min = msg.type === MessageType.DATA ? 7 : body.length;
    for (let n = 0; n < min; n++) {
      assert.throws(() => decodeMessage(body.subarray(0, n)), MalformedMessageError, `n=${n}`);
    }
  }
});

Deno.test("encode_rejects_fields_out_of_bounds", () => {
  const bad: unknown[] = [
    { type: MessageType.PING, requestId: -1, timestamp: 0 },
    { type: MessageType.PING, requestId: 2 ** 32, timestamp: 0 },
    { type: MessageType.PING, requestId: 1, timestamp: 1.5 },
    { type: MessageType.PING, requestId: 1, timestamp: 2 ** 53 },
    { type: MessageType.GOODBYE, requestId: 0, reason: "x".repeat(1025) },
    { type: MessageType.GOODBYE, requestId: 0, reason: "é".repeat(513) },
    { type: MessageType.GOODBYE, requestId: 0, reason: "\ud800" },
    { type: MessageType.DELETE, requestId: 1, id: new Uint8Array(34) },
    { type: MessageType.DELETE, requestId: 1, id: sha256Id(0).subarray(0, 33) },
    { type: MessageType.HAS, requestId: 1, ids: new Array(1025).fill(sha256Id(0)) },
    { type: MessageType.AUTH, requestId: 1, signature: new Uint8Array(63) },
    { type: MessageType.DATA, requestId: 1, chunk: new Uint8Array(1), end: 1 },
  ];
  for (const msg of bad) {
    assert.throws(() => encodeMessage(msg as Message), MalformedMessageError, JSON.stringify(msg));
  }
  assert.throws(
    () => encodeMessage({ type: 0x99, requestId: 1 } as unknown as Message),
    UnknownMessageTypeError,
  );
});

Deno.test("encode_rejects_data_over_the_frame_limit", () => {
  const chunk = new Uint8Array(DEFAULT_MAX_FRAME_SIZE);
  assert.throws(
    () => encodeMessage({ type: MessageType.DATA, requestId: 1, chunk, end: true }),
    FrameTooLargeError,
  );
  const fits = new Uint8Array(DEFAULT_MAX_FRAME_SIZE - 7);
  const frame = encodeMessage({ type: MessageType.DATA, requestId: 1, chunk: fits, end: true });
  assert.equal(frame.length, 4 + DEFAULT_MAX_FRAME_SIZE);
});

Deno.test("strings_round_trip_multibyte_utf8_at_the_bound", () => {
  for (const reason of ["", "é".repeat(512), "😀".repeat(256), "a€😀", "\ufeffbom kept"]) {
    const msg: Message = { type: MessageType.GOODBYE, requestId: 0, reason };
    assert.deepEqual(roundTrip(msg), msg);
  }
});

Deno.test("decode_rejects_invalid_utf8_and_bad_booleans", () => {
  const body = encodeMessage({ type: MessageType.GOODBYE, requestId: 0, reason: "ab" }).subarray(
    4,
  );
  const bad = body.slice();
  bad[bad.length - 1] = 0xff;
  assert.throws(() => decodeMessage(bad), MalformedMessageError);
  const has = encodeMessage({ type: MessageType.HAS_RESULT, requestId: 0, present: [true] })
    .subarray(4).slice();
  has[has.length - 1] = 2;
  assert.throws(() => decodeMessage(has), MalformedMessageError);
});

Deno.test("decode_rejects_array_count_over_bound_before_reading_items", () => {
  // HAS with count 0xffff and no items.
  const body = new Uint8Array([PROTOCOL_VERSION, MessageType.HAS, 0, 0, 0, 0, 1, 0xff, 0xff]);
  assert.throws(() => decodeMessage(body), MalformedMessageError);
});

Deno.test("decoded_fields_do_not_alias_the_body_except_data_chunks", () => {
  const body = encodeMessage({ type: MessageType.DELETE, requestId: 1, id: sha256Id(0) })
    .subarray(4).slice();
  const msg = decodeMessage(body) as { id: Uint8Array };
  body.fill(0);
  assert.deepEqual(msg.id, sha256Id(0));
});
