import assert from "node:assert/strict";
import { createApiHandler } from "../../src/api/handler.ts";
import { DfsError, InvalidArgumentError, TimeoutError } from "../../src/errors.ts";
import { RecordRejectedError } from "../../src/dht/errors.ts";
import { InvalidIdError } from "../../src/id/content_id.ts";
import { FAKE_DHT_INFO, FakeNode } from "./fake_node.ts";
import { generated, generatedBytes } from "./gen.ts";

const enc = new TextEncoder();
const HELLO = enc.encode("hello, distributed world");

async function setup() {
  const node = new FakeNode();
  const id = await node.add(HELLO, "greeting");
  const errors: unknown[] = [];
  const handler = createApiHandler(node, { onError: (e) => errors.push(e) });
  const call = (method: string, path: string, init: RequestInit = {}) =>
    handler(new Request(`http://dfs.test${path}`, { method, ...init }));
  return { node, id, handler, call, errors };
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = await res.json();
  assert.equal(typeof body.error.code, "string");
  assert.equal(typeof body.error.message, "string");
  return body.error;
}

Deno.test("post_streams_body_into_put_and_answers_201_with_location", async () => {
  const { node, call } = await setup();
  const res = await call("POST", "/api/v1/files", { body: enc.encode("abc") });
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.equal(body.size, 3);
  assert.equal(body.blocks, 1);
  assert.equal(body.copies, 3);
  assert.equal(body.wanted, 3);
  assert.equal(body.redundancy, "replicas:3");
  assert.match(body.id, /^1220[0-9a-f]{64}$/);
  assert.equal(res.headers.get("location"), `/api/v1/files/${body.id}`);
  assert.equal(node.lastPut?.size, 3);
});

Deno.test("post_with_name_and_copies_passes_them_to_put", async () => {
  const { node, call } = await setup();
  const res = await call("POST", "/api/v1/files?name=notes%2Ftodo.txt&copies=5", {
    body: enc.encode("x"),
  });
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.equal(body.name, "notes/todo.txt");
  assert.equal(body.wanted, 5);
  assert.equal(node.lastPut?.name, "notes/todo.txt");
  assert.equal(node.lastPut?.copies, 5);
});

Deno.test("post_without_body_stores_an_empty_file", async () => {
  const { call } = await setup();
  const res = await call("POST", "/api/v1/files");
  assert.equal(res.status, 201);
  assert.equal((await res.json()).size, 0);
});

Deno.test("post_rejects_bad_copies_and_empty_name_with_400", async () => {
  const { call } = await setup();
  for (const q of ["copies=0", "copies=two", "copies=1.5", "name="]) {
    const res = await call("POST", `/api/v1/files?${q}`, { body: enc.encode("x") });
    assert.equal(res.status, 400, q);
    assert.equal((await errorOf(res)).code, "INVALID_ARGUMENT");
  }
});

