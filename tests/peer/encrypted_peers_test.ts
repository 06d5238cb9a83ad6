/**
 * Peer connections are encrypted by default (Noise): through a relay that records every byte, a
 * block made of a repeated ASCII marker crosses without the marker ever appearing on the wire;
 * a byte flipped by the relay closes the connection and no wrong byte is delivered; a node with
 * another cluster key, or none, completes no handshake with a member.
 */

import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager, type PeerManagerInit } from "../../src/peer/peer_manager.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Connection, Network } from "../../src/runtime/types.ts";
import { FAST, rawChannel, waitFor } from "./helpers.ts";
import { performHandshake } from "../../src/peer/handshake.ts";
import { createNoiseCredentials } from "../../src/peer/noise/payload.ts";
import { secureConnection } from "../../src/peer/noise/secure_connection.ts";
import { MessageType } from "../../src/wire/messages.ts";
import { contains, joined } from "./noise/noise_helpers.ts";

const MARKER = new TextEncoder().encode("DFS-PLAINTEXT-MARKER-");

function markerBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = MARKER[i % MARKER.length];
  return out;
}

async function manager(network: Network, init: Partial<PeerManagerInit> = {}) {
  const service = new MemoryBlockService();
  const logs: string[] = [];
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network,
    service,
    options: FAST,
    log: (level, message, fields) => logs.push(`${level}: ${message} ${JSON.stringify(fields)}`),
    ...init,
  });
  await m.start();
  return { m, service, logs };
}

/** A relay on `port` to `target`, recording both directions; flips one byte of the answers. */
async function relay(
  net: MemoryNetwork,
  port: number,
  target: { hostname: string; port: number },
  flipDownAt?: number,
) {
  const wire: Uint8Array[] = [];
  await net.listen({ hostname: "127.0.0.1", port }, async (fromClient) => {
    const toServer = await net.connect(target);
    pump(fromClient.readable, toServer, wire, undefined);
    pump(toServer.readable, fromClient, wire, flipDownAt);
  });
  return { wire, address: { hostname: "127.0.0.1", port } };
}

async function pump(
  from: ReadableStream<Uint8Array>,
  to: Connection,
  record: Uint8Array[],
  flipAt: number | undefined,
): Promise<void> {
  const writer = to.writable.getWriter();
  let offset = 0;
  try {
    for await (const chunk of from) {
      const copy = chunk.slice();
      if (flipAt !== undefined && flipAt >= offset && flipAt < offset + copy.length) {
        copy[flipAt - offset] ^= 0x40;
      }
      offset += copy.length;
      record.push(copy);
      await writer.write(copy);
    }
    await writer.close();
  } catch {
    to.close();
  }
}

for (const encryption of ["noise", "plaintext"] as const) {
  Deno.test(`a_recording_relay_${encryption === "noise" ? "never_sees" : "sees"}_the_plaintext`, async () => {
    const net = new MemoryNetwork();
    const a = await manager(net, { listen: { hostname: "127.0.0.1", port: 7100 }, encryption });
    const b = await manager(net, { encryption });
    try {
      const r = await relay(net, 7101, a.m.address!);
      const peer = await b.m.connect(r.address);
      const bytes = markerBytes(200_000);
      const id = await ContentId.of(bytes);
      await peer.putBlock(id, bytes);
      assert.deepEqual(await peer.getBlock(id), bytes);
      // The check can fail: in plaintext the marker is on the wire.
      assert.equal(contains(joined(r.wire), MARKER), encryption === "plaintext");
    } finally {
      await Promise.all([a.m.shutdown(200), b.m.shutdown(200)]);
    }
  });
}

