import assert from "node:assert/strict";
import { requireBearerToken } from "../../src/api/auth.ts";

const TOKEN = "k2bq3O4xq8mO1mI6n0w8yq7kq2b1v8y5g7w0c3f9d2s";

Deno.test("bearer_token_guard_passes_the_right_token_only", async () => {
  let reached = 0;
  const api = requireBearerToken(() => {
    reached++;
    return Promise.resolve(new Response("ok"));
  }, TOKEN);
  const call = (authorization?: string) =>
    api(new Request("http://n/api/v1/status", authorization ? { headers: { authorization } } : {}));
  for (
    const header of [
      undefined,
      "",
      "Bearer",
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN} extra`,
    ]
  ) {
    const res = await call(header);
    assert.equal(res.status, 401, String(header));
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="dfs"');
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const text = await res.text();
    assert.equal(JSON.parse(text).error.code, "UNAUTHORIZED");
    assert.ok(!text.includes(TOKEN));
  }
  assert.equal(reached, 0);
  for (const header of [`Bearer ${TOKEN}`, `bearer  ${TOKEN} `]) {
    const res = await call(header);
    assert.equal(res.status, 200, header);
    assert.equal(await res.text(), "ok");
  }
  assert.equal(reached, 2);
});

Deno.test("a_refused_upload_is_not_read", async () => {
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(1024));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const api = requireBearerToken(() => Promise.resolve(new Response("stored")), TOKEN);
  const res = await api(
    new Request("http://n/api/v1/files", { method: "POST", body, duplex: "half" } as RequestInit),
  );
  assert.equal(res.status, 401);
  await res.body?.cancel();
  assert.ok(cancelled);
  assert.ok(pulled <= 1, `pulled ${pulled}`);
});
