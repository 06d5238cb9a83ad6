/**
 * ByteReader over a byte stream (BYOB into its own buffer) and over a plain stream: the same
 * bytes come out for any split of the input and any read sizes; `readExact` results stay valid
 * after later reads, `readView` results are the same bytes.
 */
import assert from "node:assert/strict";
import { ByteReader } from "../../../src/peer/noise/byte_reader.ts";
import { makeRng, testSeed } from "../../util/prng.ts";

const SEED = testSeed(0xb7e5);

/** A byte stream (`type: "bytes"`) delivering `chunks`, into BYOB views when asked. */
function byteStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  let off = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (i >= chunks.length) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const chunk = chunks[i].subarray(off);
      const req = controller.byobRequest;
      if (req?.view) {
        const into = new Uint8Array(req.view.buffer, req.view.byteOffset, req.view.byteLength);
        const n = Math.min(into.length, chunk.length);
        into.set(chunk.subarray(0, n));
        off += n;
        if (off === chunks[i].length) (i++, off = 0);
        req.respond(n);
      } else {
        controller.enqueue(chunk.slice());
        i++;
        off = 0;
      }
    },
  }, { highWaterMark: 0 });
}

for (const mode of ["byte stream", "plain stream"] as const) {
  Deno.test(`byte_reader_returns_the_stream_bytes_for_any_split_and_read_sizes (${mode})`, async () => {
    const rng = makeRng(SEED + (mode === "byte stream" ? 0 : 1));
    for (let round = 0; round < 20; round++) {
      const total = rng.int(400_000);
      const data = rng.bytes(total);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < total;) {
        const n = Math.min(total - at, 1 + rng.int(100_000));
        chunks.push(data.subarray(at, at + n));
        at += n;
      }
      const stream = mode === "byte stream"
        ? byteStream(chunks)
        : ReadableStream.from(chunks.map((c) => c.slice()));
      const reader = new ByteReader(stream);
      const kept: { at: number; bytes: Uint8Array }[] = [];
      let at = 0;
      for (let reads = 0; reads < 10_000 && at < total; reads++) {
        const n = 1 + rng.int(70_000);
        const view = rng.int(2) === 0;
        const got = view ? await reader.readView(n) : await reader.readExact(n);
        const want = data.subarray(at, Math.min(total, at + n));
        assert.deepEqual(got, want, `seed ${SEED} round ${round} at ${at}`);
        if (!view) kept.push({ at, bytes: got });
        at += got.length;
      }
      assert.equal(at, total);
      assert.equal((await reader.readExact(1)).length, 0, "end of stream");
      for (const k of kept) {
        assert.deepEqual(k.bytes, data.subarray(k.at, k.at + k.bytes.length), "kept reads stay");
      }
    }
  });
}

for (const mode of ["byte stream", "plain stream"] as const) {
  Deno.test(`byte_reader_buffered_shows_read_bytes_and_skip_consumes_them (${mode})`, async () => {
    const chunks = [new Uint8Array([1, 2, 3, 4, 5]), new Uint8Array([6, 7])];
    const r = new ByteReader(
      mode === "byte stream" ? byteStream(chunks) : ReadableStream.from(chunks),
    );
    assert.equal(r.buffered().length, 0, "nothing read yet");
    assert.deepEqual(await r.readView(1), new Uint8Array([1]));
    const buffered = r.buffered();
    assert.ok(buffered.length >= 1, "bytes of the first chunk wait");
    assert.deepEqual(buffered, new Uint8Array([2, 3, 4, 5, 6, 7]).subarray(0, buffered.length));
    r.skip(2);
    assert.deepEqual(await r.readExact(2), new Uint8Array([4, 5]));
    r.skip(1000); // at most what is buffered
    const rest = await r.readExact(10);
    assert.ok(rest.length <= 2);
    assert.deepEqual(rest, new Uint8Array([6, 7]).subarray(2 - rest.length));
  });
}
