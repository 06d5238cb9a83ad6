import assert from "node:assert/strict";
import {
  BadCapabilityError,
  CapabilityRequiredError,
  convergentKey,
  ConvergentKeyMismatchError,
  CorruptFileError,
  fileBlockIds,
  formatCapability,
  parseCapability,
  putFile,
  randomFileKey,
  readFile,
  statFile,
  TAG_SIZE,
  WrongKeyError,
} from "../../src/file/mod.ts";
import type { PutFileOptions } from "../../src/file/types.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { isManifest, MemoryBlocks, pattern, readAll, streamOf } from "./_fakes.ts";

const BS = 1024;
const P = BS - TAG_SIZE; // file bytes per encrypted block
const RS42 = { kind: "rs", k: 4, m: 2 } as const;

async function put(data: Uint8Array, options: PutFileOptions = {}, mem = new MemoryBlocks()) {
  const key = options.key ?? randomFileKey();
  const file = await putFile(data, mem, { blockSize: BS, ...options, key });
  return { mem, key, file };
}

async function read(
  mem: MemoryBlocks,
  id: ContentId,
  key: Uint8Array,
  range?: { start: number; end?: number },
) {
  const f = await readFile(id, mem, { key, ...(range ? { range } : {}) });
  return { f, bytes: await readAll(f.stream) };
}

Deno.test("encrypted_round_trips_edge_sizes_replicas_and_rs", async () => {
  for (const redundancy of [undefined, RS42]) {
    for (const size of [0, 1, P - 1, P, P + 1, BS - 1, BS, BS + 1, 9 * P + 5]) {
      const data = pattern(size, size);
      const { mem, key, file } = await put(data, redundancy ? { redundancy } : {});
      assert.equal(file.size, size);
      assert.equal(file.encrypted, true);
      assert.equal(file.blocks, Math.ceil(size / P));
      const { f, bytes } = await read(mem, file.id, key);
      assert.equal(f.size, size);
      assert.deepEqual(bytes, data, `size ${size} ${redundancy ? "rs" : "replicas"}`);
      const stat = await statFile(file.id, mem);
      assert.equal(stat.size, size);
      assert.equal(stat.encrypted, true);
      assert.equal(stat.blocks, file.blocks);
      // every stored data block is its plaintext plus a tag; full ones exactly a block
      for await (const b of fileBlockIds(file.id, mem)) {
        const bytes = mem.blocks.get(b.toString())!;
        if (!isManifest(bytes)) assert.ok(bytes.length > TAG_SIZE && bytes.length <= BS);
      }
    }
  }
});

Deno.test("encrypted_stream_put_matches_bytes_put", async () => {
  const data = pattern(5 * P + 7, 3);
  const key = randomFileKey();
  const a = await putFile(data, new MemoryBlocks(), { blockSize: BS, key });
  const b = await putFile(streamOf(data, [333]), new MemoryBlocks(), { blockSize: BS, key });
  assert.ok(a.id.equals(b.id));
});

Deno.test("encrypted_range_reads_across_block_edges_touch_only_their_blocks", async () => {
  for (const redundancy of [undefined, RS42]) {
    const data = pattern(7 * P + 100, 9);
    const { mem, key, file } = await put(data, redundancy ? { redundancy } : {});
    const ranges = [
      [0, 0],
      [P - 1, P],
      [P - 3, 2 * P + 2],
      [3 * P, 3 * P],
      [7 * P - 1, 7 * P + 99],
      [2 * P + 5, undefined],
      [7 * P + 99, 10 ** 9],
    ] as const;
    for (const [start, end] of ranges) {
      const before = mem.gets.length;
      const { f, bytes } = await read(mem, file.id, key, { start, end });
      const last = Math.min(end ?? data.length - 1, data.length - 1);
      assert.deepEqual(bytes, data.subarray(start, last + 1), `range ${start}-${end}`);
      assert.equal(f.start, start);
      assert.equal(f.end, last);
      const fetched = mem.gets.slice(before).filter((id) => !isManifest(mem.blocks.get(id)!));
      const wanted = Math.floor(last / P) - Math.floor(start / P) + 1;
      assert.equal(fetched.length, wanted, `range ${start}-${end} fetched ${fetched.length}`);
    }
  }
});

Deno.test("encrypted_file_read_by_id_alone_needs_a_capability", async () => {
  const { mem, file } = await put(pattern(3000, 1));
  const before = mem.gets.length;
  await assert.rejects(() => readFile(file.id, mem), CapabilityRequiredError);
  assert.equal(mem.gets.length - before, 1, "only the root is fetched");
  // and a key for a plaintext file is refused
  const plain = await putFile(pattern(10, 1), mem, { blockSize: BS });
  await assert.rejects(() => readFile(plain.id, mem, { key: randomFileKey() }), BadCapabilityError);
});

Deno.test("encrypted_wrong_key_is_a_typed_error_never_bytes", async () => {
  for (const redundancy of [undefined, RS42]) {
    const { mem, file } = await put(pattern(3 * P + 1, 2), redundancy ? { redundancy } : {});
    // the open checks the first block: no stream, no byte
    await assert.rejects(() => readFile(file.id, mem, { key: randomFileKey() }), WrongKeyError);
    // a range that starts further in too
    await assert.rejects(
      () => readFile(file.id, mem, { key: randomFileKey(), range: { start: 2 * P + 1 } }),
      WrongKeyError,
    );
  }
});

