import assert from "node:assert/strict";
import { corrupting, kill, randomBytes, readAll, startCluster } from "./cluster.ts";
import type { ClusterOptions } from "./cluster.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import type { BlockStore } from "../../src/store/types.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { closestPeers } from "../../src/node/placement.ts";
import { counting, refusing } from "./cluster.ts";
import { testSeed, withSeed } from "../util/prng.ts";

const BS = 1024;
const SEED = testSeed(7);

/** Both ways of joining nodes: direct calls (node logic alone) and the real peer layer. */
const MODES: { label: string; options: ClusterOptions }[] = [
  { label: "direct", options: { direct: true } },
  ...(Deno.env.get("DFS_NODE_DIRECT_ONLY") ? [] : [{ label: "peer", options: {} }]),
];

for (const { label, options } of MODES) {
  const t = (name: string, fn: () => Promise<void>) =>
    Deno.test({
      name: `${name} [${label}]`,
      fn: () => withSeed(SEED, fn),
      sanitizeOps: false,
      sanitizeResources: false,
    });

  t("put_on_one_node_gets_byte_identical_from_another", async () => {
    const c = await startCluster(4, options);
    try {
      await c.settle();
      for (const [i, size] of [0, 1, BS, BS + 1, 7 * BS + 3].entries()) {
        const data = randomBytes(size, SEED + i);
        const put = await c.nodes[0].put(data, { encrypt: false, copies: 2 });
        assert.equal(put.size, size);
        assert.equal(put.copies, 2);
        assert.equal(put.wanted, 2);
        // A node without a copy fetches it from the network.
        const reader = await Promise.all(
          c.nodes.slice(1).map(async (n) => ({
            n,
            local: await n.has(put.id),
          })),
        );
        const far = reader.find((r) => !r.local)!.n;
        const got = await far.get(put.id);
        assert.equal(got.size, size);
        assert.deepEqual(await readAll(got.stream), data, `size ${size}`);
        assert.equal((await far.stat(put.id)).local, false);
        const st = await c.nodes[0].stat(put.id);
        assert.deepEqual([st.size, st.blockSize, st.local], [size, BS, true]);
      }
    } finally {
      await c.close();
    }
  });

  t("range_get_returns_only_the_asked_bytes", async () => {
    const c = await startCluster(2, options);
    try {
      await c.settle();
      const data = randomBytes(10 * BS + 100, SEED);
      const { id } = await c.nodes[0].put(data, { encrypt: false, copies: 1 });
      for (
        const [start, end] of [[0, 0], [BS - 1, BS], [3 * BS + 5, 9 * BS], [10 * BS, 10 * BS + 99]]
      ) {
        const r = await c.nodes[1].get(id, { range: { start, end } });
        assert.deepEqual([r.start, r.end, r.size], [start, end, data.length]);
        assert.deepEqual(await readAll(r.stream), data.subarray(start, end + 1));
      }
      const open = await c.nodes[1].get(id, { range: { start: 5 * BS } });
      assert.deepEqual(await readAll(open.stream), data.subarray(5 * BS));
      await assert.rejects(
        c.nodes[1].get(id, { range: { start: data.length } }),
        { code: "RANGE_NOT_SATISFIABLE" },
      );
    } finally {
      await c.close();
    }
  });

  t("range_get_fetches_only_the_blocks_it_needs", async () => {
    let reads = 0;
    const c = await startCluster(2, {
      ...options,
      each: (
        i,
      ) => (i === 0 ? { wrapStore: (store: BlockStore) => counting(store, () => reads++) } : {}),
    });
    try {
      await c.settle();
      const data = randomBytes(50 * BS, SEED);
      const { id } = await c.nodes[0].put(data, { encrypt: false, copies: 1 });
      reads = 0;
      const r = await c.nodes[1].get(id, { range: { start: 20 * BS + 10, end: 20 * BS + 20 } });
      assert.deepEqual(await readAll(r.stream), data.subarray(20 * BS + 10, 20 * BS + 21));
      // Root manifest, one leaf manifest, one data block: 50 blocks were not all read.
      assert.ok(reads <= 3, `holder read ${reads} blocks`);
    } finally {
      await c.close();
    }
  });

  t("put_reports_copies_reached_when_too_few_peers", async () => {
    const c = await startCluster(2, options);
    try {
      await c.settle();
      const r = await c.nodes[0].put(randomBytes(3 * BS, SEED), { encrypt: false });
      assert.equal(r.wanted, 3);
      assert.equal(r.copies, 2);
      assert.equal(await c.nodes[1].has(r.id), true);
      const more = await c.nodes[0].put(randomBytes(100, SEED), { encrypt: false, copies: 5 });
      assert.deepEqual([more.copies, more.wanted], [2, 5]);
    } finally {
      await c.close();
    }
  });

  t("get_still_works_after_the_origin_node_is_killed", async () => {
    const c = await startCluster(3, options);
    try {
      await c.settle();
      const data = randomBytes(6 * BS + 1, SEED);
      const { id, copies } = await c.nodes[0].put(data, { encrypt: false, copies: 2 });
      assert.equal(copies, 2);
      const holder = (await c.nodes[1].has(id)) ? c.nodes[1] : c.nodes[2];
      const other = holder === c.nodes[1] ? c.nodes[2] : c.nodes[1];
      await kill(c.nodes[0]);
      await c.settle(1);
      const got = await other.get(id);
      assert.deepEqual(await readAll(got.stream), data);
      assert.equal((await holder.get(id)).size, data.length);
    } finally {
      await c.close();
    }
  });

  t("corrupt_block_on_a_holder_is_refetched_and_the_holder_reported", async () => {
    const bad = new Set<string>();
    const fs = new MemoryFileSystem();
    const inner = await FsBlockStore.open({ fs, root: "/liar/blocks", durability: "none" });
    // Node 0 holds a good copy; node 2 serves flipped bytes for chosen blocks; node 1 reads.
    const c = await startCluster(3, {
      ...options,
      each: (i) => (i === 2 ? { store: corrupting(inner, bad) } : {}),
    });
    try {
      await c.settle();
      const [good, reader, liar] = c.nodes;
      const data = randomBytes(12 * BS, SEED);
      // Ownerless: the same bytes give the same file id on both nodes.
      const a = await good.put(data, { encrypt: false, owner: false, copies: 1 });
      const b = await liar.put(data, { encrypt: false, owner: false, copies: 1 });
      assert.equal(a.id, b.id);
      assert.equal(await reader.has(a.id), false);
      for await (const e of inner.list()) if (e.key !== a.id) bad.add(e.key);
      const got = await reader.get(a.id);
      assert.deepEqual(await readAll(got.stream), data);
      const liarSummary = reader.peers().find((p) => p.nodeId === liar.nodeId);
      assert.ok(liarSummary?.badBlocks && liarSummary.badBlocks > 0, JSON.stringify(liarSummary));
      const status = await reader.status();
      assert.ok((status.badBlocks?.[liar.nodeId] ?? 0) > 0);
      assert.equal(status.badBlocks?.[good.nodeId], undefined);
    } finally {
      await c.close();
    }
  });

  t("a_name_resolves_everywhere_and_only_its_key_updates_it_in_an_open_network", async () => {
    const c = await startCluster(3, options);
    try {
      await c.settle();
      const [a, b, cc] = c.nodes;
      const x = await a.put(randomBytes(100, SEED), { encrypt: false, name: "doc", copies: 1 });
      const direct = options.direct === true;
      if (direct) {
        // Without a DHT names stay on the node that bound them.
        assert.equal((await a.resolveName("doc")).id, x.id);
        await assert.rejects(b.resolveName("doc"), { code: "NOT_FOUND" });
        return;
      }
      const seen = await b.resolveName("doc");
      assert.deepEqual([seen.id, seen.version, seen.nodeId], [x.id, 1, a.nodeId]);
      assert.equal((await cc.get("doc")).size, 100);
      // Another key may not take the name over in an open network; nothing changes.
      await assert.rejects(
        b.put(randomBytes(50, SEED + 1), { encrypt: false, name: "doc", copies: 1 }),
        {
          code: "RECORD_REJECTED",
        },
      );
      assert.equal((await cc.resolveName("doc")).id, x.id);
      // Its owner may: a higher sequence replaces the record everywhere.
      const y = await a.put(randomBytes(200, SEED + 2), { encrypt: false, name: "doc", copies: 1 });
      const after = await cc.resolveName("doc");
      assert.deepEqual([after.id, after.version, after.nodeId], [y.id, 2, a.nodeId]);
      assert.deepEqual((await a.list()).find((f) => f.id === y.id)?.names, ["doc"]);
      await assert.rejects(cc.resolveName("nobody-has-this"), { code: "NOT_FOUND" });
    } finally {
      await c.close();
    }
  });

  t("in_a_private_cluster_any_member_may_update_a_name", async () => {
    if (options.direct) return; // names cross nodes only through the DHT
    const clusterKey = randomBytes(32, SEED + 9);
    const c = await startCluster(3, { ...options, common: { clusterKey } });
    try {
      await c.settle();
      const [a, b, cc] = c.nodes;
      await a.put(randomBytes(100, SEED), { encrypt: false, name: "doc", copies: 1 });
      const y = await b.put(randomBytes(60, SEED + 1), { encrypt: false, name: "doc", copies: 1 });
      const rec = await cc.resolveName("doc");
      assert.deepEqual([rec.id, rec.version, rec.nodeId], [y.id, 2, b.nodeId]);
    } finally {
      await c.close();
    }
  });

  t("delete_removes_local_blocks_not_shared_and_tells_holders", async () => {
    const c = await startCluster(3, options);
    try {
      await c.settle();
      const [a, b, cc] = c.nodes;
      const data = randomBytes(5 * BS, SEED);
      // A second file shares its first 2 blocks with the first one.
      const shared = data.slice(0, 2 * BS);
      const f1 = await a.put(data, { encrypt: false, copies: 3 });
      const f2 = await a.put(shared, { encrypt: false, copies: 1 });
      assert.equal(f1.copies, 3);
      const before = (await a.status()).store.count;
      const r = await a.delete(f1.id);
      assert.deepEqual([r.id, r.local, r.remote], [f1.id, true, 2]);
      assert.equal(await a.has(f1.id), false);
      assert.equal(await b.has(f1.id), false);
      assert.equal(await cc.has(f1.id), false);
      // The blocks the other local file uses are still there.
      assert.equal(await a.has(f2.id), true);
      assert.deepEqual(await readAll((await a.get(f2.id)).stream), shared);
      assert.ok((await a.status()).store.count < before);
      assert.deepEqual((await a.list()).map((f) => f.id), [f2.id]);
      await assert.rejects(b.get(f1.id), { code: "NOT_FOUND" });
      // Deleting again is harmless.
      const again = await a.delete(f2.id);
      assert.equal(again.local, true);
      await assert.rejects(a.get(f2.id), { code: "NOT_FOUND" });
      await assert.rejects(a.delete(f2.id), { code: "NOT_FOUND" });
    } finally {
      await c.close();
    }
  });

  t("a_holder_lists_a_replicated_multi_level_file_once", async () => {
    const c = await startCluster(2, options);
    try {
      await c.settle();
      // 1 KiB blocks: 23 children per manifest, so 60 blocks make a two-level tree.
      const data = randomBytes(60 * BS, SEED);
      const put = await c.nodes[0].put(data, { encrypt: false, copies: 2 });
      assert.equal(put.copies, 2);
      assert.deepEqual((await c.nodes[1].list()).map((f) => f.id), [put.id]);
      assert.equal((await c.nodes[1].list())[0].size, data.length);
      assert.equal((await c.nodes[1].stat(put.id)).local, true);
    } finally {
      await c.close();
    }
  });

  t("put_falls_back_to_the_next_peer_when_the_closest_fails", async () => {
    const failing = new Set<number>();
    const c = await startCluster(3, {
      ...options,
      each: (i) => ({
        wrapStore: (store: BlockStore) => refusing(store, () => failing.has(i)),
      }),
    });
    try {
      await c.settle();
      const data = randomBytes(5 * BS, SEED);
      const probe = await c.nodes[0].put(data, { encrypt: false, copies: 1 });
      const [first] = closestPeers(
        ContentId.parse(probe.id).digest,
        [1, 2].map((i) => ({ i, nodeId: c.nodes[i].nodeId })),
        1,
      );
      failing.add(first.i);
      const put = await c.nodes[0].put(data, { encrypt: false, copies: 2 });
      assert.deepEqual([put.copies, put.wanted], [2, 2]);
      assert.equal(await c.nodes[first.i].has(put.id), false);
      assert.equal(await c.nodes[3 - first.i].has(put.id), true);
    } finally {
      await c.close();
    }
  });

  t("get_and_stat_of_a_file_nobody_has_say_so_about_the_file", async () => {
    const c = await startCluster(2, options);
    try {
      await c.settle();
      const absent = (await ContentId.of(new Uint8Array([1, 2, 3]))).toString();
      const message = `no reachable node has file ${absent} (1 peer connected)`;
      await assert.rejects(c.nodes[0].get(absent), { code: "NOT_FOUND", message });
      await assert.rejects(c.nodes[1].stat(absent), { code: "NOT_FOUND", message });
    } finally {
      await c.close();
    }
  });

  t("bad_ids_and_names_are_typed_errors", async () => {
    const c = await startCluster(1, options);
    try {
      const n = c.nodes[0];
      await assert.rejects(n.has("zz"), { code: "INVALID_ID" });
      await assert.rejects(n.get("no-such-name"), { code: "NOT_FOUND" });
      await assert.rejects(n.put(new Uint8Array(1), { encrypt: false, copies: 0 }), {
        code: "INVALID_ARGUMENT",
      });
      await assert.rejects(n.put(new Uint8Array(1), { encrypt: false, name: "a\nb" }), {
        code: "INVALID_ARGUMENT",
      });
      const st = await n.status();
      assert.equal(st.nodeId, n.nodeId);
      assert.equal(st.runtime, "memory");
      await n.close();
      await n.close();
      await assert.rejects(n.list(), { code: "NODE_CLOSED" });
    } finally {
      await c.close();
    }
  });
}
