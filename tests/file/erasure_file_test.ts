/**
 * Reed-Solomon files end to end in the file layer: put writes k data and m parity shards per
 * stripe, a get rebuilds whatever up to m shards per stripe went missing or rotten, reads the
 * data shards only when they are there, and a byte range touches only its stripes.
 */

import assert from "node:assert/strict";
import type { ContentId } from "../../src/id/content_id.ts";
import { putFile } from "../../src/file/put_file.ts";
import { readFile } from "../../src/file/read_file.ts";
import { statFile } from "../../src/file/stat_file.ts";
import { fileBlocks } from "../../src/file/file_block_ids.ts";
import { decodeManifest } from "../../src/file/manifest.ts";
import { UnrecoverableStripeError } from "../../src/file/errors.ts";
import type { ErasurePolicy } from "../../src/file/redundancy.ts";
import { MemoryBlocks, readAll, withSeed } from "./_fakes.ts";
import { randomBytes } from "../util/prng.ts";

const BS = 1024;

async function rsFile(size: number, policy: ErasurePolicy, seed = 1) {
  const mem = new MemoryBlocks();
  const data = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const put = await putFile(data, mem, { blockSize: BS, redundancy: policy });
  return { mem, data, put };
}

/** Data and parity ids of each stripe, from the leaves, in file order. */
async function stripesOf(id: ContentId, mem: MemoryBlocks): Promise<ContentId[][]> {
  const out: ContentId[][] = [];
  for await (const b of fileBlocks(id, mem)) {
    if (b.kind !== "manifest") continue;
    const m = decodeManifest(mem.blocks.get(b.id.toString())!);
    if (m.kind !== "leaf" || m.redundancy?.kind !== "rs") continue;
    const { k, m: parity } = m.redundancy;
    for (let s = 0; s * k < m.children.length; s++) {
      out.push([
        ...m.children.slice(s * k, (s + 1) * k).map((c) => c.id),
        ...m.parity!.slice(s * parity, (s + 1) * parity),
      ]);
    }
  }
  return out;
}

Deno.test("rs_put_stores_parity_and_records_the_policy", async () => {
  const policy = { kind: "rs", k: 4, m: 2 } as const;
  const { mem, put } = await rsFile(10 * BS + 17, policy);
  assert.equal(put.blocks, 11);
  assert.equal(put.parityBlocks, 3 * 2); // 3 stripes (4 + 4 + 3 blocks)
  const stat = await statFile(put.id, mem);
  assert.deepEqual(stat.redundancy, policy);
  assert.equal(stat.stripes, 3);
  assert.equal(stat.parityBlocks, 6);
  const stripes = await stripesOf(put.id, mem);
  assert.equal(stripes.length, 3);
  assert.deepEqual(stripes.map((s) => s.length), [6, 6, 5]);
});

Deno.test("rs_healthy_read_fetches_no_parity", async () => {
  const { mem, data, put } = await rsFile(9 * BS, { kind: "rs", k: 4, m: 2 });
  const parity = new Set((await stripesOf(put.id, mem)).flatMap((s) => s.slice(-2)).map(String));
  const file = await readFile(put.id, mem);
  assert.deepEqual(await readAll(file.stream), data);
  assert.equal(mem.gets.filter((g) => parity.has(g)).length, 0);
});

Deno.test("rs_read_rebuilds_any_m_lost_shards_per_stripe", async () => {
  await withSeed(7, async (rand) => {
    for (let round = 0; round < 12; round++) {
      // k = 1 is left out: its first parity shard equals the data shard (the Cauchy matrix's
      // coefficient is 1), so both are one content-addressed block in this shared Map.
      const k = 2 + rand.int(5);
      const m = 1 + rand.int(3);
      const size = 1 + rand.int(3 * k * BS);
      const { mem, data, put } = await rsFile(size, { kind: "rs", k, m }, round + 1);
      for (const stripe of await stripesOf(put.id, mem)) {
        // Lose up to m shards of every stripe: missing blocks or rotten ones.
        const lose = rand.int(m + 1);
        const order = stripe.map((_, i) => i).sort(() => rand.next() - 0.5);
        for (const i of order.slice(0, lose)) {
          if (rand.int(2) === 0) mem.blocks.delete(stripe[i].toString());
          else mem.corrupt.add(stripe[i].toString());
        }
      }
      const file = await readFile(put.id, mem);
      assert.deepEqual(await readAll(file.stream), data, `round ${round} rs:${k}+${m} ${size}`);
    }
  });
});

