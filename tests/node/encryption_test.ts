import assert from "node:assert/strict";
import { Node } from "../../src/node/node.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { convergentKey, parseCapability, putFile, TAG_SIZE } from "../../src/file/mod.ts";
import { randomBytes, readAll } from "./cluster.ts";
import { ContentId } from "../../src/id/content_id.ts";

const BS = 1024;
const P = BS - TAG_SIZE;

/** A small cluster whose nodes' file systems stay reachable, to scan their disks. */
async function diskCluster(n: number) {
  const network = new MemoryNetwork();
  const nodes: Node[] = [];
  const runtimes: Runtime[] = [];
  for (let i = 0; i < n; i++) {
    const runtime = memoryRuntime({ network });
    runtimes.push(runtime);
    nodes.push(
      await Node.start({
        runtime,
        dataDir: `/node${i}`,
        listen: { hostname: `10.0.3.${i + 1}`, port: 4000 },
        bootstrap: nodes.map((x) => x.address),
        blockSize: BS,
        durability: "none",
        timeouts: { requestMs: 5000 },
        peer: { heartbeatIntervalMs: 200, deadAfterMs: 1500, backoffBaseMs: 50, backoffMaxMs: 500 },
      }),
    );
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const counts = await Promise.all(nodes.map(async (x) => (await x.status()).peers));
    if (counts.every((c) => c >= n - 1)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    nodes,
    /** Every file under every node's data directory, with its bytes. */
    async *files(): AsyncGenerator<{ path: string; bytes: Uint8Array }> {
      for (let i = 0; i < n; i++) {
        const fs = runtimes[i].fs;
        const walk = async function* (dir: string): AsyncGenerator<string> {
          for await (const e of fs.readDir(dir)) {
            const path = `${dir}/${e.name}`;
            if (e.isDirectory) yield* walk(path);
            else if (e.isFile) yield path;
          }
        };
        for await (const path of walk(`/node${i}`)) yield { path, bytes: await fs.readFile(path) };
      }
    },
    close: () => Promise.all(nodes.map((x) => x.close())),
  };
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function text(stream: ReadableStream<Uint8Array>) {
  return await readAll(stream);
}

Deno.test({
  name: "encrypted_files_round_trip_through_a_cluster_with_replicas_and_rs",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const c = await diskCluster(6);
    try {
      const [a, , , , , f] = c.nodes;
      for (const redundancy of ["replicas:2", "rs:4+2"]) {
        for (const size of [0, 1, P - 1, P, P + 1, 13 * P + 77]) {
          const data = randomBytes(size, size + 1);
          const put = await a.put(data, { redundancy });
          assert.ok(put.capability, "an encrypted put returns its capability");
          assert.equal(parseCapability(put.capability).id.toString(), put.id);
          const got = await f.get(put.capability);
          assert.equal(got.id, put.id);
          assert.equal(got.size, size);
          assert.deepEqual(await text(got.stream), data, `${redundancy} size ${size}`);
          const stat = await f.stat(put.capability);
          assert.equal(stat.size, size);
          assert.equal(stat.encrypted, true);
          assert.equal(stat.capability, put.capability);
          // by id alone: stat works (sizes are no secret to holders), reading does not
          assert.equal((await f.stat(put.id)).encrypted, true);
          assert.equal((await f.stat(put.id)).capability, undefined);
          await assert.rejects(f.get(put.id), { code: "CAPABILITY_REQUIRED" });
          if (size === 0) continue;
          const wrong = `dfs:r:${put.id}:${"A".repeat(42)}E`;
          await assert.rejects(f.get(wrong), { code: "WRONG_KEY" });
          await assert.rejects(f.get(put.capability.slice(0, -2)), { code: "BAD_CAPABILITY" });
          // a range across a block edge, on plaintext offsets
          const start = Math.max(0, Math.min(P - 3, size - 1));
          const r = await f.get(put.capability, { range: { start, end: start + 10 } });
          assert.deepEqual(
            await text(r.stream),
            data.subarray(start, Math.min(size, start + 11)),
          );
        }
      }
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name: "holders_of_an_encrypted_file_store_none_of_its_plaintext",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const c = await diskCluster(6);
    try {
      const marker = new TextEncoder().encode("PLAINTEXT-MARKER-dfs-issue-10;");
      const data = new Uint8Array(40 * BS).map((_, i) => marker[i % marker.length]);
      const needle = marker.subarray(0, 16);
      const rep = await c.nodes[0].put(data, { copies: 3 });
      const rs = await c.nodes[1].put(data, { redundancy: "rs:4+2" });
      let scanned = 0;
      for await (const { path, bytes } of c.files()) {
        scanned++;
        assert.equal(contains(bytes, needle), false, `${path} holds plaintext`);
      }
      assert.ok(scanned > 40, `scanned ${scanned} files`);
      // the files are really there and readable with their capabilities
      assert.deepEqual(await text((await c.nodes[5].get(rep.capability!)).stream), data);
      assert.deepEqual(await text((await c.nodes[4].get(rs.capability!)).stream), data);
      // and the scan would have seen a public file
      await c.nodes[2].put(data, { encrypt: false, copies: 1 });
      let seen = false;
      for await (const { bytes } of c.files()) seen ||= contains(bytes, needle);
      assert.ok(seen, "the scan finds the marker of a public file");
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name: "convergent_puts_give_the_same_id_and_share_blocks_public_files_unchanged",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const c = await diskCluster(3);
    try {
      const [a, b] = c.nodes;
      const data = randomBytes(7 * P + 5, 77);
      const one = await a.put(data, { encrypt: "convergent", copies: 1 });
      const before = (await a.status()).store.count;
      const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream();
      const key = await convergentKey(data);
      const two = await a.put(stream, { encrypt: "convergent", convergentKey: key, copies: 1 });
      assert.equal(two.id, one.id);
      assert.equal(two.capability, one.capability);
      assert.equal((await a.status()).store.count, before, "no new block");
      // Another node: the same ciphertext blocks, but its own root (it owns its put, and the
      // owner is part of the root), so another id; the same key either way.
      const three = await b.put(data, { encrypt: "convergent", copies: 1 });
      assert.notEqual(three.id, one.id);
      assert.equal(three.capability!.split(":")[3], one.capability!.split(":")[3]);
      assert.deepEqual(await text((await b.get(one.capability!)).stream), data);
      // a stream without its key is refused; a wrong key fails the put
      await assert.rejects(
        a.put(new Blob([data as Uint8Array<ArrayBuffer>]).stream(), { encrypt: "convergent" }),
        { code: "INVALID_ARGUMENT" },
      );
      await assert.rejects(
        a.put(randomBytes(100, 1), { encrypt: "convergent", convergentKey: key }),
        { code: "CONVERGENT_KEY_MISMATCH" },
      );
      // random keys: the same bytes twice are two files
      const r1 = await a.put(data, { copies: 1 });
      const r2 = await a.put(data, { copies: 1 });
      assert.notEqual(r1.id, r2.id);
      // public and ownerless: the plaintext file id of the file layer, readable by id, no
      // capability
      const pub = await a.put(data, { encrypt: false, owner: false, copies: 1 });
      assert.equal(pub.capability, undefined);
      const local = await putFile(data, { putBlock: (x) => ContentId.of(x) }, {
        blockSize: BS,
        redundancy: { kind: "replicas", min: 1, max: 1 },
      });
      assert.equal(pub.id, local.id.toString());
      assert.deepEqual(await text((await b.get(pub.id)).stream), data);
      assert.equal((await b.stat(pub.id)).encrypted, undefined);
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name: "a_name_maps_to_the_capability_only_when_the_publisher_shares_the_key",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const c = await diskCluster(3);
    try {
      const [a, b] = c.nodes;
      const data = randomBytes(3000, 5);
      const hidden = await a.put(data, { name: "hidden", copies: 2 });
      const rec = await b.resolveName("hidden");
      assert.equal(rec.id, hidden.id);
      assert.equal(rec.capability, undefined);
      await assert.rejects(b.get("hidden"), { code: "CAPABILITY_REQUIRED" });
      const shared = await a.put(data, { name: "shared", shareKey: true, copies: 2 });
      const rec2 = await b.resolveName("shared");
      assert.equal(rec2.capability, shared.capability);
      assert.deepEqual(await text((await b.get("shared")).stream), data);
      assert.equal((await b.stat("shared")).capability, shared.capability);
      await assert.rejects(a.put(data, { name: shared.capability! }), { code: "INVALID_ARGUMENT" });
    } finally {
      await c.close();
    }
  },
});
