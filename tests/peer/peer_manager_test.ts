import assert from "node:assert/strict";
import { NoiseHandshakeError } from "../../src/peer/noise/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { HandshakeError, PeerClosedError } from "../../src/peer/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import type { PeerOptions } from "../../src/peer/options.ts";
import type { PeerConnection } from "../../src/peer/peer_connection.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import type { PeerManagerInit } from "../../src/peer/peer_manager.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Network } from "../../src/runtime/types.ts";
import { encodeMessage } from "../../src/wire/codec.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import { FAST, GatedService, rawChannel, waitFor } from "./helpers.ts";
import { performHandshake } from "../../src/peer/handshake.ts";

const seed = testSeed(0x5eed);
const rng = makeRng(seed);
const random = () => rng.next();

async function block(size: number): Promise<[ContentId, Uint8Array]> {
  const bytes = rng.bytes(size);
  return [await ContentId.of(bytes), bytes];
}

interface TestNode {
  manager: PeerManager;
  service: MemoryBlockService;
  logs: string[];
}

async function node(
  network: Network,
  init: Partial<PeerManagerInit> & { options?: Partial<PeerOptions> } = {},
): Promise<TestNode> {
  const service = new MemoryBlockService();
  const logs: string[] = [];
  const manager = new PeerManager({
    identity: await NodeIdentity.generate(),
    network,
    service,
    random,
    log: (level, message, fields) => logs.push(`${level}: ${message} ${JSON.stringify(fields)}`),
    ...init,
    options: { ...FAST, ...init.options },
  });
  await manager.start();
  return { manager, service, logs };
}

const LISTEN = { hostname: "127.0.0.1", port: 0 };

/** Reads until the remote ends or resets the stream (bounded). */
async function readToEnd(readable: ReadableStream<Uint8Array>): Promise<void> {
  const reader = readable.getReader();
  for (let i = 0; i < 1000; i++) {
    const r = await reader.read().catch(() => ({ done: true }));
    if (r.done) return;
  }
  throw new Error("stream did not end");
}

