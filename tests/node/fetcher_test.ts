import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { BlockFetcher } from "../../src/node/fetcher.ts";
import { FakePeer, MemStore } from "./fakes.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { rotEntryOnDisk } from "../util/rot_entry.ts";
import { AbortedError } from "../../src/errors.ts";
import type { RemoteCallOptions } from "../../src/node/remote.ts";

const enc = new TextEncoder();

async function block(text: string): Promise<{ id: ContentId; bytes: Uint8Array }> {
  const bytes = enc.encode(text);
  return { id: await ContentId.of(bytes), bytes };
}

Deno.test("fetcher_reads_local_blocks_without_asking_peers", async () => {
  const store = new MemStore();
  const { id, bytes } = await block("local");
  await store.write(id, bytes);
  const peer = new FakePeer("aa");
  const f = new BlockFetcher({ store, peers: () => [peer], timeoutMs: 1000 });
  assert.deepEqual(await f.getBlock(id), bytes);
  assert.equal(peer.hasCalls + peer.gets, 0);
});

Deno.test("fetcher_asks_has_then_reuses_known_holders", async () => {
  const store = new MemStore();
  const a = new FakePeer("aa");
  const b = new FakePeer("bb");
  const blocks = await Promise.all(["x", "y", "z"].map(block));
  for (const { id, bytes } of blocks) await b.store.write(id, bytes);
  const f = new BlockFetcher({ store, peers: () => [a, b], timeoutMs: 1000 });
  for (const { id, bytes } of blocks) assert.deepEqual(await f.getBlock(id), bytes);
  assert.equal(b.hasCalls, 1, "HAS asked once, then the holder is reused");
  assert.equal(b.gets, 3);
  assert.equal(a.gets, 0);
  assert.equal(store.map.size, 0, "no caching by default");
});

Deno.test("fetcher_spreads_concurrent_reads_across_holders", async () => {
  const a = new FakePeer("aa");
  const b = new FakePeer("bb");
  const blocks = await Promise.all(Array.from({ length: 8 }, (_, i) => block(`b${i}`)));
  for (const { id, bytes } of blocks) {
    await a.store.write(id, bytes);
    await b.store.write(id, bytes);
  }
  const f = new BlockFetcher({ store: new MemStore(), peers: () => [a, b], timeoutMs: 1000 });
  await f.getBlock(blocks[0].id);
  await Promise.all(blocks.slice(1).map((x) => f.getBlock(x.id)));
  assert.ok(a.gets > 0 && b.gets > 0, `a=${a.gets} b=${b.gets}`);
});

Deno.test("fetcher_discards_a_corrupt_block_and_reports_the_holder", async () => {
  const a = new FakePeer("aa");
  const b = new FakePeer("bb");
  const { id, bytes } = await block("precious");
  await a.store.write(id, bytes);
  await b.store.write(id, bytes);
  a.corrupt.add(id.toString());
  b.corrupt.add(id.toString());
  const bad: string[] = [];
  const store = new MemStore();
  const f = new BlockFetcher({
    store,
    peers: () => [a, b],
    timeoutMs: 1000,
    cache: true,
    onBadBlock: (n) => bad.push(n),
  });
  await assert.rejects(f.getBlock(id), { code: "NOT_FOUND" });
  assert.deepEqual(bad.sort(), ["aa", "bb"]);
  b.corrupt.clear();
  const g = new BlockFetcher({ store, peers: () => [a, b], timeoutMs: 1000, cache: true });
  assert.deepEqual(await g.getBlock(id), bytes);
  assert.ok(store.map.has(id.toString()), "cache keeps the verified block");
});

Deno.test("fetcher_falls_back_to_has_when_a_known_holder_lacks_a_block", async () => {
  const a = new FakePeer("aa");
  const b = new FakePeer("bb");
  const x = await block("x");
  const y = await block("y");
  await a.store.write(x.id, x.bytes);
  await b.store.write(y.id, y.bytes);
  const f = new BlockFetcher({ store: new MemStore(), peers: () => [a, b], timeoutMs: 1000 });
  assert.deepEqual(await f.getBlock(x.id), x.bytes);
  assert.deepEqual(await f.getBlock(y.id), y.bytes);
});

Deno.test("fetcher_skips_failing_peers_and_rejects_when_nobody_has_it", async () => {
  const a = new FakePeer("aa");
  a.failWith = new Error("connection reset");
  const { id } = await block("nowhere");
  const f = new BlockFetcher({ store: new MemStore(), peers: () => [a], timeoutMs: 1000 });
  await assert.rejects(f.getBlock(id), { code: "NOT_FOUND" });
});

Deno.test("fetcher_honours_abort", async () => {
  const { id } = await block("q");
  const f = new BlockFetcher({ store: new MemStore(), peers: () => [], timeoutMs: 1000 });
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(f.getBlock(id, { signal: ctl.signal }));
});

Deno.test("fetcher_stops_probing_the_disk_after_repeated_local_misses", async () => {
  const store = new MemStore();
  let reads = 0;
  const readBytes = store.readBytes.bind(store);
  store.readBytes = (k) => {
    reads++;
    return readBytes(k);
  };
  const peer = new FakePeer("aa");
  const blocks = await Promise.all(Array.from({ length: 10 }, (_, i) => block(`m${i}`)));
  for (const { id, bytes } of blocks) await peer.store.write(id, bytes);
  const f = new BlockFetcher({ store, peers: () => [peer], timeoutMs: 1000 });
  for (const { id, bytes } of blocks) assert.deepEqual(await f.getBlock(id), bytes);
  assert.equal(reads, 4);
});

