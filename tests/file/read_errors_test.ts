import assert from "node:assert/strict";
import type { ContentId } from "../../src/id/content_id.ts";
import { AbortedError } from "../../src/errors.ts";
import { CorruptFileError } from "../../src/file/errors.ts";
import { encodeManifest } from "../../src/file/manifest.ts";
import { fileBlocks, putFile, readFile, statFile } from "../../src/file/mod.ts";
import {
  dataGets,
  FakeCorruptBlockError,
  MemoryBlocks,
  pattern,
  readAll,
  sleep,
} from "./_fakes.ts";

const BS = 1024;

/** Reads until the stream errors; returns the bytes delivered before and the error. */
async function readUntilError(stream: ReadableStream<Uint8Array>) {
  let delivered = 0;
  try {
    for await (const part of stream) delivered += part.length;
  } catch (err) {
    return { delivered, err };
  }
  throw new Error(`stream ended without error after ${delivered} bytes`);
}

async function dataIds(mem: MemoryBlocks, id: ContentId): Promise<string[]> {
  const out = [];
  for await (const b of fileBlocks(id, mem)) if (b.kind === "data") out.push(b.id.toString());
  return out;
}

Deno.test("corrupt_data_block_errors_the_stream_after_the_good_bytes", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(12 * BS, 1), mem, { blockSize: BS, fanout: 4 });
  const ids = await dataIds(mem, id);
  mem.corrupt.add(ids[7]);
  const file = await readFile(id, mem, { concurrency: 3 });
  const { delivered, err } = await readUntilError(file.stream);
  assert.ok(err instanceof FakeCorruptBlockError, String(err));
  assert.equal(delivered, 7 * BS);
});

Deno.test("truncated_data_block_is_a_corrupt_file", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(5 * BS, 2), mem, { blockSize: BS });
  mem.truncated.add((await dataIds(mem, id))[2]);
  const { err } = await readUntilError((await readFile(id, mem)).stream);
  assert.ok(err instanceof CorruptFileError, String(err));
});

Deno.test("missing_inner_manifest_errors_the_stream", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(30 * BS, 3), mem, { blockSize: BS, fanout: 3 });
  // break the second leaf manifest
  let leaves = 0;
  let prev = "";
  let lastManifest = "";
  for await (const b of fileBlocks(id, mem)) {
    if (b.kind === "data" && prev === "manifest") leaves++;
    if (b.kind === "data" && prev === "manifest" && leaves === 2) mem.corrupt.add(lastManifest);
    if (b.kind === "manifest") lastManifest = b.id.toString();
    prev = b.kind;
  }
  const file = await readFile(id, mem);
  const { delivered, err } = await readUntilError(file.stream);
  assert.ok(err instanceof FakeCorruptBlockError, String(err));
  assert.equal(delivered, 3 * BS);
  await assert.rejects(statFile(id, mem), FakeCorruptBlockError);
});

Deno.test("child_manifest_that_disagrees_with_parent_is_a_corrupt_file", async () => {
  const mem = new MemoryBlocks();
  const b0 = await mem.putBlock(pattern(BS, 1));
  const b1 = await mem.putBlock(pattern(BS, 2));
  const leaf = await mem.putBlock(encodeManifest({
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: BS,
    size: 2 * BS,
    children: [{ id: b0, size: BS }, { id: b1, size: BS }],
  }));
  const root = await mem.putBlock(encodeManifest({
    kind: "inner",
    height: 1,
    algorithm: "sha-256",
    blockSize: BS,
    size: 3 * BS, // the leaf spans only 2 * BS
    children: [{ id: leaf, size: 3 * BS }],
  }));
  const { err } = await readUntilError((await readFile(root, mem)).stream);
  assert.ok(err instanceof CorruptFileError && /spans/.test(err.message), String(err));
  await assert.rejects(statFile(root, mem), CorruptFileError);
});

Deno.test("short_block_in_the_middle_is_a_corrupt_file", async () => {
  const mem = new MemoryBlocks();
  const short = await mem.putBlock(pattern(100, 1));
  const full = await mem.putBlock(pattern(BS, 2));
  const leafA = await mem.putBlock(encodeManifest({
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: BS,
    size: BS + 100,
    children: [{ id: full, size: BS }, { id: short, size: 100 }],
  }));
  const leafB = await mem.putBlock(encodeManifest({
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: BS,
    size: BS,
    children: [{ id: full, size: BS }],
  }));
  const root = await mem.putBlock(encodeManifest({
    kind: "inner",
    height: 1,
    algorithm: "sha-256",
    blockSize: BS,
    size: 2 * BS + 100,
    children: [{ id: leafA, size: BS + 100 }, { id: leafB, size: BS }],
  }));
  const { err } = await readUntilError((await readFile(root, mem)).stream);
  assert.ok(
    err instanceof CorruptFileError && /only the last block/.test(err.message),
    String(err),
  );
});

