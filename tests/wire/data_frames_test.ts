import assert from "node:assert/strict";
import { dataChunks } from "../../src/wire/data_frames.ts";
import { MalformedMessageError } from "../../src/wire/errors.ts";

Deno.test("data_chunks_cut_a_body_into_views_with_the_last_one_marked", () => {
  const body = new Uint8Array(300).map((_, i) => i & 0xff);
  const pieces = [...dataChunks(body, 128)];
  assert.deepEqual(pieces.map((p) => [p.chunk.length, p.end]), [[128, false], [128, false], [
    44,
    true,
  ]]);
  assert.ok(pieces.every((p) => p.chunk.buffer === body.buffer), "views, not copies");
  assert.deepEqual(new Uint8Array(pieces.flatMap((p) => [...p.chunk])), body);
  // Exactly one chunk, and an empty body: one piece each, marked last.
  assert.deepEqual([...dataChunks(body, 300)].map((p) => [p.chunk.length, p.end]), [[300, true]]);
  assert.deepEqual([...dataChunks(new Uint8Array(0), 128)].map((p) => [p.chunk.length, p.end]), [
    [0, true],
  ]);
  for (const bad of [0, -1, 1.5]) {
    assert.throws(() => [...dataChunks(body, bad)], MalformedMessageError);
  }
});
