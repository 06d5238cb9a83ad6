/** A node with `maxStoreBytes`: its puts fail with STORE_FULL (507 through the API) and the
 * blocks peers push to it are refused, so their puts report fewer copies; nothing is lost. */

import assert from "node:assert/strict";
import { createApiHandler } from "../../src/api/handler.ts";
import { Node } from "../../src/node/node.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { StoreFullError } from "../../src/store/errors.ts";
import { MessageType } from "../../src/wire/messages.ts";
import { randomBytes, readAll } from "./cluster.ts";

Deno.test({
  name: "a_full_node_refuses_puts_and_peers_blocks_and_the_cluster_keeps_working",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const network = new MemoryNetwork();
    const a = await Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: "/a",
      listen: "10.0.0.1:4000",
      durability: "none",
      blockSize: 64 * 1024,
    });
    const b = await Node.start({
      runtime: memoryRuntime({ network }),
      dataDir: "/b",
      listen: "10.0.0.2:4000",
      bootstrap: ["10.0.0.1:4000"],
      durability: "none",
      maxStoreBytes: 100 * 1024,
    });
    try {
      await assert.rejects(
        Node.start({ runtime: memoryRuntime(), dataDir: "/c", maxStoreBytes: -5 }),
        /maxStoreBytes must be a non-negative integer/,
      );
      assert.equal((await b.status()).store.maxBytes, 100 * 1024);
      assert.equal((await a.status()).store.maxBytes, undefined);
      // A's put wants 2 copies; B has room for none of a 1 MiB file: 1 copy, no failure.
      const data = randomBytes(1024 * 1024, 7);
      const put = await a.put(data, { encrypt: false, copies: 2 });
      assert.equal(put.copies, 1);
      assert.deepEqual(await readAll((await b.get(put.id)).stream), data);
      // B's own put of the same size is refused, through the library and the API.
      await assert.rejects(b.put(randomBytes(1024 * 1024, 8)), StoreFullError);
      const api = createApiHandler(b);
      const res = await api(
        new Request("http://b/api/v1/files", {
          method: "POST",
          body: randomBytes(512 * 1024, 9) as Uint8Array<ArrayBuffer>,
        }),
      );
      assert.equal(res.status, 507);
      assert.equal((await res.json()).error.code, "STORE_FULL");
      // Small files still fit.
      const small = await b.put(new TextEncoder().encode("still room for this"), {
        encrypt: false,
        copies: 1,
      });
      assert.equal(small.copies, 1);
    } finally {
      await b.close();
      await a.close();
    }
  },
});

Deno.test({
  name: "a_failed_put_takes_its_blocks_out_and_spares_those_others_use",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const node = await Node.start({
      runtime: memoryRuntime(),
      dataDir: "/n",
      durability: "none",
      blockSize: 64 * 1024,
      maxStoreBytes: 1024 * 1024,
    });
    try {
      const kept = randomBytes(256 * 1024, 1);
      const first = await node.put(kept, { encrypt: false, copies: 1 });
      const before = await node.status();
      // Too big for what is left: refused part way, its blocks taken out again; the blocks it
      // shares with the stored file (its first 256 KiB) stay.
      const big = new Uint8Array(2 * 1024 * 1024);
      big.set(kept);
      big.set(randomBytes(big.length - kept.length, 2), kept.length);
      await assert.rejects(node.put(big, { encrypt: false, copies: 1 }), StoreFullError);
      assert.deepEqual((await node.status()).store, before.store);
      assert.deepEqual(await readAll((await node.get(first.id)).stream), kept);
      // The room is back: a put that fits works.
      const next = await node.put(randomBytes(512 * 1024, 3), { encrypt: false, copies: 1 });
      assert.equal(next.copies, 1);
      // A cancelled put leaves nothing either.
      const stats = (await node.status()).store;
      const stop = new AbortController();
      let chunks = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(randomBytes(64 * 1024, 100 + chunks));
          if (++chunks === 3) stop.abort();
        },
      });
      await assert.rejects(node.put(endless, { encrypt: false, copies: 1, signal: stop.signal }));
      assert.deepEqual((await node.status()).store, stats);
    } finally {
      await node.close();
    }
  },
});

