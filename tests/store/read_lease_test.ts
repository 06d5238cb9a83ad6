import assert from "node:assert/strict";
import { NotFoundError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { entryFileSize, FsBlockStore } from "../../src/store/block_store.ts";
import { CorruptBlockError } from "../../src/store/errors.ts";
import { ReadBufferPool } from "../../src/store/read_buffer_pool.ts";
import { leaseRead } from "../../src/store/read_lease.ts";
import { makeRng, testSeed } from "../util/prng.ts";

const rng = makeRng(testSeed(0x1ea5e));

async function openStore() {
  return await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/s", durability: "none" });
}

Deno.test("read_bytes_into_a_buffer_that_fits_returns_a_verified_view_of_it", async () => {
  const store = await openStore();
  const big = rng.bytes(5000);
  const small = rng.bytes(10);
  const [bigId, smallId] = [await store.put(big), await store.put(small)];
  const into = new Uint8Array(entryFileSize(5000));
  const a = await store.readBytes(bigId, { into });
  assert.equal(a.buffer, into.buffer);
  assert.deepEqual(a, big);
  const b = await store.readBytes(smallId, { into });
  assert.equal(b.buffer, into.buffer);
  assert.deepEqual(b, small);
  // Keyed entries too.
  await store.write("notes/x", small);
  assert.deepEqual(await store.readBytes("notes/x", { into }), small);
  await store.close();
});

Deno.test("read_bytes_into_a_small_buffer_allocates_and_leaves_it_alone", async () => {
  const store = await openStore();
  const bytes = rng.bytes(5000);
  const id = await store.put(bytes);
  const into = new Uint8Array(4000).fill(9);
  const out = await store.readBytes(id, { into });
  assert.notEqual(out.buffer, into.buffer);
  assert.deepEqual(out, bytes);
  assert.ok(into.every((x) => x === 9));
  await store.close();
});

Deno.test("read_bytes_into_a_buffer_still_rejects_corrupt_entries", async () => {
  const store = await openStore();
  const bytes = rng.bytes(3000);
  const wrong = await ContentId.of(rng.bytes(3000));
  await store.put(bytes, { hashed: wrong }); // stored under an id its bytes do not match
  const into = new Uint8Array(entryFileSize(4096));
  await assert.rejects(store.readBytes(wrong, { into }), CorruptBlockError);
  assert.equal(await store.quarantined(), 1);
  await store.close();
});

Deno.test("lease_read_reuses_one_buffer_across_reads", async () => {
  const store = await openStore();
  const pool = new ReadBufferPool({ bufferSize: entryFileSize(4096), maxBuffers: 1 });
  const blocks = Array.from({ length: 5 }, (_, i) => rng.bytes(1000 + i * 500));
  const ids = await Promise.all(blocks.map((b) => store.put(b)));
  let first: ArrayBufferLike | undefined;
  for (let i = 0; i < ids.length; i++) {
    const lease = await leaseRead(store, ids[i], pool);
    assert.deepEqual(lease.bytes, blocks[i]);
    first ??= lease.bytes.buffer;
    assert.equal(lease.bytes.buffer, first, "the pooled buffer was not used");
    assert.equal(pool.lent, 1);
    lease.release();
    lease.release(); // a second release is ignored
    assert.deepEqual([pool.lent, pool.idle], [0, 1]);
  }
  await store.close();
});

Deno.test("a_late_second_release_does_not_take_the_buffer_from_its_next_holder", async () => {
  const store = await openStore();
  const pool = new ReadBufferPool({ bufferSize: entryFileSize(4096), maxBuffers: 1 });
  const a = rng.bytes(1000);
  const b = rng.bytes(1200);
  const c = rng.bytes(1400);
  const [idA, idB, idC] = await Promise.all([a, b, c].map((x) => store.put(x)));
  const first = await leaseRead(store, idA, pool);
  first.release();
  const second = await leaseRead(store, idB, pool); // the same buffer, lent again
  first.release(); // late: must be ignored
  assert.equal(pool.lent, 1, "the second holder still has the buffer");
  const third = await leaseRead(store, idC, pool); // the pool has nothing idle: a fresh array
  assert.deepEqual(second.bytes, b, "the second holder's bytes were overwritten");
  assert.deepEqual(third.bytes, c);
  second.release();
  third.release();
  await store.close();
});

Deno.test("lease_read_gives_the_buffer_back_when_the_read_fails", async () => {
  const store = await openStore();
  const pool = new ReadBufferPool({ bufferSize: entryFileSize(4096), maxBuffers: 1 });
  await assert.rejects(leaseRead(store, await ContentId.of(rng.bytes(8)), pool), NotFoundError);
  assert.deepEqual([pool.lent, pool.idle], [0, 1]);
  const wrong = await ContentId.of(rng.bytes(100));
  await store.put(rng.bytes(100), { hashed: wrong });
  await assert.rejects(leaseRead(store, wrong, pool), CorruptBlockError);
  assert.deepEqual([pool.lent, pool.idle], [0, 1]);
  await store.close();
});

Deno.test("lease_read_falls_back_to_a_fresh_array_when_the_pool_is_empty_or_too_small", async () => {
  const store = await openStore();
  const pool = new ReadBufferPool({ bufferSize: entryFileSize(1000), maxBuffers: 1 });
  const small = rng.bytes(800);
  const big = rng.bytes(entryFileSize(1000) + 1); // over the buffer whatever the header
  const [smallId, bigId] = [await store.put(small), await store.put(big)];
  const held = await leaseRead(store, smallId, pool);
  const other = await leaseRead(store, smallId, pool); // pool empty: own array
  assert.notEqual(other.bytes.buffer, held.bytes.buffer);
  assert.deepEqual(other.bytes, small);
  other.release();
  assert.equal(pool.lent, 1);
  held.release();
  const tooBig = await leaseRead(store, bigId, pool); // does not fit: own array
  assert.deepEqual(tooBig.bytes, big);
  tooBig.release(false); // the pooled buffer was never shared, so it is kept
  assert.deepEqual([pool.lent, pool.idle], [0, 1]);
  await store.close();
});
