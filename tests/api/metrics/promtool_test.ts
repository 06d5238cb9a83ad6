/**
 * A real scrape of an in-memory node (after a put, a get and a delete), piped into Prometheus's
 * own linter, `promtool check metrics` (Debian's `prometheus` package). Where promtool is
 * missing it says so loudly and the check is ignored; with env DFS_REQUIRE_PROMTOOL=1 (as in
 * CI) that is a failure instead.
 */
import assert from "node:assert/strict";
import { createApiHandler } from "../../../src/api/handler.ts";
import { randomBytes, startCluster } from "../../node/cluster.ts";

const required = Deno.env.get("DFS_REQUIRE_PROMTOOL") === "1";
const missing = await promtoolMissing();

async function promtoolMissing(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("promtool", { args: ["--version"], stdout: "null" })
      .output();
    return out.success ? undefined : "promtool --version failed";
  } catch (err) {
    return `promtool not found (${err instanceof Error ? err.message : String(err)})`;
  }
}

if (missing !== undefined) {
  const bar = "!".repeat(100);
  console.error(
    `${bar}\n!!! THE PROMTOOL CHECK OF /metrics DID NOT RUN: ${missing}\n` +
      "!!! Install it (apt-get install -y prometheus) to run it; the exposition tests still ran.\n" +
      (required ? "!!! DFS_REQUIRE_PROMTOOL=1: this is a failure.\n" : "") + bar,
  );
}

if (required) {
  Deno.test("promtool_is_available_as_required", () => {
    assert.equal(missing, undefined, `DFS_REQUIRE_PROMTOOL=1 but ${missing}`);
  });
}

Deno.test({
  name: "promtool_check_metrics_accepts_a_real_scrape",
  ignore: missing !== undefined,
  fn: async () => {
    const cluster = await startCluster(2);
    try {
      await cluster.settle();
      const [a, b] = cluster.nodes;
      const callA = createApiHandler(a), callB = createApiHandler(b);
      const req = (method: string, path: string, body?: Uint8Array) =>
        new Request(`http://dfs.test${path}`, { method, body: body ? new Uint8Array(body) : null });
      const put = await callA(req("POST", "/api/v1/files?copies=2", randomBytes(5000, 3)));
      const { capability } = await put.json();
      const key = encodeURIComponent(capability);
      await (await callB(req("GET", `/api/v1/files/${key}`))).arrayBuffer();
      await (await callA(req("DELETE", `/api/v1/files/${key}`))).arrayBuffer();
      for (const call of [callA, callB]) {
        const text = await (await call(req("GET", "/metrics"))).text();
        const child = new Deno.Command("promtool", {
          args: ["check", "metrics"],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(text));
        await writer.close();
        const out = await child.output();
        const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
        assert.ok(out.success, `promtool check metrics refused the scrape:\n${said}\n---\n${text}`);
        // Lint findings (naming, units) are reported too, with exit code 0 in some versions.
        assert.equal(said.trim(), "", `promtool check metrics found problems:\n${said}`);
      }
    } finally {
      await cluster.close();
    }
  },
});