Deno.test({
  name: "a_failed_put_spares_the_blocks_of_a_put_under_way",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const runtime = memoryRuntime();
    const inner = await FsBlockStore.open({
      fs: runtime.fs,
      root: "/n/blocks",
      durability: "none",
    });
    // Counts the block writes the node makes (a put's blocks are written under their ids).
    let puts = 0;
    const store = new Proxy(inner, {
      get(target, prop) {
        if (prop === "write") {
          return async (...args: Parameters<typeof inner.write>) => {
            const info = await target.write(...args);
            puts++;
            return info;
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const node = await Node.start({
      runtime,
      dataDir: "/n",
      durability: "none",
      blockSize: 64 * 1024,
      store,
    });
    const until = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(check(), what);
    };
    try {
      const shared = randomBytes(256 * 1024, 4);
      // Put 1 writes the 4 shared blocks, then waits before its last bytes.
      let release!: () => void;
      const gate = new Promise<void>((r) => release = r);
      let sent = 0;
      const slow = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (sent++ === 0) return c.enqueue(shared);
          await gate;
          c.enqueue(randomBytes(64 * 1024, 5));
          c.close();
        },
      });
      const one = node.put(slow, { encrypt: false, copies: 1 });
      await until(() => puts >= 4, "put 1 wrote the shared blocks");
      // Put 2 writes the same 4 blocks, then its client goes away.
      let pulled = 0;
      const failing = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (pulled++ === 0) return c.enqueue(shared.slice());
          await until(() => puts >= 8, "put 2 wrote the shared blocks");
          c.error(new Error("the client went away"));
        },
      });
      await assert.rejects(
        node.put(failing, { encrypt: false, copies: 1 }),
        /the client went away/,
      );
      release();
      const put = await one;
      const want = new Uint8Array(shared.length + 64 * 1024);
      want.set(shared);
      want.set(randomBytes(64 * 1024, 5), shared.length);
      assert.deepEqual(await readAll((await node.get(put.id)).stream), want);
    } finally {
      await node.close();
    }
  },
});

// ---- a failed put's cleanup against puts and pushes of the same blocks (found in review)

const BS = 64 * 1024;
const tick = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));

/** A node over a store whose block writes can be held once the file is in place, and whose deletes
 * can be slowed down. */
async function hookedNode(hooks: {
  afterPut?: (id: ContentId) => Promise<void>;
  beforeDelete?: () => Promise<void>;
}) {
  const runtime = memoryRuntime();
  const inner = await FsBlockStore.open({ fs: runtime.fs, root: "/n/blocks", durability: "none" });
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "write") {
        return async (...args: Parameters<typeof inner.write>) => {
          const info = await target.write(...args);
          await hooks.afterPut?.(info.id);
          return info;
        };
      }
      if (prop === "delete") {
        return async (key: Parameters<typeof inner.delete>[0]) => {
          await hooks.beforeDelete?.();
          return target.delete(key);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const node = await Node.start({
    runtime,
    dataDir: "/n",
    durability: "none",
    blockSize: BS,
    store,
  });
  return { node, inner };
}

/** A body that sends `data`, waits for `ready`, then fails like a client that went away. */
function failingAfter(data: Uint8Array, ready: () => Promise<void>) {
  let n = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (n++ === 0) return c.enqueue(data.slice());
      await ready();
      c.error(new Error("client went away"));
    },
  });
}

const q = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });

q("a_failed_put_spares_a_block_another_put_wrote_but_has_not_returned_from", async () => {
  const shared = randomBytes(BS, 11);
  const sharedId = await ContentId.of(shared);
  let hold = false;
  let held = false;
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const { node, inner } = await hookedNode({
    afterPut: async (id) => {
      if (hold && id.equals(sharedId)) {
        hold = false;
        held = true;
        await gate; // the other put's block is on disk; its store.put has not returned
      }
    },
  });
  try {
    let failNow!: () => void;
    const failGate = new Promise<void>((r) => failNow = r);
    const b = node.put(failingAfter(shared, () => failGate), { encrypt: false, copies: 1 });
    for (let i = 0; i < 500 && !(await inner.has(sharedId)); i++) await tick(2);
    hold = true;
    const a = node.put(shared.slice(), { encrypt: false, copies: 1 });
    for (let i = 0; i < 500 && !held; i++) await tick(2);
    assert.ok(held, "the other put is inside its write");
    failNow();
    release();
    await assert.rejects(b, /client went away/);
    const put = await a;
    assert.deepEqual(await readAll((await node.get(put.id)).stream), shared);
  } finally {
    await node.close();
  }
});

