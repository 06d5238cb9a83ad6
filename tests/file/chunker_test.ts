import assert from "node:assert/strict";
import { AbortedError, InvalidArgumentError } from "../../src/errors.ts";
import { chunk, chunkBytes, chunkStream } from "../../src/file/chunker.ts";
import { pattern, streamOf, withSeed } from "./_fakes.ts";
import { concatBytes as concat } from "../util/bytes.ts";

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out = [];
  for await (const b of it) out.push(b);
  return out;
}

Deno.test("chunker_cuts_any_chunking_into_exact_blocks", async () => {
  await withSeed(1234, async (rand) => {
    for (let iter = 0; iter < 40; iter++) {
      const bs = 1 + rand.int(3000);
      const data = rand.bytes(rand.int(10 * bs));
      const sizes = Array.from({ length: 1 + rand.int(5) }, () => 1 + rand.int(3 * bs));
      const blocks = await collect(chunkStream(streamOf(data, sizes), bs));
      assert.equal(blocks.length, Math.ceil(data.length / bs));
      for (let i = 0; i < blocks.length - 1; i++) assert.equal(blocks[i].length, bs);
      assert.deepEqual(concat(blocks), data);
      assert.deepEqual(blocks, [...chunkBytes(data, bs)]);
    }
  });
});

Deno.test("chunker_yields_nothing_for_empty_input", async () => {
  assert.deepEqual(await collect(chunkStream(streamOf(new Uint8Array(0)), 1024)), []);
  assert.deepEqual(await collect(chunk(new Uint8Array(0), 1024)), []);
  // empty chunks in the middle are skipped
  const s = ReadableStream.from([new Uint8Array(0), new Uint8Array(3), new Uint8Array(0)]);
  assert.deepEqual((await collect(chunkStream(s, 2))).map((b) => b.length), [2, 1]);
});

Deno.test("chunker_hands_out_fresh_buffers", async () => {
  const data = pattern(10_000);
  const blocks = await collect(chunkStream(streamOf(data, [777]), 1024));
  const buffers = new Set(blocks.map((b) => b.buffer));
  assert.equal(buffers.size, blocks.length);
  assert.ok(blocks.every((b) => b.byteOffset === 0));
  // the source chunks are not aliased: the last block owns just its bytes
  assert.equal(blocks.at(-1)!.buffer.byteLength, 10_000 % 1024);
});

Deno.test("chunker_pulls_only_as_fast_as_blocks_are_taken", async () => {
  let pulled = 0;
  const input = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(100));
      if (pulled === 1000) c.close();
    },
  }, { highWaterMark: 0 });
  const it = chunkStream(input, 1000);
  await it.next();
  assert.ok(pulled <= 11, `pulled ${pulled} chunks for one 1000-byte block`);
  await it.return();
});

Deno.test("chunker_cancels_input_when_consumer_stops", async () => {
  let cancelled = false;
  const input = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new Uint8Array(512));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const _ of chunkStream(input, 1024)) break;
  assert.ok(cancelled);
});

Deno.test("chunker_aborts_with_typed_error_and_cancels_input", async () => {
  let cancelled = false;
  const ctrl = new AbortController();
  const input = new ReadableStream<Uint8Array>({
    pull() {
      // never produces: the read stays pending until the abort cancels the stream
      return new Promise(() => {});
    },
    cancel() {
      cancelled = true;
    },
  });
  const it = chunkStream(input, 1024, { signal: ctrl.signal });
  const next = it.next();
  ctrl.abort();
  await assert.rejects(next, AbortedError);
  assert.ok(cancelled);
});

Deno.test("chunker_rejects_non_byte_chunks_and_bad_sizes", async () => {
  const bad = ReadableStream.from(["text"]) as unknown as ReadableStream<Uint8Array>;
  await assert.rejects(collect(chunkStream(bad, 4)), InvalidArgumentError);
  await assert.rejects(collect(chunkStream(streamOf(new Uint8Array(1)), 0)), InvalidArgumentError);
  await assert.rejects(collect(chunk("x" as unknown as Uint8Array, 4)), InvalidArgumentError);
  const locked = streamOf(new Uint8Array(10));
  const reader = locked.getReader();
  await assert.rejects(collect(chunk(locked, 4)), InvalidArgumentError);
  reader.releaseLock();
  await locked.cancel();
});
