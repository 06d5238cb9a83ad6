import assert from "node:assert/strict";
import { createApiHandler } from "../../src/api/handler.ts";
import { booleanParam, putParams } from "../../src/api/params.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import type { DrainReport, FileHealth } from "../../src/node/types.ts";
import { FAKE_UPKEEP, FakeNode } from "./fake_node.ts";

const enc = new TextEncoder();

function setup(options: { onDrained?: (r: DrainReport) => void } = {}) {
  const node = new FakeNode();
  const errors: unknown[] = [];
  const handler = createApiHandler(node, { onError: (e) => errors.push(e), ...options });
  const call = (method: string, path: string, init: RequestInit = {}) =>
    handler(new Request(`http://dfs.test${path}`, { method, ...init }));
  return { node, call, errors };
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return (await res.json()).error;
}

Deno.test("post_passes_the_redundancy_to_put_and_answers_the_policy", async () => {
  const { node, call } = setup();
  const res = await call("POST", "/api/v1/files?redundancy=rs:4%2B2", { body: enc.encode("x") });
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.equal(body.redundancy, "rs:4+2");
  assert.equal(body.wanted, 6);
  assert.equal(node.lastPut?.redundancy, "rs:4+2");
  assert.equal(node.lastPut?.copies, undefined);
});

Deno.test("post_passes_the_canonical_policy_text", async () => {
  const { node, call } = setup();
  for (
    const [given, passed] of [[" REPLICAS:2-4 ", "replicas:2-4"], ["replicas:3", "replicas:3"]]
  ) {
    const q = new URLSearchParams({ redundancy: given });
    const res = await call("POST", `/api/v1/files?${q}`, { body: enc.encode("x") });
    assert.equal(res.status, 201, given);
    await res.body?.cancel();
    assert.equal(node.lastPut?.redundancy, passed);
  }
});

Deno.test("post_rejects_a_bad_policy_with_the_parser_message", async () => {
  const { node, call, errors } = setup();
  for (const bad of ["rs:4", "replicas:0", "replicas:4-2", "rs:60+10", "mirror:2", ""]) {
    const q = new URLSearchParams({ redundancy: bad });
    const res = await call("POST", `/api/v1/files?${q}`, { body: enc.encode("x") });
    assert.equal(res.status, 400, bad);
    const err = await errorOf(res);
    assert.equal(err.code, "INVALID_ARGUMENT", bad);
    assert.match(err.message, /redundancy must be|replicas needs|rs needs/, bad);
  }
  const res = await call("POST", "/api/v1/files?redundancy=rs:4", { body: enc.encode("x") });
  assert.equal(
    (await errorOf(res)).message,
    'redundancy must be replicas:N, replicas:MIN-MAX or rs:K+M (e.g. replicas:3, rs:4+2), got "rs:4"',
  );
  assert.equal(node.lastPut, undefined, "nothing was put");
  assert.equal(errors.length, 0, "client errors are not reported");
});

Deno.test("post_with_copies_and_redundancy_together_answers_400", async () => {
  const { node, call } = setup();
  const res = await call("POST", "/api/v1/files?copies=2&redundancy=replicas:2", {
    body: enc.encode("x"),
  });
  assert.equal(res.status, 400);
  const err = await errorOf(res);
  assert.equal(err.code, "INVALID_ARGUMENT");
  assert.match(err.message, /copies or redundancy, not both/);
  assert.equal(node.lastPut, undefined);
});

Deno.test("stat_with_health_passes_the_option_and_answers_the_health", async () => {
  const { node, call } = setup();
  const id = await node.add(enc.encode("healthy?"));
  const health: FileHealth = {
    health: "degraded",
    live: 5,
    target: 6,
    survives: 1,
    holders: [{ nodeId: "cd".repeat(32), columns: [0, 1] }, {
      nodeId: "ef".repeat(32),
      columns: [2],
    }],
    unreachable: 1,
  };
  node.health = health;
  node.statPolicy = { redundancy: "rs:4+2", stripes: 3 };
  let body = await (await call("GET", `/api/v1/files/${id}/stat`)).json();
  assert.equal("health" in body, false);
  assert.equal(body.redundancy, "rs:4+2");
  assert.equal(body.stripes, 3);
  assert.deepEqual(node.statOptions, [undefined]);
  for (const q of ["health=1", "health=true", "health"]) {
    body = await (await call("GET", `/api/v1/files/${id}/stat?${q}`)).json();
    assert.deepEqual(body.health, health, q);
    assert.deepEqual(node.statOptions.at(-1), { health: true }, q);
  }
  body = await (await call("GET", `/api/v1/files/${id}/stat?health=0`)).json();
  assert.equal("health" in body, false);
  assert.equal(node.statOptions.at(-1), undefined);
});

