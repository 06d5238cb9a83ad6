/**
 * The browser guard in front of the API (`guardBrowserRequests`), wired as `dfs serve` wires it:
 * guard -> dashboard -> (token) -> API over a fake node. Cross-site requests (foreign `Origin`,
 * `Sec-Fetch-Site: cross-site` writes) and rebinding `Host`s are refused with 403 and a JSON
 * error, and the node is left untouched; loopback names, allowed names, same-origin pages and
 * requests without browser headers pass.
 */
import assert from "node:assert/strict";
import { requireBearerToken } from "../../src/api/auth.ts";
import { guardBrowserRequests, normalizeAllowedHost } from "../../src/api/browser_guard.ts";
import { withDashboard } from "../../src/api/dashboard/with_dashboard.ts";
import { createApiHandler } from "../../src/api/handler.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { FakeNode } from "./fake_node.ts";

const enc = new TextEncoder();
const TOKEN = "k2bq3O4xq8mO1mI6n0w8yq7kq2b1v8y5g7w0c3f9d2s";

async function setup(
  opts: { listen?: string; allowedHosts?: string[]; token?: string } = {},
) {
  const node = new FakeNode();
  const id = await node.add(enc.encode("keep me"), "kept");
  const api = createApiHandler(node);
  const web = withDashboard(opts.token ? requireBearerToken(api, opts.token) : api);
  const handler = guardBrowserRequests(web, {
    listenHostname: opts.listen ?? "127.0.0.1",
    allowedHosts: opts.allowedHosts,
  });
  /** A request to `path` with these headers (`host` defaults to `127.0.0.1:5000`). */
  const call = (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: BodyInit,
  ) =>
    handler(
      new Request(`http://127.0.0.1:5000${path}`, {
        method,
        headers: { host: "127.0.0.1:5000", ...headers },
        ...(body !== undefined ? { body } : {}),
      }),
    );
  return { node, id, call };
}

async function refusal(res: Response, code: string): Promise<string> {
  assert.equal(res.status, 403);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  const body = await res.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, "string");
  return body.error.message;
}

Deno.test("a_cross_site_delete_is_refused_and_the_file_stays", async () => {
  const { node, id, call } = await setup();
  for (const origin of ["https://evil.example", "http://evil.example:5000", "null"]) {
    const res = await call("DELETE", `/api/v1/files/${id}`, { origin });
    const message = await refusal(res, "ORIGIN_NOT_ALLOWED");
    assert.match(message, /another site/);
    assert.ok(node.files.has(id), origin);
  }
  // Another local port is another origin (any local web app), and so is another loopback name.
  for (const origin of ["http://127.0.0.1:8080", "http://localhost:5000"]) {
    await refusal(await call("DELETE", `/api/v1/files/${id}`, { origin }), "ORIGIN_NOT_ALLOWED");
  }
  const get = await call("GET", `/api/v1/files/${id}`);
  assert.equal(get.status, 200);
  assert.equal(await get.text(), "keep me");
});

Deno.test("a_cross_site_put_with_a_simple_content_type_is_refused_and_not_read", async () => {
  const { node, call } = await setup();
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      // Bounded: 64 KiB at most, should the guard let the upload through.
      if (++pulled > 64) c.close();
      else c.enqueue(new Uint8Array(1024));
    },
  }, { highWaterMark: 0 });
  const res = await handlerPost(call, body, {
    origin: "https://evil.example",
    "content-type": "text/plain",
  });
  await refusal(res, "ORIGIN_NOT_ALLOWED");
  assert.equal(node.lastPut, undefined);
  assert.ok(pulled <= 1, `pulled ${pulled}`);
  assert.equal(node.files.size, 1);
});

function handlerPost(
  call: Awaited<ReturnType<typeof setup>>["call"],
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string>,
) {
  return call("POST", "/api/v1/files", headers, body);
}

