import assert from "node:assert/strict";
import {
  encodeMessage,
  FrameReader,
  FrameTooLargeError,
  MessageType,
  TruncatedFrameError,
} from "../../src/wire/mod.ts";
import { Rng, testSeed } from "../util/prng.ts";
import { SAMPLES } from "./samples.ts";
import { byteStreamOf, concat, cutAt, streamOf } from "./streams.ts";

/** Reads every frame, copying each body before the next read (the reuse contract). */
async function readCopies(reader: FrameReader, max = 100_000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < max; i++) {
    const body = await reader.read();
    if (body === null) return out;
    out.push(body.slice());
  }
  throw new Error("reader did not end");
}

const FRAMES = SAMPLES.map((m) => encodeMessage(m));
const STREAM = concat(FRAMES);
const BODIES = FRAMES.map((f) => f.subarray(4));

Deno.test("reuse_reader_reads_a_byte_stream_split_at_every_boundary", async () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const reader = new FrameReader(byteStreamOf(cutAt(STREAM, [cut])), { reuseBuffers: true });
    assert.deepEqual(await readCopies(reader), BODIES, `cut at ${cut}`);
  }
});

Deno.test("reuse_reader_reads_a_default_stream_split_at_every_boundary", async () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const reader = new FrameReader(streamOf(cutAt(STREAM, [cut])), { reuseBuffers: true });
    assert.deepEqual(await readCopies(reader), BODIES, `cut at ${cut}`);
  }
});

Deno.test("reuse_reader_matches_the_copying_reader_on_random_big_frames", async () => {
  const seed = testSeed(7);
  const rng = new Rng(seed);
  try {
    for (let round = 0; round < 6; round++) {
      // DATA frames up to 1 MiB (over the reader's initial buffer), small frames between.
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 12; i++) {
        const big = rng.int(3) === 0;
        const size = big ? rng.int(1024 * 1024) : rng.int(300);
        frames.push(
          encodeMessage({
            type: MessageType.DATA,
            requestId: i + 1,
            chunk: rng.bytes(size),
            end: rng.int(2) === 0,
          }),
        );
      }
      const bytes = concat(frames);
      const cuts: number[] = [];
      for (let at = rng.int(200_000); at < bytes.length; at += 1 + rng.int(400_000)) cuts.push(at);
      const chunks = cutAt(bytes, cuts);
      const want = frames.map((f) => f.subarray(4));
      for (const stream of [byteStreamOf(chunks), streamOf(chunks)]) {
        const reader = new FrameReader(stream, { reuseBuffers: true });
        assert.deepEqual(await readCopies(reader), want);
      }
    }
  } catch (err) {
    console.error(`reuse_reader random test failed with seed ${seed} (set DFS_SEED to replay)`);
    throw err;
  }
});

Deno.test("reuse_reader_rejects_truncated_and_oversized_frames_from_a_byte_stream", async () => {
  const frame = FRAMES[0];
  const cut = new FrameReader(byteStreamOf([frame.subarray(0, frame.length - 1)]), {
    reuseBuffers: true,
  });
  await assert.rejects(cut.read(), TruncatedFrameError);
  const prefix = new FrameReader(byteStreamOf([new Uint8Array([0, 0])]), { reuseBuffers: true });
  await assert.rejects(prefix.read(), TruncatedFrameError);
  const big = new FrameReader(byteStreamOf([new Uint8Array([0, 0, 1, 0, 0])]), {
    reuseBuffers: true,
    maxFrameSize: 100,
  });
  await assert.rejects(big.read(), FrameTooLargeError);
});

Deno.test("reuse_reader_ends_cleanly_and_cancels_a_byte_stream", async () => {
  const empty = new FrameReader(byteStreamOf([]), { reuseBuffers: true });
  assert.equal(await empty.read(), null);
  const reader = new FrameReader(byteStreamOf([STREAM]), { reuseBuffers: true });
  assert.ok(await reader.read());
  await reader.cancel();
  await reader.cancel();
});
