/** A node with `maxStoreBytes`: its puts fail with STORE_FULL (507 through the API) and the
 * blocks peers push to it are refused, so their puts report fewer copies; nothing is lost. */

import assert from "node:assert/strict";
import { createApiHandler } from "../../src/api/handler.ts";
import { Node } from "../../src/node/node.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
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