q("a_failed_put_spares_a_block_a_put_indexed_during_its_cleanup", async () => {
  const data = randomBytes(8 * BS, 21);
  const last = data.slice(7 * BS);
  let deletes = 0;
  const { node } = await hookedNode({
    beforeDelete: async () => {
      deletes++;
      await tick(10);
    },
  });
  try {
    const b = node.put(failingAfter(data, () => tick(10)), { encrypt: false, copies: 1 });
    const bDone = assert.rejects(b, /client went away/);
    for (let i = 0; i < 500 && deletes < 1; i++) await tick(2);
    assert.ok(deletes >= 1, "the failed put's cleanup started");
    // Meanwhile a file that is that put's last block is written, indexed and settled.
    const c = await node.put(last.slice(), { encrypt: false, copies: 1 });
    await bDone;
    assert.deepEqual(await readAll((await node.get(c.id)).stream), last);
  } finally {
    await node.close();
  }
});

q("a_failed_put_spares_a_block_that_was_stored_before_it", async () => {
  const { node, inner } = await hookedNode({});
  try {
    // As a peer's PUT_BLOCK would leave it: the block is here, its file's root not yet.
    const block = randomBytes(BS, 31);
    const id = await ContentId.of(block);
    await inner.write(id, block);
    await assert.rejects(
      node.put(failingAfter(block, () => tick(20)), { encrypt: false, copies: 1 }),
      /client went away/,
    );
    assert.ok(await inner.has(id), "the failed put deleted a block it did not create");
  } finally {
    await node.close();
  }
});

q("a_put_that_writes_a_block_while_a_failed_put_deletes_it_keeps_it", async () => {
  const block = randomBytes(BS, 41);
  let pause = false;
  let paused = false;
  let resume!: () => void;
  const gate = new Promise<void>((r) => resume = r);
  const { node } = await hookedNode({
    beforeDelete: async () => {
      if (!pause) return;
      pause = false;
      paused = true;
      await gate; // the cleanup decided to delete the block and is about to
    },
  });
  try {
    let failNow!: () => void;
    const failGate = new Promise<void>((r) => failNow = r);
    const x = node.put(failingAfter(block, () => failGate), { encrypt: false, copies: 1 });
    const xDone = assert.rejects(x, /client went away/);
    await tick(20);
    pause = true;
    failNow();
    for (let i = 0; i < 500 && !paused; i++) await tick(2);
    assert.ok(paused, "the cleanup is deleting the block");
    // Another put of the same bytes now: it must not land between that decision and the delete.
    const y = node.put(block.slice(), { encrypt: false, copies: 1 });
    await tick(20);
    resume();
    await xDone;
    const put = await y;
    assert.deepEqual(await readAll((await node.get(put.id)).stream), block);
  } finally {
    await node.close();
  }
});

q("max_store_bytes_with_a_store_of_ones_own_is_refused", async () => {
  const runtime = memoryRuntime();
  const store = await FsBlockStore.open({ fs: runtime.fs, root: "/x", durability: "none" });
  await assert.rejects(
    Node.start({ runtime, dataDir: "/n", store, maxStoreBytes: 1024 }),
    /give your own store its maxBytes instead/,
  );
  await store.close();
});

/** A body that sends `first`, then waits until `fail` is called and errors with it. */
function controlled(first: Uint8Array) {
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, rej) => (fail = rej));
  failed.catch(() => {});
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!sent) {
        sent = true;
        return c.enqueue(first);
      }
      try {
        await failed;
      } catch (e) {
        c.error(e);
      }
    },
  });
  return { stream, fail };
}

async function untilCount(node: Node, n: number): Promise<void> {
  for (let i = 0; i < 1000 && (await node.status()).store.count < n; i++) await tick(2);
  assert.ok((await node.status()).store.count >= n, `the store holds ${n} entries`);
}

