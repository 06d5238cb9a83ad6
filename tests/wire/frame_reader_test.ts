import assert from "node:assert/strict";
import { AbortedError, InvalidArgumentError, IoError } from "../../src/errors.ts";
import {
  decodeMessage,
  DEFAULT_MAX_FRAME_SIZE,
  encodeDataFrames,
  encodeMessage,
  FrameReader,
  FrameTooLargeError,
  type Message,
  MessageType,
  readMessages,
  TruncatedFrameError,
} from "../../src/wire/mod.ts";
import { SAMPLES } from "./samples.ts";
import { concat, cutAt, streamOf } from "./streams.ts";

async function readAll(reader: FrameReader, max = 10_000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < max; i++) {
    const f = await reader.read();
    if (f === null) return out;
    out.push(f);
  }
  throw new Error("reader did not end");
}

const FRAMES = SAMPLES.map((m) => encodeMessage(m));
const STREAM = concat(FRAMES);
const BODIES = FRAMES.map((f) => f.subarray(4));

Deno.test("reader_handles_a_split_at_every_byte_boundary", async () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const got = await readAll(new FrameReader(streamOf(cutAt(STREAM, [cut]))));
    assert.deepEqual(got, BODIES, `cut at ${cut}`);
  }
});

Deno.test("reader_handles_one_byte_chunks_and_empty_chunks", async () => {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < STREAM.length; i++) {
    chunks.push(STREAM.subarray(i, i + 1), new Uint8Array(0));
  }
  const got = await readAll(new FrameReader(streamOf(chunks)));
  assert.deepEqual(got, BODIES);
});

Deno.test("reader_returns_views_for_many_frames_in_one_chunk", async () => {
  const got = await readAll(new FrameReader(streamOf([STREAM])));
  assert.deepEqual(got, BODIES);
  for (const body of got) assert.equal(body.buffer, STREAM.buffer, "no copy inside a chunk");
  const messages: Message[] = got.map(decodeMessage);
  assert.deepEqual(messages, SAMPLES);
});

Deno.test("reader_accepts_zero_length_bodies", async () => {
  const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7]);
  const got = await readAll(new FrameReader(streamOf(cutAt(bytes, [2, 5]))));
  assert.deepEqual(got, [new Uint8Array(0), new Uint8Array(0), new Uint8Array([7])]);
});

Deno.test("reader_returns_a_view_when_only_the_prefix_straddles", async () => {
  const a = FRAMES[2];
  const b = FRAMES[3];
  const joined = concat([a, b]);
  const got = await readAll(new FrameReader(streamOf(cutAt(joined, [a.length + 1]))));
  assert.equal(got[1].buffer, joined.buffer);
  assert.deepEqual(got, [a.subarray(4), b.subarray(4)]);
});

Deno.test("reader_returns_null_on_an_empty_stream", async () => {
  assert.equal(await new FrameReader(streamOf([])).read(), null);
});

Deno.test("reader_rejects_a_huge_declared_length_before_allocating_or_waiting", async () => {
  // The prefix declares 4 GiB - 1 and the stream then stays open with no data: the reader must
  // reject from the prefix alone (no allocation of the body, no wait for it).
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    },
    cancel() {
      cancelled = true;
    },
  });
  const reader = new FrameReader(stream);
  await assert.rejects(reader.read(), (e) => {
    assert.ok(e instanceof FrameTooLargeError);
    assert.equal(e.code, "FRAME_TOO_LARGE");
    assert.equal(e.declaredLength, 0xffffffff);
    assert.equal(e.limit, DEFAULT_MAX_FRAME_SIZE);
    return true;
  });
  await reader.cancel();
  assert.ok(cancelled);
});

Deno.test("reader_enforces_a_custom_limit_and_accepts_exactly_the_limit", async () => {
  const frame = new Uint8Array(4 + 100);
  frame[3] = 100;
  const ok = await readAll(new FrameReader(streamOf([frame]), { maxFrameSize: 100 }));
  assert.equal(ok[0].length, 100);
  await assert.rejects(
    new FrameReader(streamOf([frame]), { maxFrameSize: 99 }).read(),
    FrameTooLargeError,
  );
});

