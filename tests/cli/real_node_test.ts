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
    // encrypted by default: put prints the read capability, and only it reads the file
    const cap = put.stdout.trim();
    assert.match(cap, /^dfs:r:1220[0-9a-f]{64}:[A-Za-z0-9_-]{43}$/);
    const byName = new FakeProcess(["get", "seven", "-o", `${dir}/out.bin`, "--api", api]);
    assert.notEqual(await main(testRuntime(byName)), 0);
    assert.match(byName.stderr, /is encrypted: .*read capability/);
    const get = new FakeProcess(["get", cap, "-o", `${dir}/out.bin`, "--api", api]);
    assert.equal(await main(testRuntime(get)), 0, get.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/out.bin`), bytes);
    // --share-key: the name gives the capability
    const shared = new FakeProcess(["put", src, "-n", "eight", "--share-key", "--api", api]);
    assert.equal(await main(testRuntime(shared)), 0, shared.stderr);
    const getShared = new FakeProcess(["get", "eight", "-o", `${dir}/out8.bin`, "--api", api]);
    assert.equal(await main(testRuntime(getShared)), 0, getShared.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/out8.bin`), bytes);
    // --public: put prints the id, which reads the file
    const pub = new FakeProcess(["put", src, "--public", "--api", api]);
    assert.equal(await main(testRuntime(pub)), 0, pub.stderr);
    const id = pub.stdout.trim();
    assert.match(id, /^1220[0-9a-f]{64}$/);
    const getPub = new FakeProcess(["get", id, "-o", `${dir}/outp.bin`, "--api", api]);
    assert.equal(await main(testRuntime(getPub)), 0, getPub.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/outp.bin`), bytes);
    // --convergent: the same file twice gives the same capability
    const c1 = new FakeProcess(["put", src, "--convergent", "--api", api]);
    const c2 = new FakeProcess(["put", src, "--convergent", "--api", api]);
    assert.equal(await main(testRuntime(c1)), 0, c1.stderr);
    assert.equal(await main(testRuntime(c2)), 0, c2.stderr);
    assert.equal(c1.stdout, c2.stdout);
    assert.notEqual(c1.stdout.trim(), cap);
    const getConv = new FakeProcess([
      "get",
      c1.stdout.trim(),
      "-o",
      `${dir}/outc.bin`,
      "--api",
      api,
    ]);
    assert.equal(await main(testRuntime(getConv)), 0, getConv.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/outc.bin`), bytes);
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
    assert.match(result.capability, /^dfs:r:/);
    const get = new FakeProcess(["get", result.capability, "-o", `${dir}/out.bin`, "--api", api]);
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
