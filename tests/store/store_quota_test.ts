/** `StoreOptions.maxBytes`: a bounded store refuses writes past it and loses nothing. */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { StoreFullError } from "../../src/store/errors.ts";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

Deno.test("a_bounded_store_refuses_a_write_past_max_bytes_and_keeps_the_rest", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none", maxBytes: 2500 });
  const a = await store.put(bytes(1000, 1));
  const b = await store.put(bytes(1000, 2));
  await assert.rejects(store.put(bytes(1000, 3)), (err) => {
    assert.ok(err instanceof StoreFullError);
    assert.equal(err.code, "STORE_FULL");
    assert.deepEqual([err.used, err.needed, err.limit], [2000, 1000, 2500]);
    return true;
  });
  // Nothing of the refused write is left, and what was there reads back.
  assert.equal(await store.has(await ContentId.of(bytes(1000, 3))), false);
  assert.deepEqual(await store.stats(), { count: 2, bytes: 2000 });
  assert.deepEqual(await store.readBytes(a), bytes(1000, 1));
  // Writing an entry that is already there takes no room: allowed even when full.
  await store.put(bytes(1000, 2));
  await store.write("name:x", bytes(400, 9)); // fits: 2400
  await store.write("name:x", bytes(300, 8)); // a smaller rewrite: 2300
  await assert.rejects(store.write("name:x", bytes(700, 7)), StoreFullError); // would be 2700
  assert.deepEqual(await store.readBytes("name:x"), bytes(300, 8));
  // Deleting frees room.
  await store.delete(b);
  await store.put(bytes(1000, 3));
  assert.deepEqual(await store.stats(), { count: 3, bytes: 2300 });
  await store.close();
});

Deno.test("concurrent_writes_to_a_bounded_store_never_go_past_max_bytes", async () => {
  const store = await FsBlockStore.open({
    fs: new MemoryFileSystem(),
    root: "/s",
    durability: "none",
    maxBytes: 5500,
  });
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) => store.put(bytes(1000, i + 1))),
  );
  const ok = results.filter((r) => r.status === "fulfilled").length;
  assert.equal(ok, 5);
  for (const r of results) {
    if (r.status === "rejected") assert.ok(r.reason instanceof StoreFullError, String(r.reason));
  }
  assert.deepEqual(await store.stats(), { count: 5, bytes: 5000 });
  await store.close();
});

Deno.test("a_bounded_store_counts_what_is_on_disk_when_it_opens", async () => {
  const fs = new MemoryFileSystem();
  const first = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  await first.put(bytes(3000, 1));
  await first.close();
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none", maxBytes: 4000 });
  await assert.rejects(store.put(bytes(1500, 2)), StoreFullError);
  await store.put(bytes(900, 3));
  assert.deepEqual(await store.stats(), { count: 2, bytes: 3900 });
  await store.close();
  for (const maxBytes of [-1, 1.5, Number.NaN]) {
    await assert.rejects(
      FsBlockStore.open({ fs, root: "/s", maxBytes }),
      InvalidArgumentError,
    );
  }
});
