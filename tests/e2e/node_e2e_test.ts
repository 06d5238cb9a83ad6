/**
 * End to end: real node processes on loopback, driven through their HTTP API.
 * Set DFS_E2E_BIG=0 to skip the 100 MiB transfer (default on).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  api,
  getHashVia,
  type NodeProcess,
  putVia,
  randomBody,
  sha256Hex,
  startNodeProcess,
  waitForPeers,
  withNodeProcesses,
} from "./node_harness.ts";
import { randomBytes, testSeed } from "../util/prng.ts";

const SEED = testSeed(1234);
const BIG = Deno.env.get("DFS_E2E_BIG") === "0" ? 0 : 100 * 1024 * 1024;
const BLOCK = 256 * 1024;

async function holders(procs: readonly NodeProcess[], id: string): Promise<boolean[]> {
  return await Promise.all(
    procs.map(async (p) =>
      (await api<{ local: boolean }>(p.info.apiUrl, `/files/${id}/stat`)).local
    ),
  );
}

Deno.test({
  name: "api_put_on_one_process_get_from_another_then_sigkill_the_origin",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withNodeProcesses("dfs-e2e-", async (dir, procs) => {
      const a = await startNodeProcess({ dataDir: `${dir}/a`, replication: 2, durability: "none" });
      procs.push(a);
      const b = await startNodeProcess({
        dataDir: `${dir}/b`,
        bootstrap: [a.info.address],
        replication: 2,
        durability: "none",
      });
      procs.push(b);
      const c = await startNodeProcess({
        dataDir: `${dir}/c`,
        bootstrap: [a.info.address, b.info.address],
        replication: 2,
        durability: "none",
      });
      procs.push(c);
      for (const p of procs) await waitForPeers(p.info.apiUrl, 2);

      for (const [i, size] of [0, 1, BLOCK, BLOCK + 1].entries()) {
        const data = randomBytes(size, SEED + i);
        const put = await putVia(a.info.apiUrl, data);
        assert.deepEqual([put.size, put.copies, put.wanted], [size, 2, 2]);
        const where = await holders([b, c], put.id);
        const far = where[0] ? c : b;
        const got = await getHashVia(far.info.apiUrl, put.id);
        assert.deepEqual(got, { digest: sha256Hex(data), bytes: size }, `size ${size}`);
      }

      if (BIG > 0) {
        const body = randomBody(BIG, SEED);
        const put = await putVia(a.info.apiUrl, body.stream, "?copies=2");
        assert.equal(put.size, BIG);
        assert.equal(put.copies, 2);
        const want = body.digest();
        const [bHolds] = await holders([b], put.id);
        const holder = bHolds ? b : c;
        const far = bHolds ? c : b;
        assert.deepEqual(await getHashVia(far.info.apiUrl, put.id), { digest: want, bytes: BIG });
        // SIGKILL the node that took the file: the remaining copy still serves it.
        a.kill("SIGKILL");
        await a.exited;
        assert.deepEqual(await getHashVia(far.info.apiUrl, put.id), { digest: want, bytes: BIG });
        assert.deepEqual(await getHashVia(holder.info.apiUrl, put.id), {
          digest: want,
          bytes: BIG,
        });
      } else {
        const data = randomBytes(3 * BLOCK, SEED);
        const put = await putVia(a.info.apiUrl, data);
        a.kill("SIGKILL");
        await a.exited;
        const [bHolds] = await holders([b], put.id);
        const far = bHolds ? c : b;
        assert.equal((await getHashVia(far.info.apiUrl, put.id)).digest, sha256Hex(data));
      }
    });
  },
});

Deno.test({
  name: "get_survives_sigkill_of_a_holder_mid_transfer",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withNodeProcesses("dfs-e2e-kill-", async (dir, procs) => {
      const a = await startNodeProcess({ dataDir: `${dir}/a`, durability: "none" });
      procs.push(a);
      const b = await startNodeProcess({
        dataDir: `${dir}/b`,
        bootstrap: [a.info.address],
        durability: "none",
      });
      procs.push(b);
      await waitForPeers(a.info.apiUrl, 1);
      const size = 64 * 1024 * 1024;
      const body = randomBody(size, SEED + 5);
      const put = await putVia(a.info.apiUrl, body.stream, "?copies=2");
      assert.equal(put.copies, 2);
      const want = body.digest();
      // The reader joins after the put: it holds nothing and fetches from both holders.
      const c = await startNodeProcess({
        dataDir: `${dir}/c`,
        bootstrap: [a.info.address, b.info.address],
        durability: "none",
      });
      procs.push(c);
      await waitForPeers(c.info.apiUrl, 2);
      const res = await fetch(`${c.info.apiUrl}/api/v1/files/${put.id}`, {
        signal: AbortSignal.timeout(120_000),
      });
      assert.equal(res.status, 200);
      const hash = createHash("sha256");
      let got = 0;
      let killed = false;
      for await (const chunk of res.body!) {
        hash.update(chunk);
        got += chunk.length;
        if (!killed && got >= 8 * 1024 * 1024) {
          b.kill("SIGKILL");
          killed = true;
        }
      }
      assert.ok(killed);
      assert.deepEqual({ digest: hash.digest("hex"), bytes: got }, { digest: want, bytes: size });
    });
  },
});