Deno.test("a_byte_flipped_on_the_wire_closes_the_connection_and_delivers_no_wrong_bytes", async () => {
  const net = new MemoryNetwork();
  const a = await manager(net, { listen: { hostname: "127.0.0.1", port: 7200 } });
  const b = await manager(net);
  try {
    const bytes = markerBytes(300_000);
    const id = await ContentId.of(bytes);
    await a.service.put(id, bytes);
    // Well past the handshake: inside the block's answer.
    const r = await relay(net, 7201, a.m.address!, 150_000);
    const peer = await b.m.connect(r.address);
    const got = await peer.getBlock(id).then((v) => v, (e) => e as Error);
    assert.ok(got instanceof Error, "the tampered answer is refused, never returned");
    await waitFor(() => !peer.isOpen, 2000, "the tampered connection closes");
    // A fresh connection (straight to the holder) returns the right bytes.
    const direct = await b.m.connect(a.m.address!);
    assert.deepEqual(await direct.getBlock(id), bytes);
  } finally {
    await Promise.all([a.m.shutdown(200), b.m.shutdown(200)]);
  }
});

Deno.test("with_noise_a_node_with_another_cluster_key_or_none_completes_no_handshake", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const net = new MemoryNetwork();
  const a = await manager(net, { listen: { hostname: "127.0.0.1", port: 7300 }, clusterKey: key });
  const b = await manager(net, { clusterKey: key.slice() });
  const outsider = await manager(net);
  const stranger = await manager(net, { clusterKey: crypto.getRandomValues(new Uint8Array(32)) });
  try {
    const peer = await b.m.connect(a.m.address!);
    assert.ok(await peer.ping() >= 0);
    await assert.rejects(outsider.m.connect(a.m.address!));
    await assert.rejects(stranger.m.connect(a.m.address!));
    assert.equal(outsider.m.connections().length, 0);
    assert.equal(stranger.m.connections().length, 0);
    await waitFor(() => a.m.connections().length === 1, 2000, "only the member stays");
    assert.deepEqual(a.m.connections().map((c) => c.nodeIdHex), [b.m.nodeIdHex]);
  } finally {
    await Promise.all([a, b, outsider, stranger].map((n) => n.m.shutdown(200)));
  }
});

Deno.test("an_encrypting_node_and_a_plaintext_node_do_not_talk", async () => {
  const net = new MemoryNetwork();
  const a = await manager(net, { listen: { hostname: "127.0.0.1", port: 7400 } });
  const plain = await manager(net, { encryption: "plaintext" });
  try {
    await assert.rejects(plain.m.connect(a.m.address!));
    assert.equal(a.m.connections().length, 0);
  } finally {
    await Promise.all([a.m.shutdown(200), plain.m.shutdown(200)]);
  }
});

Deno.test("with_noise_a_peer_that_stops_reading_is_bounded_and_others_are_served", async () => {
  const net = new MemoryNetwork({ bufferSize: 64 * 1024 });
  const a = await manager(net, { listen: { hostname: "127.0.0.1", port: 7500 } });
  const b = await manager(net);
  try {
    const bytes = markerBytes(1024 * 1024);
    const id = await ContentId.of(bytes);
    await a.service.put(id, bytes);
    // A peer that completes the Noise and identity handshakes by hand, asks for the 1 MiB
    // block over and over, and never reads an answer.
    const raw = await net.connect(a.m.address!);
    const identity = await NodeIdentity.generate();
    const secured = await secureConnection(raw, {
      role: "initiator",
      credentials: await createNoiseCredentials(identity),
    });
    const ch = rawChannel(secured.connection);
    await performHandshake(ch, { identity, listenAddress: "", timeoutMs: 2000 });
    for (let i = 0; i < 200; i++) {
      await ch.send({ type: MessageType.GET_BLOCK, requestId: 2 * i + 1, id: id.bytes });
    }
    const stalled = () => a.m.connections().find((c) => c.nodeIdHex === identity.nodeIdHex);
    await waitFor(() => (stalled()?.stats().incomingRequests ?? 0) > 0, 2000, "stall");
    const s = stalled()!.stats();
    assert.ok(s.incomingRequests <= a.m.options.maxInFlightPerPeer);
    assert.ok(s.pendingSends <= 2 * a.m.options.maxInFlightPerPeer + 17, `${s.pendingSends}`);
    // Another peer is served in full meanwhile.
    const good = await b.m.connect(a.m.address!);
    for (let i = 0; i < 5; i++) assert.deepEqual(await good.getBlock(id), bytes);
    ch.close();
  } finally {
    await Promise.all([a.m.shutdown(200), b.m.shutdown(200)]);
  }
});
