import assert from "node:assert/strict";
import { createApiHandler } from "../../src/api/handler.ts";
import { CONVERGENT_KEY_HEADER } from "../../src/api/params.ts";
import { convergentKey, formatFileKey, TAG_SIZE } from "../../src/file/mod.ts";
import { Node } from "../../src/node/node.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { randomBytes } from "../util/prng.ts";

const BS = 1024;
const P = BS - TAG_SIZE;

async function withNode(
  fn: (call: (m: string, p: string, i?: RequestInit) => Promise<Response>) => Promise<void>,
) {
  const node = await Node.start({
    runtime: memoryRuntime(),
    dataDir: "/api-node",
    listen: { hostname: "10.0.9.1", port: 4000 },
    blockSize: BS,
    durability: "none",
  });
  const handler = createApiHandler(node);
  try {
    await fn((method, path, init = {}) =>
      handler(new Request(`http://dfs.test/api/v1${path}`, { method, ...init }))
    );
  } finally {
    await node.close();
  }
}

async function code(res: Response): Promise<string> {
  return (await res.json()).error.code;
}

Deno.test({
  name: "api_reads_encrypted_files_by_capability_only",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withNode(async (call) => {
      const data = randomBytes(5 * P + 9, 3);
      const res = await call("POST", "/files?copies=1", { body: data as Uint8Array<ArrayBuffer> });
      assert.equal(res.status, 201);
      const put = await res.json();
      assert.match(put.capability, /^dfs:r:1220[0-9a-f]{64}:[A-Za-z0-9_-]{43}$/);
      assert.equal(
        res.headers.get("location"),
        `/api/v1/files/${encodeURIComponent(put.capability)}`,
      );
      // by id: a clear 403 for GET, HEAD and ranged GET, never ciphertext
      for (
        const [method, headers] of [["GET", {}], ["HEAD", {}], ["GET", {
          range: "bytes=0-9",
        }]] as const
      ) {
        const r = await call(method, `/files/${put.id}`, { headers });
        assert.equal(r.status, 403, `${method} ${JSON.stringify(headers)}`);
        if (method === "GET") assert.equal(await code(r), "CAPABILITY_REQUIRED");
        else await r.body?.cancel();
      }
      // by capability, as is or percent-encoded
      for (const path of [put.capability, encodeURIComponent(put.capability)]) {
        const r = await call("GET", `/files/${path}`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get("cache-control"), "private, max-age=31536000, immutable");
        assert.deepEqual(new Uint8Array(await r.arrayBuffer()), data);
      }
      const ranged = await call("GET", `/files/${put.capability}`, {
        headers: { range: `bytes=${P - 4}-${2 * P + 3}` },
      });
      assert.equal(ranged.status, 206);
      assert.equal(
        ranged.headers.get("content-range"),
        `bytes ${P - 4}-${2 * P + 3}/${data.length}`,
      );
      assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), data.subarray(P - 4, 2 * P + 4));
      const head = await call("HEAD", `/files/${put.capability}`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(data.length));
      const stat = await (await call("GET", `/files/${put.id}/stat`)).json();
      assert.equal(stat.encrypted, true);
      assert.equal(stat.size, data.length);
      // a wrong key: 403 WRONG_KEY before any byte; a malformed capability: 400
      const wrong = `dfs:r:${put.id}:${formatFileKey(new Uint8Array(32))}`;
      const w = await call("GET", `/files/${wrong}`);
      assert.equal(w.status, 403);
      assert.equal(await code(w), "WRONG_KEY");
      const bad = await call("GET", `/files/dfs:r:${put.id}:short`);
      assert.equal(bad.status, 400);
      assert.equal(await code(bad), "BAD_CAPABILITY");
    }),
});

Deno.test({
  name: "api_puts_public_and_convergent_files",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withNode(async (call) => {
      const data = randomBytes(3 * P, 4);
      const body = () => data.slice() as Uint8Array<ArrayBuffer>;
      const pub = await (await call("POST", "/files?copies=1&encrypt=0", { body: body() })).json();
      assert.equal(pub.capability, undefined);
      const r = await call("GET", `/files/${pub.id}`);
      assert.equal(r.status, 200);
      assert.deepEqual(new Uint8Array(await r.arrayBuffer()), data);

      const missing = await call("POST", "/files?encrypt=convergent", { body: body() });
      assert.equal(missing.status, 400);
      assert.match((await missing.json()).error.message, /x-dfs-convergent-key/);
      const headers = { [CONVERGENT_KEY_HEADER]: formatFileKey(await convergentKey(data)) };
      const one =
        await (await call("POST", "/files?copies=1&encrypt=convergent", { body: body(), headers }))
          .json();
      const two =
        await (await call("POST", "/files?copies=1&encrypt=convergent", { body: body(), headers }))
          .json();
      assert.equal(one.capability, two.capability);
      const got = await call("GET", `/files/${one.capability}`);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), data);
      const other = await call("POST", "/files?copies=1&encrypt=convergent", {
        body: randomBytes(10, 1) as Uint8Array<ArrayBuffer>,
        headers,
      });
      assert.equal(other.status, 409);
      assert.equal(await code(other), "CONVERGENT_KEY_MISMATCH");
      const stray = await call("POST", "/files", { body: body(), headers });
      assert.equal(stray.status, 400);
      await stray.body?.cancel();
    }),
});
