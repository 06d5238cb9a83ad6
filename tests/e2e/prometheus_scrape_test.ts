/**
 * A real Prometheus scrapes a three-node cluster, one `dfs serve` per runtime (Deno, Bun,
 * Node), as an operator would set it up (`docs/operations.md`, Metrics): every target is `up`,
 * no scrape error is reported, and a put through one node shows in the figures Prometheus
 * stored. Debian's `prometheus` is required in CI (DFS_REQUIRE_PROMTOOL=1, as for promtool);
 * elsewhere, without it, the test says so loudly and is ignored.
 *
 * Every wait is bounded; only the processes started here are killed (by pid); the temporary
 * directory is removed in every case.
 */
import assert from "node:assert/strict";
import {
  type NodeProcess,
  putVia,
  startServeProcess,
  waitForPeers,
  withNodeProcesses,
} from "./node_harness.ts";
import { randomBytes } from "../util/prng.ts";

const required = Deno.env.get("DFS_REQUIRE_PROMTOOL") === "1";
const missing = await prometheusMissing();

async function prometheusMissing(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("prometheus", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success ? undefined : "prometheus --version failed";
  } catch (err) {
    return `prometheus not found (${err instanceof Error ? err.message : String(err)})`;
  }
}

if (missing !== undefined) {
  const bar = "!".repeat(100);
  console.error(
    `${bar}\n!!! THE PROMETHEUS SCRAPE TEST DID NOT RUN: ${missing}\n` +
      "!!! Install it (apt-get install -y prometheus) to run it.\n" +
      (required ? "!!! DFS_REQUIRE_PROMTOOL=1: this is a failure.\n" : "") + bar,
  );
}

/** A loopback port free a moment ago (Prometheus takes its listen address as a flag). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `probe` every 250 ms until it returns a value, or throws after `ms` with `what`. */
async function until<T>(ms: number, what: string, probe: () => Promise<T | undefined>) {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${last})` : ""}`);
}

interface QueryAnswer {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(base: string, promql: string): Promise<QueryAnswer["data"]["result"]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = await res.json() as QueryAnswer;
  assert.equal(body.status, "success", JSON.stringify(body));
  return body.data.result;
}

Deno.test({
  name: "prometheus_scrapes_every_node_of_a_three_runtime_cluster",
  ignore: missing !== undefined && !required,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withNodeProcesses("dfs-prometheus-", async (dir, procs: NodeProcess[]) => {
      assert.equal(missing, undefined, `DFS_REQUIRE_PROMTOOL=1 but ${missing}`);
      for (const [i, runtime] of (["deno", "bun", "node"] as const).entries()) {
        procs.push(
          await startServeProcess({
            runtime,
            dataDir: `${dir}/n${i}`,
            bootstrap: i === 0 ? [] : [procs[0].info.address],
          }),
        );
      }
      await waitForPeers(procs[0].info.apiUrl, 2);
      const put = await putVia(procs[0].info.apiUrl, randomBytes(300_000, 7), "?copies=3");
      assert.equal(put.copies, 3);

      const targets = procs.map((p) => new URL(p.info.apiUrl).host);
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        [
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 1s",
          "scrape_configs:",
          "  - job_name: dfs",
          "    metrics_path: /metrics",
          "    static_configs:",
          `      - targets: [${targets.map((t) => `"${t}"`).join(", ")}]`,
          "",
        ].join("\n"),
      );
      const port = freePort();
      const base = `http://127.0.0.1:${port}`;
      const prometheus = new Deno.Command("prometheus", {
        args: [
          `--config.file=${dir}/prometheus.yml`,
          `--storage.tsdb.path=${dir}/tsdb`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const log: string[] = [];
      const drain = prometheus.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (t) => void log.push(t) }),
      ).catch(() => {});
      try {
        await until(30_000, "prometheus ready", async () => {
          const res = await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(2_000) });
          await res.body?.cancel();
          return res.ok ? true : undefined;
        });
        // Every node is up, with no scrape error.
        const up = await until(30_000, "every target up", async () => {
          const r = await query(base, 'up{job="dfs"}');
          return r.length === 3 && r.every((x) => x.value[1] === "1") ? r : undefined;
        });
        assert.deepEqual(up.map((x) => x.metric.instance).sort(), [...targets].sort());
        const res = await fetch(`${base}/api/v1/targets`, { signal: AbortSignal.timeout(5_000) });
        const t = await res.json() as {
          data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] };
        };
        for (const target of t.data.activeTargets) {
          assert.equal(target.health, "up", JSON.stringify(target));
          assert.equal(target.lastError, "", JSON.stringify(target));
        }
        // Each runtime's node is told apart, and the put shows in what Prometheus stored.
        const info = await query(base, "dfs_node_info");
        assert.deepEqual(info.map((x) => x.metric.runtime).sort(), ["bun", "deno", "node"]);
        const files = await until(30_000, "the put's file counted on every node", async () => {
          const r = await query(base, "dfs_files");
          return r.length === 3 && r.every((x) => Number(x.value[1]) >= 1) ? r : undefined;
        });
        assert.equal(files.length, 3);
        const stored = await query(base, "sum(dfs_store_bytes)");
        assert.ok(Number(stored[0].value[1]) >= 3 * 300_000, JSON.stringify(stored));
      } catch (err) {
        console.error(`--- prometheus\n${log.join("").slice(-4000)}`);
        throw err;
      } finally {
        prometheus.kill("SIGTERM");
        const timer = setTimeout(() => prometheus.kill("SIGKILL"), 10_000);
        await prometheus.status;
        clearTimeout(timer);
        await drain;
      }
    }),
});
