import assert from "node:assert/strict";
import { performHandshake } from "../../src/peer/handshake.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager, type PeerManagerInit } from "../../src/peer/peer_manager.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Network } from "../../src/runtime/types.ts";
import type { LogLevel } from "../../src/util/log.ts";
import { MessageType } from "../../src/wire/messages.ts";
import { encodeMessage } from "../../src/wire/codec.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import { FAST, rawChannel, waitFor } from "./helpers.ts";

const seed = testSeed(0x1096);
const rng = makeRng(seed);

interface Rec {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
  category?: string;
}

async function manager(network: Network, init: Partial<PeerManagerInit> = {}) {
  const records: Rec[] = [];
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network,
    random: () => rng.next(),
    log: (level, message, fields, category) =>
      records.push({ level, message, fields: fields ?? {}, category }),
    options: FAST,
    encryption: "plaintext",
    ...init,
  });
  await m.start();
  return { m, records };
}

const serious = (r: Rec) => r.level === "warn" || r.level === "error";

Deno.test(`a_peers_bad_frame_is_logged_once_with_its_peer_id_and_code (seed ${seed})`, async () => {
  const net = new MemoryNetwork();
  const a = await manager(net, { listen: { hostname: "127.0.0.1", port: 0 } });
  try {
    const identity = await NodeIdentity.generate();
    const raw = await net.connect(a.m.address!);
    const ch = rawChannel(raw);
    await performHandshake(ch, { identity, listenAddress: "", timeoutMs: 2000 });
    const bad = encodeMessage({ type: MessageType.PING, requestId: 2, timestamp: 1 });
    bad[4] = 9; // unknown protocol version in the header
    await ch.writeBytes(bad);
    await ch.closedByPeer;
    raw.close();
    await waitFor(() => a.records.some(serious), 5000);
    await new Promise((r) => setTimeout(r, 100)); // anything logged late about it is caught too
    const errors = a.records.filter(serious);
    assert.equal(errors.length, 1, JSON.stringify(a.records, null, 1));
    const [rec] = errors;
    assert.equal(rec.fields.peer, identity.nodeIdHex);
    assert.equal(typeof rec.fields.code, "string");
    assert.ok((rec.fields.code as string).length > 0);
    assert.equal(rec.category, "dfs.peer");
    assert.equal(
      a.records.filter((r) => r.fields.code === rec.fields.code).length,
      1,
      "its code appears once",
    );
  } finally {
    await a.m.shutdown();
  }
});

Deno.test(`a_refused_handshake_is_logged_once_with_the_host_and_code (seed ${seed})`, async () => {
  const net = new MemoryNetwork();
  const a = await manager(net, {
    listen: { hostname: "127.0.0.1", port: 0 },
    clusterKey: rng.bytes(32),
  });
  const outsider = await manager(net, { clusterKey: rng.bytes(32) });
  try {
    await assert.rejects(() => outsider.m.connect(a.m.address!));
    await waitFor(() => a.records.some(serious), 5000);
    await new Promise((r) => setTimeout(r, 100));
    const errors = a.records.filter(serious);
    assert.equal(errors.length, 1, JSON.stringify(a.records, null, 1));
    assert.equal(errors[0].message, "inbound handshake refused");
    assert.equal(errors[0].category, "dfs.peer");
    assert.equal(errors[0].fields.host, "127.0.0.1");
    assert.equal(typeof errors[0].fields.code, "string");
    const text = JSON.stringify(a.records) + JSON.stringify(outsider.records);
    assert.ok(!text.includes("clusterKey"), "no key in any record");
  } finally {
    await Promise.all([a.m.shutdown(), outsider.m.shutdown()]);
  }
});
