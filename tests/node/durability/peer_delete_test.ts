/**
 * A peer's DELETE never removes data on the peer's word: a bare DELETE of a block, or of a file
 * that is not above its max, is refused and the data stays; only a trim the holder verified
 * itself goes through. A delete through the node goes out as a signed tombstone instead.
 */

import assert from "node:assert/strict";
import { Node } from "../../../src/node/node.ts";
import {
  answerPeerDelete,
  type PeerDeleteHost,
  PeerDeleteRefusedError,
} from "../../../src/node/durability/peer_delete.ts";
import type { CheckedFile } from "../../../src/node/durability/repairer.ts";
import { ContentId } from "../../../src/id/content_id.ts";
import { fileBlockIds } from "../../../src/file/file_block_ids.ts";
import { MemoryBlockService } from "../../../src/peer/block_service.ts";
import { PeerRemoteError } from "../../../src/peer/errors.ts";
import { NodeIdentity } from "../../../src/peer/identity.ts";
import { PeerManager } from "../../../src/peer/peer_manager.ts";
import { memoryRuntime } from "../../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import { WireErrorCode } from "../../../src/wire/messages.ts";
import { randomBytes, readAll } from "../cluster.ts";

const BS = 1024;

async function fakeHost(check: Partial<CheckedFile> | undefined, indexed = true) {
  const dropped: string[] = [];
  const host: PeerDeleteHost = {
    isIndexedFile: () => indexed,
    checkNow: () => Promise.resolve(check as CheckedFile | undefined),
    dropLocalCopy: (id) => {
      dropped.push(id.toString());
      return Promise.resolve(true);
    },
  };
  return { host, dropped, id: await ContentId.of(new Uint8Array([1, 2, 3])) };
}

Deno.test("a_peer_delete_of_a_block_that_is_no_file_root_is_refused", async () => {
  const { host, dropped, id } = await fakeHost(undefined, false);
  await assert.rejects(answerPeerDelete(host, id), PeerDeleteRefusedError);
  assert.deepEqual(dropped, []);
});

Deno.test("a_peer_delete_of_a_file_not_above_its_max_is_refused", async () => {
  const policy = { kind: "replicas", min: 2, max: 3 } as const;
  const { host, dropped, id } = await fakeHost({ policy, live: 3 });
  await assert.rejects(answerPeerDelete(host, id), /not above its max of 3/);
  assert.deepEqual(dropped, []);
});

Deno.test("a_peer_delete_of_an_erasure_coded_file_is_refused", async () => {
  const policy = { kind: "rs", k: 4, m: 2 } as const;
  const { host, dropped, id } = await fakeHost({ policy, live: 6 });
  await assert.rejects(answerPeerDelete(host, id), /erasure-coded/);
  assert.deepEqual(dropped, []);
});

Deno.test("a_peer_delete_of_a_copy_above_the_max_is_a_verified_trim", async () => {
  const policy = { kind: "replicas", min: 2, max: 3 } as const;
  const { host, dropped, id } = await fakeHost({ policy, live: 4 });
  assert.equal(await answerPeerDelete(host, id), true);
  assert.deepEqual(dropped, [id.toString()]);
});

Deno.test({
  name: "a_hostile_peer_cannot_delete_blocks_or_files_from_a_node_with_bare_deletes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const network = new MemoryNetwork();
    const b = await Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: "/b",
      listen: "10.0.0.2:4000",
      durability: "none",
      blockSize: BS,
    });
    const hostile = new PeerManager({
      identity: await NodeIdentity.generate(),
      network: network.host("10.0.0.9"),
      service: new MemoryBlockService(),
      log: () => {},
    });
    await hostile.start();
    try {
      const bytes = randomBytes(4 * BS, 5);
      const put = await b.put(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), {
        redundancy: "replicas:1",
        encrypt: false,
      });
      const fileId = ContentId.parse(put.id);
      const conn = await hostile.connect(b.address);
      // The file's root, then every other block: each DELETE is refused with BAD_REQUEST.
      const blocks: ContentId[] = [];
      const source = { getBlock: (id: ContentId) => conn.getBlock(id) };
      for await (const id of fileBlockIds(fileId, source)) blocks.push(id);
      assert.ok(blocks.length > 1);
      for (const id of [fileId, ...blocks]) {
        const err = await conn.deleteBlock(id).then(() => undefined, (e) => e);
        assert.ok(err instanceof PeerRemoteError, String(err));
        assert.equal(err.wireCode, WireErrorCode.BAD_REQUEST);
      }
      assert.deepEqual(await readAll((await b.get(put.id)).stream), bytes);
    } finally {
      await hostile.shutdown();
      await b.close();
    }
  },
});