/** A peer whose HAS answers only when its signal aborts (a connection waiting for a slot). */
class StalledPeer extends FakePeer {
  aborted = 0;
  override has(_ids: readonly ContentId[], options?: RemoteCallOptions): Promise<boolean[]> {
    this.hasCalls++;
    return new Promise((_resolve, reject) => {
      const signal = options?.signal;
      if (!signal) return; // never answers: the fetcher must not need it to
      signal.addEventListener("abort", () => {
        this.aborted++;
        reject(new AbortedError("HAS aborted"));
      }, { once: true });
    });
  }
}

Deno.test("fetcher_reads_from_the_first_holder_found_without_waiting_for_a_stalled_has", async () => {
  const stalled = new StalledPeer("aa");
  const holder = new FakePeer("bb");
  const { id, bytes } = await block("wanted by many");
  await holder.store.write(id, bytes);
  // The stalled peer comes first in the batch; the holder answers at once.
  const f = new BlockFetcher({
    store: new MemStore(),
    peers: () => [stalled, holder],
    timeoutMs: 30_000,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const got = await Promise.race([
    f.getBlock(id),
    new Promise<"stalled">((resolve) => timer = setTimeout(() => resolve("stalled"), 2000)),
  ]).finally(() => clearTimeout(timer));
  assert.notEqual(got, "stalled", "the read waited for a HAS that never answered");
  assert.deepEqual(got, bytes);
  assert.equal(holder.gets, 1);
});

Deno.test("fetcher_spreads_later_blocks_over_a_holder_that_answered_has_after_the_first", async () => {
  const quick = new FakePeer("aa");
  let answer!: (present: boolean[]) => void;
  const late = new FakePeer("bb");
  late.has = () => new Promise((resolve) => answer = resolve);
  const blocks = await Promise.all(Array.from({ length: 8 }, (_, i) => block(`late ${i}`)));
  for (const { id, bytes } of blocks) {
    await quick.store.write(id, bytes);
    await late.store.write(id, bytes);
  }
  const f = new BlockFetcher({
    store: new MemStore(),
    peers: () => [quick, late],
    timeoutMs: 1000,
  });
  assert.deepEqual(await f.getBlock(blocks[0].id), blocks[0].bytes);
  assert.equal(quick.gets, 1, "read from the first holder without waiting for the other");
  answer([true]);
  await new Promise((r) => setTimeout(r, 0));
  const rest = await Promise.all(blocks.slice(1).map((x) => f.getBlock(x.id)));
  assert.deepEqual(rest, blocks.slice(1).map((x) => x.bytes));
  assert.ok(
    late.gets > 0,
    `the late holder serves some blocks: quick=${quick.gets} late=${late.gets}`,
  );
});

Deno.test("fetcher_still_asks_every_peer_of_a_batch_when_nobody_holds_the_block", async () => {
  const peers = ["aa", "bb", "cc"].map((n) => new FakePeer(n));
  const { id } = await block("nowhere");
  const f = new BlockFetcher({ store: new MemStore(), peers: () => peers, timeoutMs: 1000 });
  await assert.rejects(f.getBlock(id), { code: "NOT_FOUND" });
  assert.deepEqual(peers.map((p) => p.hasCalls), [1, 1, 1]);
});

Deno.test("fetcher_cancels_the_questions_of_a_batch_when_the_read_is_aborted", async () => {
  const stalled = [new StalledPeer("aa"), new StalledPeer("bb")];
  const { id } = await block("given up");
  const f = new BlockFetcher({ store: new MemStore(), peers: () => stalled, timeoutMs: 30_000 });
  const ctl = new AbortController();
  const read = f.getBlock(id, { signal: ctl.signal });
  await new Promise((r) => setTimeout(r, 10));
  ctl.abort(new AbortedError("reader left"));
  await assert.rejects(read, { code: "ABORTED" });
  assert.deepEqual(stalled.map((p) => p.aborted), [1, 1]);
});

Deno.test("fetcher_waits_for_a_preferred_peer_of_the_batch_before_settling_for_another_holder", async () => {
  const quick = new FakePeer("aa");
  let answer!: (present: boolean[]) => void;
  const preferred = new FakePeer("bb");
  preferred.has = () => new Promise((resolve) => answer = resolve);
  const { id, bytes } = await block("preferred");
  await quick.store.write(id, bytes);
  await preferred.store.write(id, bytes);
  const f = new BlockFetcher({
    store: new MemStore(),
    peers: () => [quick, preferred],
    timeoutMs: 1000,
    prefer: [preferred.nodeId],
  });
  const read = f.getBlock(id);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(quick.gets + preferred.gets, 0, "no block asked before the preferred peer answered");
  answer([true]);
  assert.deepEqual(await read, bytes);
  assert.equal(preferred.gets, 1);
  assert.equal(quick.gets, 0);
});

Deno.test("fetcher_puts_back_a_local_copy_found_corrupt_with_the_verified_bytes_it_fetched", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/n/blocks", durability: "none" });
  const holder = new FakePeer("aa");
  const { id, bytes } = await block("a block this node held, then its disk rotted");
  await store.write(id, bytes);
  await holder.store.write(id, bytes);
  await rotEntryOnDisk(fs, store.root, bytes);
  // Not a cache: only the copy that was this node's comes back.
  const f = new BlockFetcher({ store, peers: () => [holder], timeoutMs: 1000 });
  assert.deepEqual(await f.getBlock(id), bytes);
  assert.equal(holder.gets, 1, "the rotten local copy was not served");
  assert.deepEqual(await store.readBytes(id), bytes, "the good copy is back, verified on read");
  const other = await block("never held here");
  await holder.store.write(other.id, other.bytes);
  assert.deepEqual(await f.getBlock(other.id), other.bytes);
  assert.equal(await store.has(other.id), false, "a block that was not here is not cached");
});
