/**
 * Only a file's owner deletes it: a put records the node's key in the root manifest, a holder
 * refuses a tombstone by any other key (open cluster) and keeps the file, the owner's own delete
 * goes through, and in a private cluster any member's tombstone is taken.
 */

import assert from "node:assert/strict";
import { Node } from "../../../src/node/node.ts";
import { decodeManifest, encodeManifest } from "../../../src/file/manifest.ts";
import { ContentId } from "../../../src/id/content_id.ts";
import { signTombstone, toWireTombstone } from "../../../src/node/durability/tombstone.ts";
import { MemoryBlockService } from "../../../src/peer/block_service.ts";
import { PeerRemoteError } from "../../../src/peer/errors.ts";
import { NodeIdentity } from "../../../src/peer/identity.ts";
import { PeerManager } from "../../../src/peer/peer_manager.ts";
import { memoryRuntime } from "../../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import { WireErrorCode } from "../../../src/wire/messages.ts";
import { randomBytes, readAll } from "../cluster.ts";

const BS = 1024;

Deno.test("a_manifest_records_its_owner_and_rejects_a_truncated_one", async () => {
  const block = new Uint8Array([1, 2, 3]);
  const owner = new Uint8Array(32).fill(9);
  const bytes = encodeManifest({
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: 1024,
    size: 3,
    children: [{ id: await ContentId.of(block), size: 3 }],
    redundancy: { kind: "replicas", min: 3, max: 3 },
    owner,
  });
  assert.equal(bytes[27] & 0x02, 0x02);
  assert.deepEqual(decodeManifest(bytes).owner, owner);
  assert.throws(() => decodeManifest(bytes.subarray(0, 40)), /truncated/);
});

async function twoNodes(clusterKey?: Uint8Array) {
  const network = new MemoryNetwork();
  const common = { durability: "none" as const, blockSize: BS, clusterKey };
  const a = await Node.start({
    runtime: memoryRuntime({ network }),
    dataDir: "/a",
    listen: "10.0.0.1:4000",
    ...common,
  });
  const b = await Node.start({
    runtime: memoryRuntime({ network }),
    dataDir: "/b",
    listen: "10.0.0.2:4000",
    bootstrap: ["10.0.0.1:4000"],
    ...common,
  });
  const stranger = new PeerManager({
    identity: await NodeIdentity.generate(),
    network: network.host("10.0.0.9"),
    service: new MemoryBlockService(),
    clusterKey,
    log: () => {},
  });
  await stranger.start();
  return { a, b, stranger, network };
}

Deno.test({
  name: "a_stranger_tombstone_is_refused_by_the_holder_and_the_owner_delete_goes_through",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { a, b, stranger } = await twoNodes();
    try {
      const bytes = randomBytes(3 * BS, 11);
      const put = await a.put(bytes, { copies: 2, encrypt: false });
      assert.equal(put.copies, 2);
      const id = ContentId.parse(put.id);
      // The root records A's key.
      const conn = await stranger.connect(b.address);
      const root = decodeManifest(await conn.getBlock(id));
      assert.ok(root.owner, "the root names an owner");
      // A stranger signs a tombstone and offers it to the holder B: refused, the file stays.
      const strangerKey = await NodeIdentity.generate();
      const t = await signTombstone(strangerKey, id);
      const err = await conn.sendTombstone(toWireTombstone(t)).then(() => undefined, (e) => e);
      assert.ok(err instanceof PeerRemoteError, String(err));
      assert.equal(err.wireCode, WireErrorCode.BAD_REQUEST);
      assert.match(err.message, /NOT_OWNER/);
      assert.ok(await b.has(put.id));
      assert.deepEqual(await readAll((await b.get(put.id)).stream), bytes);
      // The owner's delete reaches B through its tombstone.
      const del = await a.delete(put.id);
      assert.equal(del.remote, 1);
      assert.equal(await b.has(put.id), false);
    } finally {
      await stranger.shutdown(200);
      await Promise.all([a.close(), b.close()]);
    }
  },
});

Deno.test({
  name: "in_a_private_cluster_any_member_tombstone_is_taken",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const { a, b, stranger } = await twoNodes(key);
    try {
      const put = await a.put(randomBytes(2 * BS, 12), { copies: 2, encrypt: false });
      const id = ContentId.parse(put.id);
      const member = await NodeIdentity.generate();
      const conn = await stranger.connect(b.address); // a member: it holds the key
      await conn.sendTombstone(toWireTombstone(await signTombstone(member, id)));
      assert.equal(await b.has(put.id), false);
    } finally {
      await stranger.shutdown(200);
      await Promise.all([a.close(), b.close()]);
    }
  },
});
