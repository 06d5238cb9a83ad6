/**
 * Garbage collection in a real node: blocks a SIGKILLed put left behind (written, never
 * indexed) and shards of a replication whose root never came are removed after the grace
 * period; every block of an indexed file, and of a put under way, stays.
 */

import assert from "node:assert/strict";
import { Node } from "../../../src/node/node.ts";
import { memoryRuntime } from "../../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import type { ContentId } from "../../../src/id/content_id.ts";
import { FsBlockStore } from "../../../src/store/block_store.ts";
import { randomBytes, readAll } from "../cluster.ts";

const BS = 1024;

async function open(gcGraceMs: number) {
  const runtime = memoryRuntime({ network: new MemoryNetwork() });
  const store = await FsBlockStore.open({ fs: runtime.fs, root: "/n/blocks", durability: "none" });
  const node = await Node.start({
    runtime,
    dataDir: "/n",
    store,
    listen: "10.0.2.1:4000",
    blockSize: BS,
    upkeep: { gcGraceMs, gcIntervalMs: 3_600_000, scrubBytesPerSecond: 0, repair: false },
  });
  return { node, store };
}

Deno.test({
  name: "gc_removes_what_no_file_uses_after_the_grace_and_nothing_a_file_needs",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { node, store } = await open(200);
    try {
      const data = randomBytes(6 * BS + 5, 1);
      const kept = await node.put(data, { encrypt: false, copies: 1 });
      // Blocks a killed put wrote: stored, in no file. One of them equals a block of `kept`.
      const orphans: ContentId[] = [];
      for (let i = 0; i < 4; i++) orphans.push(await store.put(randomBytes(BS, 100 + i)));
      const shared = await store.put(data.slice(0, BS));
      const first = await node.runUpkeep("gc");
      assert.equal(first.removed, 0, "nothing goes before the grace period");
      assert.ok(first.unreferenced >= 4);
      await new Promise((r) => setTimeout(r, 250));
      const second = await node.runUpkeep("gc");
      assert.equal(second.removed, 4, JSON.stringify(second));
      for (const o of orphans) assert.equal(await store.has(o), false);
      assert.equal(await store.has(shared), true, "a block of an indexed file stays");
      assert.deepEqual(await readAll((await node.get(kept.id)).stream), data);
      // Keyed entries (the index, tombstones) are never touched.
      assert.deepEqual((await node.list()).map((f) => f.id), [kept.id]);
    } finally {
      await node.close();
    }
  },
});

Deno.test({
  name: "gc_spares_the_blocks_of_a_put_under_way",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { node } = await open(1);
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => release = r);
      const data = randomBytes(8 * BS, 2);
      let sent = 0;
      // A put that stalls half-way: its first blocks are written, not indexed.
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (sent === 4 * BS) await gate;
          if (sent >= data.length) return c.close();
          c.enqueue(data.slice(sent, sent + BS));
          sent += BS;
        },
      });
      const put = node.put(body, { encrypt: false, copies: 1 });
      while (sent < 4 * BS) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      await node.runUpkeep("gc");
      await new Promise((r) => setTimeout(r, 10));
      const pass = await node.runUpkeep("gc");
      assert.equal(pass.removed, 0, "blocks of a put under way are refused to GC");
      assert.ok(pass.refused >= 4, JSON.stringify(pass));
      release();
      const done = await put;
      assert.deepEqual(await readAll((await node.get(done.id)).stream), data);
    } finally {
      await node.close();
    }
  },
});
