/** Refused requests: counted by reason, listed with zeros, and heard of by the token check. */
import assert from "node:assert/strict";
import { requireBearerToken } from "../../../src/api/auth.ts";
import { ApiMetrics } from "../../../src/api/metrics/api_metrics.ts";
import { ApiRefusals } from "../../../src/api/metrics/api_refusals.ts";

Deno.test("api_metrics_list_every_refusal_reason_zeros_included", () => {
  const refusals = new ApiRefusals();
  const metrics = new ApiMetrics(refusals);
  refusals.record("host_not_allowed");
  refusals.record("host_not_allowed");
  const family = metrics.families().find((f) => f.name === "dfs_api_refused_total");
  assert.ok(family, "dfs_api_refused_total is listed");
  assert.equal(family.type, "counter");
  assert.deepEqual(
    family.samples.map((s) => [s.labels?.reason, s.value]),
    [["unauthorized", 0], ["origin_not_allowed", 0], ["host_not_allowed", 2]],
  );
});

Deno.test("the_token_check_reports_each_refusal_and_no_accepted_request", async () => {
  const heard: string[] = [];
  const api = requireBearerToken(() => Promise.resolve(new Response("ok")), "s3cret-token", {
    onRefused: (r) => heard.push(new URL(r.url).pathname),
  });
  const refused = await api(new Request("http://node/api/v1/status"));
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const wrong = await api(
    new Request("http://node/metrics", { headers: { authorization: "Bearer nope" } }),
  );
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const ok = await api(
    new Request("http://node/api/v1/status", {
      headers: { authorization: "Bearer s3cret-token" },
    }),
  );
  assert.equal(await ok.text(), "ok");
  assert.deepEqual(heard, ["/api/v1/status", "/metrics"]);
});