Deno.test("manager_connects_peers_and_exchanges_blocks", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN });
  const b = await node(net);
  const connected: string[] = [];
  a.manager.onPeerConnected((p) => connected.push(p.nodeIdHex));
  try {
    const peer = await b.manager.connect(a.manager.address!);
    assert.equal(peer.nodeIdHex, a.manager.nodeIdHex);
    const [id, bytes] = await block(200_000);
    await peer.putBlock(id, bytes);
    assert.deepEqual(await peer.getBlock(id), bytes);
    assert.equal(a.service.size, 1);
    await waitFor(() => connected.length === 1, 2000, "connected event");
    assert.equal(connected[0], b.manager.nodeIdHex);
    const row = b.manager.peers().find((p) => p.nodeId === a.manager.nodeIdHex);
    assert.equal(row?.state, "connected");
    assert.equal(row?.address, a.manager.advertisedAddress);
    // Dialling again returns the same connection.
    assert.equal(await b.manager.connect(a.manager.address!), peer);
    assert.equal(
      await b.manager.connect(a.manager.address!, { expectedNodeId: a.manager.nodeIdHex }),
      peer,
    );
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("manager_rejects_a_peer_that_is_not_the_expected_node", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN });
  const b = await node(net);
  const other = await NodeIdentity.generate();
  try {
    await assert.rejects(
      b.manager.connect(a.manager.address!, { expectedNodeId: other.nodeIdHex }),
      // Noise checks the proven node id before the identity handshake could.
      (err) => err instanceof NoiseHandshakeError && err.reason === "BAD_IDENTITY",
    );
    assert.equal(b.manager.connections().length, 0);
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("manager_dedupes_simultaneous_connections_between_two_nodes", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN });
  const b = await node(net, { listen: LISTEN });
  try {
    const [ca, cb] = await Promise.all([
      a.manager.connect(b.manager.address!),
      b.manager.connect(a.manager.address!),
    ]);
    // Callers holding either connection keep working while the duplicate is dropped.
    for (let i = 0; i < 10; i++) {
      await Promise.all([ca.ping(), cb.ping()]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(
      () =>
        net.connectionCount === 1 && a.manager.connections().length === 1 &&
        b.manager.connections().length === 1,
      3000,
      "one connection left",
    );
    const pa = a.manager.peer(b.manager.nodeIdHex)!;
    const pb = b.manager.peer(a.manager.nodeIdHex)!;
    assert.notEqual(pa.role, pb.role, "both kept the same connection");
    assert.ok((await pa.ping()) >= 0);
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("manager_redials_a_bootstrap_node_that_comes_up_later", async () => {
  const net = new MemoryNetwork();
  const addr = { hostname: "127.0.0.1", port: 7001 };
  const b = await node(net, { bootstrap: ["127.0.0.1:7001"] });
  let a: TestNode | undefined;
  try {
    await waitFor(
      () => b.manager.peers().some((p) => p.state === "backoff"),
      2000,
      "first dial to fail",
    );
    await new Promise((r) => setTimeout(r, 150));
    a = await node(net, { listen: addr });
    const aId = a.manager.nodeIdHex;
    await waitFor(() => b.manager.peer(aId) !== undefined, 3000, "bootstrap reconnect");
    // Drop the connection: the bootstrap node is redialled.
    const first = b.manager.peer(aId)!;
    net.disconnect("127.0.0.1:7001");
    await first.closed;
    await waitFor(
      () => {
        const p = b.manager.peer(aId);
        return p !== undefined && p !== first;
      },
      3000,
      "redial after a drop",
    );
  } finally {
    await Promise.all([a?.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("manager_detects_a_partitioned_peer_as_dead", async () => {
  const net = new MemoryNetwork();
  const a = await node(net.host("10.0.0.1"), { listen: { hostname: "10.0.0.1", port: 7000 } });
  const b = await node(net.host("10.0.0.2"), { bootstrap: ["10.0.0.1:7000"] });
  const aId = a.manager.nodeIdHex;
  const bId = b.manager.nodeIdHex;
  try {
    await waitFor(() => b.manager.peer(aId) !== undefined, 3000, "connect");
    await waitFor(() => a.manager.peer(bId) !== undefined, 3000, "accept");
    const died: string[] = [];
    a.manager.onPeerDisconnected((p, info) => died.push(`${p.nodeIdHex}:${info.reason}`));
    net.partition(["10.0.0.1"], ["10.0.0.2"]);
    await waitFor(() => died.length === 1, 5000, "death detected");
    assert.equal(died[0], `${bId}:dead`);
    assert.equal(a.manager.peers().find((p) => p.nodeId === bId)?.state, "dead");
    await waitFor(() => b.manager.peer(aId) === undefined, 3000, "death detected on b");
    net.heal();
    await waitFor(() => b.manager.peer(aId) !== undefined, 5000, "reconnect after heal");
  } finally {
    net.heal();
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("manager_refuses_connections_over_the_limit_while_every_connection_is_busy", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN, options: { maxConnections: 1 } });
  const b = await node(net);
  const c = await node(net);
  // A request that a answers only after the refusal below: b's connection is busy meanwhile.
  let release = () => {};
  const answered = new Promise<void>((r) => release = r);
  a.manager.handle(MessageType.FIND_NODE, async () => {
    await answered;
    return { type: MessageType.NODES, peers: [] };
  });
  try {
    const conn = await b.manager.connect(a.manager.address!);
    const pending = conn.request({ type: MessageType.FIND_NODE, key: new Uint8Array(32) });
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(c.manager.connect(a.manager.address!), (err) => {
      assert.ok(err instanceof HandshakeError, String(err));
      assert.equal(err.reason, "REJECTED");
      assert.equal(err.wireCode, WireErrorCode.LIMIT);
      return true;
    });
    release();
    assert.equal((await pending).type, MessageType.NODES);
    assert.ok(await b.manager.peer(a.manager.nodeIdHex)!.ping() >= 0);
  } finally {
    release();
    await Promise.all([a.manager.shutdown(), b.manager.shutdown(), c.manager.shutdown()]);
  }
});

Deno.test("an_inbound_connection_at_the_limit_takes_the_place_of_a_quiet_one", async () => {
  const net = new MemoryNetwork();
  // b's connection must be quiet when c arrives: no heartbeat of it in flight (FAST pings every
  // 50 ms, and an encrypted round trip under load can overlap c's handshake).
  const quiet = { heartbeatIntervalMs: 2000, deadAfterMs: 8000 };
  const a = await node(net, { listen: LISTEN, options: { maxConnections: 1, ...quiet } });
  const b = await node(net, { options: quiet });
  const c = await node(net);
  try {
    await b.manager.connect(a.manager.address!);
    await new Promise((r) => setTimeout(r, 250)); // the peer exchange that follows a connect ends
    const toC = await c.manager.connect(a.manager.address!);
    assert.ok(await toC.ping() >= 0);
    assert.deepEqual(a.manager.connections().map((x) => x.nodeIdHex), [c.manager.nodeIdHex]);
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown(), c.manager.shutdown()]);
  }
});

Deno.test("a_socket_that_never_completes_a_handshake_closes_no_connection", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN, options: { maxConnections: 2 } });
  const b = await node(net);
  try {
    await b.manager.connect(a.manager.address!);
    // More silent sockets than the handshakes allowed in progress (at least 4).
    const raws = await Promise.all(
      Array.from({ length: 6 }, () => net.connect(a.manager.address!)),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(a.manager.connections().map((x) => x.nodeIdHex), [b.manager.nodeIdHex]);
    assert.ok(await b.manager.peer(a.manager.nodeIdHex)!.ping() >= 0);
    for (const r of raws) r.close();
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("manager_drops_garbage_peers_and_keeps_serving_others", async () => {
  const net = new MemoryNetwork();
  // The garbage goes in after a plaintext handshake: plaintext connections (with Noise, bytes
  // that do not authenticate close the connection: tests/peer/encrypted_peers_test.ts).
  const a = await node(net, { listen: LISTEN, encryption: "plaintext" });
  const b = await node(net, { encryption: "plaintext" });
  try {
    const [id, bytes] = await block(100_000);
    await a.service.put(id, bytes);
    const good = await b.manager.connect(a.manager.address!);
    let served = 0;
    let stop = false;
    const loop = (async () => {
      for (let i = 0; i < 200 && !stop; i++) {
        assert.deepEqual(await good.getBlock(id), bytes);
        served++;
      }
    })();

    // 1. Garbage instead of a handshake.
    const raw1 = await net.connect(a.manager.address!);
    const w1 = raw1.writable.getWriter();
    await w1.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await readToEnd(raw1.readable);
    raw1.close();

    // 2. A huge declared frame length after a valid handshake.
    const raw2 = await net.connect(a.manager.address!);
    const ch2 = rawChannel(raw2);
    await performHandshake(ch2, {
      identity: await NodeIdentity.generate(),
      listenAddress: "",
      timeoutMs: 2000,
    });
    await ch2.writeBytes(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1]));
    await ch2.closedByPeer;
    raw2.close();

    // 3. Garbage after a valid handshake.
    const raw3 = await net.connect(a.manager.address!);
    const ch3 = rawChannel(raw3);
    await performHandshake(ch3, {
      identity: await NodeIdentity.generate(),
      listenAddress: "",
      timeoutMs: 2000,
    });
    const bad = encodeMessage({ type: MessageType.PING, requestId: 2, timestamp: 1 });
    bad[4] = 9; // unknown protocol version in the header
    await ch3.writeBytes(bad);
    await ch3.closedByPeer;
    raw3.close();

    stop = true;
    await loop;
    assert.ok(served > 0);
    assert.ok(good.isOpen, "the good peer is still connected");
    assert.deepEqual(await good.getBlock(id), bytes);
    assert.ok(a.logs.some((l) => l.includes("violated the protocol")), a.logs.join("\n"));
    assert.equal(a.manager.connections().length, 1);
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("manager_drops_a_connection_without_handshake_after_the_timeout", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN, options: { handshakeTimeoutMs: 150 } });
  try {
    const raw = await net.connect(a.manager.address!);
    // The HELLO, the ERROR, then the end of the stream.
    await readToEnd(raw.readable);
    raw.close();
    assert.equal(a.manager.connections().length, 0);
  } finally {
    await a.manager.shutdown();
  }
});

Deno.test("manager_shutdown_finishes_in_flight_requests_then_closes", async () => {
  const net = new MemoryNetwork();
  const service = new GatedService();
  const a = await node(net, { listen: LISTEN, service });
  const b = await node(net);
  const gone: string[] = [];
  b.manager.onPeerDisconnected((p: PeerConnection) => gone.push(p.nodeIdHex));
  const [id, bytes] = await block(300_000);
  await service.put(id, bytes);
  const peer = await b.manager.connect(a.manager.address!);
  const inFlight = peer.getBlock(id);
  const late = peer.getBlock(id);
  await waitFor(() => service.gets === 2, 2000, "requests in flight");
  const shutdown = a.manager.shutdown(3000);
  await waitFor(() => !peer.isOpen, 2000, "GOODBYE");
  await assert.rejects(peer.getBlock(id), PeerClosedError);
  service.gate.resolve();
  assert.deepEqual(await inFlight, bytes);
  assert.deepEqual(await late, bytes);
  await shutdown;
  await waitFor(() => gone.length === 1, 2000, "disconnected event");
  await assert.rejects(net.connect(a.manager.address!), "stopped accepting");
  await b.manager.shutdown();
});

Deno.test("manager_shutdown_fails_requests_past_the_deadline", async () => {
  const net = new MemoryNetwork();
  const service = new GatedService();
  const a = await node(net, { listen: LISTEN, service });
  const b = await node(net);
  const [id, bytes] = await block(100);
  await service.put(id, bytes);
  const peer = await b.manager.connect(a.manager.address!);
  const inFlight = peer.getBlock(id);
  await waitFor(() => service.gets === 1, 2000, "request in flight");
  await b.manager.shutdown(100);
  await assert.rejects(inFlight, (err) => {
    assert.ok(err instanceof PeerClosedError);
    assert.equal(err.code, "PEER_CLOSED");
    return true;
  });
  service.gate.resolve();
  await a.manager.shutdown();
});

Deno.test("manager_keeps_serving_others_while_a_peer_stops_reading", async () => {
  const net = new MemoryNetwork({ bufferSize: 64 * 1024 });
  // The stalled peer speaks raw frames: plaintext connections.
  const a = await node(net, { listen: LISTEN, encryption: "plaintext" });
  const b = await node(net, { encryption: "plaintext" });
  try {
    const [id, bytes] = await block(1024 * 1024);
    await a.service.put(id, bytes);
    // A peer that asks for the 1 MiB block over and over and never reads the answers.
    const raw = await net.connect(a.manager.address!);
    const ch = rawChannel(raw);
    await performHandshake(ch, {
      identity: await NodeIdentity.generate(),
      listenAddress: "",
      timeoutMs: 2000,
    });
    for (let i = 0; i < 200; i++) {
      await ch.send({ type: MessageType.GET_BLOCK, requestId: 2 * i + 1, id: id.bytes });
    }
    const stalled = () => a.manager.connections().find((c) => c.nodeIdHex !== b.manager.nodeIdHex);
    await waitFor(() => (stalled()?.stats().incomingRequests ?? 0) > 0, 2000, "stall");
    const s = stalled()!.stats();
    assert.ok(s.incomingRequests <= a.manager.options.maxInFlightPerPeer);
    assert.ok(s.pendingSends <= 2 * a.manager.options.maxInFlightPerPeer + 17, `${s.pendingSends}`);
    // Another peer is served in full meanwhile.
    const good = await b.manager.connect(a.manager.address!);
    for (let i = 0; i < 5; i++) assert.deepEqual(await good.getBlock(id), bytes);
    ch.close();
  } finally {
    await Promise.all([a.manager.shutdown(200), b.manager.shutdown(200)]);
  }
});

Deno.test("manager_handlers_serve_every_connection", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN });
  const b = await node(net);
  const c = await node(net);
  try {
    // A layer above registers a request type (HAS stands in for a DHT message here).
    a.manager.handle(MessageType.HAS, (msg) =>
      Promise.resolve({
        type: MessageType.HAS_RESULT,
        present: msg.type === MessageType.HAS ? msg.ids.map(() => true) : [],
      }));
    const [id] = await block(10);
    const pb = await b.manager.connect(a.manager.address!);
    assert.deepEqual(await pb.has([id, id]), [true, true]);
    const pc = await c.manager.connect(a.manager.address!);
    assert.deepEqual(await pc.has([id]), [true]);
    // A handler on one connection only.
    const toC = a.manager.peer(c.manager.nodeIdHex)!;
    toC.handle(
      MessageType.HAS,
      () => Promise.resolve({ type: MessageType.HAS_RESULT, present: [false] }),
    );
    assert.deepEqual(await pc.has([id]), [false]);
    assert.deepEqual(await pb.has([id]), [true]);
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown(), c.manager.shutdown()]);
  }
});

