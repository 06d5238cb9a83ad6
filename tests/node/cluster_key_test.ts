import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { Node } from "../../src/node/node.ts";
import { resolveNodeOptions } from "../../src/node/options.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { toHex } from "../../src/util/hex.ts";
import { randomBytes, readAll, startCluster } from "./cluster.ts";
import { makeRng, testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0xc1a5);

const t = (name: string, fn: () => Promise<void>) =>
  Deno.test({
    name,
    fn: () => withSeed(SEED, fn),
    sanitizeOps: false,
    sanitizeResources: false,
  });

t("node_start_rejects_a_cluster_key_outside_16_to_1024_bytes", async () => {
  const runtime = memoryRuntime();
  for (const n of [0, 15, 1025]) {
    await assert.rejects(
      Node.start({ runtime, dataDir: `/n${n}`, clusterKey: new Uint8Array(n) }),
      (err) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.match(err.message, new RegExp(`clusterKey must be 16\\.\\.1024 bytes, got ${n}$`));
        return true;
      },
    );
  }
  assert.throws(
    () => resolveNodeOptions({ runtime, clusterKey: "secret" as unknown as Uint8Array }),
    InvalidArgumentError,
  );
  // The data directory was not locked by the refused starts: a valid start works.
  const node = await Node.start({ runtime, dataDir: "/n0", clusterKey: new Uint8Array(16) });
  await node.close();
});

t("resolved_options_keep_a_private_copy_of_the_cluster_key", async () => {
  const key = new Uint8Array(32).fill(5);
  const opts = resolveNodeOptions({ runtime: memoryRuntime(), clusterKey: key });
  key.fill(0);
  assert.deepEqual(opts.clusterKey, new Uint8Array(32).fill(5));
  assert.equal(resolveNodeOptions({ runtime: memoryRuntime() }).clusterKey, undefined);
  // Not an enumerable field of the peer options the peer layer receives, nor of the options
  // (`node.options`): printing or serialising them shows no key bytes.
  assert.deepEqual(Object.keys(opts.peer), []);
  assert.ok(!Object.keys(opts).includes("clusterKey"));
  assert.ok(!JSON.stringify({ ...opts, runtime: undefined, log: undefined }).includes("5,5,5"));
  await Promise.resolve();
});

t("nodes_with_the_same_cluster_key_get_a_file_across_and_an_outsider_sees_no_peers", async () => {
  const rng = makeRng(SEED);
  const key = rng.bytes(32);
  const other = rng.bytes(32);
  const logs: string[] = [];
  const log = (level: string, message: string, fields?: Record<string, unknown>) =>
    void logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  // Nodes 0 and 1 share the key; node 2 has another key, node 3 none. Each bootstraps from all
  // earlier nodes.
  const c = await startCluster(2, { each: (i) => (i < 2 ? { clusterKey: key.slice(), log } : {}) });
  try {
    await c.settle(1);
    const data = randomBytes(5000, SEED);
    const put = await c.nodes[0].put(data, { encrypt: false, copies: 2 });
    assert.equal(put.copies, 2);
    assert.deepEqual(await readAll((await c.nodes[1].get(put.id)).stream), data);

    const stranger = await c.add({ clusterKey: other, log });
    const open = await c.add({ log });
    // Their first dials are over when `add` resolves; give redials a moment, bounded.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await stranger.status()).peers, 0);
    assert.equal((await open.status()).peers, 0);
    assert.equal((await c.nodes[0].status()).peers, 1);
    assert.equal((await c.nodes[1].status()).peers, 1);
    // The outsiders cannot fetch (nor, having no connection, delete) the members' file.
    await assert.rejects(open.get(put.id).then((r) => readAll(r.stream)));
    await assert.rejects(open.delete(put.id), (err: Error & { code?: string }) => {
      assert.equal(err.code, "NOT_FOUND");
      return true;
    });
    assert.equal(stranger.peers().filter((p) => p.state === "connected").length, 0);
    assert.deepEqual(await readAll((await c.nodes[1].get(put.id)).stream), data);

    // The key is in no status, peer list or log line.
    for (const n of c.nodes) {
      const text = JSON.stringify([await n.status(), n.peers()]);
      assert.ok(!text.includes(toHex(key)) && !text.includes(toHex(other)));
      assert.ok(!text.includes(key.join(",")) && !text.includes(other.join(",")));
    }
    assert.ok(logs.length > 0);
    for (const line of logs) {
      assert.ok(!line.includes(toHex(key)) && !line.includes(key.join(",")), line);
    }
  } finally {
    await c.close();
  }
});