Deno.test("read_fetches_in_parallel_within_the_window", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(40 * BS, 4), mem, { blockSize: BS });
  mem.getDelayMs = 3;
  const file = await readFile(id, mem, { concurrency: 6 });
  assert.equal((await readAll(file.stream)).length, 40 * BS);
  assert.ok(mem.maxInFlight > 1, `max in flight ${mem.maxInFlight}`);
  assert.ok(mem.maxInFlight <= 6, `max in flight ${mem.maxInFlight}`);
});

Deno.test("read_stops_fetching_ahead_when_the_reader_stalls", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(100 * BS, 5), mem, { blockSize: BS });
  const file = await readFile(id, mem, { concurrency: 4 });
  const reader = file.stream.getReader();
  await reader.read();
  await sleep(50);
  const fetched = mem.gets.length;
  const data = dataGets(mem);
  // the block delivered + at most the window ahead
  assert.ok(data <= 1 + 4, `fetched ${data} data blocks while the reader stalled`);
  await sleep(20);
  assert.equal(mem.gets.length, fetched);
  await reader.cancel();
});

Deno.test("cancelling_the_stream_stops_fetching", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(200 * BS, 6), mem, { blockSize: BS });
  mem.getDelayMs = 5;
  const file = await readFile(id, mem, { concurrency: 8 });
  const reader = file.stream.getReader();
  await reader.read();
  await reader.read();
  await reader.cancel("done");
  const atCancel = mem.gets.length;
  await sleep(60);
  assert.equal(mem.gets.length, atCancel);
  assert.ok(atCancel < 20, `fetched ${atCancel}`);
  assert.equal(mem.inFlight, 0);
});

Deno.test("aborting_the_signal_errors_the_stream_with_aborted", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(50 * BS, 7), mem, { blockSize: BS });
  mem.getDelayMs = 2;
  const ctrl = new AbortController();
  const file = await readFile(id, mem, { signal: ctrl.signal });
  const reader = file.stream.getReader();
  await reader.read();
  ctrl.abort();
  await assert.rejects(reader.read(), AbortedError);
  await sleep(20);
  assert.equal(mem.inFlight, 0);
  const already = new AbortController();
  already.abort();
  await assert.rejects(readFile(id, mem, { signal: already.signal }), AbortedError);
});

Deno.test("stat_rejects_a_short_block_in_the_middle", async () => {
  const mem = new MemoryBlocks();
  const short = await mem.putBlock(pattern(100, 1));
  const full = await mem.putBlock(pattern(BS, 2));
  const leaf = (children: { id: ContentId; size: number }[]) =>
    mem.putBlock(encodeManifest({
      kind: "leaf",
      height: 0,
      algorithm: "sha-256",
      blockSize: BS,
      size: children.reduce((n, c) => n + c.size, 0),
      children,
    }));
  const a = await leaf([{ id: full, size: BS }, { id: short, size: 100 }]);
  const b = await leaf([{ id: full, size: BS }]);
  const root = await mem.putBlock(encodeManifest({
    kind: "inner",
    height: 1,
    algorithm: "sha-256",
    blockSize: BS,
    size: 2 * BS + 100,
    children: [{ id: a, size: BS + 100 }, { id: b, size: BS }],
  }));
  await assert.rejects(statFile(root, mem), CorruptFileError);
  // the same leaves in the other order are a well-formed file
  const ok = await mem.putBlock(encodeManifest({
    kind: "inner",
    height: 1,
    algorithm: "sha-256",
    blockSize: BS,
    size: 2 * BS + 100,
    children: [{ id: b, size: BS }, { id: a, size: BS + 100 }],
  }));
  const stat = await statFile(ok, mem);
  assert.deepEqual([stat.size, stat.blocks, stat.depth, stat.manifests], [2 * BS + 100, 3, 2, 3]);
  assert.equal((await readAll((await readFile(ok, mem)).stream)).length, 2 * BS + 100);
});
