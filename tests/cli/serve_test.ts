import assert from "node:assert/strict";
import type { StartNodeOptions } from "../../src/cli/context.ts";
import { EXIT } from "../../src/cli/errors.ts";
import { IoError } from "../../src/errors.ts";
import { main } from "../../src/cli/main.ts";
import { FakeNode } from "../api/fake_node.ts";
import { closedPort, FakeProcess, testRuntime } from "./harness.ts";

/** Polls `check` every 20 ms for at most `ms`. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withServe(
  args: string[],
  fn: (ctx: {
    proc: FakeProcess;
    node: FakeNode;
    started: StartNodeOptions[];
    apiUrl: string;
    done: Promise<number>;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-test-" });
  const proc = new FakeProcess(args.map((a) => a.replace("$DIR", dir)));
  const node = new FakeNode();
  const started: StartNodeOptions[] = [];
  const done = main(testRuntime(proc), {
    startNode: (o) => {
      started.push(o);
      return Promise.resolve(node);
    },
  });
  let finished = false;
  done.finally(() => finished = true);
  try {
    await waitFor(() => finished || /api {3}\S+\n/.test(proc.stdout));
    const apiUrl = /api {3}(\S+)\n/.exec(proc.stdout)?.[1] ?? "";
    await fn({ proc, node, started, apiUrl, done });
  } finally {
    if (!finished) proc.raise("SIGTERM");
    await done;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("serve_prints_identity_serves_the_api_and_stops_on_sigint", () =>
  withServe(
    ["serve", "--listen", ":0", "--api", "127.0.0.1:0", "--data", "$DIR/node"],
    async ({ proc, node, started, apiUrl, done }) => {
      assert.match(proc.stdout, new RegExp(`^dfs 0\\.1\\.0 node ${node.nodeId}\n`));
      assert.match(proc.stdout, /\n {2}p2p {3}127\.0\.0\.1:3000\n/);
      assert.match(apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      assert.match(proc.stdout, /\n {2}data {2}\S+\/node\n$/);
      assert.equal(started.length, 1);
      assert.deepEqual(started[0].listen, { hostname: "127.0.0.1", port: 0 });
      assert.ok((await Deno.stat(started[0].dataDir)).isDirectory);

      const res = await fetch(`${apiUrl}/status`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).nodeId, node.nodeId);

      // The dashboard, at the URL the banner prints.
      const webUrl = /\n {2}web {3}(\S+)\n/.exec(proc.stdout)?.[1] ?? "";
      assert.equal(webUrl, apiUrl.replace(/\/api\/v1$/, "/"));
      const page = await fetch(webUrl);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.ok(page.headers.get("content-security-policy"));
      assert.match(await page.text(), /<title>dfs node<\/title>/);

      proc.raise("SIGINT");
      assert.equal(await done, EXIT.OK);
      assert.equal(node.closed, true);
      assert.match(proc.stderr, /dfs: SIGINT: stopping\ndfs: stopped\n$/);
      assert.equal(proc.handlerCount, 0);
      await assert.rejects(fetch(`${apiUrl}/status`));
    },
  ));

Deno.test("options_without_a_command_mean_serve_and_sigterm_stops_it", () =>
  withServe(
    ["-l", ":0", "--api", ":0", "-d", "$DIR/n2", "-b", "127.0.0.1:9,127.0.0.1:10", "-r", "2"],
    async ({ proc, node, started, done }) => {
      assert.deepEqual(started[0].bootstrap, ["127.0.0.1:9", "127.0.0.1:10"]);
      assert.equal(started[0].replication, 2);
      proc.raise("SIGTERM");
      assert.equal(await done, 0);
      assert.equal(node.closed, true);
    },
  ));

Deno.test("serve_reports_a_node_that_fails_to_start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-test-" });
  try {
    const proc = new FakeProcess(["serve", "--listen", ":0", "--api", ":0", "--data", dir]);
    const code = await main(testRuntime(proc), {
      startNode: () => Promise.reject(new Error("address already in use")),
    });
    assert.equal(code, EXIT.ERROR);
    assert.equal(proc.stderr, "dfs: error: address already in use\n");
    assert.equal(proc.handlerCount, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve_closes_the_node_when_the_api_port_is_taken", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-test-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const node = new FakeNode();
    const proc = new FakeProcess(["serve", "--listen", ":0", "--api", `:${port}`, "--data", dir]);
    const code = await main(testRuntime(proc), { startNode: () => Promise.resolve(node) });
    assert.equal(code, EXIT.ERROR);
    assert.match(proc.stderr, /^dfs: error: /);
    assert.equal(node.closed, true);
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("closed_port_helper_gives_a_port_nobody_listens_on", async () => {
  const port = closedPort();
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
});

Deno.test("serve_says_why_it_cannot_listen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-test-" });
  try {
    const proc = new FakeProcess(["--listen", ":3000", "--api", ":0", "--data", dir]);
    const cause = new Error("Address already in use (os error 98)");
    const code = await main(testRuntime(proc), {
      startNode: () => Promise.reject(new IoError("cannot listen on 127.0.0.1:3000", { cause })),
    });
    assert.equal(code, EXIT.ERROR);
    assert.equal(
      proc.stderr,
      "dfs: error: cannot listen on 127.0.0.1:3000: Address already in use (os error 98)\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a_bad_bootstrap_address_prints_the_serve_usage", async () => {
  const proc = new FakeProcess(["--listen", ":0", "--bootstrap", "nonsense:xx"]);
  const code = await main(testRuntime(proc), {
    startNode: () => Promise.reject(new Error("must not start")),
  });
  assert.equal(code, EXIT.USAGE);
  const lines = proc.stderr.trimEnd().split("\n");
  assert.equal(lines[0], 'dfs: error: --bootstrap: port must be 0..65535, got "xx"');
  assert.match(lines[1], /^usage: dfs \[serve\] /);
  assert.equal(lines.at(-1), 'Run "dfs help serve" for more.');
});

Deno.test("serve_with_a_cluster_key_prints_its_banner_and_none_of_the_key", async () => {
  const keyDir = await Deno.makeTempDir({ prefix: "dfs-serve-key-" });
  try {
    const key = crypto.getRandomValues(new Uint8Array(32));
    await Deno.writeFile(`${keyDir}/cluster.key`, key);
    await withServe(
      [
        "serve",
        "--listen",
        ":0",
        "--api",
        "127.0.0.1:0",
        "--data",
        "$DIR/node",
        "--cluster-key-file",
        `${keyDir}/cluster.key`,
      ],
      async ({ proc, node, started }) => {
        assert.match(proc.stdout, new RegExp(`^dfs 0\\.1\\.0 node ${node.nodeId}\n`));
        assert.deepEqual(started[0].clusterKey, key);
        const hex = Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
        for (const text of [proc.stdout, proc.stderr]) {
          assert.ok(!text.includes(hex) && !text.includes(key.join(",")), text);
        }
        await Promise.resolve();
      },
    );
  } finally {
    await Deno.remove(keyDir, { recursive: true });
  }
});

Deno.test("serve_takes_max_store_from_the_flag_or_the_environment", async () => {
  await withServe(
    ["serve", "--listen", ":0", "--api", "127.0.0.1:0", "--data", "$DIR/n", "--max-store", "50GiB"],
    async ({ started }) => {
      assert.equal(started[0].maxStoreBytes, 50 * 1024 ** 3);
      await Promise.resolve();
    },
  );
  await withServe(
    ["serve", "--listen", ":0", "--api", "127.0.0.1:0", "--data", "$DIR/n"],
    async ({ started }) => {
      assert.equal(started[0].maxStoreBytes, undefined);
      await Promise.resolve();
    },
  );
  const proc = new FakeProcess(["--listen", ":0", "--api", ":0", "--data", "/nowhere"]);
  proc.vars.set("DFS_MAX_STORE", "1MiB");
  const seen: StartNodeOptions[] = [];
  await main(testRuntime(proc), {
    startNode: (o) => {
      seen.push(o);
      return Promise.reject(new Error("stop here"));
    },
  });
  assert.equal(seen[0].maxStoreBytes, 1024 * 1024);
});

Deno.test("a_bad_max_store_prints_the_serve_usage", async () => {
  const proc = new FakeProcess(["--listen", ":0", "--max-store", "lots"]);
  const code = await main(testRuntime(proc), {
    startNode: () => Promise.reject(new Error("must not start")),
  });
  assert.equal(code, EXIT.USAGE);
  const lines = proc.stderr.trimEnd().split("\n");
  assert.equal(
    lines[0],
    'dfs: error: --max-store expects a positive size like 262144 or 256KiB, got "lots"',
  );
  assert.match(lines[1], /^usage: dfs \[serve\] /);
});

Deno.test("serve_passes_max_connections_to_the_node", async () => {
  await withServe(
    ["--listen", ":0", "--api", "127.0.0.1:0", "--data", "$DIR/n", "--max-connections", "16"],
    async ({ started }) => {
      assert.deepEqual(started[0].peer, { maxConnections: 16 });
      await Promise.resolve();
    },
  );
});

Deno.test("a_bad_max_connections_prints_the_serve_usage", async () => {
  const proc = new FakeProcess(["--listen", ":0", "--max-connections", "0"]);
  const code = await main(testRuntime(proc), {
    startNode: () => Promise.reject(new Error("must not start")),
  });
  assert.equal(code, EXIT.USAGE);
  const lines = proc.stderr.trimEnd().split("\n");
  assert.equal(lines[0], 'dfs: error: --max-connections expects a whole number >= 1, got "0"');
  assert.match(lines[1], /^usage: dfs \[serve\] /);
  assert.equal(proc.stdout, "");
});

Deno.test("a_client_that_goes_away_before_the_answer_cancels_the_nodes_get", () =>
  withServe(
    ["serve", "--listen", ":0", "--api", "127.0.0.1:0", "--data", "$DIR/node"],
    async ({ node, apiUrl }) => {
      // A get that is still looking for its file when the client gives up: it answers only
      // when its signal aborts (and without one, never within the test).
      const seen: (AbortSignal | undefined)[] = [];
      node.get = (_id, options = {}) => {
        seen.push(options.signal);
        return new Promise((_, reject) => {
          const signal = options.signal;
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      };
      const id = "1220" + "ab".repeat(32);
      const res = await fetch(`${apiUrl}/files/${id}`, { signal: AbortSignal.timeout(200) })
        .then(() => "answered", (err) => String(err?.name));
      assert.equal(res, "TimeoutError");
      await waitFor(() => seen.length === 1 && seen[0]?.aborted === true, 5000);
    },
  ));
