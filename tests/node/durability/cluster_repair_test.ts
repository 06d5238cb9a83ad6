/**
 * Repair, tombstones and scrubbing with real nodes on the in-memory network: a Reed-Solomon
 * file survives the loss of m holders and gets its shards back, a replicated file gets its
 * copies back, a node that was away while a file was deleted drops its copy, and a rotten
 * block is restored by a scrub pass.
 */

import assert from "node:assert/strict";
import { Node, type NodeStartOptions } from "../../../src/node/node.ts";
import { memoryRuntime } from "../../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { randomBytes, readAll } from "../cluster.ts";
import { testSeed, withSeed } from "../../util/prng.ts";

const SEED = testSeed(0x9e9a1);
const BS = 1024;

interface Member {
  runtime: Runtime;
  dataDir: string;
  listen: string;
  node: Node | undefined;
}

/** N nodes, each on its own in-memory runtime (so it can be stopped and started again). */
async function cluster(n: number, extra: Partial<NodeStartOptions> = {}) {
  const network = new MemoryNetwork();
  const members: Member[] = [];
  const start = async (m: Member, bootstrap: string[]) => {
    m.node = await Node.start({
      runtime: m.runtime,
      dataDir: m.dataDir,
      listen: m.listen,
      bootstrap,
      blockSize: BS,
      durability: "none",
      timeouts: { requestMs: 3000 },
      peer: { heartbeatIntervalMs: 200, deadAfterMs: 1500, backoffBaseMs: 50, backoffMaxMs: 500 },
      upkeep: {
        repairIntervalMs: 400,
        repairGraceMs: 800,
        scrubBytesPerSecond: 0,
        gcIntervalMs: 60_000,
      },
      ...extra,
    });
    return m.node;
  };
  const add = async () => {
    const i = members.length;
    const m: Member = {
      runtime: memoryRuntime({ network }),
      dataDir: `/node${i}`,
      listen: `10.0.1.${i + 1}:4000`,
      node: undefined,
    };
    members.push(m);
    return await start(m, members.filter((x) => x.node).map((x) => x.listen));
  };
  for (let i = 0; i < n; i++) await add();
  return {
    add,
    members,
    nodes: () => members.map((m) => m.node).filter((x): x is Node => x !== undefined),
    stop: async (m: Member) => {
      await m.node?.close();
      m.node = undefined;
    },
    restart: (m: Member) => start(m, members.filter((x) => x !== m).map((x) => x.listen)),
    close: () => Promise.all(members.map((m) => m.node?.close())),
  };
}

/** Polls `ok` every 100 ms until it holds or `ms` passed; returns its last value. */
async function eventually<T>(ms: number, probe: () => Promise<T>, ok: (v: T) => boolean) {
  const end = Date.now() + ms;
  let v = await probe();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = await probe();
  }
  return v;
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "rs_4_2_survives_two_lost_holders_and_repair_brings_the_shards_back",
  ...opts,
  fn: () =>
    withSeed(SEED, async () => {
      const c = await cluster(8);
      try {
        const [putter] = c.nodes();
        const data = randomBytes(12 * BS + 77, SEED);
        const put = await putter.put(data, { encrypt: false, redundancy: "rs:4+2" });
        assert.equal(put.redundancy, "rs:4+2");
        assert.equal(put.wanted, 6);
        assert.equal(put.copies, 6, "six distinct nodes hold one column each");
        const before = await putter.stat(put.id, { health: true });
        assert.equal(before.health?.health, "healthy");
        assert.equal(before.health?.live, 6);
        assert.equal(before.stripes, 4);

        // Kill two column holders other than the putter.
        const holders = before.health!.holders.filter((h) => h.nodeId !== putter.nodeId);
        const victims = c.members.filter((m) =>
          holders.slice(0, 2).some((h) => h.nodeId === m.node?.nodeId)
        );
        assert.equal(victims.length, 2);
        for (const v of victims) await c.stop(v);
        const reader = c.nodes().find((n) => n !== putter)!;
        assert.deepEqual(await readAll((await reader.get(put.id)).stream), data);

        const after = await eventually(
          20_000,
          () => reader.stat(put.id, { health: true }),
          (s) => s.health?.health === "healthy",
        );
        assert.equal(after.health?.health, "healthy", JSON.stringify(after.health));
        assert.equal(after.health?.live, 6);
        const status = await Promise.all(c.nodes().map((n) => n.status()));
        const repaired = status.reduce((a, s) => a + (s.upkeep?.repair.repaired ?? 0), 0);
        assert.equal(repaired, 2, "exactly the two lost columns were rebuilt, once each");
        assert.deepEqual(await readAll((await reader.get(put.id)).stream), data);
      } finally {
        await c.close();
      }
    }),
});