Deno.test("get_streams_the_whole_file_with_headers", async () => {
  const { id, call } = await setup();
  const res = await call("GET", `/api/v1/files/${id}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-length"), String(HELLO.length));
  assert.equal(res.headers.get("accept-ranges"), "bytes");
  assert.equal(res.headers.get("content-type"), "application/octet-stream");
  assert.equal(res.headers.get("etag"), `"${id}"`);
  assert.match(res.headers.get("cache-control") ?? "", /immutable/);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), HELLO);
});

Deno.test("file_responses_carry_the_whole_size_in_x_dfs_size", async () => {
  const { id, call } = await setup();
  const size = String(HELLO.length);
  const whole = await call("GET", `/api/v1/files/${id}`);
  assert.equal(whole.headers.get("x-dfs-size"), size);
  await whole.body?.cancel();
  const head = await call("HEAD", `/api/v1/files/${id}`);
  assert.equal(head.headers.get("x-dfs-size"), size);
  const part = await call("GET", `/api/v1/files/${id}`, { headers: { range: "bytes=0-1" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("x-dfs-size"), size);
  await part.body?.cancel();
});

Deno.test("get_by_name_resolves_to_the_file_and_is_not_cached_forever", async () => {
  const { id, call } = await setup();
  const res = await call("GET", "/api/v1/files/greeting");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("etag"), `"${id}"`);
  assert.equal(res.headers.get("cache-control"), "no-cache");
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), HELLO);
});

Deno.test("get_empty_file_answers_200_with_zero_length", async () => {
  const { node, call } = await setup();
  const id = await node.add(new Uint8Array(0));
  const res = await call("GET", `/api/v1/files/${id}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-length"), "0");
  assert.equal((await res.arrayBuffer()).byteLength, 0);
});

Deno.test("get_range_closed_answers_206_with_content_range", async () => {
  const { id, call } = await setup();
  const res = await call("GET", `/api/v1/files/${id}`, { headers: { range: "bytes=0-4" } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get("content-range"), `bytes 0-4/${HELLO.length}`);
  assert.equal(res.headers.get("content-length"), "5");
  assert.equal(await res.text(), "hello");
});

Deno.test("get_range_open_ended_and_suffix", async () => {
  const { id, call } = await setup();
  let res = await call("GET", `/api/v1/files/${id}`, { headers: { range: "bytes=7-" } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get("content-range"), `bytes 7-23/24`);
  assert.equal(await res.text(), "distributed world");
  res = await call("GET", `/api/v1/files/greeting`, { headers: { range: "bytes=-5" } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get("content-range"), `bytes 19-23/24`);
  assert.equal(res.headers.get("content-length"), "5");
  assert.equal(await res.text(), "world");
});

Deno.test("get_range_past_the_end_answers_416", async () => {
  const { id, call } = await setup();
  const res = await call("GET", `/api/v1/files/${id}`, { headers: { range: "bytes=24-" } });
  assert.equal(res.status, 416);
  assert.equal(res.headers.get("content-range"), "bytes */24");
  assert.equal((await errorOf(res)).code, "RANGE_NOT_SATISFIABLE");
});

Deno.test("get_ignores_multi_range_and_serves_whole_file", async () => {
  const { id, call } = await setup();
  const res = await call("GET", `/api/v1/files/${id}`, { headers: { range: "bytes=0-1,4-5" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-range"), null);
  assert.equal((await res.arrayBuffer()).byteLength, HELLO.length);
});

Deno.test("get_if_range_with_another_etag_serves_whole_file", async () => {
  const { id, call } = await setup();
  let res = await call("GET", `/api/v1/files/${id}`, {
    headers: { range: "bytes=0-4", "if-range": '"1220other"' },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  res = await call("GET", `/api/v1/files/${id}`, {
    headers: { range: "bytes=0-4", "if-range": `"${id}"` },
  });
  assert.equal(res.status, 206);
  await res.body?.cancel();
});

Deno.test("head_answers_headers_without_body_using_stat", async () => {
  const { id, node, call } = await setup();
  const res = await call("HEAD", `/api/v1/files/${id}`);
  assert.equal(res.status, 200);
  assert.equal(res.body, null);
  assert.equal(res.headers.get("content-length"), "24");
  assert.equal(res.headers.get("etag"), `"${id}"`);
  assert.equal(res.headers.get("accept-ranges"), "bytes");
  assert.ok(node.calls.includes(`stat ${id}`));
  assert.ok(!node.calls.some((c) => c.startsWith("get ")));
});

Deno.test("head_with_range_answers_206_headers", async () => {
  const { id, call } = await setup();
  const res = await call("HEAD", `/api/v1/files/${id}`, { headers: { range: "bytes=-4" } });
  assert.equal(res.status, 206);
  assert.equal(res.body, null);
  assert.equal(res.headers.get("content-range"), "bytes 20-23/24");
  assert.equal(res.headers.get("content-length"), "4");
});

Deno.test("if_none_match_with_the_etag_answers_304", async () => {
  const { id, call } = await setup();
  for (const tag of [`"${id}"`, `W/"${id}"`, `"x", "${id}"`, "*"]) {
    const res = await call("GET", `/api/v1/files/${id}`, { headers: { "if-none-match": tag } });
    assert.equal(res.status, 304, tag);
    assert.equal(res.body, null);
    assert.equal(res.headers.get("etag"), `"${id}"`);
  }
  const res = await call("GET", `/api/v1/files/greeting`, { headers: { "if-none-match": '"x"' } });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "hello, distributed world");
});

Deno.test("get_unknown_file_answers_404_json", async () => {
  const { call } = await setup();
  const missing = "1220" + "0".repeat(64);
  for (const method of ["GET", "DELETE"]) {
    const res = await call(method, `/api/v1/files/${missing}`);
    assert.equal(res.status, 404);
    assert.equal((await errorOf(res)).code, "NOT_FOUND");
  }
  const head = await call("HEAD", `/api/v1/files/${missing}`);
  assert.equal(head.status, 404);
  await head.body?.cancel();
});

Deno.test("delete_answers_the_delete_result", async () => {
  const { id, node, call } = await setup();
  const res = await call("DELETE", `/api/v1/files/${id}`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { id, local: true, remote: 1, tombstones: 3 });
  assert.equal(node.files.has(id), false);
});

Deno.test("list_stat_names_peers_and_status_answer_json", async () => {
  const { id, node, call } = await setup();
  let res = await call("GET", "/api/v1/files");
  assert.deepEqual(await res.json(), { files: [{ id, size: 24, names: ["greeting"] }] });
  res = await call("GET", `/api/v1/files/${id}/stat`);
  assert.deepEqual(await res.json(), {
    id,
    size: 24,
    blocks: 1,
    blockSize: 262144,
    local: true,
    redundancy: "replicas:3",
  });
  res = await call("GET", "/api/v1/names/greeting");
  assert.deepEqual(await res.json(), { name: "greeting", id, version: 1, nodeId: node.nodeId });
  res = await call("GET", "/api/v1/peers");
  assert.deepEqual(await res.json(), { peers: node.peerList });
  res = await call("GET", "/api/v1/status/");
  const status = await res.json();
  assert.equal(status.nodeId, node.nodeId);
  assert.deepEqual(status.store, { count: 1, bytes: 24 });
});

Deno.test("names_with_slashes_travel_percent_encoded", async () => {
  const { node, call } = await setup();
  const id = await node.add(enc.encode("deep"), "a/b/stat");
  const res = await call("GET", `/api/v1/names/${encodeURIComponent("a/b/stat")}`);
  assert.equal((await res.json()).id, id);
  const file = await call("GET", `/api/v1/files/${encodeURIComponent("a/b/stat")}`);
  assert.equal(await file.text(), "deep");
});

Deno.test("missing_name_answers_404", async () => {
  const { call } = await setup();
  const res = await call("GET", "/api/v1/names/nobody");
  assert.equal(res.status, 404);
  assert.equal((await errorOf(res)).code, "NOT_FOUND");
});

Deno.test("node_errors_map_to_statuses", async () => {
  const { node, call, errors } = await setup();
  const cases: [unknown, number, string][] = [
    [new InvalidIdError("bad id"), 400, "INVALID_ID"],
    [new InvalidArgumentError("bad arg"), 400, "INVALID_ARGUMENT"],
    [new TimeoutError("too slow"), 504, "TIMEOUT"],
    [new DfsError("CORRUPT_BLOCK", "bad block"), 500, "CORRUPT_BLOCK"],
    [new Error("boom"), 500, "INTERNAL"],
  ];
  for (const [err, status, code] of cases) {
    node.nextError = err;
    const res = await call("GET", "/api/v1/status");
    assert.equal(res.status, status, code);
    const body = await errorOf(res);
    assert.equal(body.code, code);
    assert.equal(body.message, (err as Error).message);
  }
  assert.equal(errors.length, 3, "only 5xx errors (504, 500, 500) are reported to onError");
});

Deno.test("status_carries_the_dht_figures", async () => {
  const { node, call } = await setup();
  let status = await (await call("GET", "/api/v1/status")).json();
  assert.deepEqual(status.dht, {
    tableSize: 23,
    lookups: 40,
    lookupMessages: 130,
    lookupRounds: 65,
    lookupsTimedOut: 1,
    requestsServed: 512,
    providerRecords: 310,
    providerKeys: 120,
    providing: 17,
    nameRecords: 4,
    publishing: 2,
  });
  node.dht = null;
  status = await (await call("GET", "/api/v1/status")).json();
  assert.equal("dht" in status, false);
});

Deno.test("dht_answers_the_routing_table_and_figures", async () => {
  const { node, call } = await setup();
  const res = await call("GET", "/api/v1/dht");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = await res.json();
  assert.deepEqual(body, FAKE_DHT_INFO);
  assert.equal(body.k, 20);
  assert.equal(body.connections, 12);
  assert.equal(body.maxConnections, 64);
  assert.deepEqual(body.buckets[0], { index: 0, size: 20, replacements: 3 });
  assert.equal(body.tableSize, 23);
  assert.deepEqual(node.calls, ["dhtInfo"]);
  const head = await call("HEAD", "/api/v1/dht/");
  assert.equal(head.status, 200);
  assert.match(head.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(await head.text(), "");
});

Deno.test("dht_without_a_dht_answers_404_no_dht", async () => {
  const { node, call, errors } = await setup();
  node.dht = null;
  const res = await call("GET", "/api/v1/dht");
  assert.equal(res.status, 404);
  const body = await errorOf(res);
  assert.equal(body.code, "NO_DHT");
  assert.equal(body.message, "this node runs without a DHT");
  const head = await call("HEAD", "/api/v1/dht");
  assert.equal(head.status, 404);
  assert.equal(errors.length, 0);
});

Deno.test("dht_failures_answer_500_and_are_reported", async () => {
  const { node, call, errors } = await setup();
  node.nextError = new Error("table locked");
  const res = await call("GET", "/api/v1/dht");
  assert.equal(res.status, 500);
  assert.equal((await errorOf(res)).code, "INTERNAL");
  assert.equal(errors.length, 1);
});

Deno.test("a_refused_name_record_answers_409_conflict", async () => {
  const { node, call, errors } = await setup();
  const message = 'name "photo.jpg" is owned by another key';
  node.nextError = new RecordRejectedError("NOT_OWNER", message);
  const res = await call("POST", "/api/v1/files?name=photo.jpg", { body: enc.encode("x") });
  assert.equal(res.status, 409);
  assert.deepEqual(await errorOf(res), { code: "RECORD_REJECTED", message });
  assert.equal(errors.length, 0, "a client error is not reported to onError");
});

Deno.test("malformed_id_answers_400", async () => {
  const { call } = await setup();
  const res = await call("GET", "/api/v1/files/1220zz");
  assert.equal(res.status, 400);
  assert.equal((await errorOf(res)).code, "INVALID_ID");
});

Deno.test("unknown_route_answers_404_and_wrong_method_405_with_allow", async () => {
  const { call, id } = await setup();
  for (const path of ["/", "/api/v2/files", "/api/v1", "/api/v1/nope", "/api/v1/files/x/y/z"]) {
    const res = await call("GET", path);
    assert.equal(res.status, 404, path);
    assert.equal((await errorOf(res)).code, "NO_SUCH_ROUTE");
  }
  const cases: [string, string, string][] = [
    ["PUT", "/api/v1/files", "GET, HEAD, POST"],
    ["POST", `/api/v1/files/${id}`, "GET, HEAD, DELETE"],
    ["DELETE", "/api/v1/status", "GET, HEAD"],
    ["POST", "/api/v1/peers", "GET, HEAD"],
    ["PATCH", "/api/v1/names/x", "GET, HEAD"],
    ["DELETE", `/api/v1/files/${id}/stat`, "GET, HEAD"],
    ["POST", "/api/v1/dht", "GET, HEAD"],
    ["GET", "/api/v1/drain", "POST"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await call(method, path);
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow);
    assert.equal((await errorOf(res)).code, "METHOD_NOT_ALLOWED");
  }
});

Deno.test("malformed_percent_encoding_answers_400", async () => {
  const { call } = await setup();
  const res = await call("GET", "/api/v1/files/%E0%A4%A");
  assert.equal(res.status, 400);
  assert.equal((await errorOf(res)).code, "INVALID_ARGUMENT");
});

Deno.test("base_path_option_moves_every_route", async () => {
  const node = new FakeNode();
  const handler = createApiHandler(node, { basePath: "/dfs/" });
  const res = await handler(new Request("http://dfs.test/dfs/status"));
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const old = await handler(new Request("http://dfs.test/api/v1/status"));
  assert.equal(old.status, 404);
  await old.body?.cancel();
});

Deno.test("request_signal_is_never_read_by_default", async () => {
  let reads = 0;
  const spy = (req: Request) =>
    new Proxy(req, {
      get(target, prop) {
        if (prop === "signal") reads++;
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  const node = new FakeNode();
  const handler = createApiHandler(node);
  let res = await handler(spy(
    new Request("http://dfs.test/api/v1/files", {
      method: "POST",
      body: "x",
    }),
  ));
  assert.equal(res.status, 201);
  const put = await res.json();
  res = await handler(spy(new Request(`http://dfs.test/api/v1/files/${put.id}`)));
  assert.equal(await res.text(), "x");
  assert.equal(reads, 0);
  assert.deepEqual(node.signals, [undefined, undefined]);
});

Deno.test("client_abort_mid_download_cancels_the_node_stream", async () => {
  const node = new FakeNode();
  const id = node.addVirtual(10 * 1024 * 1024, (s, e) => generated(s, e));
  const handler = createApiHandler(node, { useRequestSignal: true });
  const ac = new AbortController();
  const res = await handler(
    new Request(`http://dfs.test/api/v1/files/${id}`, { signal: ac.signal }),
  );
  assert.equal(res.status, 200);
  assert.equal(node.signals.at(-1)?.aborted, false);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(first.done, false);
  ac.abort(new Error("client went away"));
  await assert.rejects(async () => {
    while (!(await reader.read()).done) { /* drain until the error */ }
  });
  assert.equal(node.cancelled, 1);
  assert.equal(node.signals.at(-1)?.aborted, true);
});

Deno.test("cancelling_the_response_body_cancels_the_node_stream", async () => {
  const node = new FakeNode();
  const id = node.addVirtual(1024 * 1024, (s, e) => generated(s, e));
  const handler = createApiHandler(node);
  const res = await handler(new Request(`http://dfs.test/api/v1/files/${id}`));
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(node.cancelled, 1);
});

Deno.test("range_on_a_generated_file_delivers_exactly_those_bytes", async () => {
  const node = new FakeNode();
  const id = node.addVirtual(1_000_000, (s, e) => generated(s, e));
  const handler = createApiHandler(node);
  const res = await handler(
    new Request(`http://dfs.test/api/v1/files/${id}`, { headers: { range: "bytes=65530-200000" } }),
  );
  assert.equal(res.status, 206);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), generatedBytes(65530, 200000));
});