Deno.test("sec_fetch_site_cross_site_is_refused_on_writes_only", async () => {
  const { node, id, call } = await setup();
  // No Origin at all (an old browser's form post), but the browser says it is cross-site.
  const del = await call("DELETE", `/api/v1/files/${id}`, { "sec-fetch-site": "cross-site" });
  assert.match(await refusal(del, "ORIGIN_NOT_ALLOWED"), /Sec-Fetch-Site/);
  const post = await call("POST", "/api/v1/drain", { "sec-fetch-site": "cross-site" });
  await refusal(post, "ORIGIN_NOT_ALLOWED");
  assert.equal(node.drainSignals.length, 0);
  assert.ok(node.files.has(id));
  // A link from another site to a file is a cross-site GET: it reads, it changes nothing.
  const link = await call("GET", `/api/v1/files/${id}`, { "sec-fetch-site": "cross-site" });
  assert.equal(link.status, 200);
  assert.equal(await link.text(), "keep me");
  for (const site of ["same-origin", "same-site", "none"]) {
    const res = await call("GET", "/api/v1/status", { "sec-fetch-site": site });
    assert.equal(res.status, 200, site);
    await res.body?.cancel();
  }
});

Deno.test("a_rebinding_host_is_refused_with_the_fix_in_the_message", async () => {
  const { call } = await setup();
  for (
    const host of [
      "evil.example:5000",
      "evil.example",
      "127.0.0.1.evil.example:5000", // a name, not an address, whatever it starts with
      "localhost.evil.example",
      "0.0.0.0:5000",
      "[::2]:5000",
      "10.0.0.1:5000",
    ]
  ) {
    const res = await call("GET", "/api/v1/status", { host });
    const message = await refusal(res, "HOST_NOT_ALLOWED");
    assert.match(message, /--api-allow-host /, host);
    assert.ok(message.includes(JSON.stringify(host)), message);
  }
  // The dashboard page too: a rebinding page must not even read the static page.
  await refusal(await call("GET", "/", { host: "evil.example:5000" }), "HOST_NOT_ALLOWED");
  // Garbage in Host never passes.
  for (const host of ["", "a b", "evil.example@127.0.0.1", "127.0.0.1/x", "127.0.0.1:99999x"]) {
    const res = await call("GET", "/api/v1/status", { host });
    await refusal(res, "HOST_NOT_ALLOWED");
  }
});

Deno.test("loopback_hosts_with_any_port_pass", async () => {
  const { call } = await setup();
  for (
    const host of [
      "127.0.0.1:5000",
      "127.0.0.1",
      "127.0.0.1:1",
      "127.1.2.3:8080",
      "localhost:5000",
      "LOCALHOST",
      "localhost.:5000",
      "dfs.localhost:5000",
      "[::1]:5000",
      "[::1]",
    ]
  ) {
    const res = await call("GET", "/api/v1/status", { host });
    assert.equal(res.status, 200, host);
    await res.body?.cancel();
  }
});

Deno.test("an_allowed_host_passes_in_host_and_in_origin", async () => {
  const { node, id, call } = await setup({ allowedHosts: ["DFS.Example.", "10.0.0.5"] });
  for (const host of ["dfs.example:443", "dfs.example", "dfs.example.:8080", "10.0.0.5:5000"]) {
    const res = await call("GET", "/api/v1/status", { host });
    assert.equal(res.status, 200, host);
    await res.body?.cancel();
  }
  await refusal(await call("GET", "/api/v1/status", { host: "evil.example" }), "HOST_NOT_ALLOWED");
  // A proxy that forwards to 127.0.0.1:5000 with its own Host rewritten: the page's Origin is
  // the proxy's name, which the operator allowed.
  const res = await call("DELETE", `/api/v1/files/${id}`, { origin: "https://dfs.example" });
  assert.equal(res.status, 200);
  assert.equal(node.files.has(id), false);
});

Deno.test("requests_without_browser_headers_pass", async () => {
  const { node, id, call } = await setup();
  const put = await call("POST", "/api/v1/files", {}, enc.encode("from curl"));
  assert.equal(put.status, 201);
  const del = await call("DELETE", `/api/v1/files/${id}`);
  assert.equal(del.status, 200);
  assert.equal(node.files.has(id), false);
});

