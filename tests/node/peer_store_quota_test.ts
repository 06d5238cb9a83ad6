/**
 * The per-peer store quota (`maxStorePerPeer`): its counts, their file, and a node on the
 * in-memory network that answers LIMIT to a peer past its quota while serving another one.
 */

import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { Node } from "../../src/node/node.ts";
import {
  MAX_TRACKED_PEERS,
  PEER_STORE_FILE,
  PeerQuotaError,
  PeerStoreQuota,
} from "../../src/node/peer_store_quota.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { PeerRemoteError } from "../../src/peer/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Network } from "../../src/runtime/types.ts";
import { WireErrorCode } from "../../src/wire/messages.ts";
import { randomBytes } from "./cluster.ts";

Deno.test("peer_store_quota_counts_refuses_undoes_and_keeps_its_counts_in_a_file", async () => {
  const { fs } = memoryRuntime();
  const quota = await PeerStoreQuota.open(fs, "/d/", 1000, { flushDelayMs: 5 });
  const undo = quota.reserve("aa", 600);
  quota.reserve("aa", 400);
  assert.throws(() => quota.reserve("aa", 1), (err) => {
    assert.ok(err instanceof PeerQuotaError && err instanceof PeerRemoteError);
    assert.equal(err.wireCode, WireErrorCode.LIMIT);
    assert.equal(err.limit, 1000);
    return true;
  });
  assert.equal(quota.used("aa"), 1000, "a refused reserve counts nothing");
  quota.reserve("bb", 1000);
  undo();
  undo(); // a second undo is ignored
  assert.equal(quota.used("aa"), 400);
  await new Promise((r) => setTimeout(r, 30)); // the delayed write
  const kept = JSON.parse(new TextDecoder().decode(await fs.readFile(`/d/${PEER_STORE_FILE}`)));
  assert.deepEqual(kept, { version: 1, peers: { aa: 400, bb: 1000 } });
  await quota.close();
  const again = await PeerStoreQuota.open(fs, "/d", 1000);
  assert.equal(again.used("aa"), 400);
  assert.equal(again.used("bb"), 1000);
  await again.close();
  // A malformed file starts from no counts (and says so); a bad limit is refused.
  await fs.mkdir("/e");
  await (await fs.create(`/e/${PEER_STORE_FILE}`)).close();
  const warnings: string[] = [];
  const fresh = await PeerStoreQuota.open(fs, "/e", 10, { log: (_l, m) => warnings.push(m) });
  assert.equal(fresh.used("aa"), 0);
  assert.equal(warnings.length, 1);
  await fresh.close();
  await assert.rejects(PeerStoreQuota.open(fs, "/e", 0), /positive integer/);
});

Deno.test("peer_store_quota_tracks_a_bounded_number_of_peers", async () => {
  const { fs } = memoryRuntime();
  const quota = await PeerStoreQuota.open(fs, "/d", 1e9);
  quota.reserve("abcdef", 500);
  for (let i = 0; i < MAX_TRACKED_PEERS; i++) quota.reserve(i.toString(16), 1000);
  assert.equal(quota.used("abcdef"), 0, "the smallest count was forgotten");
  assert.equal(quota.used("0"), 1000);
  await quota.close();
});

async function pusher(network: Network): Promise<PeerManager> {
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network,
    service: new MemoryBlockService(),
  });
  await m.start();
  return m;
}

async function block(seed: number, size = 32 * 1024): Promise<[ContentId, Uint8Array]> {
  const bytes = randomBytes(size, seed);
  return [await ContentId.of(bytes), bytes];
}

Deno.test({
  name: "a_peer_past_its_store_quota_gets_limit_across_a_restart_while_another_is_served",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const network = new MemoryNetwork();
    const runtime = memoryRuntime({ network });
    const start = () =>
      Node.start({
        runtime,
        dataDir: "/holder",
        listen: "10.0.0.1:4000",
        durability: "none",
        maxStorePerPeer: 100 * 1024,
      });
    let holder = await start();
    const greedy = await pusher(network.host("10.0.0.2"));
    const polite = await pusher(network.host("10.0.0.3"));
    try {
      let g = await greedy.connect("10.0.0.1:4000");
      const p = await polite.connect("10.0.0.1:4000");
      // Three 32 KiB blocks fit in 100 KiB; the fourth is refused with LIMIT.
      for (let i = 0; i < 3; i++) await g.putBlock(...await block(i));
      const [extraId, extra] = await block(3);
      await assert.rejects(g.putBlock(extraId, extra), (err) => {
        assert.ok(err instanceof PeerRemoteError, String(err));
        assert.equal(err.wireCode, WireErrorCode.LIMIT);
        return true;
      });
      // A block already held costs nothing: pushing it again is fine.
      await g.putBlock(...await block(0));
      // The other peer is served as usual, even the block refused to the first.
      await p.putBlock(extraId, extra);
      assert.deepEqual(await p.has([extraId]), [true]);
      // The count survives a restart.
      await holder.close();
      holder = await start();
      g = await greedy.connect("10.0.0.1:4000");
      await assert.rejects(g.putBlock(...await block(4)), (err) => {
        assert.ok(err instanceof PeerRemoteError, String(err));
        assert.equal(err.wireCode, WireErrorCode.LIMIT);
        return true;
      });
      assert.ok(await g.ping() >= 0, "the connection is still open");
    } finally {
      await Promise.all([greedy.shutdown(), polite.shutdown()]);
      await holder.close();
    }
  },
});

Deno.test("max_store_per_peer_must_be_a_positive_integer", async () => {
  await assert.rejects(
    Node.start({ runtime: memoryRuntime(), dataDir: "/n", maxStorePerPeer: 0 }),
    /maxStorePerPeer must be a positive integer/,
  );
});

Deno.test({
  name: "a_node_answers_limit_to_a_peer_over_its_request_rate_and_serves_another",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const network = new MemoryNetwork();
    const holder = await Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: "/holder",
      listen: "10.0.0.1:4000",
      durability: "none",
      peer: { maxRequestsPerSecond: 25 },
    });
    const greedy = await pusher(network.host("10.0.0.2"));
    const polite = await pusher(network.host("10.0.0.3"));
    try {
      const g = await greedy.connect("10.0.0.1:4000");
      const p = await polite.connect("10.0.0.1:4000");
      const [id] = await block(9);
      const answers = await Promise.allSettled(Array.from({ length: 60 }, () => g.has([id])));
      const limited = answers.filter((a) =>
        a.status === "rejected" && a.reason instanceof PeerRemoteError &&
        a.reason.wireCode === WireErrorCode.LIMIT
      );
      assert.ok(limited.length >= 5, `${limited.length} refused`);
      assert.equal(
        answers.length - limited.length,
        answers.filter((a) => a.status === "fulfilled").length,
      );
      assert.deepEqual(await p.has([id]), [false]);
      assert.ok(await g.ping() >= 0, "the greedy peer's connection stays open");
    } finally {
      await Promise.all([greedy.shutdown(), polite.shutdown()]);
      await holder.close();
    }
  },
});