Deno.test("stat_with_a_bad_health_value_answers_400", async () => {
  const { node, call } = setup();
  const id = await node.add(enc.encode("x"));
  const res = await call("GET", `/api/v1/files/${id}/stat?health=maybe`);
  assert.equal(res.status, 400);
  assert.deepEqual(await errorOf(res), {
    code: "INVALID_ARGUMENT",
    message: 'health must be 1 or 0 (true or false), got "maybe"',
  });
  assert.deepEqual(node.statOptions, []);
});

Deno.test("stat_health_of_a_tombstoned_file_carries_deleted_at", async () => {
  const { node, call } = setup();
  const id = await node.add(enc.encode("gone"));
  node.health = {
    health: "lost",
    live: 0,
    target: 3,
    survives: -1,
    holders: [],
    unreachable: 0,
    deletedAt: 1e12,
  };
  const body = await (await call("GET", `/api/v1/files/${id}/stat?health=1`)).json();
  assert.equal(body.health.deletedAt, 1e12);
  assert.equal(body.health.health, "lost");
});

Deno.test("delete_answers_the_tombstone_count", async () => {
  const { node, call } = setup();
  const id = await node.add(enc.encode("rm me"));
  node.tombstones = 5;
  const body = await (await call("DELETE", `/api/v1/files/${id}`)).json();
  assert.deepEqual(body, { id, local: true, remote: 1, tombstones: 5 });
});

Deno.test("status_carries_the_upkeep_figures", async () => {
  const { node, call } = setup();
  let status = await (await call("GET", "/api/v1/status")).json();
  assert.equal("upkeep" in status, false);
  node.upkeep = FAKE_UPKEEP;
  status = await (await call("GET", "/api/v1/status")).json();
  assert.deepEqual(status.upkeep, FAKE_UPKEEP);
});

Deno.test("drain_runs_the_drain_answers_the_report_then_calls_the_hook", async () => {
  const drained: DrainReport[] = [];
  const { node, call } = setup({ onDrained: (r) => drained.push(r) });
  const res = await call("POST", "/api/v1/drain");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await res.json(), node.drainReport);
  assert.deepEqual(node.calls, ["drain"]);
  assert.deepEqual(node.drainSignals, [undefined], "the request signal is not read by default");
  assert.deepEqual(drained, [], "the hook runs after the answer was handed over");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(drained, [node.drainReport]);
});

Deno.test("a_failed_drain_answers_the_error_and_does_not_call_the_hook", async () => {
  const drained: DrainReport[] = [];
  const { node, call, errors } = setup({ onDrained: (r) => drained.push(r) });
  node.nextError = new Error("disk gone");
  const res = await call("POST", "/api/v1/drain");
  assert.equal(res.status, 500);
  assert.equal((await errorOf(res)).code, "INTERNAL");
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(drained, []);
  assert.equal(errors.length, 1);
});

Deno.test("drain_without_a_hook_just_answers_the_report", async () => {
  const { node, call } = setup();
  const res = await call("POST", "/api/v1/drain/");
  assert.deepEqual(await res.json(), node.drainReport);
});

Deno.test("drain_with_the_request_signal_passes_it_on", async () => {
  const node = new FakeNode();
  const handler = createApiHandler(node, { useRequestSignal: true });
  const ac = new AbortController();
  const res = await handler(
    new Request("http://dfs.test/api/v1/drain", { method: "POST", signal: ac.signal }),
  );
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.ok(node.drainSignals[0] instanceof AbortSignal);
});

Deno.test("put_params_and_boolean_param_check_their_input", () => {
  assert.deepEqual(putParams(new URLSearchParams("name=a&copies=2")), { name: "a", copies: 2 });
  assert.deepEqual(putParams(new URLSearchParams("redundancy=rs:10%2B4")), {
    redundancy: "rs:10+4",
  });
  // An unencoded `+` (a shell's `?redundancy=rs:4+2`) arrives as a space: it still means `+`.
  assert.deepEqual(putParams(new URLSearchParams("redundancy=rs:4+2")), { redundancy: "rs:4+2" });
  assert.deepEqual(putParams(new URLSearchParams("")), {});
  for (const bad of ["name=", "copies=0", "copies=2&redundancy=rs:4%2B2", "redundancy=rs:0%2B1"]) {
    assert.throws(() => putParams(new URLSearchParams(bad)), InvalidArgumentError, bad);
  }
  assert.equal(booleanParam(new URLSearchParams("h=YES"), "h"), true);
  assert.equal(booleanParam(new URLSearchParams("h=no"), "h"), false);
  assert.throws(() => booleanParam(new URLSearchParams("h=2"), "h"), InvalidArgumentError);
});
