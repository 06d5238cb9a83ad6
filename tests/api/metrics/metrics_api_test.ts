import assert from "node:assert/strict";
import { requireBearerToken } from "../../../src/api/auth.ts";
import { createApiHandler } from "../../../src/api/handler.ts";
import { EXPOSITION_CONTENT_TYPE } from "../../../src/api/metrics/exposition.ts";
import { Node } from "../../../src/node/node.ts";
import { memoryRuntime } from "../../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import { randomBytes, startCluster } from "../../node/cluster.ts";
import { type ParsedScrape, parseExposition, valueOf } from "./prom_parse.ts";

const api = (handler: (r: Request) => Promise<Response>) =>
(
  method: string,
  path: string,
  init: RequestInit = {},
) => handler(new Request(`http://dfs.test${path}`, { method, ...init }));

async function scrape(call: ReturnType<typeof api>): Promise<ParsedScrape> {
  const res = await call("GET", "/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), EXPOSITION_CONTENT_TYPE);
  return parseExposition(await res.text());
}

const METHOD: Record<string, string> = { put: "POST", get: "GET", delete: "DELETE" };
const ops = (s: ParsedScrape, op: string, outcome: string, method = METHOD[op]) =>
  valueOf(s, "dfs_api_operations_total", { op, method, outcome });

Deno.test("metrics_move_with_put_get_and_delete_on_in_memory_nodes", async () => {
  const cluster = await startCluster(2);
  try {
    await cluster.settle();
    const [a, b] = cluster.nodes;
    const callA = api(createApiHandler(a));
    const callB = api(createApiHandler(b));

    const before = await scrape(callB);
    assert.equal(ops(before, "get", "ok"), 0);
    assert.equal(valueOf(before, "dfs_peer_connections"), 1);
    assert.equal(
      valueOf(before, "dfs_node_info", {
        node_id: b.nodeId,
        version: (await b.status()).version,
        runtime: "memory",
      }),
      1,
    );

    const bytes = randomBytes(10 * 1024, 7);
    const put = await callA("POST", "/api/v1/files?copies=1", { body: new Uint8Array(bytes) });
    assert.equal(put.status, 201);
    const { capability } = await put.json();
    // Read on the other node: its blocks come from the peer, verified, over the peer link.
    const got = await callB("GET", `/api/v1/files/${encodeURIComponent(capability)}`);
    assert.equal(got.status, 200);
    assert.equal((await got.arrayBuffer()).byteLength, bytes.length);
    const missing = await callB("GET", `/api/v1/files/1220${"00".repeat(32)}`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const del = await callA("DELETE", `/api/v1/files/${encodeURIComponent(capability)}`);
    assert.equal(del.status, 200);
    await del.body?.cancel();

    const sa = await scrape(callA);
    const sb = await scrape(callB);
    assert.equal(ops(sa, "put", "ok"), 1);
    assert.equal(ops(sa, "delete", "ok"), 1);
    assert.equal(ops(sb, "get", "ok"), 1);
    assert.equal(ops(sb, "get", "not_found"), 1);
    assert.equal(
      valueOf(sb, "dfs_api_operation_duration_seconds_count", { op: "get", method: "GET" }),
      2,
    );
    assert.equal(
      valueOf(sa, "dfs_api_operation_duration_seconds_count", { op: "put", method: "POST" }),
      1,
    );
    assert.ok(valueOf(sb, "dfs_fetched_blocks_total")! >= 11, "blocks fetched and verified");
    assert.ok(valueOf(sb, "dfs_fetched_bytes_total")! >= bytes.length);
    assert.ok(
      valueOf(sb, "dfs_peer_received_bytes_total")! >
        valueOf(before, "dfs_peer_received_bytes_total")! + bytes.length,
    );
    assert.ok(valueOf(sa, "dfs_peer_sent_bytes_total")! > bytes.length);
    assert.ok(valueOf(sb, "dfs_dht_lookups_total")! >= 1);
    assert.ok(valueOf(sb, "dfs_dht_lookup_rounds_total")! >= 1);
    assert.equal(typeof valueOf(sa, "dfs_store_blocks"), "number");
    assert.equal(typeof valueOf(sa, "dfs_repair_queue_files"), "number");
    assert.equal(valueOf(sa, "dfs_store_max_bytes"), undefined, "no bound set");
  } finally {
    await cluster.close();
  }
});

Deno.test("metrics_answer_head_and_refuse_other_methods", async () => {
  const cluster = await startCluster(1);
  try {
    const call = api(createApiHandler(cluster.nodes[0]));
    const head = await call("HEAD", "/metrics");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-type"), EXPOSITION_CONTENT_TYPE);
    assert.equal(await head.text(), "");
    const post = await call("POST", "/metrics");
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await cluster.close();
  }
});

Deno.test("metrics_follow_the_api_token_rule", async () => {
  const node = await Node.start({
    runtime: memoryRuntime({ network: new MemoryNetwork() }),
    dataDir: "/bounded",
    listen: { hostname: "10.0.0.1", port: 4000 },
    maxStoreBytes: 1 << 20,
  });
  try {
    const call = api(requireBearerToken(createApiHandler(node), "s3cret-token"));
    const refused = await call("GET", "/metrics");
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, "UNAUTHORIZED");
    const s = await scrape(api((r) => {
      const h = new Headers(r.headers);
      h.set("authorization", "Bearer s3cret-token");
      return call(r.method, new URL(r.url).pathname, { headers: h });
    }));
    assert.equal(valueOf(s, "dfs_store_max_bytes"), 1 << 20);
  } finally {
    await node.close();
  }
});

Deno.test("metrics_show_scrub_progress_and_when_the_last_pass_ended", async () => {
  const node = await Node.start({
    runtime: memoryRuntime({ network: new MemoryNetwork() }),
    dataDir: "/scrubbed",
    listen: "10.0.9.1:4000",
    durability: "none",
    blockSize: 1024,
    // The background scrubber waits; the test runs one pass itself.
    upkeep: { scrubBytesPerSecond: 1024 ** 3, scrubStartDelayMs: 3_600_000 },
  });
  try {
    const call = api(createApiHandler(node));
    await node.put(randomBytes(8 * 1024, 9), { encrypt: false });
    const before = await scrape(call);
    assert.equal(valueOf(before, "dfs_scrub_pass_verified_bytes"), 0, "no pass under way");
    assert.equal(valueOf(before, "dfs_scrub_last_pass_end_timestamp_seconds"), undefined);
    const start = Date.now() / 1000;
    await node.runUpkeep("scrub");
    const after = await scrape(call);
    const ended = valueOf(after, "dfs_scrub_last_pass_end_timestamp_seconds")!;
    assert.ok(ended >= start - 1 && ended <= Date.now() / 1000 + 1, `ended at ${ended}`);
    assert.ok(valueOf(after, "dfs_scrub_verified_bytes_total")! >= 8 * 1024);
    assert.equal(valueOf(after, "dfs_scrub_pass_verified_bytes"), 0);
  } finally {
    await node.close();
  }
});