Deno.test("encrypted_tampered_block_is_caught_by_the_id_check", async () => {
  const { mem, key, file } = await put(pattern(3 * P, 4));
  const ids: string[] = [];
  for await (const b of fileBlockIds(file.id, mem)) ids.push(b.toString());
  const victim = ids.find((id) => !isManifest(mem.blocks.get(id)!))!;
  // a checked source refuses bytes that do not hash to their id
  const bytes = mem.blocks.get(victim)!.slice();
  bytes[5] ^= 1;
  mem.blocks.set(victim, bytes);
  const checked = {
    async getBlock(id: ContentId) {
      const b = mem.blocks.get(id.toString())!;
      if (!(await ContentId.of(b)).equals(id)) throw new CorruptFileError(`block ${id} tampered`);
      return b;
    },
  };
  const f = await readFile(file.id, checked, { key });
  await assert.rejects(() => readAll(f.stream), CorruptFileError);
  // an unchecked source that lets it through still yields no bytes: the tag fails
  await assert.rejects(async () => {
    const g = await readFile(file.id, mem, { key });
    await readAll(g.stream);
  }, WrongKeyError);
});

Deno.test("encrypted_blocks_hold_none_of_the_plaintext", async () => {
  const marker = new TextEncoder().encode("SECRET-MARKER-0123456789;");
  const data = new Uint8Array(20 * BS).map((_, i) => marker[i % marker.length]);
  const { mem } = await put(data, { redundancy: RS42 });
  for (const bytes of mem.blocks.values()) {
    assert.equal(indexOf(bytes, marker.subarray(0, 12)), -1);
  }
});

Deno.test("convergent_puts_of_the_same_bytes_share_id_and_blocks", async () => {
  const data = pattern(6 * P + 11, 5);
  const key = await convergentKey(data);
  assert.deepEqual(key, await convergentKey(streamOf(data, [100])));
  const mem = new MemoryBlocks();
  const a = await putFile(data, mem, { blockSize: BS, key, convergent: true });
  const count = mem.blocks.size;
  const b = await putFile(streamOf(data, [77]), mem, { blockSize: BS, key, convergent: true });
  assert.ok(a.id.equals(b.id));
  assert.equal(mem.blocks.size, count, "the second put adds no block");
  assert.deepEqual((await read(mem, a.id, key)).bytes, data);
  // other bytes give another key; another block size the same key but other blocks and id
  assert.notDeepEqual(key, await convergentKey(pattern(6 * P + 11, 6)));
  const wide = await putFile(data, mem, { blockSize: 2 * BS, key, convergent: true });
  assert.ok(!wide.id.equals(a.id));
  const firstBlock = async (id: ContentId) => {
    for await (const b of fileBlockIds(id, mem)) {
      if (!isManifest(mem.blocks.get(b.toString())!)) return mem.blocks.get(b.toString())!;
    }
    throw new Error("no data block");
  };
  const [x, y] = [await firstBlock(a.id), await firstBlock(wide.id)];
  // same first plaintext bytes, same key, other block size: other keystream (no nonce reuse)
  assert.notDeepEqual(x.subarray(0, 100), y.subarray(0, 100));
  // segments of the chain: a file larger than one segment, cut differently, same key
  const big = pattern(2 * 1024 * 1024 + 3, 1);
  assert.deepEqual(await convergentKey(big), await convergentKey(streamOf(big, [4097])));
});

Deno.test("convergent_put_refuses_a_key_that_is_not_the_contents", async () => {
  const data = pattern(2 * P, 5);
  const key = await convergentKey(pattern(2 * P, 6));
  await assert.rejects(
    () => putFile(data, new MemoryBlocks(), { blockSize: BS, key, convergent: true }),
    ConvergentKeyMismatchError,
  );
});

Deno.test("capability_formats_and_parses", async () => {
  const id = await ContentId.of(new Uint8Array([1]));
  const key = randomFileKey();
  const cap = formatCapability(id, key);
  assert.match(cap, /^dfs:r:1220[0-9a-f]{64}:[A-Za-z0-9_-]{43}$/);
  assert.equal(encodeURIComponent(cap).replaceAll("%3A", ":"), cap);
  const back = parseCapability(cap);
  assert.ok(back.id.equals(id));
  assert.deepEqual(back.key, key);
  const hexKey = Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.deepEqual(parseCapability(`dfs:r:${id}:${hexKey}`).key, key);
  for (
    const bad of [
      "",
      id.toString(),
      `dfs:r:${id}`,
      `dfs:r:${id}:`,
      `dfs:r:zz:${cap.split(":")[3]}`,
      `dfs:r:${id}:${cap.split(":")[3]}A`,
      `dfs:r:${id}:${cap.split(":")[3].slice(1)}`,
      `dfs:r:${id}:${cap.split(":")[3]}:x`,
      `dfs:w:${id}:${cap.split(":")[3]}`,
    ]
  ) {
    assert.throws(() => parseCapability(bad), BadCapabilityError, bad);
  }
  assert.throws(() => formatCapability(id, new Uint8Array(16)), BadCapabilityError);
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("encrypted_rs_file_reads_with_a_lost_data_block", async () => {
  const data = pattern(9 * P + 3, 8);
  const { mem, key, file } = await put(data, { redundancy: RS42 });
  const ids: string[] = [];
  for await (const b of fileBlockIds(file.id, mem)) ids.push(b.toString());
  const dataIds = ids.filter((id) => !isManifest(mem.blocks.get(id)!));
  mem.blocks.delete(dataIds[1]);
  mem.blocks.delete(dataIds[dataIds.length - 1]);
  assert.deepEqual((await read(mem, file.id, key)).bytes, data);
});
