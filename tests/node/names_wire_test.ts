/**
 * Names over the real peer layer: NAME_GET/NAME_PUT between peer layers, last write wins on
 * receipt, bad names refused at the boundary, and a cluster that resolves names after losing its
 * bootstrap node (peer exchange).
 */

import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { compareNameRecords, NameRegistry } from "../../src/node/names.ts";
import { fromWireNameRecord, toWireNameRecord } from "../../src/node/name_wire.ts";
import { Node } from "../../src/node/node.ts";
import type { NameService, PeerLayer } from "../../src/node/peer_layer.ts";
import { startPeerLayer } from "../../src/node/peers.ts";
import type { NameRecord } from "../../src/node/types.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import { readAll } from "../util/bytes.ts";
import { MemStore } from "./fakes.ts";

const enc = new TextEncoder();
const fileA = (await ContentId.of(enc.encode("a"))).toString();
const fileB = (await ContentId.of(enc.encode("b"))).toString();
const writer = "ab".repeat(32);

/** A name service over a map, applying last-write-wins like the node's registry. */
class MapNames implements NameService {
  readonly records = new Map<string, NameRecord>();
  get(name: string): Promise<NameRecord | null> {
    return Promise.resolve(this.records.get(name) ?? null);
  }
  put(record: NameRecord): Promise<void> {
    const current = this.records.get(record.name);
    if (!current || compareNameRecords(record, current) > 0) this.records.set(record.name, record);
    return Promise.resolve();
  }
  all(): Promise<NameRecord[]> {
    return Promise.resolve([...this.records.values()]);
  }
}

const FAST_PEER = { heartbeatIntervalMs: 100, deadAfterMs: 1000, backoffBaseMs: 20 };

async function layer(
  network: MemoryNetwork,
  host: string,
  names: NameService,
  bootstrap: string[] = [],
): Promise<PeerLayer> {
  return await startPeerLayer({
    runtime: memoryRuntime({ network }),
    identity: await NodeIdentity.generate(),
    listen: { hostname: host, port: 4000 },
    bootstrap: bootstrap.map((b) => ({ hostname: b, port: 4000 })),
    blocks: new MemoryBlockService(),
    names,
    peer: FAST_PEER,
    log: () => {},
  });
}

async function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("name_records_convert_to_and_from_the_wire_form", () => {
  const record: NameRecord = { name: "doc", id: fileA, version: 7, nodeId: writer };
  const wire = toWireNameRecord(record);
  assert.equal(wire.nodeId.length, 32);
  assert.deepEqual(fromWireNameRecord(wire), record);
  assert.throws(() => toWireNameRecord({ ...record, nodeId: "01" }), { code: "INVALID_ARGUMENT" });
  assert.equal(fromWireNameRecord({ ...wire, version: 0 }), null);
  assert.equal(fromWireNameRecord({ ...wire, name: "a\u0001b" }), null);
  assert.equal(fromWireNameRecord({ ...wire, fileId: new Uint8Array([0x13, 1, 0]) }), null);
});

Deno.test("peers_answer_name_get_and_apply_name_put_only_when_it_wins", async () => {
  const network = new MemoryNetwork();
  const namesA = new MapNames();
  const namesB = new MapNames();
  const a = await layer(network, "10.1.0.1", namesA);
  const b = await layer(network, "10.1.0.2", namesB, ["10.1.0.1"]);
  try {
    await until(() => b.remotes().length === 1, "B connected to A");
    const toA = b.remotes()[0];
    assert.ok(toA.getName && toA.putName, "names/1 announced: name calls available");
    assert.equal(await toA.getName("doc"), null);
    namesA.records.set("doc", { name: "doc", id: fileA, version: 3, nodeId: writer });
    assert.deepEqual(await toA.getName("doc"), namesA.records.get("doc"));

    // An older record is acknowledged but not applied; a newer one replaces it.
    await toA.putName({ name: "doc", id: fileB, version: 2, nodeId: "ff".repeat(32) });
    assert.equal(namesA.records.get("doc")?.id, fileA);
    const newer = { name: "doc", id: fileB, version: 3, nodeId: "ff".repeat(32) };
    await toA.putName(newer);
    assert.deepEqual(namesA.records.get("doc"), newer);

    // The receiving side validates names: control characters and id-like names are refused.
    await assert.rejects(toA.getName("bad\nname"), { code: "PEER_REMOTE_ERROR" });
    await assert.rejects(toA.getName(fileA), { code: "PEER_REMOTE_ERROR" });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("records_held_are_pushed_as_name_put_when_peers_connect", async () => {
  const network = new MemoryNetwork();
  const namesA = new MapNames();
  const rec = { name: "offline", id: fileA, version: 5, nodeId: writer };
  namesA.records.set("offline", rec);
  const a = await layer(network, "10.2.0.1", namesA);
  const namesB = new MapNames();
  const b = await layer(network, "10.2.0.2", namesB, ["10.2.0.1"]);
  try {
    await until(() => namesB.records.has("offline"), "record pushed on connect");
    assert.deepEqual(namesB.records.get("offline"), rec);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("resolve_queries_peers_for_records_they_never_pushed", async () => {
  const network = new MemoryNetwork();
  const namesA = new MapNames();
  const a = await layer(network, "10.3.0.1", namesA);
  const b = await layer(network, "10.3.0.2", new MapNames(), ["10.3.0.1"]);
  try {
    await until(() => b.remotes().length === 1, "connected");
    // Written on A after the connect push: only a NAME_GET can find it.
    const rec = { name: "late", id: fileB, version: 9, nodeId: writer };
    namesA.records.set("late", rec);
    const store = new MemStore();
    const registry = new NameRegistry({
      store,
      nodeId: "cd".repeat(32),
      peers: () => b.remotes(),
      timeoutMs: 2000,
    });
    assert.deepEqual(await registry.resolve("late"), rec);
    assert.deepEqual(await registry.local("late"), rec, "the winner is kept locally");
    await assert.rejects(registry.resolve("unknown"), { code: "NOT_FOUND" });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("a_cluster_resolves_names_after_losing_its_bootstrap_node", async () => {
  const network = new MemoryNetwork();
  const start = (i: number, bootstrap: string[]) =>
    Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: `/wire-names-${i}`,
      listen: `10.4.0.${i}:4000`,
      bootstrap,
      blockSize: 1024,
      durability: "none",
      timeouts: { requestMs: 5000, nameMs: 2000 },
      peer: FAST_PEER,
    });
  const a = await start(1, []);
  const b = await start(2, ["10.4.0.1:4000"]);
  const c = await start(3, ["10.4.0.1:4000"]);
  try {
    const peersOf = (n: Node) =>
      n.peers().filter((p) => p.state === "connected").map((p) => p.nodeId);
    await until(() => peersOf(b).includes(c.nodeId), "B and C connected through A's PEERS");
    const v1 = await a.put(enc.encode("version one"), { name: "report", copies: 3 });
    await a.close();
    await until(() => !peersOf(b).includes(a.nodeId), "A gone");
    // B rebinds the name; C resolves it (asking B) and reads the file from B.
    const v2 = await b.put(enc.encode("version two"), { name: "report", copies: 2 });
    const rec = await c.resolveName("report");
    assert.equal(rec.id, v2.id);
    assert.equal(rec.version, 2);
    assert.notEqual(v1.id, v2.id);
    const got = await c.get("report");
    assert.equal(new TextDecoder().decode(await readAll(got.stream)), "version two");
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});