Deno.test("bootstrap_attempted_resolves_after_the_first_dials_connected_or_failed", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: LISTEN });
  const aAddress = `127.0.0.1:${a.manager.address!.port}`;
  // One live bootstrap address and one where nothing listens (refused at once).
  const b = await node(net, { bootstrap: [aAddress, "127.0.0.1:1"] });
  try {
    await b.manager.bootstrapAttempted();
    assert.ok(b.manager.peer(a.manager.nodeIdHex), "connected to the live bootstrap node");
    assert.equal(b.manager.connections().length, 1);
    // Without bootstrap addresses it is settled from the start.
    await a.manager.bootstrapAttempted();
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});

Deno.test("bootstrap_attempted_is_bounded_by_the_handshake_timeout_of_a_silent_address", async () => {
  const net = new MemoryNetwork();
  // Accepts connections and never says a word.
  const held: { close(): void }[] = [];
  const silent = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => held.push(conn));
  const b = await node(net, {
    bootstrap: [`127.0.0.1:${silent.address.port}`],
    options: { handshakeTimeoutMs: 200, connectTimeoutMs: 200 },
  });
  try {
    const t0 = performance.now();
    await b.manager.bootstrapAttempted();
    const waited = performance.now() - t0;
    assert.equal(b.manager.connections().length, 0);
    assert.ok(waited >= 100, `resolved after ${waited} ms: it did not wait for the attempt`);
  } finally {
    await b.manager.shutdown();
    for (const c of held) c.close();
    silent.close();
  }
});

Deno.test("silent_sockets_from_one_host_do_not_lock_other_peers_out", async () => {
  const net = new MemoryNetwork();
  const a = await node(net, { listen: { hostname: "198.51.100.1", port: 4000 } });
  const b = await node(net.host("198.51.100.2"));
  try {
    // Far more silent sockets than handshakes may be in progress at once (16 at the default
    // bound), all from one host: only 2 of them count.
    const attacker = net.host("203.0.113.9");
    const raws = await Promise.all(
      Array.from({ length: 24 }, () => attacker.connect(a.manager.address!)),
    );
    await new Promise((r) => setTimeout(r, 20));
    const conn = await b.manager.connect(a.manager.address!);
    assert.ok(await conn.ping() >= 0);
    for (const r of raws) r.close();
  } finally {
    await Promise.all([a.manager.shutdown(), b.manager.shutdown()]);
  }
});
