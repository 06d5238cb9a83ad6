/**
 * Peer exchange on the in-memory network: nodes bootstrapped from one node learn each other
 * through GET_PEERS/PEERS, stay connected when that node goes away, and a hostile PEERS answer
 * is bounded or refused.
 */

import assert from "node:assert/strict";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import type { PeerOptions } from "../../src/peer/options.ts";
import { MAX_LEARNED_FAILURES, PeerManager } from "../../src/peer/peer_manager.ts";
import type { PeerManagerInit } from "../../src/peer/peer_manager.ts";
import { performHandshake } from "../../src/peer/handshake.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Network } from "../../src/runtime/types.ts";
import { MessageType } from "../../src/wire/messages.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import { FAST, rawChannel, waitFor } from "./helpers.ts";

const seed = testSeed(0x5eed);
const rng = makeRng(seed);
const random = () => rng.next();

async function manager(
  network: Network,
  init: Partial<PeerManagerInit> & { options?: Partial<PeerOptions> } = {},
): Promise<PeerManager> {
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network,
    service: new MemoryBlockService(),
    random,
    log: () => {},
    ...init,
    options: { ...FAST, ...init.options },
  });
  await m.start();
  return m;
}

function at(port: number) {
  return { hostname: "127.0.0.1", port };
}

Deno.test("nodes_bootstrapped_from_one_node_connect_and_survive_its_loss", async () => {
  const net = new MemoryNetwork();
  const a = await manager(net, { listen: at(7100) });
  const b = await manager(net, { listen: at(7101), bootstrap: ["127.0.0.1:7100"] });
  const c = await manager(net, { listen: at(7102), bootstrap: ["127.0.0.1:7100"] });
  try {
    await waitFor(
      () => b.peer(c.nodeIdHex) !== undefined && c.peer(b.nodeIdHex) !== undefined,
      5000,
      `B and C connected (seed ${seed})`,
    );
    // One connection between B and C, whoever dialled.
    assert.equal(b.connections().length, 2);
    assert.equal(c.connections().length, 2);
    await a.shutdown(200);
    await waitFor(() => b.peer(a.nodeIdHex) === undefined, 3000, "A gone from B");
    const toC = b.peer(c.nodeIdHex);
    assert.ok(toC, "B still connected to C after A left");
    assert.ok((await toC.ping()) >= 0);
    assert.ok((await c.peer(b.nodeIdHex)!.ping()) >= 0);
  } finally {
    await Promise.all([a.shutdown(200), b.shutdown(200), c.shutdown(200)]);
  }
});

Deno.test("peers_answer_lists_listening_peers_but_not_the_asker", async () => {
  const net = new MemoryNetwork();
  const a = await manager(net, { listen: at(7200) });
  const b = await manager(net, { listen: at(7201), peerExchange: false });
  const quiet = await manager(net, { peerExchange: false }); // does not listen
  try {
    await b.connect(a.address!);
    const fromQuiet = await quiet.connect(a.address!);
    const answer = await fromQuiet.request({ type: MessageType.GET_PEERS });
    assert.equal(answer.type, MessageType.PEERS);
    assert.deepEqual(answer.type === MessageType.PEERS && answer.addresses, ["127.0.0.1:7201"]);
    const toA = b.peer(a.nodeIdHex)!;
    const forB = await toA.request({ type: MessageType.GET_PEERS });
    assert.deepEqual(forB.type === MessageType.PEERS && forB.addresses, []);
  } finally {
    await Promise.all([a.shutdown(200), b.shutdown(200), quiet.shutdown(200)]);
  }
});

Deno.test("a_peer_advertising_every_interface_is_known_and_shared_by_the_host_it_came_from", async () => {
  const net = new MemoryNetwork();
  const a = await manager(net.host("10.0.0.1"), { listen: { hostname: "10.0.0.1", port: 7250 } });
  // B listens on every interface of its host, so it advertises 0.0.0.0:7251.
  const b = await manager(net.host("10.0.0.2"), {
    listen: { hostname: "10.0.0.2", port: 7251 },
    advertiseAddress: "0.0.0.0:7251",
    peerExchange: false,
  });
  const c = await manager(net.host("10.0.0.3"), { peerExchange: false });
  try {
    await b.connect(a.address!);
    await waitFor(() => a.peer(b.nodeIdHex) !== undefined, 3000, "A accepted B");
    assert.equal(a.peer(b.nodeIdHex)!.remote.listenAddress, "10.0.0.2:7251");
    const fromC = await c.connect(a.address!);
    const answer = await fromC.request({ type: MessageType.GET_PEERS });
    assert.deepEqual(answer.type === MessageType.PEERS && answer.addresses, ["10.0.0.2:7251"]);
  } finally {
    await Promise.all([a.shutdown(200), b.shutdown(200), c.shutdown(200)]);
  }
});

