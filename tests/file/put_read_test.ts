import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { InvalidArgumentError, NotFoundError } from "../../src/errors.ts";
import { InvalidManifestError, RangeNotSatisfiableError } from "../../src/file/errors.ts";
import { fileBlockIds, fileBlocks, putFile, readFile, statFile } from "../../src/file/mod.ts";
import { isManifest, MemoryBlocks, pattern, readAll, streamOf, withSeed } from "./_fakes.ts";

const BS = 1024;

async function roundTrip(data: Uint8Array, options: Parameters<typeof putFile>[2] = {}) {
  const mem = new MemoryBlocks();
  const put = await putFile(data, mem, options);
  const file = await readFile(put.id, mem);
  assert.equal(file.size, data.length);
  assert.deepEqual(await readAll(file.stream), data);
  return { mem, put };
}

Deno.test("put_read_round_trips_edge_sizes", async () => {
  for (const size of [0, 1, BS - 1, BS, BS + 1, 2 * BS, 5 * BS + 3]) {
    const data = pattern(size, size);
    const { mem, put } = await roundTrip(data, { blockSize: BS });
    assert.equal(put.size, size);
    assert.equal(put.blocks, Math.ceil(size / BS));
    const fromStream = await putFile(streamOf(data, [333]), mem, { blockSize: BS });
    assert.ok(fromStream.id.equals(put.id), `size ${size}: stream and bytes ids differ`);
    const stat = await statFile(put.id, mem);
    assert.deepEqual(stat, {
      size,
      blocks: put.blocks,
      blockSize: BS,
      depth: 1,
      manifests: 1,
      algorithm: "sha-256",
      parityBlocks: 0,
      stripes: 0,
    });
  }
});

Deno.test("empty_file_reads_as_empty_stream", async () => {
  const mem = new MemoryBlocks();
  const put = await putFile(new Uint8Array(0), mem);
  assert.deepEqual({ size: put.size, blocks: put.blocks }, { size: 0, blocks: 0 });
  const file = await readFile(put.id, mem);
  assert.deepEqual([file.size, file.start, file.end], [0, 0, -1]);
  assert.equal((await readAll(file.stream)).length, 0);
  await assert.rejects(readFile(put.id, mem, { range: { start: 0 } }), RangeNotSatisfiableError);
});

Deno.test("small_fanout_builds_three_level_tree", async () => {
  const data = pattern(20 * BS - 17, 3);
  const { mem, put } = await roundTrip(data, { blockSize: BS, fanout: 3 });
  const stat = await statFile(put.id, mem);
  // 20 blocks -> 7 leaves -> 3 inner -> 1 root
  assert.deepEqual({ blocks: stat.blocks, depth: stat.depth, manifests: stat.manifests }, {
    blocks: 20,
    depth: 3,
    manifests: 11,
  });
  const listed = [];
  for await (const b of fileBlocks(put.id, mem)) listed.push(b);
  assert.equal(listed.filter((b) => b.kind === "data").length, 20);
  assert.equal(listed.filter((b) => b.kind === "manifest").length, 11);
  assert.ok(listed[0].id.equals(put.id));
  // exactly the blocks stored: nothing missing, nothing extra
  assert.deepEqual(new Set(listed.map((b) => b.id.toString())), new Set(mem.blocks.keys()));
  const ids = [];
  for await (const id of fileBlockIds(put.id, mem)) ids.push(id.toString());
  assert.deepEqual(ids, listed.map((b) => b.id.toString()));
});

Deno.test("tree_shape_follows_fanout_boundaries", async () => {
  const f = 4;
  const cases: [number, number, number][] = [
    [f, 1, 1], // exactly one full leaf: the leaf is the root
    [f + 1, 2, 3],
    [f * f, 2, 5],
    [f * f + 1, 3, 8],
    [f * f * f, 3, 21],
  ];
  for (const [blocks, depth, manifests] of cases) {
    const { mem, put } = await roundTrip(pattern(blocks * BS, blocks), {
      blockSize: BS,
      fanout: f,
    });
    const stat = await statFile(put.id, mem);
    assert.deepEqual(
      [stat.blocks, stat.depth, stat.manifests],
      [blocks, depth, manifests],
      `${blocks} blocks`,
    );
  }
});