Deno.test("reader_rejects_an_invalid_limit", () => {
  for (const maxFrameSize of [-1, 1.5, NaN, 2 ** 32]) {
    assert.throws(() => new FrameReader(streamOf([]), { maxFrameSize }), InvalidArgumentError);
  }
});

Deno.test("reader_rejects_eof_mid_header", async () => {
  for (let n = 1; n < 4; n++) {
    const reader = new FrameReader(streamOf([FRAMES[0], FRAMES[1].subarray(0, n)]));
    assert.ok(await reader.read());
    await assert.rejects(reader.read(), (e) => {
      assert.ok(e instanceof TruncatedFrameError);
      assert.equal(e.code, "TRUNCATED_FRAME");
      assert.equal(e.received, n);
      assert.equal(e.expected, 4);
      return true;
    });
  }
});

Deno.test("reader_rejects_eof_mid_body", async () => {
  const frame = FRAMES[0];
  for (const n of [4, 5, frame.length - 1]) {
    for (const chunks of [[frame.subarray(0, n)], cutAt(frame.subarray(0, n), [2])]) {
      const reader = new FrameReader(streamOf(chunks));
      await assert.rejects(reader.read(), (e) => {
        assert.ok(e instanceof TruncatedFrameError);
        assert.equal(e.received, n);
        assert.equal(e.expected, frame.length);
        return true;
      });
    }
  }
});

Deno.test("reader_copies_only_frames_that_straddle_chunks", async () => {
  const a = FRAMES[2];
  const b = FRAMES[3];
  const joined = concat([a, b]);
  // Chunk 1 holds all of a and the first 6 bytes of b (its prefix and 2 body bytes).
  const got = await readAll(new FrameReader(streamOf(cutAt(joined, [a.length + 6]))));
  assert.equal(got[0].buffer, joined.buffer);
  assert.notEqual(got[1].buffer, joined.buffer);
  assert.deepEqual(got, [a.subarray(4), b.subarray(4)]);
});

Deno.test("reader_reassembles_a_large_frame_from_many_small_chunks", async () => {
  const block = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff);
  const frames = [...encodeDataFrames(9, block, 1024 * 1024 - 64)];
  const stream = concat(frames);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 1000) chunks.push(stream.subarray(i, i + 1000));
  const parts: Uint8Array[] = [];
  for await (const msg of readMessages(streamOf(chunks))) {
    assert.equal(msg.type, MessageType.DATA);
    if (msg.type === MessageType.DATA) parts.push(msg.chunk);
  }
  assert.deepEqual(concat(parts), block);
});

Deno.test("reader_rejects_on_abort_while_waiting", async () => {
  const controller = new AbortController();
  let cancelled = false;
  const never = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
  });
  const reader = new FrameReader(never, { signal: controller.signal });
  const pending = reader.read();
  controller.abort();
  await assert.rejects(pending, AbortedError);
  await assert.rejects(reader.read(), AbortedError);
  await reader.cancel();
  assert.ok(cancelled);
});

Deno.test("reader_wraps_stream_failures_in_io_error", async () => {
  const failing = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new TypeError("connection reset"));
    },
  });
  await assert.rejects(new FrameReader(failing).read(), IoError);
});

Deno.test("read_messages_yields_messages_and_cancels_the_stream_on_error", async () => {
  let cancelled = false;
  let sent = false;
  const bad = new Uint8Array([0, 0, 0, 7, 9, 0x03, 0, 0, 0, 0, 1]); // version 9
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(concat([FRAMES[0], bad]));
      }
    },
    cancel() {
      cancelled = true;
    },
  });
  const got: Message[] = [];
  await assert.rejects(async () => {
    for await (const msg of readMessages(stream)) got.push(msg);
  }, (e) => (e as { code: string }).code === "UNSUPPORTED_VERSION");
  assert.deepEqual(got, [SAMPLES[0]]);
  assert.ok(cancelled);
});

Deno.test("read_messages_cancels_the_stream_when_the_consumer_stops", async () => {
  let cancelled = false;
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < 1000) controller.enqueue(FRAMES[i++ % FRAMES.length]);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const _ of readMessages(stream)) break;
  assert.ok(cancelled);
});