Deno.test({
  name: "with_too_few_nodes_lost_columns_double_up_and_spread_again_when_nodes_join",
  ...opts,
  fn: () =>
    withSeed(SEED + 5, async () => {
      const c = await cluster(6);
      try {
        const [putter] = c.nodes();
        const data = randomBytes(8 * BS + 1, SEED + 5);
        const put = await putter.put(data, { encrypt: false, redundancy: "rs:4+2" });
        assert.equal(put.copies, 6);
        const h = (await putter.stat(put.id, { health: true })).health!;
        const victims = c.members.filter((m) =>
          m.node !== putter && h.holders.some((x) => x.nodeId === m.node?.nodeId)
        ).slice(0, 2);
        for (const v of victims) await c.stop(v);
        // Four nodes are left for six columns: the two lost ones double up on survivors.
        const doubled = await eventually(
          20_000,
          () => putter.stat(put.id, { health: true }),
          (s) => s.health?.live === 6,
        );
        assert.deepEqual(
          [doubled.health?.live, doubled.health?.spread, doubled.health?.survives],
          [6, 4, 1],
          JSON.stringify(doubled.health),
        );
        assert.equal(doubled.health?.health, "degraded");
        // Two new nodes: the doubled columns move out until each column has a node of its own.
        await c.add();
        await c.add();
        const spread = await eventually(
          20_000,
          () => putter.stat(put.id, { health: true }),
          (s) => s.health?.health === "healthy",
        );
        assert.equal(spread.health?.spread, 6, JSON.stringify(spread.health));
        assert.deepEqual(await readAll((await putter.get(put.id)).stream), data);
      } finally {
        await c.close();
      }
    }),
});

Deno.test({
  name: "replicas_3_gets_its_third_copy_back_after_a_holder_dies",
  ...opts,
  fn: () =>
    withSeed(SEED + 1, async () => {
      const c = await cluster(5);
      try {
        const [putter] = c.nodes();
        const data = randomBytes(5 * BS + 3, SEED + 1);
        const put = await putter.put(data, { encrypt: false, redundancy: "replicas:3" });
        assert.equal(put.copies, 3);
        const s = await putter.stat(put.id, { health: true });
        const other = s.health!.holders.find((h) => h.nodeId !== putter.nodeId)!;
        await c.stop(c.members.find((m) => m.node?.nodeId === other.nodeId)!);
        const healed = await eventually(
          20_000,
          () => putter.stat(put.id, { health: true }),
          (x) => x.health?.live === 3,
        );
        assert.equal(healed.health?.health, "healthy", JSON.stringify(healed.health));
        assert.ok(!healed.health!.holders.some((h) => h.nodeId === other.nodeId));
      } finally {
        await c.close();
      }
    }),
});

