import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { HandshakeError } from "../../src/peer/errors.ts";
import { CLUSTER_BAD_SIGNATURE_TEXT, performHandshake } from "../../src/peer/handshake.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import type { PeerManagerInit } from "../../src/peer/peer_manager.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Network } from "../../src/runtime/types.ts";
import { toHex } from "../../src/util/hex.ts";
import { MessageType } from "../../src/wire/messages.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import { FAST, rawChannel, waitFor } from "./helpers.ts";

const seed = testSeed(0xc1a5);
const rng = makeRng(seed);
const LISTEN = { hostname: "127.0.0.1", port: 0 };

interface TestNode {
  manager: PeerManager;
  service: MemoryBlockService;
  logs: string[];
}

async function node(network: Network, init: Partial<PeerManagerInit> = {}): Promise<TestNode> {
  const service = new MemoryBlockService();
  const logs: string[] = [];
  const manager = new PeerManager({
    identity: await NodeIdentity.generate(),
    network,
    service,
    random: () => rng.next(),
    log: (level, message, fields) => logs.push(`${level}: ${message} ${JSON.stringify(fields)}`),
    options: FAST,
    // These tests check the identity handshake's own cluster-key HMAC, which guards plaintext
    // connections; with Noise the psk does (tests/peer/encrypted_peers_test.ts).
    encryption: "plaintext",
    ...init,
  });
  await manager.start();
  return { manager, service, logs };
}

function isBadSignature(err: unknown): boolean {
  assert.ok(err instanceof HandshakeError, `expected HandshakeError, got ${err}`);
  assert.equal(err.reason, "BAD_SIGNATURE", err.message);
  return true;
}

Deno.test("cluster_members_connect_and_an_outsider_cannot_connect_or_delete", async () => {
  const key = rng.bytes(32);
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN, clusterKey: key });
  const b = await node(net, { clusterKey: key.slice() });
  const outsider = await node(net);
  const stranger = await node(net, { clusterKey: rng.bytes(32) });
  try {
    const peer = await b.manager.connect(a.manager.address!);
    assert.equal(peer.nodeIdHex, a.manager.nodeIdHex);
    const bytes = rng.bytes(50_000);
    const id = await ContentId.of(bytes);
    await peer.putBlock(id, bytes);
    assert.deepEqual(await peer.getBlock(id), bytes);

    // No key, and another key: the dial rejects, and the member logs the refused handshake.
    await assert.rejects(outsider.manager.connect(a.manager.address!), isBadSignature);
    await assert.rejects(stranger.manager.connect(a.manager.address!), (err) => {
      isBadSignature(err);
      assert.ok((err as Error).message.includes(CLUSTER_BAD_SIGNATURE_TEXT));
      return true;
    });
    await waitFor(
      () => a.logs.filter((l) => l.includes("inbound handshake refused")).length >= 2,
      3000,
      "a logs both refused handshakes",
    );
    assert.ok(a.logs.some((l) => l.includes(CLUSTER_BAD_SIGNATURE_TEXT)));
    assert.equal(outsider.manager.connections().length, 0);
    assert.equal(stranger.manager.connections().length, 0);

    // A hand-made outsider that skips the AUTH check and sends DELETE anyway deletes nothing.
    const conn = await net.connect(a.manager.address!);
    const raw = rawChannel(conn);
    const intruder = await NodeIdentity.generate();
    await raw.send({
      type: MessageType.HELLO,
      requestId: 0,
      protocolVersion: 2,
      nodeId: intruder.nodeId,
      publicKey: intruder.publicKey,
      nonce: rng.bytes(32),
      listenAddress: "",
      capabilities: ["blocks/1"],
    });
    await raw.send({ type: MessageType.AUTH, requestId: 0, signature: rng.bytes(64) });
    await raw.send({ type: MessageType.DELETE, requestId: 1, id: id.bytes }).catch(() => {});
    await raw.closedByPeer;
    raw.close();

    // The members go on serving each other; the block is still there.
    assert.equal(a.service.size, 1);
    assert.deepEqual(await peer.getBlock(id), bytes);
    assert.deepEqual(a.manager.connections().map((c) => c.nodeIdHex), [b.manager.nodeIdHex]);
    // The key never shows up in a log line.
    for (const line of [...a.logs, ...b.logs]) assert.ok(!line.includes(toHex(key)), line);
  } catch (err) {
    console.error(`seed ${seed}`);
    throw err;
  } finally {
    await Promise.all([a, b, outsider, stranger].map((n) => n.manager.shutdown(200)));
  }
});

Deno.test("an_outsider_handshaking_by_hand_without_the_key_is_refused", async () => {
  // The outsider runs the real open-cluster handshake against a member: it fails on its side too.
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN, clusterKey: rng.bytes(16) });
  try {
    const conn = await net.connect(a.manager.address!);
    const raw = rawChannel(conn);
    await assert.rejects(
      performHandshake(raw, {
        identity: await NodeIdentity.generate(),
        listenAddress: "",
        timeoutMs: 2000,
      }),
      isBadSignature,
    );
    raw.close();
    assert.equal(a.manager.connections().length, 0);
  } finally {
    await a.manager.shutdown(200);
  }
});

Deno.test("peer_manager_rejects_a_cluster_key_outside_16_to_1024_bytes", async () => {
  const identity = await NodeIdentity.generate();
  const network = new MemoryNetwork();
  for (const n of [0, 15, 1025]) {
    assert.throws(
      () => new PeerManager({ identity, network, clusterKey: new Uint8Array(n) }),
      InvalidArgumentError,
      `${n} bytes`,
    );
  }
  assert.ok(new PeerManager({ identity, network, clusterKey: new Uint8Array(16) }));
});
