/**
 * DATA chunks read straight into a receiver's buffer (`readMessages`' `placement`): across frame
 * and chunk boundaries, on byte streams (BYOB reads into the placement) and default streams;
 * bounded and typed when the input is truncated, oversized or not DATA.
 */
import assert from "node:assert/strict";
import {
  encodeMessage,
  FrameReader,
  FrameTooLargeError,
  type Message,
  MessageType,
  readMessages,
  TruncatedFrameError,
  UnsupportedVersionError,
} from "../../src/wire/mod.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { Rng, testSeed } from "../util/prng.ts";
import { SAMPLES } from "./samples.ts";
import { byteStreamOf, concat, cutAt, streamOf } from "./streams.ts";

/** A buffer lent to the reader, with its place (a transferred view reads as empty). */
interface Lent {
  readonly buffer: ArrayBuffer;
  readonly offset: number;
  readonly length: number;
}

/** Whether `chunk` is the memory lent (same offsets; same buffer or the one a read moved it to). */
function isLent(chunk: Uint8Array, lent: Lent, size: number): boolean {
  return chunk.byteOffset === lent.offset && chunk.length === lent.length &&
    (chunk.buffer === lent.buffer ||
      (lent.buffer.byteLength === 0 && chunk.buffer.byteLength === size));
}

Deno.test("placement_puts_data_chunks_in_the_receivers_buffer_across_random_splits", async () => {
  const seed = testSeed(12);
  const rng = new Rng(seed);
  let placedTotal = 0;
  let eligibleTotal = 0;
  try {
    for (let round = 0; round < 12; round++) {
      const messages: Message[] = [];
      for (let i = 0; i < 16; i++) {
        if (rng.int(3) === 0) {
          messages.push(SAMPLES[rng.int(SAMPLES.length)]);
          continue;
        }
        const size = rng.int(4) === 0 ? rng.int(40) : rng.int(300 * 1024);
        messages.push({
          type: MessageType.DATA,
          requestId: 1 + rng.int(5),
          chunk: rng.bytes(size),
          end: rng.int(2) === 0,
        });
      }
      const bytes = concat(messages.map((m) => encodeMessage(m)));
      const cuts: number[] = [];
      const step = rng.int(2) === 0 ? 40_000 : 3_000;
      for (let at = rng.int(step); at < bytes.length; at += 1 + rng.int(step)) cuts.push(at);
      const chunks = cutAt(bytes, cuts);
      for (const byob of [true, false]) {
        // Requests 1..3 lend a buffer (at an offset inside a bigger one for request 3);
        // 4 and 5 decline.
        let pending: { lent: Lent; size: number } | undefined;
        const placement = {
          data: (requestId: number, size: number) => {
            assert.equal(pending, undefined, "asked again before the last placement was used");
            if (requestId > 3) return undefined;
            const pad = requestId === 3 ? 17 : 0;
            const whole = new Uint8Array(size + 2 * pad);
            const chunk = whole.subarray(pad, pad + size);
            pending = {
              lent: { buffer: whole.buffer, offset: pad, length: size },
              size: whole.length,
            };
            return chunk;
          },
        };
        const stream = byob ? byteStreamOf(chunks) : streamOf(chunks);
        const got: Message[] = [];
        let eligible = 0;
        for await (
          const msg of readMessages(stream, {
            reuseBuffers: true,
            placement,
            maxFrameSize: 1 << 20,
          })
        ) {
          if (msg.type === MessageType.DATA) {
            const l = pending;
            pending = undefined;
            if (msg.requestId <= 3 && msg.chunk.length > 0) eligible++;
            if (l !== undefined) {
              assert.ok(isLent(msg.chunk, l.lent, l.size), "chunk not read into the placement");
              placedTotal++;
            } else if (byob) {
              // A byte stream always has the head before asking: every eligible chunk is placed.
              assert.ok(
                msg.requestId > 3 || msg.chunk.length === 0,
                "an eligible chunk was not placed",
              );
            }
            got.push({ ...msg, chunk: msg.chunk.slice() });
          } else {
            assert.equal(pending, undefined, "a placement was lent for a message that is not DATA");
            got.push(msg);
          }
          assert.ok(got.length <= messages.length);
        }
        eligibleTotal += eligible;
        assert.deepEqual(got, messages);
      }
    }
    // Chunk mode places a chunk only when its head lies in one chunk: most, not all.
    assert.ok(placedTotal > eligibleTotal / 2, `${placedTotal} of ${eligibleTotal} placed`);
  } catch (err) {
    console.error(`placement random test failed with seed ${seed} (set DFS_SEED to replay)`);
    throw err;
  }
});

Deno.test("placement_truncated_data_body_is_a_typed_error_on_both_stream_kinds", async () => {
  const frame = encodeMessage({
    type: MessageType.DATA,
    requestId: 1,
    chunk: new Uint8Array(100_000).fill(7),
    end: true,
  });
  for (const cut of [11, 12, 5000, 95_000, frame.length - 1]) {
    for (const byob of [true, false]) {
      const chunks = cutAt(frame.subarray(0, cut), [Math.floor(cut / 2)]);
      let asked = 0;
      const placement = {
        data: (_id: number, size: number) => {
          asked++;
          return new Uint8Array(size);
        },
      };
      const stream = byob ? byteStreamOf(chunks) : streamOf(chunks);
      await assert.rejects(
        async () => {
          for await (const _ of readMessages(stream, { reuseBuffers: true, placement })) {
            throw new Error("a truncated frame yielded a message");
          }
        },
        TruncatedFrameError,
        `cut ${cut} byob ${byob}`,
      );
      assert.ok(asked <= 1);
    }
  }
});

Deno.test("placement_is_not_asked_for_oversized_frames_or_bad_headers", async () => {
  let asked = 0;
  const placement = {
    data: (_id: number, size: number) => {
      asked++;
      return new Uint8Array(size);
    },
  };
  const big = encodeMessage({
    type: MessageType.DATA,
    requestId: 1,
    chunk: new Uint8Array(5000),
    end: true,
  });
  for (const byob of [true, false]) {
    const stream = byob ? byteStreamOf([big]) : streamOf([big]);
    await assert.rejects(async () => {
      for await (
        const _ of readMessages(stream, { reuseBuffers: true, placement, maxFrameSize: 4096 })
      ) {
        throw new Error("an oversized frame yielded a message");
      }
    }, FrameTooLargeError);
    const bad = big.slice();
    bad[4] = 9; // version
    const badStream = byob ? byteStreamOf([bad]) : streamOf([bad]);
    await assert.rejects(async () => {
      for await (const _ of readMessages(badStream, { reuseBuffers: true, placement })) {
        throw new Error("a bad version yielded a message");
      }
    }, UnsupportedVersionError);
  }
  assert.equal(asked, 0);
});

Deno.test("frame_placement_of_the_wrong_size_is_refused", async () => {
  const frame = encodeMessage({
    type: MessageType.DATA,
    requestId: 1,
    chunk: new Uint8Array(5000),
    end: true,
  });
  for (const byob of [true, false]) {
    const reader = new FrameReader(byob ? byteStreamOf([frame]) : streamOf([frame]), {
      reuseBuffers: true,
    });
    await assert.rejects(
      () => reader.read({ headSize: 7, place: (_h, length) => new Uint8Array(length) }),
      InvalidArgumentError,
    );
    await reader.cancel();
  }
});
