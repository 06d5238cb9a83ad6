/**
 * Thirty nodes on the in-memory network (`memoryRuntime` / `MemoryNetwork`), through the real
 * peer layer and DHT, joined as a chain (node i bootstraps only from node i-1) with 6
 * connections each: files put on some nodes are read from others, before and after nodes in
 * the middle of the chain leave, and no node ever holds more connections than its bound.
 */

import assert from "node:assert/strict";
import type { Node } from "../../src/node/node.ts";
import { kill, randomBytes, readAll, startCluster } from "./cluster.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0xc4a1);
const N = 30;
const MAX_CONNECTIONS = 6;

Deno.test({
  name: "thirty_nodes_in_a_chain_find_each_others_files_through_the_dht_within_their_bound",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSeed(SEED, async () => {
      const rng = new Rng(SEED);
      const peer = {
        heartbeatIntervalMs: 200,
        deadAfterMs: 1500,
        backoffBaseMs: 50,
        backoffMaxMs: 500,
        maxConnections: MAX_CONNECTIONS,
      };
      const c = await startCluster(1, { common: { peer } });
      let most = 0;
      const sample = () => {
        for (const n of c.nodes) {
          const info = alive.has(n) ? n.dhtInfo() : null;
          if (info) most = Math.max(most, info.connections);
        }
      };
      const alive = new Set<Node>(c.nodes);
      const sampler = setInterval(sample, 5);
      try {
        for (let i = 1; i < N; i++) {
          alive.add(await c.add({ bootstrap: [c.nodes[i - 1].address] }));
        }
        const files: { data: Uint8Array; id: string; on: number }[] = [];
        for (let i = 0; i < N; i += 3) {
          const data = randomBytes(3000 + i * 100, SEED + i);
          const put = await c.nodes[i].put(data, { encrypt: false, copies: 3 });
          assert.equal(put.copies, 3, `file of node ${i} reached ${put.copies} copies`);
          files.push({ data, id: put.id, on: i });
        }
        const readFrom = async (reader: Node, f: (typeof files)[number]) => {
          const got = await readAll((await reader.get(f.id)).stream);
          assert.deepEqual(got, f.data, `node reading the file of node ${f.on}`);
        };
        for (const f of files) {
          for (let j = 0; j < 4; j++) await readFrom(c.nodes[rng.int(N)], f);
        }
        // Nodes 12..16 leave: the chain is cut; the rest still read every file with a holder.
        for (let i = 12; i <= 16; i++) {
          alive.delete(c.nodes[i]);
          await kill(c.nodes[i]);
        }
        const live = c.nodes.filter((n) => alive.has(n));
        for (const f of files.filter((f) => f.on < 12 || f.on > 16)) {
          await readFrom(live[0], f);
          await readFrom(live[live.length - 1], f);
        }
        sample();
        assert.ok(most <= MAX_CONNECTIONS, `a node held ${most} connections`);
      } finally {
        clearInterval(sampler);
        await c.close();
      }
    }),
});
