import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { putFile, readFile } from "../../src/file/mod.ts";
import type { BlockSink, BlockSource } from "../../src/file/types.ts";
import { DiscardSink, isManifest } from "./_fakes.ts";

const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const BS = 256 * 1024;
const CHUNK = 64 * 1024;

/** A pull-based producer of `size` bytes that counts what it handed out. */
function producer(size: number) {
  const state = { produced: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (state.produced >= size) return c.close();
      const n = Math.min(CHUNK, size - state.produced);
      const chunk = new Uint8Array(n);
      chunk[0] = state.produced / CHUNK; // blocks differ, cheaply
      state.produced += n;
      c.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

Deno.test("put_of_64_mib_keeps_a_few_blocks_buffered", async () => {
  const { stream, state } = producer(SIZE);
  const sink = new DiscardSink();
  let maxBuffered = 0;
  sink.onStored = () => {
    maxBuffered = Math.max(maxBuffered, state.produced - sink.bytes);
  };
  const result = await putFile(stream, sink, { concurrency: 4 });
  assert.equal(result.size, SIZE);
  assert.equal(result.blocks, SIZE / BS);
  assert.equal(sink.count, SIZE / BS + 1); // data blocks + one manifest
  // taken from the producer but not yet stored: the window (4) plus the block being filled
  assert.ok(maxBuffered <= 5 * BS + CHUNK, `buffered ${maxBuffered} bytes`);
  assert.ok(sink.maxInFlight <= 4);
});

Deno.test("read_of_64_mib_keeps_a_few_blocks_fetched_ahead", async () => {
  // A source that makes data blocks on demand: every block of the file is the same bytes,
  // so the Map holds one data block and the manifest whatever the file size.
  const blocks = new Map<string, Uint8Array>();
  const sink: BlockSink = {
    async putBlock(bytes) {
      const id = await ContentId.of(bytes);
      blocks.set(id.toString(), bytes);
      return id;
    },
  };
  const block = new Uint8Array(BS).fill(7);
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < SIZE / BS; i++) c.enqueue(block);
      c.close();
    },
  });
  const { id } = await putFile(input, sink);
  assert.equal(blocks.size, 2);
  let fetched = 0;
  let alive = 0;
  let maxAlive = 0;
  const source: BlockSource = {
    getBlock(bid) {
      const bytes = blocks.get(bid.toString())!;
      if (!isManifest(bytes)) {
        fetched++;
        alive++;
        maxAlive = Math.max(maxAlive, alive);
      }
      return Promise.resolve(bytes);
    },
  };
  const file = await readFile(id, source, { concurrency: 8 });
  let read = 0;
  for await (const part of file.stream) {
    read += part.length;
    alive--; // one block handed to the reader per chunk
  }
  assert.equal(read, SIZE);
  assert.equal(fetched, SIZE / BS);
  // fetched but not yet taken by the reader: the window, plus the one being handed over
  assert.ok(maxAlive <= 8 + 1, `${maxAlive} blocks fetched ahead`);
});
