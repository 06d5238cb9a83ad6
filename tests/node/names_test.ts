import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import {
  compareNameRecords,
  decodeNameRecord,
  encodeNameRecord,
  latestRecord,
  NameRegistry,
  parseNameRecord,
  validateName,
} from "../../src/node/names.ts";
import type { NameRecord } from "../../src/node/types.ts";
import { FakePeer, MemStore } from "./fakes.ts";

const enc = new TextEncoder();
const idA = (await ContentId.of(enc.encode("a"))).toString();
const idB = (await ContentId.of(enc.encode("b"))).toString();

function rec(version: number, nodeId: string, id = idA): NameRecord {
  return { name: "doc", id, version, nodeId };
}

Deno.test("name_records_compare_by_version_then_node_id", () => {
  assert.ok(compareNameRecords(rec(2, "01"), rec(1, "ff")) > 0);
  assert.ok(compareNameRecords(rec(3, "aa"), rec(3, "ab")) < 0);
  assert.equal(compareNameRecords(rec(3, "aa"), rec(3, "aa")), 0);
  assert.deepEqual(latestRecord([null, rec(1, "ff"), rec(2, "00"), rec(2, "01")]), rec(2, "01"));
  assert.equal(latestRecord([]), null);
});

Deno.test("names_reject_empty_long_control_and_id_like_names", () => {
  for (const bad of ["", "a\nb", "x".repeat(201), idA]) {
    assert.throws(() => validateName(bad), { code: "INVALID_ARGUMENT" });
  }
  validateName("reports/2026 q3.pdf");
});

Deno.test("name_record_round_trips_and_rejects_garbage", () => {
  const r = rec(7, "0a0b");
  assert.deepEqual(decodeNameRecord(encodeNameRecord(r)), r);
  assert.equal(decodeNameRecord(enc.encode("{")), null);
  assert.equal(parseNameRecord({ ...r, version: 0 }), null);
  assert.equal(parseNameRecord({ ...r, id: "nothex" }), null);
  assert.equal(parseNameRecord({ ...r, nodeId: "XYZ" }), null);
});

Deno.test("bind_increments_the_latest_version_and_pushes_to_peers", async () => {
  const p1 = new FakePeer("11");
  const p2 = new FakePeer("22");
  p2.names.set("doc", rec(5, "22", idB));
  const reg = new NameRegistry({
    store: new MemStore(),
    nodeId: "01",
    peers: () => [p1, p2],
    timeoutMs: 1000,
  });
  const r = await reg.bind("doc", idA);
  assert.deepEqual(r, rec(6, "01", idA));
  assert.deepEqual(p1.names.get("doc"), r);
  assert.deepEqual(p2.names.get("doc"), r);
  assert.deepEqual(await reg.local("doc"), r);
});

Deno.test("resolve_takes_the_max_across_peers_and_keeps_it", async () => {
  const p1 = new FakePeer("11");
  const p2 = new FakePeer("22");
  p1.names.set("doc", rec(4, "11", idA));
  p2.names.set("doc", rec(4, "22", idB)); // same version, larger node id wins
  const store = new MemStore();
  const reg = new NameRegistry({ store, nodeId: "01", peers: () => [p1, p2], timeoutMs: 1000 });
  assert.deepEqual(await reg.resolve("doc"), rec(4, "22", idB));
  const alone = new NameRegistry({ store, nodeId: "01", peers: () => [], timeoutMs: 1000 });
  assert.deepEqual(await alone.resolve("doc"), rec(4, "22", idB));
});

Deno.test("resolve_survives_failing_peers_and_reports_unknown_names", async () => {
  const bad = new FakePeer("33");
  bad.failWith = new Error("boom");
  const errors: string[] = [];
  const reg = new NameRegistry({
    store: new MemStore(),
    nodeId: "01",
    peers: () => [bad],
    timeoutMs: 1000,
    onPeerError: (n) => errors.push(n),
  });
  await assert.rejects(reg.resolve("nope"), { code: "NOT_FOUND" });
  assert.deepEqual(errors, ["33"]);
});

Deno.test("offer_keeps_only_newer_records", async () => {
  const reg = new NameRegistry({
    store: new MemStore(),
    nodeId: "01",
    peers: () => [],
    timeoutMs: 1,
  });
  await reg.offer(rec(3, "aa"));
  assert.deepEqual(await reg.offer(rec(2, "ff", idB)), rec(3, "aa"));
  assert.deepEqual(await reg.offer(rec(3, "ab", idB)), rec(3, "ab", idB));
  const all = [];
  for await (const r of reg.list()) all.push(r);
  assert.deepEqual(all, [rec(3, "ab", idB)]);
});

Deno.test("concurrent_offers_keep_the_winner_whatever_the_arrival_order", async () => {
  const reg = new NameRegistry({
    store: new MemStore(),
    nodeId: "01",
    peers: () => [],
    timeoutMs: 1,
  });
  const records = [rec(1, "aa"), rec(1, "ff", idB), rec(1, "0b")];
  await Promise.all(records.map((r) => reg.offer(r)));
  assert.deepEqual(await reg.local("doc"), rec(1, "ff", idB));
});