Deno.test("same_origin_pages_pass", async () => {
  const { node, id, call } = await setup();
  const cases: [string, string][] = [
    ["127.0.0.1:5000", "http://127.0.0.1:5000"],
    ["localhost:5000", "http://localhost:5000"],
    ["[::1]:5000", "http://[::1]:5000"],
    ["LocalHost:5000", "http://localhost:5000"],
  ];
  for (const [host, origin] of cases) {
    const headers = { host, origin, "sec-fetch-site": "same-origin" };
    const res = await call("POST", "/api/v1/files", headers, enc.encode(origin));
    assert.equal(res.status, 201, `${host} ${origin}`);
    await res.body?.cancel();
  }
  const del = await call("DELETE", `/api/v1/files/${id}`, { origin: "http://127.0.0.1:5000" });
  assert.equal(del.status, 200);
  assert.equal(node.files.has(id), false);
  // The same origin behind a TLS proxy: Origin https://name, Host name (default port either way).
  const proxied = await setup({ allowedHosts: [], listen: "127.0.0.1" });
  const p = await proxied.call("GET", "/api/v1/status", {
    host: "127.0.0.1:443",
    origin: "https://127.0.0.1",
  });
  assert.equal(p.status, 200);
  await p.body?.cancel();
});

Deno.test("off_loopback_the_host_is_not_checked_the_token_is", async () => {
  const { node, id, call } = await setup({ listen: "0.0.0.0", token: TOKEN });
  const auth = { authorization: `Bearer ${TOKEN}` };
  // Any name reaches a node listening on all interfaces; the token is what protects it.
  for (const host of ["node.example:5000", "10.0.0.7:5000", "evil.example"]) {
    const res = await call("GET", "/api/v1/status", { host, ...auth });
    assert.equal(res.status, 200, host);
    await res.body?.cancel();
    const noToken = await call("GET", "/api/v1/status", { host });
    assert.equal(noToken.status, 401, host);
    await noToken.body?.cancel();
  }
  // Cross-site requests are still refused there (they could only carry a token a page stole).
  const del = await call("DELETE", `/api/v1/files/${id}`, {
    host: "node.example:5000",
    origin: "https://evil.example",
    ...auth,
  });
  await refusal(del, "ORIGIN_NOT_ALLOWED");
  assert.ok(node.files.has(id));
  const own = await call("DELETE", `/api/v1/files/${id}`, {
    host: "node.example:5000",
    origin: "http://node.example:5000",
    ...auth,
  });
  assert.equal(own.status, 200);
  assert.equal(node.files.has(id), false);
});

Deno.test("the_host_falls_back_to_the_request_url_without_a_host_header", async () => {
  const api = () => Promise.resolve(new Response("ok"));
  const guarded = guardBrowserRequests(api, { listenHostname: "localhost" });
  assert.equal((await guarded(new Request("http://localhost:5000/"))).status, 200);
  const rebound = await guarded(new Request("http://evil.example:5000/api/v1/status"));
  await refusal(rebound, "HOST_NOT_ALLOWED");
});

Deno.test("each_refusal_is_reported_once_and_passes_are_not", async () => {
  const seen: string[] = [];
  const guarded = guardBrowserRequests(() => Promise.resolve(new Response("ok")), {
    listenHostname: "127.0.0.1",
    onRefused: (err, req) => seen.push(`${err.code} ${req.method}`),
  });
  await guarded(new Request("http://evil.example:5000/"));
  await guarded(
    new Request("http://127.0.0.1:5000/x", { method: "DELETE", headers: { origin: "null" } }),
  );
  await guarded(new Request("http://127.0.0.1:5000/"));
  assert.deepEqual(seen, ["HOST_NOT_ALLOWED GET", "ORIGIN_NOT_ALLOWED DELETE"]);
});

Deno.test("allowed_hosts_are_names_without_port_or_scheme", () => {
  assert.equal(normalizeAllowedHost("DFS.Example."), "dfs.example");
  assert.equal(normalizeAllowedHost(" node-a.lan "), "node-a.lan");
  assert.equal(normalizeAllowedHost("10.0.0.5"), "10.0.0.5");
  assert.equal(normalizeAllowedHost("fd00::1"), "[fd00::1]");
  assert.equal(normalizeAllowedHost("[FD00::1]"), "[fd00::1]");
  for (
    const bad of [
      "",
      "dfs.example:8080",
      "http://dfs.example",
      "*.example",
      "dfs.example/x",
      "a b",
      "user@dfs.example",
      "[zz::1]",
      "1.2.3.999",
    ]
  ) {
    assert.throws(() => normalizeAllowedHost(bad), InvalidArgumentError, bad);
  }
  assert.throws(
    () =>
      guardBrowserRequests(() => Promise.resolve(new Response()), {
        listenHostname: "127.0.0.1",
        allowedHosts: ["dfs.example:443"],
      }),
    InvalidArgumentError,
  );
});
