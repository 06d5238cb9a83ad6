/**
 * What a node announces in the DHT over its life: every file it holds again after a restart,
 * and no longer a file that left its index (deleted here or by a peer).
 */

import assert from "node:assert/strict";
import { Node } from "../../src/node/node.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { randomBytes, startCluster } from "./cluster.ts";
import { testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0xa770);

Deno.test({
  name: "a_restarted_node_announces_every_file_it_holds_again",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSeed(SEED, async () => {
      const runtime = memoryRuntime();
      const start = () =>
        Node.start({ runtime, dataDir: "/n", listen: "10.9.0.1:4000", durability: "none" });
      const first = await start();
      await first.put(randomBytes(3000, SEED), { encrypt: false, copies: 1 });
      await first.put(randomBytes(5000, SEED + 1), { encrypt: false, copies: 1 });
      assert.equal(first.dhtInfo()?.providing, 2);
      await first.close();
      const again = await start();
      try {
        assert.equal(again.dhtInfo()?.providing, 2);
      } finally {
        await again.close();
      }
    }),
});

Deno.test({
  name: "a_holder_stops_announcing_a_file_a_peer_deleted",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSeed(SEED, async () => {
      const c = await startCluster(2);
      try {
        await c.settle();
        const [a, b] = c.nodes;
        const put = await a.put(randomBytes(4000, SEED), { encrypt: false, copies: 2 });
        assert.equal(put.copies, 2);
        const deadline = Date.now() + 5000;
        while (b.dhtInfo()?.providing !== 1 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(b.dhtInfo()?.providing, 1, "the holder announces the file it took in");
        const r = await a.delete(put.id);
        assert.equal(r.remote, 1);
        assert.equal(a.dhtInfo()?.providing, 0);
        assert.equal(b.dhtInfo()?.providing, 0, "the holder no longer announces it");
      } finally {
        await c.close();
      }
    }),
});
