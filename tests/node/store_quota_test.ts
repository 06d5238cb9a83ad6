/** A node with `maxStoreBytes`: its puts fail with STORE_FULL (507 through the API) and the
 * blocks peers push to it are refused, so their puts report fewer copies; nothing is lost. */

import assert from "node:assert/strict";
import { createApiHandler } from "../../src/api/handler.ts";
import { Node } from "../../src/node/node.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { StoreFullError } from "../../src/store/errors.ts";
import { randomBytes, readAll } from "./cluster.ts";

Deno.test({
  name: "a_full_node_refuses_puts_and_peers_blocks_and_the_cluster_keeps_working",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const network = new MemoryNetwork();
    const a = await Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: "/a",
      listen: "10.0.0.1:4000",
      durability: "none",
      blockSize: 64 * 1024,
    });
    const b = await Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: "/b",
      listen: "10.0.0.2:4000",
      bootstrap: ["10.0.0.1:4000"],
      durability: "none",
      maxStoreBytes: 100 * 1024,
    });
    try {
      await assert.rejects(
        Node.start({ runtime: memoryRuntime(), dataDir: "/c", maxStoreBytes: -5 }),
        /maxStoreBytes must be a non-negative integer/,
      );
      assert.equal((await b.status()).store.maxBytes, 100 * 1024);
      assert.equal((await a.status()).store.maxBytes, undefined);
      // A's put wants 2 copies; B has room for none of a 1 MiB file: 1 copy, no failure.
      const data = randomBytes(1024 * 1024, 7);
      const put = await a.put(data, { copies: 2 });
      assert.equal(put.copies, 1);
      assert.deepEqual(await readAll((await b.get(put.id)).stream), data);
      // B's own put of the same size is refused, through the library and the API.
      await assert.rejects(b.put(randomBytes(1024 * 1024, 8)), StoreFullError);
      const api = createApiHandler(b);
      const res = await api(
        new Request("http://b/api/v1/files", {
          method: "POST",
          body: randomBytes(512 * 1024, 9) as Uint8Array<ArrayBuffer>,
        }),
      );
      assert.equal(res.status, 507);
      assert.equal((await res.json()).error.code, "STORE_FULL");
      // Small files still fit.
      const small = await b.put(new TextEncoder().encode("still room for this"), { copies: 1 });
      assert.equal(small.copies, 1);
    } finally {
      await b.close();
      await a.close();
    }
  },
});

Deno.test({
  name: "a_failed_put_takes_its_blocks_out_and_spares_those_others_use",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const node = await Node.start({
      runtime: memoryRuntime(),
      dataDir: "/n",
      durability: "none",
      blockSize: 64 * 1024,
      maxStoreBytes: 1024 * 1024,
    });
    try {
      const kept = randomBytes(256 * 1024, 1);
      const first = await node.put(kept, { copies: 1 });
      const before = await node.status();
      // Too big for what is left: refused part way, its blocks taken out again; the blocks it
      // shares with the stored file (its first 256 KiB) stay.
      const big = new Uint8Array(2 * 1024 * 1024);
      big.set(kept);
      big.set(randomBytes(big.length - kept.length, 2), kept.length);
      await assert.rejects(node.put(big, { copies: 1 }), StoreFullError);
      assert.deepEqual((await node.status()).store, before.store);
      assert.deepEqual(await readAll((await node.get(first.id)).stream), kept);
      // The room is back: a put that fits works.
      const next = await node.put(randomBytes(512 * 1024, 3), { copies: 1 });
      assert.equal(next.copies, 1);
      // A cancelled put leaves nothing either.
      const stats = (await node.status()).store;
      const stop = new AbortController();
      let chunks = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(randomBytes(64 * 1024, 100 + chunks));
          if (++chunks === 3) stop.abort();
        },
      });
      await assert.rejects(node.put(endless, { copies: 1, signal: stop.signal }));
      assert.deepEqual((await node.status()).store, stats);
    } finally {
      await node.close();
    }
  },
});

Deno.test({
  name: "a_failed_put_spares_the_blocks_of_a_put_under_way",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const runtime = memoryRuntime();
    const inner = await FsBlockStore.open({
      fs: runtime.fs,
      root: "/n/blocks",
      durability: "none",
    });
    // Counts the block writes the node makes.
    let puts = 0;
    const store = new Proxy(inner, {
      get(target, prop) {
        if (prop === "put") {
          return async (...args: Parameters<typeof inner.put>) => {
            const id = await target.put(...args);
            puts++;
            return id;
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const node = await Node.start({
      runtime,
      dataDir: "/n",
      durability: "none",
      blockSize: 64 * 1024,
      store,
    });
    const until = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(check(), what);
    };
    try {
      const shared = randomBytes(256 * 1024, 4);
      // Put 1 writes the 4 shared blocks, then waits before its last bytes.
      let release!: () => void;
      const gate = new Promise<void>((r) => release = r);
      let sent = 0;
      const slow = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (sent++ === 0) return c.enqueue(shared);
          await gate;
          c.enqueue(randomBytes(64 * 1024, 5));
          c.close();
        },
      });
      const one = node.put(slow, { copies: 1 });
      await until(() => puts >= 4, "put 1 wrote the shared blocks");
      // Put 2 writes the same 4 blocks, then its client goes away.
      let pulled = 0;
      const failing = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (pulled++ === 0) return c.enqueue(shared.slice());
          await until(() => puts >= 8, "put 2 wrote the shared blocks");
          c.error(new Error("the client went away"));
        },
      });
      await assert.rejects(node.put(failing, { copies: 1 }), /the client went away/);
      release();
      const put = await one;
      const want = new Uint8Array(shared.length + 64 * 1024);
      want.set(shared);
      want.set(randomBytes(64 * 1024, 5), shared.length);
      assert.deepEqual(await readAll((await node.get(put.id)).stream), want);
    } finally {
      await node.close();
    }
  },
});
