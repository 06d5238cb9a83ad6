import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { AbortedError, IoError } from "../../src/errors.ts";
import { CorruptFileError } from "../../src/file/errors.ts";
import { putFile } from "../../src/file/mod.ts";
import type { BlockSink } from "../../src/file/types.ts";
import { DiscardSink, pattern, sleep } from "./_fakes.ts";

const BS = 1024;

/** An endless input that records whether it was cancelled. */
function endless() {
  const state = { cancelled: false, pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      state.pulled++;
      c.enqueue(pattern(700, state.pulled));
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

Deno.test("sink_failure_rejects_put_and_cancels_input", async () => {
  let n = 0;
  const sink: BlockSink = {
    async putBlock(bytes) {
      if (++n === 5) throw new IoError("disk full");
      return await ContentId.of(bytes);
    },
  };
  const { stream, state } = endless();
  await assert.rejects(putFile(stream, sink, { blockSize: BS }), (err: unknown) => {
    assert.ok(err instanceof IoError && err.message === "disk full", String(err));
    return true;
  });
  assert.ok(state.cancelled);
});

Deno.test("sink_returning_another_id_is_a_corrupt_file", async () => {
  const other = await ContentId.of(new Uint8Array([1]));
  const sink: BlockSink = { putBlock: () => Promise.resolve(other) };
  await assert.rejects(putFile(pattern(3 * BS), sink, { blockSize: BS }), CorruptFileError);
});

Deno.test("abort_rejects_put_with_aborted_and_cancels_input", async () => {
  const ctrl = new AbortController();
  const sink = new DiscardSink();
  sink.onStored = () => {
    if (sink.count === 10) ctrl.abort();
  };
  const { stream, state } = endless();
  await assert.rejects(putFile(stream, sink, { blockSize: BS, signal: ctrl.signal }), AbortedError);
  assert.ok(state.cancelled);
  await assert.rejects(putFile(new Uint8Array(5), sink, { signal: ctrl.signal }), AbortedError);
});

Deno.test("put_keeps_at_most_concurrency_blocks_in_flight", async () => {
  let inFlight = 0;
  let most = 0;
  const sink: BlockSink = {
    async putBlock(bytes, options) {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        await sleep(2, options?.signal);
        return await ContentId.of(bytes);
      } finally {
        inFlight--;
      }
    },
  };
  await putFile(pattern(40 * BS), sink, { blockSize: BS, concurrency: 3 });
  assert.ok(most >= 2, `only ${most} in flight: no overlap`);
  assert.ok(most <= 3, `${most} in flight`);
});

Deno.test("input_stream_error_rejects_put", async () => {
  let n = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (++n === 4) c.error(new IoError("socket reset"));
      else c.enqueue(new Uint8Array(600));
    },
  });
  await assert.rejects(putFile(stream, new DiscardSink(), { blockSize: BS }), IoError);
});
