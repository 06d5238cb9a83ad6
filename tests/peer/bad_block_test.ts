/**
 * One hash pass per remote block (`blocks/2`, BAD_BLOCK): a holder sends a whole block to a peer
 * that verifies on arrival without hashing it first; the receiver reports a mismatch, the holder
 * verifies its own copy and quarantines it only when it is really bad, at a bounded rate.
 *
 * The holder side is the node's real service (`serveBlocks`) over a real `FsBlockStore` on the
 * in-memory file system; its reads are recorded to see which ones skipped the hash.
 */
import assert from "node:assert/strict";
import type { ContentId } from "../../src/id/content_id.ts";
import { BLOCKS_VERIFY_CAPABILITY } from "../../src/peer/block_service.ts";
import { PeerCorruptDataError, PeerRemoteError } from "../../src/peer/errors.ts";
import { BadBlockReports } from "../../src/node/bad_block_reports.ts";
import { serveBlocks, type ServeBlocksHost } from "../../src/node/serve_blocks.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import type { BlockStore, ReadOptions, StoreKey } from "../../src/store/types.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import { rotEntryOnDisk } from "../util/rot_entry.ts";
import { peerPair } from "./helpers.ts";

const SEED = testSeed(0xbadb);
const BS = 8 * 1024;
const BOTH = ["blocks/1", BLOCKS_VERIFY_CAPABILITY];