Deno.test({
  name: "a_node_that_was_away_during_a_delete_drops_its_copy_when_it_comes_back",
  ...opts,
  fn: () =>
    withSeed(SEED + 2, async () => {
      const c = await cluster(4);
      try {
        const [putter] = c.nodes();
        const put = await putter.put(randomBytes(3 * BS, SEED + 2), { encrypt: false, copies: 3 });
        const s = await putter.stat(put.id, { health: true });
        const away = c.members.find((m) =>
          m.node && m.node !== putter && s.health!.holders.some((h) => h.nodeId === m.node!.nodeId)
        )!;
        await c.stop(away);
        const del = await putter.delete(put.id);
        assert.ok(del.tombstones >= 2, `tombstones kept by ${del.tombstones} nodes`);
        const back = await c.restart(away);
        assert.ok((await back.list()).some((f) => f.id === put.id), "still listed at restart");
        await back.runUpkeep("repair");
        assert.ok(!(await back.list()).some((f) => f.id === put.id), "dropped after its check");
        assert.equal(await back.has(put.id), false);
        // Repair never brings it back, and a new put of the same bytes does.
        for (const n of c.nodes()) await n.runUpkeep("repair");
        for (const n of c.nodes()) assert.equal(await n.has(put.id), false);
        const again = await putter.put(randomBytes(3 * BS, SEED + 2), {
          encrypt: false,
          copies: 3,
        });
        assert.equal(again.id, put.id);
        assert.equal(again.copies, 3);
        for (const n of c.nodes()) await n.runUpkeep("repair");
        const still = await putter.stat(put.id, { health: true });
        assert.equal(still.health?.live, 3, JSON.stringify(still.health));
      } finally {
        await c.close();
      }
    }),
});

Deno.test({
  name: "a_scrub_pass_restores_a_rotten_block_from_a_replica_and_a_rotten_shard_by_rebuilding",
  ...opts,
  fn: () =>
    withSeed(SEED + 3, async () => {
      const c = await cluster(6);
      try {
        const [putter] = c.nodes();
        const a = randomBytes(4 * BS, SEED + 3);
        const b = randomBytes(8 * BS + 9, SEED + 4);
        const rep = await putter.put(a, { encrypt: false, copies: 2 });
        const rs = await putter.put(b, { encrypt: false, redundancy: "rs:2+2" });
        // One rotten block on a replica holder (its other copy is good) and one on a node that
        // holds only a shard column of the rs file (restored by rebuilding from the stripe).
        const repHolders = (await putter.stat(rep.id, { health: true })).health!.holders;
        const rsHolders = (await putter.stat(rs.id, { health: true })).health!.holders;
        const replicaSide = c.members.find((m) =>
          m.node !== putter && repHolders.some((h) => h.nodeId === m.node?.nodeId)
        )!;
        const shardSide = c.members.find((m) =>
          m.node !== putter && m !== replicaSide &&
          rsHolders.some((h) => h.nodeId === m.node?.nodeId) &&
          !repHolders.some((h) => h.nodeId === m.node?.nodeId)
        )!;
        let flipped = 0;
        for (const m of [replicaSide, shardSide]) {
          flipped += await flipEveryBlock(m.runtime, `${m.dataDir}/blocks/data`);
        }
        assert.equal(flipped, 2);
        let restored = 0;
        for (const n of c.nodes()) restored += (await n.runUpkeep("scrub")).repaired ?? 0;
        assert.equal(restored, 2, "the scrub restored both blocks");
        for (const n of c.nodes()) {
          const again = await n.runUpkeep("scrub");
          assert.equal(again.corrupt, 0, "a second pass finds nothing to fix");
        }
        for (const n of c.nodes()) {
          assert.deepEqual(await readAll((await n.get(rep.id)).stream), a);
          assert.deepEqual(await readAll((await n.get(rs.id)).stream), b);
        }
      } finally {
        await c.close();
      }
    }),
});

/** Flips a byte in one data-sized block file under `dir` (the first found); returns 1 or 0. */
async function flipEveryBlock(runtime: Runtime, dir: string): Promise<number> {
  const fs = runtime.fs;
  const files: string[] = [];
  const walk = async (d: string, depth: number) => {
    if (depth > 8) return;
    try {
      for await (const e of fs.readDir(d)) {
        if (e.isDirectory) await walk(`${d}/${e.name}`, depth + 1);
        else if (e.isFile && e.size > BS) files.push(`${d}/${e.name}`);
      }
    } catch {
      // no such directory
    }
  };
  await walk(dir, 0);
  if (files.length === 0) return 0;
  const path = files[0];
  const bytes = await fs.readFile(path);
  bytes[bytes.length - 10] ^= 0x01;
  const f = await fs.create(path);
  try {
    await f.write(bytes);
  } finally {
    await f.close();
  }
  return 1;
}
