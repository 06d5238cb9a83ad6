import assert from "node:assert/strict";
import { corrupting, randomBytes, readAll, refusing, startCluster } from "./cluster.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import type { Logger, LogLevel } from "../../src/util/log.ts";
import { testSeed } from "../util/prng.ts";

const BS = 1024;
const SEED = testSeed(0x10c);

interface Rec {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
  category?: string;
}

function recorder(): { log: Logger; records: Rec[] } {
  const records: Rec[] = [];
  return {
    records,
    log: (level, message, fields, category) =>
      records.push({ level, message, fields: fields ?? {}, category }),
  };
}

Deno.test(`each_corrupt_block_from_a_peer_is_logged_once_with_peer_and_code (seed ${SEED})`, async () => {
  const bad = new Set<string>();
  const fs = new MemoryFileSystem();
  const inner = await FsBlockStore.open({ fs, root: "/liar/blocks", durability: "none" });
  const r = recorder();
  // Node 0 holds a good copy; node 2 serves flipped bytes; node 1 reads, and logs.
  const c = await startCluster(3, {
    each: (i) => (i === 2 ? { store: corrupting(inner, bad) } : i === 1 ? { log: r.log } : {}),
  });
  try {
    await c.settle();
    const [good, reader, liar] = c.nodes;
    const data = randomBytes(12 * BS, SEED);
    const a = await good.put(data, { encrypt: false, owner: false, copies: 1 });
    await liar.put(data, { encrypt: false, owner: false, copies: 1 });
    for await (const e of inner.list()) if (e.key !== a.id) bad.add(e.key);
    const got = await reader.get(a.id);
    assert.deepEqual(await readAll(got.stream), data);
    const status = await reader.status();
    const count = status.badBlocks?.[liar.nodeId] ?? 0;
    assert.ok(count > 0);
    const logged = r.records.filter((x) => x.fields.peer === liar.nodeId && x.level !== "debug");
    assert.equal(logged.length, count, JSON.stringify(r.records, null, 1));
    for (const x of logged) {
      assert.equal(x.level, "warn");
      assert.equal(x.message, "peer sent a corrupt block");
      assert.equal(x.category, "dfs.node");
      assert.equal(typeof x.fields.code, "string");
      assert.notEqual(x.fields.code, "INTERNAL");
    }
    const blocks = logged.map((x) => x.fields.block);
    assert.equal(new Set(blocks).size, blocks.length, "no block logged twice");
  } finally {
    await c.close();
  }
});

Deno.test(`a_failed_replication_is_logged_once_with_peer_and_code (seed ${SEED})`, async () => {
  const r = recorder();
  const c = await startCluster(2, {
    each: (i) => (i === 1 ? { wrapStore: (s) => refusing(s, () => true) } : { log: r.log }),
  });
  try {
    await c.settle();
    const [origin, refuser] = c.nodes;
    const put = await origin.put(randomBytes(3 * BS, SEED), { encrypt: false, copies: 2 });
    assert.equal(put.copies, 1, "the refusing node took no copy");
    const failed = r.records.filter((x) => x.fields.peer === refuser.nodeId && x.level !== "debug");
    assert.equal(failed.length, 1, JSON.stringify(r.records, null, 1));
    assert.equal(failed[0].message, "replication to peer failed");
    assert.equal(failed[0].category, "dfs.node");
    assert.equal(failed[0].fields.id, put.id);
    assert.equal(typeof failed[0].fields.code, "string");
  } finally {
    await c.close();
  }
});