q("two_failed_puts_sharing_a_block_leave_nothing_behind", async () => {
  const node = await Node.start({
    runtime: memoryRuntime(),
    dataDir: "/n",
    durability: "none",
    blockSize: BS,
  });
  try {
    const block = randomBytes(BS, 51);
    const a = controlled(block.slice());
    const pa = node.put(a.stream, { encrypt: false, copies: 1 });
    pa.catch(() => {});
    await untilCount(node, 1); // A created the block
    const b = controlled(block.slice());
    const pb = node.put(b.stream, { encrypt: false, copies: 1 });
    pb.catch(() => {});
    await tick(20); // B wrote it too (it was there: B did not create it)
    a.fail(new Error("A cancelled"));
    await assert.rejects(pa, /A cancelled/);
    b.fail(new Error("B cancelled"));
    await assert.rejects(pb, /B cancelled/);
    assert.deepEqual((await node.status()).store, { count: 0, bytes: 0 });
  } finally {
    await node.close();
  }
});

/** A started peer manager on host 10.0.0.9 (not a node): `setup` runs before it starts. */
async function barePeer(
  network: MemoryNetwork,
  setup?: (m: PeerManager) => void,
  listen?: { hostname: string; port: number },
): Promise<PeerManager> {
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network: network.host("10.0.0.9"),
    ...(listen ? { listen } : {}),
    service: new MemoryBlockService(),
    log: () => {},
  });
  setup?.(m);
  await m.start();
  return m;
}

q("a_failed_put_spares_a_block_a_peer_pushed_while_it_ran", async () => {
  const network = new MemoryNetwork();
  const b = await Node.start({
    runtime: memoryRuntime({ network }),
    dataDir: "/b",
    listen: "10.0.0.2:4000",
    durability: "none",
    blockSize: BS,
  });
  // A bare peer that pushes one data block, as a replication does before its root arrives.
  const pusher = await barePeer(network);
  try {
    const block = randomBytes(BS, 61);
    const id = await ContentId.of(block);
    // B's own put of the same bytes creates the block first, the peer's push lands while that
    // put runs, then the put fails: the pushed block must stay (its root may be on the way).
    const mine = controlled(block.slice());
    const failing = b.put(mine.stream, { encrypt: false, copies: 1 });
    failing.catch(() => {});
    await untilCount(b, 1);
    const conn = await pusher.connect(b.address);
    await conn.putBlock(id, block);
    mine.fail(new Error("client went away"));
    await assert.rejects(failing, /client went away/);
    assert.deepEqual((await b.status()).store, { count: 1, bytes: BS });
  } finally {
    await pusher.shutdown();
    await b.close();
  }
});

q("a_block_a_peer_pushes_is_stored_without_hashing_it_again", async () => {
  const network = new MemoryNetwork();
  const runtime = memoryRuntime({ network });
  const inner = await FsBlockStore.open({ fs: runtime.fs, root: "/b/blocks", durability: "none" });
  const writes: { key: string; hashed?: string }[] = [];
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "write") {
        return (...args: Parameters<typeof inner.write>) => {
          writes.push({ key: String(args[0]), hashed: args[2]?.hashed?.toString() });
          return target.write(...args);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const b = await Node.start({ runtime, dataDir: "/b", listen: "10.0.0.2:4000", store });
  const pusher = await barePeer(network);
  try {
    const block = randomBytes(BS, 71);
    const id = await ContentId.of(block);
    await (await pusher.connect(b.address)).putBlock(id, block);
    // The connection verified the bytes; the store takes its id instead of hashing again.
    assert.deepEqual(writes.filter((w) => w.key === id.toString()), [
      { key: id.toString(), hashed: id.toString() },
    ]);
  } finally {
    await pusher.shutdown();
    await b.close();
  }
});

q("a_peer_that_never_answers_a_push_times_out_and_the_put_reports_fewer_copies", async () => {
  const network = new MemoryNetwork();
  // A peer that takes every PUT_BLOCK and never answers (its HAS says it lacks everything).
  const silent = await barePeer(network, (m) => {
    m.handle(MessageType.PUT_BLOCK, () => new Promise(() => {}));
  }, { hostname: "10.0.0.9", port: 4000 });
  const a = await Node.start({
    runtime: memoryRuntime({ network }),
    dataDir: "/a",
    listen: "10.0.0.1:4000",
    bootstrap: ["10.0.0.9:4000"],
    durability: "none",
    timeouts: { requestMs: 300 },
  });
  try {
    const t0 = performance.now();
    const put = await a.put(randomBytes(BS, 81), { encrypt: false, copies: 2 });
    assert.equal(put.copies, 1, "the silent peer did not count");
    assert.ok(performance.now() - t0 < 20_000, "the push was not timed out");
  } finally {
    await a.close();
    await silent.shutdown(200);
  }
});
