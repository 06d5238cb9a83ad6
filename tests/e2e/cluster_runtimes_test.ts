/**
 * Cross-runtime cluster: a Deno node, a Bun node and a Node node form a private cluster (one
 * cluster key file, so the keyed handshake runs between every pair of runtimes) and exchange
 * files through their HTTP APIs over loopback TCP; a node without the key gets no peer.
 */
import assert from "node:assert/strict";
import {
  api,
  getHashVia,
  type ProcessRuntime,
  putVia,
  sha256Hex,
  startNodeProcess,
  waitForPeers,
  withNodeProcesses,
} from "./node_harness.ts";
import { randomBytes, testSeed } from "../util/prng.ts";

const SEED = testSeed(99);

Deno.test({
  name: "deno_bun_and_node_processes_exchange_files",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withNodeProcesses("dfs-xrt-", async (dir, procs) => {
      const clusterKeyFile = `${dir}/cluster.key`;
      await Deno.writeFile(clusterKeyFile, randomBytes(32, SEED + 100));
      for (const runtime of ["deno", "bun", "node"] as ProcessRuntime[]) {
        procs.push(
          await startNodeProcess({
            runtime,
            dataDir: `${dir}/${runtime}`,
            bootstrap: procs.map((p) => p.info.address),
            durability: "none",
            clusterKeyFile,
          }),
        );
      }
      assert.deepEqual(procs.map((p) => p.info.runtime), ["deno", "bun", "node"]);
      for (const p of procs) await waitForPeers(p.info.apiUrl, 2);
      for (const [i, from] of procs.entries()) {
        // copies=1: the file stays on its origin, so every other runtime fetches it remotely.
        const data = randomBytes(1024 * 1024 + 17 * i, SEED + i);
        // Encrypted (the default): the other runtimes read it by its capability, over Noise.
        const put = await putVia(from.info.apiUrl, data, "?copies=1&encrypt=1");
        assert.ok(put.capability, "an encrypted put answers a capability");
        for (const to of procs) {
          if (to === from) continue;
          const got = await getHashVia(to.info.apiUrl, put.capability!);
          assert.deepEqual(
            got,
            { digest: sha256Hex(data), bytes: data.length },
            `${from.runtime} -> ${to.runtime}`,
          );
        }
      }
      // A node without the key dials all three and is refused by each.
      const outsider = await startNodeProcess({
        dataDir: `${dir}/outsider`,
        bootstrap: procs.map((p) => p.info.address),
        durability: "none",
      });
      procs.push(outsider);
      const status = await api<{ peers: number }>(outsider.info.apiUrl, "/status");
      assert.equal(status.peers, 0);
      for (const p of procs.slice(0, 3)) {
        const s = await api<{ peers: number }>(p.info.apiUrl, "/status");
        assert.equal(s.peers, 2, `${p.runtime} kept only its two members`);
      }
    });
  },
});
