import assert from "node:assert/strict";
import {
  encodeMessage,
  encodeMessageInto,
  FrameTooLargeError,
  MalformedMessageError,
  MessageType,
} from "../../src/wire/mod.ts";
import { SAMPLES } from "./samples.ts";

Deno.test("encode_into_writes_the_same_bytes_as_encode_at_any_offset", () => {
  for (const msg of SAMPLES) {
    const want = encodeMessage(msg);
    for (const offset of [0, 1, 7]) {
      const target = new Uint8Array(offset + want.length + 5).fill(0xee);
      const n = encodeMessageInto(msg, target, offset);
      assert.equal(n, want.length);
      assert.deepEqual(target.subarray(offset, offset + n), want);
      assert.ok(target.subarray(0, offset).every((b) => b === 0xee), "bytes before untouched");
      assert.ok(target.subarray(offset + n).every((b) => b === 0xee), "bytes after untouched");
    }
  }
});

Deno.test("encode_into_returns_minus_one_and_writes_nothing_when_the_frame_does_not_fit", () => {
  const msg = { type: MessageType.DATA, requestId: 3, chunk: new Uint8Array(100), end: true };
  const size = encodeMessage(msg).length;
  const target = new Uint8Array(size + 10).fill(0xee);
  assert.equal(encodeMessageInto(msg, target, 11), -1);
  assert.ok(target.every((b) => b === 0xee));
  assert.equal(encodeMessageInto(msg, target, 10), size);
});

Deno.test("encode_into_batches_frames_back_to_back", () => {
  const target = new Uint8Array(4096);
  let at = 0;
  for (const msg of SAMPLES.slice(0, 5)) {
    const n = encodeMessageInto(msg, target, at);
    assert.ok(n > 0);
    at += n;
  }
  const want = SAMPLES.slice(0, 5).map((m) => encodeMessage(m));
  let off = 0;
  for (const frame of want) {
    assert.deepEqual(target.subarray(off, off + frame.length), frame);
    off += frame.length;
  }
  assert.equal(off, at);
});

Deno.test("encode_into_rejects_what_encode_rejects", () => {
  const target = new Uint8Array(64);
  assert.throws(
    () =>
      encodeMessageInto(
        { type: MessageType.DATA, requestId: 1, chunk: "x" as unknown as Uint8Array, end: true },
        target,
        0,
      ),
    MalformedMessageError,
  );
  assert.throws(
    () =>
      encodeMessageInto(
        { type: MessageType.DATA, requestId: 1, chunk: new Uint8Array(100), end: true },
        target,
        0,
        { maxFrameSize: 50 },
      ),
    FrameTooLargeError,
  );
});
