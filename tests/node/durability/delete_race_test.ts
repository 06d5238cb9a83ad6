/**
 * A delete wins its races with repair: a copy that a repair push delivers around the time of
 * a delete (before the tombstone arrives, but after the delete was signed; or after the
 * tombstone arrived) is dropped, so repair never re-creates a deleted file. A put of the same
 * bytes by the owner after the delete brings the file back everywhere through a signed
 * revival, and a stale tombstone does not undo the revival.
 */

import assert from "node:assert/strict";
import { Node } from "../../../src/node/node.ts";
import { ContentId } from "../../../src/id/content_id.ts";
import { fileBlockIds } from "../../../src/file/file_block_ids.ts";
import { MemoryBlockService } from "../../../src/peer/block_service.ts";
import { NodeIdentity } from "../../../src/peer/identity.ts";
import { PeerManager } from "../../../src/peer/peer_manager.ts";
import type { PeerConnection } from "../../../src/peer/peer_connection.ts";
import { memoryRuntime } from "../../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import {
  signRevival,
  signTombstone,
  toWireTombstone,
} from "../../../src/node/durability/tombstone.ts";
import { PeerRemoteError } from "../../../src/peer/errors.ts";
import { randomBytes } from "../cluster.ts";

const BS = 1024;
const opts = { sanitizeOps: false, sanitizeResources: false };

/** Node `a` holds an ownerless file; `t` is a node repair may push it to; `c` is a bare peer. */
async function setup(owner: boolean, redundancy = "replicas:1") {
  const network = new MemoryNetwork();
  const start = (i: number, bootstrap: string[]) =>
    Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: `/n${i}`,
      listen: `10.0.2.${i}:4000`,
      bootstrap,
      durability: "none",
      blockSize: BS,
      // Checks only when the test asks.
      upkeep: { repairIntervalMs: 3_600_000, scrubBytesPerSecond: 0, gcIntervalMs: 3_600_000 },
    });
  const a = await start(1, []);
  const t = await start(2, [a.address]);
  const identity = await NodeIdentity.generate();
  const client = new PeerManager({
    identity,
    network: network.host("10.0.2.9"),
    service: new MemoryBlockService(),
    log: () => {},
  });
  await client.start();
  const put = await a.put(randomBytes(3 * BS, 11), {
    redundancy,
    encrypt: false,
    ...(owner ? {} : { owner: false }),
  });
  const fileId = ContentId.parse(put.id);
  const fromA = await client.connect(a.address);
  const blocks: { id: ContentId; bytes: Uint8Array }[] = [];
  const source = { getBlock: (id: ContentId) => fromA.getBlock(id) };
  for await (const id of fileBlockIds(fileId, source)) {
    blocks.push({ id, bytes: await fromA.getBlock(id) });
  }
  // The bare peer takes blocks too: out of `a`'s sight, so that `a` places copies on nodes only.
  await fromA.close();
  const toT = await client.connect(t.address);
  return {
    a,
    t,
    fileId,
    identity,
    toT,
    close: async () => {
      await client.shutdown();
      await Promise.all([a.close(), t.close()]);
    },
    /** Pushes the file to `conn` as repair does: every block, the root last. */
    push: async (conn: PeerConnection) => {
      const root = blocks.find((b) => b.id.equals(fileId))!;
      for (const b of blocks) if (b !== root) await conn.putBlock(b.id, b.bytes);
      await conn.putBlock(root.id, root.bytes);
    },
  };
}

Deno.test({
  name: "a_copy_pushed_after_the_delete_was_signed_but_before_its_tombstone_came_is_dropped",
  ...opts,
  fn: async () => {
    const s = await setup(false);
    try {
      // The delete is signed (repair at `a` checked just before), then the push lands, then
      // the tombstone arrives: the pushed copy is newer than the delete yet must go.
      const tomb = await signTombstone(s.identity, s.fileId, { now: Date.now() - 1 });
      await s.push(s.toT);
      assert.equal(await s.t.has(s.fileId.toString()), true, "the push landed");
      await s.toT.sendTombstone(toWireTombstone(tomb));
      assert.equal(await s.t.has(s.fileId.toString()), false, "the tombstone dropped it");
      assert.ok(!(await s.t.list()).some((f) => f.id === s.fileId.toString()));
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a_copy_pushed_after_its_tombstone_arrived_is_dropped",
  ...opts,
  fn: async () => {
    const s = await setup(false);
    try {
      const tomb = await signTombstone(s.identity, s.fileId);
      await s.toT.sendTombstone(toWireTombstone(tomb));
      const err = await s.push(s.toT).then(() => null, (e) => e);
      assert.ok(err instanceof PeerRemoteError, String(err));
      assert.match(err.message, /was deleted/);
      assert.equal(await s.t.has(s.fileId.toString()), false, "the held tombstone dropped it");
      assert.ok(!(await s.t.list()).some((f) => f.id === s.fileId.toString()));
      // Repair at `t` does not bring it back either.
      await s.t.runUpkeep("repair");
      assert.equal(await s.t.has(s.fileId.toString()), false);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "the_owner_puts_a_deleted_file_again_and_its_revival_lets_the_copies_stay",
  ...opts,
  fn: async () => {
    const s = await setup(true, "replicas:2");
    try {
      const bytes = randomBytes(3 * BS, 11);
      assert.equal(await s.t.has(s.fileId.toString()), true, "t got its copy at the put");
      const del = await s.a.delete(s.fileId.toString());
      assert.ok(del.tombstones >= 2, `tombstones kept by ${del.tombstones} nodes`);
      // Put again with 2 copies: `t` holds the tombstone, takes the revival, keeps its copy.
      const again = await s.a.put(bytes, { redundancy: "replicas:2", encrypt: false });
      assert.equal(again.id, s.fileId.toString());
      assert.equal(again.copies, 2);
      assert.equal(await s.t.has(again.id), true, "the pushed copy stayed at t");
      await s.t.runUpkeep("repair");
      await s.a.runUpkeep("repair");
      assert.equal(await s.t.has(again.id), true, "still there after the checks");
      assert.equal(await s.a.has(again.id), true);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a_stale_tombstone_does_not_undo_a_revival_and_a_strangers_revival_is_refused",
  ...opts,
  fn: async () => {
    const s = await setup(false);
    try {
      const old = await signTombstone(s.identity, s.fileId, { now: Date.now() - 60_000 });
      const revival = await signRevival(s.identity, s.fileId, { now: Date.now() - 30_000 });
      await s.toT.sendTombstone(toWireTombstone(revival));
      await s.push(s.toT);
      await s.toT.sendTombstone(toWireTombstone(old));
      assert.equal(await s.t.has(s.fileId.toString()), true, "the revival is newer");
      // A newer delete wins over the revival.
      await s.toT.sendTombstone(toWireTombstone(await signTombstone(s.identity, s.fileId)));
      assert.equal(await s.t.has(s.fileId.toString()), false, "the newer delete dropped it");
    } finally {
      await s.close();
    }
    // On an owned file, only the owner revives.
    const o = await setup(true);
    try {
      const stranger = await signRevival(await NodeIdentity.generate(), o.fileId);
      await o.push(o.toT);
      const err = await o.toT.sendTombstone(toWireTombstone(stranger)).then(() => null, (e) => e);
      assert.ok(err instanceof PeerRemoteError, String(err));
      assert.match(err.message, /NOT_OWNER/);
    } finally {
      await o.close();
    }
  },
});
