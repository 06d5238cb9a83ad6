/**
 * Cross-runtime cluster: a Deno node, a Bun node and a Node node exchange files through their
 * HTTP APIs over loopback TCP.
 */
import assert from "node:assert/strict";
import {
  getHashVia,
  killAll,
  type NodeProcess,
  type ProcessRuntime,
  putVia,
  sha256Hex,
  startNodeProcess,
  waitForPeers,
} from "./node_harness.ts";

const SEED = Number(Deno.env.get("DFS_SEED") ?? 99);

function bytesOf(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

Deno.test({
  name: "deno_bun_and_node_processes_exchange_files",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dfs-xrt-" });
    const procs: NodeProcess[] = [];
    try {
      for (const runtime of ["deno", "bun", "node"] as ProcessRuntime[]) {
        procs.push(
          await startNodeProcess({
            runtime,
            dataDir: `${dir}/${runtime}`,
            bootstrap: procs.map((p) => p.info.address),
            durability: "none",
          }),
        );
      }
      assert.deepEqual(procs.map((p) => p.info.runtime), ["deno", "bun", "node"]);
      for (const p of procs) await waitForPeers(p.info.apiUrl, 2);
      for (const [i, from] of procs.entries()) {
        // copies=1: the file stays on its origin, so every other runtime fetches it remotely.
        const data = bytesOf(1024 * 1024 + 17 * i, SEED + i);
        const put = await putVia(from.info.apiUrl, data, "?copies=1");
        for (const to of procs) {
          if (to === from) continue;
          const got = await getHashVia(to.info.apiUrl, put.id);
          assert.deepEqual(
            got,
            { digest: sha256Hex(data), bytes: data.length },
            `${from.runtime} -> ${to.runtime}`,
          );
        }
      }
    } catch (err) {
      for (const p of procs) console.error(`--- ${p.runtime} ${p.info.address}\n${p.stderr()}`);
      throw err;
    } finally {
      await killAll(procs);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