Deno.test("rs_read_of_a_stripe_with_too_many_losses_fails_typed", async () => {
  const { mem, put } = await rsFile(8 * BS, { kind: "rs", k: 4, m: 2 });
  const [first] = await stripesOf(put.id, mem);
  for (const id of first.slice(0, 3)) mem.blocks.delete(id.toString());
  const file = await readFile(put.id, mem);
  await assert.rejects(readAll(file.stream), (err: unknown) => {
    assert.ok(err instanceof UnrecoverableStripeError, String(err));
    assert.match((err as Error).message, /3 of the 4 shards/);
    return true;
  });
});

Deno.test("rs_range_read_touches_only_its_stripes", async () => {
  const { mem, data, put } = await rsFile(16 * BS, { kind: "rs", k: 4, m: 2 });
  const stripes = await stripesOf(put.id, mem);
  // Lose a data block in stripes 1 and 3; read a range inside stripe 2 only.
  mem.blocks.delete(stripes[1][0].toString());
  mem.blocks.delete(stripes[3][2].toString());
  mem.gets.length = 0;
  const start = 8 * BS + 5;
  const end = 11 * BS + 3;
  const file = await readFile(put.id, mem, { range: { start, end } });
  assert.deepEqual(await readAll(file.stream), data.subarray(start, end + 1));
  const other = new Set([...stripes[1], ...stripes[3], ...stripes[0]].map(String));
  assert.equal(mem.gets.filter((g) => other.has(g)).length, 0);
  // A range in a degraded stripe rebuilds it.
  const file2 = await readFile(put.id, mem, { range: { start: 4 * BS, end: 5 * BS } });
  assert.deepEqual(await readAll(file2.stream), data.subarray(4 * BS, 5 * BS + 1));
});

Deno.test("rs_files_span_several_leaves", async () => {
  const mem = new MemoryBlocks();
  const data = randomBytes(40 * BS + 1, 3);
  const put = await putFile(data, mem, {
    blockSize: BS,
    fanout: 8,
    redundancy: { kind: "rs", k: 3, m: 2 },
  });
  const stat = await statFile(put.id, mem);
  assert.ok(stat.depth >= 2, `depth ${stat.depth}`);
  // Leaves hold whole stripes: 6 data blocks (2 stripes of 3) per leaf with fan-out 8.
  const stripes = await stripesOf(put.id, mem);
  // 41 blocks: 6 leaves of 2 stripes, then a leaf of 5 blocks (a stripe of 3 and one of 2).
  assert.equal(stripes.length, 14);
  assert.deepEqual(stripes.at(-1)!.length, 2 + 2);
  for (const s of stripes) mem.blocks.delete(s[0].toString());
  const file = await readFile(put.id, mem);
  assert.deepEqual(await readAll(file.stream), data);
});

Deno.test("a_rebuilt_block_that_does_not_match_its_id_is_an_error_not_data", async () => {
  const { mem, put } = await rsFile(4 * BS, { kind: "rs", k: 2, m: 1 });
  const [first] = await stripesOf(put.id, mem);
  // Swap the parity for a well-formed block of the right length but other bytes.
  const fake = new Uint8Array(BS).fill(9);
  mem.blocks.set(first[2].toString(), fake);
  mem.blocks.delete(first[0].toString());
  const file = await readFile(put.id, mem);
  await assert.rejects(readAll(file.stream), /rebuilt block 0 hashes to/);
});

Deno.test("rs_of_an_empty_file_reads_back_empty", async () => {
  const { mem, put } = await rsFile(0, { kind: "rs", k: 4, m: 2 });
  assert.equal(put.parityBlocks, 0);
  const file = await readFile(put.id, mem);
  assert.equal((await readAll(file.stream)).length, 0);
});