/** A holder: an FsBlockStore whose reads are recorded, served by the node's serveBlocks. */
async function holder(reports = new BadBlockReports()) {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/h", durability: "none" });
  const reads: { key: string; verify: boolean }[] = [];
  const recorded = new Proxy(store, {
    get(target, prop) {
      if (prop === "readBytes") {
        return (key: StoreKey, options?: ReadOptions) => {
          reads.push({ key: String(key), verify: options?.verify !== false });
          return target.readBytes(key, options);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as BlockStore;
  const host = {
    store: recorded,
    blocks: {},
    index: {},
    tombstones: {},
    blockSize: BS,
    dht: () => undefined,
    upkeep: () => undefined,
    reports,
  } as unknown as ServeBlocksHost;
  return { fs, store, reads, service: serveBlocks(host) };
}

async function putBlock(store: FsBlockStore, seed: number): Promise<[ContentId, Uint8Array]> {
  const bytes = makeRng(seed).bytes(BS);
  const id = await store.put(bytes);
  return [id, bytes];
}

Deno.test("holder_serves_a_rotten_block_unverified_the_receiver_reports_and_the_holder_quarantines_it", async () => {
  const h = await holder();
  const [good, goodBytes] = await putBlock(h.store, SEED);
  const [bad, badBytes] = await putBlock(h.store, SEED + 1);
  await rotEntryOnDisk(h.fs, h.store.root, badBytes, 3, 0x10);
  const { a, b } = await peerPair({ service: h.service, capabilities: BOTH });
  try {
    assert.deepEqual(await a.getBlock(good), goodBytes);
    const err = await a.getBlock(bad).then(() => null, (e) => e);
    assert.ok(err instanceof PeerRemoteError, `rejected with ${err}`);
    assert.equal(err.wireCode, WireErrorCode.CORRUPT, "the holder confirmed its copy was rotten");
    // Both GETs were read without the hash; the report made the holder verify (and quarantine).
    assert.deepEqual(h.reads.map((r) => r.verify), [false, false, true]);
    assert.equal(await h.store.quarantined(), 1);
    assert.equal(await h.store.has(bad), false);
    assert.equal(await h.store.has(good), true);
    assert.deepEqual(await a.has([bad, good]), [false, true]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("holder_verifies_what_it_sends_to_a_peer_without_blocks_2_and_every_range", async () => {
  const h = await holder();
  const [id, bytes] = await putBlock(h.store, SEED + 2);
  const [bad, badBytes] = await putBlock(h.store, SEED + 3);
  await rotEntryOnDisk(h.fs, h.store.root, badBytes, 3, 0x10);
  // Only the holder (b) announces blocks/2: the receiver (a) would not report, so b verifies.
  const old = await peerPair({ service: h.service, capabilities: ["blocks/1"] });
  try {
    assert.deepEqual(await old.a.getBlock(id), bytes);
    const err = await old.a.getBlock(bad).then(() => null, (e) => e);
    assert.ok(err instanceof PeerRemoteError && err.wireCode === WireErrorCode.CORRUPT);
    assert.deepEqual(h.reads.map((r) => r.verify), [true, true]);
    await assert.rejects(
      old.a.reportBadBlock(id),
      PeerRemoteError,
      "no BAD_BLOCK to a blocks/1 peer",
    );
  } finally {
    await Promise.all([old.a.close(), old.b.close()]);
  }
  h.reads.length = 0;
  const { a, b } = await peerPair({ service: h.service, capabilities: BOTH });
  try {
    let got = 0;
    const answer = await a.request(
      { type: MessageType.GET_BLOCK, id: id.bytes, range: { offset: 10, length: 100 } },
      { onData: (chunk) => void (got += chunk.length) },
    );
    assert.equal(answer.type, MessageType.BLOCK);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(h.reads.map((r) => r.verify), [true], "a range is verified by the holder");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("a_false_report_of_a_good_block_never_drops_it_and_reports_are_rate_limited", async () => {
  let now = 1_000_000;
  const reports = new BadBlockReports({
    perPeerPerSecond: 1,
    perPeerBurst: 3,
    totalPerSecond: 100,
    totalBurst: 100,
    now: () => now,
  });
  const h = await holder(reports);
  const [id, bytes] = await putBlock(h.store, SEED + 4);
  const logs: string[] = [];
  const { a, b } = await peerPair({
    service: h.service,
    capabilities: BOTH,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  try {
    // A hostile receiver says a good block is bad: the holder checks, keeps it, says so.
    for (let i = 0; i < 3; i++) assert.equal(await a.reportBadBlock(id), false, `report ${i}`);
    assert.equal(h.reads.length, 3, "each report within the rate costs one verified read");
    assert.ok(h.reads.every((r) => r.verify));
    // Over the rate: refused without reading anything.
    for (let i = 0; i < 5; i++) {
      const err = await a.reportBadBlock(id).then(() => null, (e) => e);
      assert.ok(err instanceof PeerRemoteError && err.wireCode === WireErrorCode.LIMIT, `${err}`);
    }
    assert.equal(h.reads.length, 3, "refused reports read nothing");
    now += 1000; // one more check per second
    assert.equal(await a.reportBadBlock(id), false);
    assert.equal(h.reads.length, 4);
    assert.equal(await h.store.quarantined(), 0);
    assert.equal(await h.store.has(id), true);
    assert.deepEqual(await a.getBlock(id), bytes, "still served");
    assert.ok(logs.some((l) => l.includes("our copy verifies")), logs.join("\n"));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("a_receiver_whose_report_is_refused_still_rejects_the_bad_bytes", async () => {
  // Bucket empty from the start: the holder answers every report LIMIT.
  const reports = new BadBlockReports({ perPeerPerSecond: 0.001, perPeerBurst: 1 });
  reports.take("x"); // (another peer's bucket: does not matter)
  const h = await holder(reports);
  const ids: ContentId[] = [];
  for (let i = 0; i < 3; i++) {
    const [id, bytes] = await putBlock(h.store, SEED + 10 + i);
    await rotEntryOnDisk(h.fs, h.store.root, bytes, 3, 0x10);
    ids.push(id);
  }
  const { a, b } = await peerPair({ service: h.service, capabilities: BOTH });
  try {
    const first = await a.getBlock(ids[0]).then(() => null, (e) => e);
    assert.ok(first instanceof PeerRemoteError && first.wireCode === WireErrorCode.CORRUPT);
    // The burst of 1 is spent: later reports are refused, the bytes are still refused.
    for (const id of ids.slice(1)) {
      await assert.rejects(a.getBlock(id), PeerCorruptDataError);
    }
    assert.equal(await h.store.quarantined(), 1, "only the checked copy was quarantined");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