Deno.test("put_is_deterministic_and_options_change_the_id", async () => {
  await withSeed(77, async (rand) => {
    const data = rand.bytes(9 * BS + 100);
    const mem = new MemoryBlocks();
    const a = await putFile(data, mem, { blockSize: BS, fanout: 3 });
    const b = await putFile(streamOf(data, [1, 4095, 17]), mem, { blockSize: BS, fanout: 3 });
    const c = await putFile(streamOf(data, [rand.int(5000) + 1]), new MemoryBlocks(), {
      blockSize: BS,
      fanout: 3,
      concurrency: 1,
    });
    assert.ok(a.id.equals(b.id) && a.id.equals(c.id));
    const others = [
      await putFile(data, mem, { blockSize: BS, fanout: 4 }),
      await putFile(data, mem, { blockSize: 2 * BS, fanout: 3 }),
      await putFile(data, mem, { blockSize: BS, fanout: 3, algorithm: "sha-1" }),
    ];
    for (const o of others) assert.ok(!o.id.equals(a.id));
    assert.ok(others[2].id.toString().startsWith("1114"));
    const sha1 = await readFile(others[2].id, mem);
    assert.deepEqual(await readAll(sha1.stream), data);
    assert.equal((await statFile(others[2].id, mem)).algorithm, "sha-1");
  });
});

Deno.test("put_reports_progress_in_order", async () => {
  const seen: number[] = [];
  const data = pattern(7 * BS + 5);
  await putFile(streamOf(data, [700]), new MemoryBlocks(), {
    blockSize: BS,
    onProgress: (n) => seen.push(n),
  });
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7].map((k) => k * BS).concat([7 * BS + 5]));
});

Deno.test("put_rejects_bad_options_and_input", async () => {
  const mem = new MemoryBlocks();
  const data = new Uint8Array(10);
  for (
    const options of [
      { blockSize: 1023 },
      { blockSize: 4 * 1024 * 1024 + 1 },
      { blockSize: 1500.5 },
      { fanout: 1 },
      { fanout: 4097 },
      { blockSize: 1024, fanout: 24 }, // 24 children of 42 bytes do not fit in 1 KiB
      { concurrency: 0 },
      { algorithm: "md5" as "sha-1" },
    ]
  ) {
    await assert.rejects(
      putFile(data, mem, options),
      InvalidArgumentError,
      JSON.stringify(options),
    );
  }
  await assert.rejects(putFile("text" as unknown as Uint8Array, mem), InvalidArgumentError);
  // the largest fan-out that fits is accepted
  await putFile(data, mem, { blockSize: 1024, fanout: 23 });
});

Deno.test("read_range_edge_cases", async () => {
  const size = 10 * BS + 5;
  const data = pattern(size, 9);
  const mem = new MemoryBlocks();
  const { id } = await putFile(data, mem, { blockSize: BS, fanout: 3 });
  const ranges: [number, number | undefined][] = [
    [0, 0], // first byte
    [size - 1, size - 1], // last byte
    [size - 1, undefined],
    [BS - 1, BS], // across a block boundary
    [BS, 2 * BS - 1], // exactly one block
    [BS - 1, 3 * BS], // several boundaries
    [3 * BS + 7, size + 1000], // end past the file is clamped
    [0, undefined],
    [10 * BS, size - 1], // the short last block
  ];
  for (const [start, end] of ranges) {
    const file = await readFile(id, mem, { range: { start, end } });
    const last = Math.min(end ?? size - 1, size - 1);
    assert.deepEqual([file.start, file.end, file.size], [start, last, size]);
    assert.deepEqual(await readAll(file.stream), data.slice(start, last + 1), `${start}..${end}`);
  }
  const bad: [number, number | undefined][] = [
    [size, undefined],
    [size + 5, size + 10],
    [5, 4],
    [-1, 3],
    [Number.NaN, undefined],
    [1.5, 3],
    [0, 2.5],
  ];
  for (const [start, end] of bad) {
    await assert.rejects(readFile(id, mem, { range: { start, end } }), (err: unknown) => {
      assert.ok(err instanceof RangeNotSatisfiableError);
      assert.equal(err.code, "RANGE_NOT_SATISFIABLE");
      assert.equal(err.size, size);
      return true;
    });
  }
});