Deno.test("a_hostile_peers_list_is_filtered_bounded_and_forgotten", async () => {
  const net = new MemoryNetwork();
  const hostile = await manager(net, { listen: at(7300), peerExchange: false });
  const garbage = [
    "",
    "no-port",
    "host:0",
    "host:99999",
    "a:b:c",
    " ",
    "127.0.0.1:7301", // the victim itself
    "127.0.0.1:7300", // the hostile node, already connected
  ];
  const unreachable = Array.from({ length: 32 - garbage.length }, (_, i) => `10.9.9.${i}:1`);
  hostile.handle(
    MessageType.GET_PEERS,
    () => Promise.resolve({ type: MessageType.PEERS, addresses: [...garbage, ...unreachable] }),
  );
  const victim = await manager(net, {
    listen: at(7301),
    bootstrap: ["127.0.0.1:7300"],
    options: { backoffBaseMs: 5, backoffMaxMs: 20, connectTimeoutMs: 200 },
  });
  try {
    await waitFor(() => victim.peer(hostile.nodeIdHex) !== undefined, 3000, "connected");
    await waitFor(() => victim.learnedAddresses().length > 0, 3000, "learned");
    const learned = victim.learnedAddresses();
    assert.ok(learned.length <= unreachable.length, `${learned.length}`);
    for (const a of learned) assert.ok(unreachable.includes(a), `learned ${a}`);
    // Unreachable addresses are dropped after MAX_LEARNED_FAILURES failures each.
    await waitFor(
      () => victim.learnedAddresses().length === 0,
      10_000,
      `learned addresses forgotten after ${MAX_LEARNED_FAILURES} failures`,
    );
    assert.ok(victim.peer(hostile.nodeIdHex)?.isOpen, "the hostile peer itself stays");
    assert.equal(victim.connections().length, 1);
  } finally {
    await Promise.all([hostile.shutdown(200), victim.shutdown(200)]);
  }
});

Deno.test("a_peers_answer_over_the_count_bound_disconnects_the_sender", async () => {
  const net = new MemoryNetwork();
  // The hostile side speaks raw frames: plaintext connections.
  const victim = await manager(net, { listen: at(7400), encryption: "plaintext" });
  const other = await manager(net, {
    listen: at(7401),
    peerExchange: false,
    encryption: "plaintext",
  });
  try {
    await other.connect(victim.address!);
    const raw = await net.connect(victim.address!);
    const ch = rawChannel(raw);
    await performHandshake(ch, {
      identity: await NodeIdentity.generate(),
      listenAddress: "127.0.0.1:7402",
      capabilities: ["blocks/1", "peers/1"],
      timeoutMs: 2000,
    });
    // The victim asks GET_PEERS (dialled side: even id from the listener's view here).
    const ask = await ch.receive();
    assert.equal(ask?.type, MessageType.GET_PEERS);
    const id = ask!.requestId;
    // A PEERS frame declaring 33 addresses: refused by the decoder, the sender is dropped.
    const frame = new Uint8Array([0, 0, 0, 9, 2, MessageType.PEERS, 0, 0, 0, 0, 0, 0, 33]);
    new DataView(frame.buffer).setUint32(7, id);
    await ch.writeBytes(frame);
    await ch.closedByPeer;
    raw.close();
    assert.equal(victim.learnedAddresses().length, 0);
    await waitFor(() => victim.connections().length === 1, 2000, "hostile dropped");
    assert.ok(victim.peer(other.nodeIdHex)?.isOpen, "the other peer is still served");
  } finally {
    await Promise.all([victim.shutdown(200), other.shutdown(200)]);
  }
});

Deno.test("a_dropped_learned_peer_is_redialled", async () => {
  const net = new MemoryNetwork();
  const a = await manager(net, { listen: at(7500) });
  const b = await manager(net, { listen: at(7501), bootstrap: ["127.0.0.1:7500"] });
  const c = await manager(net, { listen: at(7502), bootstrap: ["127.0.0.1:7500"] });
  try {
    await waitFor(() => b.peer(c.nodeIdHex) !== undefined, 5000, "B and C connected");
    const first = b.peer(c.nodeIdHex)!;
    await first.close("test drops it");
    await waitFor(
      () => b.peer(c.nodeIdHex) !== undefined && b.peer(c.nodeIdHex) !== first,
      5000,
      "B and C reconnected",
    );
    assert.ok((await b.peer(c.nodeIdHex)!.ping()) >= 0);
  } finally {
    await Promise.all([a.shutdown(200), b.shutdown(200), c.shutdown(200)]);
  }
});
