import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { FakeProcess, testRuntime } from "./harness.ts";

/** Polls `check` every 20 ms for at most `ms`. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("serve_with_the_real_node_stores_and_returns_a_file_through_the_cli", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-real-" });
  const proc = new FakeProcess(["serve", "--listen", ":0", "--api", ":0", "--data", `${dir}/data`]);
  const done = main(testRuntime(proc));
  let finished = false;
  done.finally(() => finished = true);
  try {
    await waitFor(() => finished || /api {3}\S+\n/.test(proc.stdout));
    assert.equal(finished, false, proc.stderr);
    const api = /api {3}(\S+)\n/.exec(proc.stdout)![1];
    const src = `${dir}/in.bin`;
    const bytes = new Uint8Array(700_000).map((_, i) => (i * 7) % 256);
    await Deno.writeFile(src, bytes);
    const put = new FakeProcess(["put", src, "--name", "seven", "--api", api]);
    assert.equal(await main(testRuntime(put)), 0, put.stderr);
    const id = put.stdout.trim();
    assert.match(id, /^1220[0-9a-f]{64}$/);
    const get = new FakeProcess(["get", "seven", "-o", `${dir}/out.bin`, "--api", api]);
    assert.equal(await main(testRuntime(get)), 0, get.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/out.bin`), bytes);
    const missing = new FakeProcess(["get", "1220" + "0".repeat(64), "--api", api]);
    assert.equal(await main(testRuntime(missing)), EXIT.NOT_FOUND, missing.stderr);
  } finally {
    if (!finished) {
      proc.raise("SIGINT");
      assert.equal(await done, 0, proc.stderr);
    }
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts `dfs serve ARGS` with the real node; resolves once its API URL is printed. */
async function startServe(args: string[]) {
  const proc = new FakeProcess(["serve", "--listen", ":0", "--api", ":0", ...args]);
  const done = main(testRuntime(proc));
  let finished = false;
  done.finally(() => finished = true);
  await waitFor(() => finished || /api {3}\S+\n/.test(proc.stdout));
  assert.equal(finished, false, proc.stderr);
  const api = /api {3}(\S+)\n/.exec(proc.stdout)![1];
  const p2p = /p2p {3}(\S+)\n/.exec(proc.stdout)![1];
  return {
    proc,
    api,
    p2p,
    stop: async () => {
      proc.raise("SIGTERM");
      assert.equal(await done, 0, proc.stderr);
    },
  };
}

Deno.test("two_real_nodes_started_by_the_cli_share_a_file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-two-" });
  const a = await startServe(["--data", `${dir}/a`, "--replication", "2"]);
  let b: Awaited<ReturnType<typeof startServe>> | undefined;
  try {
    b = await startServe(["--data", `${dir}/b`, "--bootstrap", a.p2p, "--replication", "2"]);
    const api = b.api;
    // Wait (bounded) until B sees A as a peer.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const peers = new FakeProcess(["peers", "--json", "--api", api]);
      await main(testRuntime(peers));
      if (peers.stdout.startsWith("{") && JSON.parse(peers.stdout).peers.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const bytes = new Uint8Array(600_000).map((_, i) => (i * 13) % 256);
    await Deno.writeFile(`${dir}/in.bin`, bytes);
    const put = new FakeProcess(["put", `${dir}/in.bin`, "--json", "--api", a.api]);
    assert.equal(await main(testRuntime(put)), 0, put.stderr);
    const result = JSON.parse(put.stdout);
    const get = new FakeProcess(["get", result.id, "-o", `${dir}/out.bin`, "--api", api]);
    assert.equal(await main(testRuntime(get)), 0, get.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/out.bin`), bytes);
  } finally {
    await b?.stop();
    await a.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a_real_node_reports_its_dht_and_max_connections_through_the_cli", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-dht-" });
  const a = await startServe(["--data", `${dir}/a`, "--max-connections", "9"]);
  try {
    const peers = new FakeProcess(["peers", "--json", "--api", a.api]);
    assert.equal(await main(testRuntime(peers)), 0, peers.stderr);
    const view = JSON.parse(peers.stdout);
    assert.deepEqual(view.peers, []);
    assert.equal(view.dht.maxConnections, 9);
    assert.equal(typeof view.dht.k, "number");
    const human = new FakeProcess(["peers", "--api", a.api]);
    assert.equal(await main(testRuntime(human)), 0, human.stderr);
    assert.match(
      human.stdout,
      /\nDHT: \d+ contacts? in \d+ buckets? \(k = \d+\); 0 of 9 connections open\n/,
    );
    const status = new FakeProcess(["status", "--api", a.api]);
    assert.equal(await main(testRuntime(status)), 0, status.stderr);
    assert.match(status.stdout, /\ndht table: +\d+ contacts?\n/);
  } finally {
    await a.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