Deno.test("read_seeded_random_ranges_fetch_only_needed_blocks", async () => {
  await withSeed(4242, async (rand) => {
    const size = 40 * BS + rand.int(BS);
    const data = rand.bytes(size);
    const mem = new MemoryBlocks();
    const { id } = await putFile(data, mem, { blockSize: BS, fanout: 3 });
    const depth = (await statFile(id, mem)).depth;
    assert.equal(depth, 4);
    for (let i = 0; i < 150; i++) {
      const start = rand.int(size);
      const end = rand.int(4) === 0 ? undefined : start + rand.int(Math.min(size - start, 6 * BS));
      mem.gets.length = 0;
      const file = await readFile(id, mem, { range: { start, end }, concurrency: 1 + rand.int(8) });
      const last = end ?? size - 1;
      assert.deepEqual(await readAll(file.stream), data.slice(start, last + 1));
      const dataBlocks = Math.floor(last / BS) - Math.floor(start / BS) + 1;
      const fetchedData = mem.gets.filter((g) => !isManifest(mem.blocks.get(g)!)).length;
      assert.equal(fetchedData, dataBlocks, `range ${start}..${end}`);
      // manifests fetched: at most the root plus a few per level on the way
      assert.ok(mem.gets.length - fetchedData <= 1 + (depth - 1) * (dataBlocks + 2));
    }
  });
});

Deno.test("read_single_byte_fetches_one_path_of_manifests", async () => {
  const mem = new MemoryBlocks();
  const { id } = await putFile(pattern(40 * BS), mem, { blockSize: BS, fanout: 3 });
  mem.gets.length = 0;
  const file = await readFile(id, mem, { range: { start: 25 * BS + 3, end: 25 * BS + 3 } });
  assert.equal((await readAll(file.stream)).length, 1);
  // root, two inner manifests, one leaf, one data block
  assert.equal(mem.gets.length, 5);
});

Deno.test("read_unknown_id_fails_early_with_not_found", async () => {
  const mem = new MemoryBlocks();
  const id = await ContentId.of(new TextEncoder().encode("nobody stored this"));
  await assert.rejects(readFile(id, mem), NotFoundError);
  await assert.rejects(statFile(id, mem), NotFoundError);
  await assert.rejects(fileBlockIds(id, mem).next(), NotFoundError);
});

Deno.test("read_of_a_data_block_id_fails_with_invalid_manifest", async () => {
  const mem = new MemoryBlocks();
  const id = await mem.putBlock(new Uint8Array(100));
  await assert.rejects(readFile(id, mem), InvalidManifestError);
  await assert.rejects(statFile(id, mem), InvalidManifestError);
});

Deno.test("seeded_random_files_round_trip_with_random_options", async () => {
  await withSeed(20261126, async (rand) => {
    for (let iter = 0; iter < 30; iter++) {
      const blockSize = [1024, 2048, 4096][rand.int(3)];
      const fanout = 2 + rand.int(5);
      const blocks = rand.int(60);
      // sizes right at, just under and just over block boundaries are common
      const size = Math.max(0, blocks * blockSize + [-1, 0, 1, rand.int(blockSize)][rand.int(4)]);
      const data = rand.bytes(size);
      const mem = new MemoryBlocks();
      const chunks = Array.from({ length: 3 }, () => 1 + rand.int(2 * blockSize));
      const put = await putFile(streamOf(data, chunks), mem, {
        blockSize,
        fanout,
        concurrency: 1 + rand.int(6),
      });
      const what = `iter ${iter}: size ${size}, block ${blockSize}, fanout ${fanout}`;
      assert.equal(put.blocks, Math.ceil(size / blockSize), what);
      const stat = await statFile(put.id, mem);
      let depth = 1;
      for (let n = Math.max(1, put.blocks); n > fanout; n = Math.ceil(n / fanout)) depth++;
      assert.deepEqual([stat.size, stat.blocks, stat.depth], [size, put.blocks, depth], what);
      let listed = 0;
      for await (const _ of fileBlocks(put.id, mem)) listed++;
      assert.equal(listed, stat.blocks + stat.manifests, what);
      const whole = await readFile(put.id, mem, { concurrency: 1 + rand.int(8) });
      assert.deepEqual(await readAll(whole.stream), data, what);
      for (let r = 0; size > 0 && r < 5; r++) {
        const start = rand.int(size);
        const end = start + rand.int(size - start);
        const part = await readFile(put.id, mem, { range: { start, end } });
        assert.deepEqual(
          await readAll(part.stream),
          data.slice(start, end + 1),
          `${what} ${start}..${end}`,
        );
      }
    }
  });
});
