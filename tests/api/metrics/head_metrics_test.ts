/**
 * HEAD requests in the API's metrics: `HEAD /files/{key}` is counted in
 * `dfs_api_operations_total` as a get with the method label `HEAD`, apart from the `GET`s, and
 * recorded at its answer: it sends no body, so no body end is waited for and no download is
 * counted (nor a cancelled one when a server drops a body).
 */
import assert from "node:assert/strict";
import { createApiHandler } from "../../../src/api/handler.ts";
import { ApiMetrics } from "../../../src/api/metrics/api_metrics.ts";
import { writeExposition } from "../../../src/api/metrics/exposition.ts";
import { FakeNode } from "../fake_node.ts";
import { type ParsedScrape, parseExposition, valueOf } from "./prom_parse.ts";

type Handler = (r: Request) => Promise<Response> | Response;

async function scrape(handler: Handler, url = "http://dfs.test/metrics"): Promise<ParsedScrape> {
  const res = await handler(new Request(url));
  assert.equal(res.status, 200);
  return parseExposition(await res.text());
}

const gets = (s: ParsedScrape, method: string, outcome: string) =>
  valueOf(s, "dfs_api_operations_total", { op: "get", method, outcome });
const timed = (s: ParsedScrape, method: string) =>
  valueOf(s, "dfs_api_operation_duration_seconds_count", { op: "get", method });

Deno.test("head_of_a_file_is_counted_as_a_get_with_method_head_at_its_answer", async () => {
  const node = new FakeNode();
  const id = await node.add(new Uint8Array(50_000).fill(3));
  const handler = createApiHandler(node);
  const call = (method: string, path: string, headers: HeadersInit = {}) =>
    handler(new Request(`http://dfs.test/api/v1${path}`, { method, headers }));

  const head = await call("HEAD", `/files/${id}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "50000");
  assert.equal(head.body, null);
  const ranged = await call("HEAD", `/files/${id}`, { range: "bytes=0-9" });
  assert.equal(ranged.status, 206);
  const missing = await call("HEAD", `/files/1220${"00".repeat(32)}`);
  assert.equal(missing.status, 404);
  const s1 = await scrape(handler);
  // Recorded at the answer, each by its outcome; no file stream was opened for them.
  assert.equal(gets(s1, "HEAD", "ok"), 2);
  assert.equal(gets(s1, "HEAD", "not_found"), 1);
  assert.equal(timed(s1, "HEAD"), 3);
  assert.equal(node.getStreams.length, 0, "a HEAD reads no bytes");
  // The GETs are counted apart, and none is counted for a HEAD.
  assert.equal(gets(s1, "GET", "ok"), 0);
  assert.equal(timed(s1, "GET"), undefined);
  for (const outcome of ["rejected", "error", "cancelled"]) {
    assert.equal(gets(s1, "HEAD", outcome), 0, `HEAD ${outcome} written, zero`);
  }

  const get = await call("GET", `/files/${id}`);
  assert.equal((await get.bytes()).length, 50_000);
  const s2 = await scrape(handler);
  assert.equal(gets(s2, "GET", "ok"), 1);
  assert.equal(gets(s2, "HEAD", "ok"), 2);
  // Routes other than a file's own are not file operations, HEAD or GET.
  for (const path of ["/status", "/files", `/files/${id}/stat`]) {
    assert.equal((await call("HEAD", path)).status, 200, path);
  }
  const s3 = await scrape(handler);
  assert.equal(gets(s3, "HEAD", "ok"), 2);
});

Deno.test("a_head_is_recorded_at_once_even_when_its_answer_carries_a_body_that_is_never_sent", async () => {
  const m = new ApiMetrics();
  // A server sends no body to a HEAD: one a route gave would be dropped, never read through.
  const given = new Response("bytes that are not sent", { status: 200 });
  const res = m.finish("get", performance.now(), given, undefined, "HEAD");
  assert.equal(res, given, "the answer is not relayed");
  assert.equal(m.count("get", "ok", "HEAD"), 1, "recorded at the answer");
  await res.body!.cancel();
  assert.equal(m.count("get", "cancelled", "HEAD"), 0);
  assert.equal(m.count("get", "ok"), 0, "not a GET");
  m.finish("get", performance.now(), new Response(null, { status: 500 }), undefined, "HEAD");
  assert.equal(m.count("get", "error", "HEAD"), 1);
  const s = parseExposition(writeExposition(m.families()));
  assert.equal(gets(s, "HEAD", "ok"), 1);
  assert.equal(gets(s, "HEAD", "error"), 1);
  assert.equal(timed(s, "HEAD"), 2);
  // Every operation with each of its methods is written, zeros included.
  const series = s.samples.filter((x) => x.name === "dfs_api_operations_total")
    .map((x) => `${x.labels.op} ${x.labels.method}`);
  assert.deepEqual(
    [...new Set(series)],
    ["put POST", "get GET", "get HEAD", "delete DELETE"],
  );
});

Deno.test("head_over_loopback_http_is_counted_once_as_ok", async () => {
  const node = new FakeNode();
  const id = await node.add(new Uint8Array(300_000).fill(5));
  const handler = createApiHandler(node);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const head = await fetch(`${base}/api/v1/files/${id}`, {
      method: "HEAD",
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "300000");
    assert.equal((await head.bytes()).length, 0);
    const get = await fetch(`${base}/api/v1/files/${id}`, { signal: AbortSignal.timeout(10_000) });
    assert.equal((await get.bytes()).length, 300_000);
    const metricsUrl = `${base}/metrics`;
    const s = await scrape((r) => fetch(r, { signal: AbortSignal.timeout(10_000) }), metricsUrl);
    assert.equal(gets(s, "HEAD", "ok"), 1);
    assert.equal(gets(s, "HEAD", "cancelled"), 0);
    assert.equal(gets(s, "GET", "ok"), 1);
  } finally {
    await server.shutdown();
  }
});
