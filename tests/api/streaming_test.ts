import assert from "node:assert/strict";
import { createApiHandler } from "../../src/api/handler.ts";
import { checksum, CHECKSUM_SEED, FakeNode } from "./fake_node.ts";
import { generated, SEED } from "./gen.ts";
import { withSeed as seeded } from "../util/prng.ts";

const SIZE = 64 * 1024 * 1024;
/** How far a producer may run ahead of the consumer; a buffered body would be all 64 MiB. */
const MAX_LAG = 4 * 1024 * 1024;

function withSeed(name: string, fn: () => Promise<void>): void {
  Deno.test(name, () => seeded(SEED, fn));
}

withSeed("post_streams_a_64_mib_body_into_put_without_buffering", async () => {
  const node = new FakeNode();
  node.retain = false;
  let produced = 0;
  let consumed = 0;
  let maxLag = 0;
  let expected = CHECKSUM_SEED;
  node.onPutChunk = (c) => {
    consumed += c.length;
    maxLag = Math.max(maxLag, produced - consumed);
  };
  const body = generated(0, SIZE - 1, (c) => {
    produced += c.length;
    expected = checksum(expected, c);
    maxLag = Math.max(maxLag, produced - consumed);
  });
  const handler = createApiHandler(node);
  const res = await handler(
    new Request("http://dfs.test/api/v1/files?name=big", {
      method: "POST",
      body,
      duplex: "half",
    } as RequestInit),
  );
  assert.equal(res.status, 201);
  const result = await res.json();
  assert.equal(result.size, SIZE);
  assert.equal(node.lastPut?.size, SIZE);
  assert.equal(node.lastPut?.checksum, expected);
  assert.ok(maxLag <= MAX_LAG, `producer ran ${maxLag} bytes ahead of put`);
});

withSeed("get_streams_a_64_mib_file_without_buffering", async () => {
  const node = new FakeNode();
  let produced = 0;
  let received = 0;
  let maxLag = 0;
  let expected = CHECKSUM_SEED;
  const id = node.addVirtual(SIZE, (s, e) =>
    generated(s, e, (c) => {
      produced += c.length;
      expected = checksum(expected, c);
      maxLag = Math.max(maxLag, produced - received);
    }));
  const handler = createApiHandler(node);
  const res = await handler(new Request(`http://dfs.test/api/v1/files/${id}`));
  assert.equal(res.headers.get("content-length"), String(SIZE));
  let sum = CHECKSUM_SEED;
  for await (const chunk of res.body!) {
    received += chunk.length;
    maxLag = Math.max(maxLag, produced - received);
    sum = checksum(sum, chunk);
  }
  assert.equal(received, SIZE);
  assert.equal(sum, expected);
  assert.ok(maxLag <= MAX_LAG, `node stream ran ${maxLag} bytes ahead of the client`);
});

withSeed("http_round_trip_of_32_mib_stays_streamed_over_loopback", async () => {
  const node = new FakeNode();
  node.retain = false;
  const handler = createApiHandler(node);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    const base = `http://127.0.0.1:${server.addr.port}/api/v1`;
    const size = 32 * 1024 * 1024;
    let produced = 0;
    let consumed = 0;
    let maxLag = 0;
    let expected = CHECKSUM_SEED;
    node.onPutChunk = (c) => {
      consumed += c.length;
    };
    const body = generated(0, size - 1, (c) => {
      produced += c.length;
      expected = checksum(expected, c);
      maxLag = Math.max(maxLag, produced - consumed);
    });
    const res = await fetch(`${base}/files`, {
      method: "POST",
      body,
      duplex: "half",
      signal: AbortSignal.timeout(30_000),
    } as RequestInit);
    assert.equal(res.status, 201);
    assert.equal((await res.json()).size, size);
    assert.equal(node.lastPut?.checksum, expected);
    // Kernel socket buffers and HTTP framing sit between producer and put: allow them.
    assert.ok(maxLag <= 4 * MAX_LAG, `producer ran ${maxLag} bytes ahead over HTTP`);
  } finally {
    await server.shutdown();
  }
});

withSeed("http_client_disconnect_mid_download_cancels_the_node_stream", async () => {
  const node = new FakeNode();
  let produced = 0;
  const id = node.addVirtual(SIZE, (s, e) => generated(s, e, (c) => produced += c.length));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createApiHandler(node),
  );
  try {
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/v1/files/${id}`, {
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 1024 * 1024) {
      const r = await reader.read();
      if (r.done) break;
      got += r.value.length;
    }
    ac.abort();
    await reader.cancel().catch(() => {});
    const deadline = Date.now() + 10_000;
    while (node.cancelled === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(node.cancelled, 1, "the node's stream was cancelled");
    assert.ok(produced < SIZE, `stopped producing after ${produced} of ${SIZE} bytes`);
  } finally {
    await server.shutdown();
  }
});
