import assert from "node:assert/strict";
import { apiBaseUrl, apiListenAddress, parseHostPort } from "../../src/cli/address.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { serveOptionsOf } from "./harness.ts";

Deno.test("host_port_defaults_the_host_to_loopback", () => {
  assert.deepEqual(parseHostPort(":3000", "--listen"), { hostname: "127.0.0.1", port: 3000 });
  assert.deepEqual(parseHostPort("3000", "--listen"), { hostname: "127.0.0.1", port: 3000 });
  assert.deepEqual(parseHostPort("0.0.0.0:0", "--listen"), { hostname: "0.0.0.0", port: 0 });
  assert.deepEqual(parseHostPort("node-a.local:4000", "--listen"), {
    hostname: "node-a.local",
    port: 4000,
  });
  assert.deepEqual(parseHostPort("[::1]:3000", "--listen"), { hostname: "::1", port: 3000 });
});

Deno.test("host_port_rejects_garbage_with_a_usage_error", () => {
  for (const bad of ["", "localhost", "host:", "host:99999", "a:b:c", "h o st:1", ":-1"]) {
    assert.throws(() => parseHostPort(bad, "--listen"), UsageError, bad);
  }
});

Deno.test("api_urls_accept_urls_and_host_ports", () => {
  assert.equal(apiBaseUrl(":5000"), "http://127.0.0.1:5000/api/v1");
  assert.equal(apiBaseUrl("10.0.0.2:80"), "http://10.0.0.2:80/api/v1");
  assert.equal(apiBaseUrl("http://127.0.0.1:5000"), "http://127.0.0.1:5000/api/v1");
  assert.equal(apiBaseUrl("https://dfs.example/api/v1/"), "https://dfs.example/api/v1");
  assert.equal(apiBaseUrl("http://gw.example/dfs"), "http://gw.example/dfs/api/v1");
  assert.deepEqual(apiListenAddress("http://0.0.0.0:8080"), { hostname: "0.0.0.0", port: 8080 });
  assert.throws(() => apiBaseUrl("http://["), UsageError);
});

const opts = serveOptionsOf;

Deno.test("serve_defaults_listen_api_and_data_directory", async () => {
  const o = await opts([]);
  assert.deepEqual(o.node.listen, { hostname: "127.0.0.1", port: 3000 });
  assert.deepEqual(o.api, { hostname: "127.0.0.1", port: 5000 });
  assert.equal(o.node.dataDir, ".dfs/3000");
  assert.deepEqual(o.node.bootstrap, []);
  assert.equal(o.node.replication, undefined);
  assert.equal(o.node.blockSize, undefined);
});

Deno.test("serve_reads_dfs_api_and_dfs_data_from_the_environment", async () => {
  const o = await opts(["--listen", ":3100"], {
    DFS_API: "http://127.0.0.1:6100",
    DFS_DATA: "/srv/dfs",
  });
  assert.deepEqual(o.api, { hostname: "127.0.0.1", port: 6100 });
  assert.equal(o.node.dataDir, "/srv/dfs");
  assert.equal((await opts(["-l", ":3100"])).node.dataDir, ".dfs/3100");
});

Deno.test("serve_options_override_everything", async () => {
  const o = await opts([
    "--listen",
    "0.0.0.0:4000",
    "--data",
    "/tmp/x",
    "--api",
    ":7000",
    "--bootstrap",
    "127.0.0.1:3000, :3001",
    "-b",
    "10.0.0.1:3000",
    "--replication",
    "2",
    "--block-size",
    "64KiB",
  ], { DFS_API: ":1", DFS_DATA: "/nope" });
  assert.deepEqual(o.node.listen, { hostname: "0.0.0.0", port: 4000 });
  assert.equal(o.node.dataDir, "/tmp/x");
  assert.deepEqual(o.api, { hostname: "127.0.0.1", port: 7000 });
  assert.deepEqual(o.node.bootstrap, ["127.0.0.1:3000", "127.0.0.1:3001", "10.0.0.1:3000"]);
  assert.equal(o.node.replication, 2);
  assert.equal(o.node.blockSize, 65536);
});

Deno.test("serve_rejects_bad_values_with_usage_errors", async () => {
  for (
    const args of [
      ["--listen", "nope"],
      ["--replication", "0"],
      ["--replication", "two"],
      ["--block-size", "huge"],
      ["--bootstrap", "x"],
      ["--frobnicate"],
      ["extra"],
      ["--listen"],
      ["--log-level", "loud"],
    ]
  ) {
    await assert.rejects(async () => (await opts(args)), UsageError, args.join(" "));
  }
});

Deno.test("serve_max_connections_sets_the_peer_option", async () => {
  assert.equal((await opts([])).node.peer, undefined, "the node's default when not given");
  assert.deepEqual((await opts(["--max-connections", "16"])).node.peer, { maxConnections: 16 });
  assert.deepEqual((await opts(["--max-connections=1"])).node.peer, { maxConnections: 1 });
  assert.deepEqual((await opts([], { DFS_MAX_CONNECTIONS: "300" })).node.peer, {
    maxConnections: 300,
  });
  assert.equal(
    (await opts([], { DFS_MAX_CONNECTIONS: "" })).node.peer,
    undefined,
    "empty means unset",
  );
  assert.deepEqual(
    (await opts(["--max-connections", "8"], { DFS_MAX_CONNECTIONS: "300" })).node.peer,
    { maxConnections: 8 },
    "the flag wins over the environment",
  );
});

Deno.test("serve_max_connections_rejects_anything_but_a_positive_whole_number", async () => {
  for (const bad of ["0", "-1", "1.5", "two", "", " 8", "8x", "1e3", "99999999999999999999"]) {
    await assert.rejects(
      async () => (await opts([`--max-connections=${bad}`])),
      (err: unknown) =>
        err instanceof UsageError && err.command === "serve" &&
        err.message === `--max-connections expects a whole number >= 1, got ${JSON.stringify(bad)}`,
      bad,
    );
  }
  await assert.rejects(
    async () => (await opts(["--max-connections"])),
    UsageError,
    "missing value",
  );
  await assert.rejects(
    async () => (await opts([], { DFS_MAX_CONNECTIONS: "many" })),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === '$DFS_MAX_CONNECTIONS expects a whole number >= 1, got "many"',
  );
});

Deno.test("serve_log_level_and_format_come_from_flags_and_dfs_log", async () => {
  assert.deepEqual((await opts([])).log, { level: "warn", format: "text" });
  assert.deepEqual((await opts(["--log-level", "info", "--log-format", "json"])).log, {
    level: "info",
    format: "json",
  });
  assert.deepEqual(
    (await opts([], { DFS_LOG: "error" })).log.level,
    "error",
    "$DFS_LOG still works",
  );
  assert.deepEqual(
    (await opts([], { DFS_LOG: "error", DFS_LOG_LEVEL: "debug" })).log.level,
    "debug",
    "$DFS_LOG_LEVEL comes first",
  );
  assert.deepEqual((await opts(["--log-level", "info"], { DFS_LOG: "error" })).log.level, "info");
  await assert.rejects(() => opts(["--log-format", "xml"]), UsageError, "--log-format expects");
});

Deno.test("serve_reads_api_allow_host_from_flags_or_the_environment", async () => {
  assert.deepEqual((await opts([])).apiAllowHosts, []);
  const flags = [
    "--api-allow-host",
    "DFS.Example",
    "--api-allow-host",
    "a.lan, 10.0.0.5,dfs.example",
  ];
  assert.deepEqual((await opts(flags)).apiAllowHosts, ["dfs.example", "a.lan", "10.0.0.5"]);
  assert.deepEqual(
    (await opts([], { DFS_API_ALLOW_HOST: "proxy.example,::1" })).apiAllowHosts,
    ["proxy.example", "[::1]"],
  );
  // The flag wins over the variable, as every serve flag does.
  assert.deepEqual(
    (await opts(["--api-allow-host", "x.lan"], { DFS_API_ALLOW_HOST: "y.lan" })).apiAllowHosts,
    ["x.lan"],
  );
  await assert.rejects(
    () => opts(["--api-allow-host", "dfs.example:8080"]),
    (e: unknown) =>
      e instanceof UsageError && /^--api-allow-host: .*without scheme or port/.test(e.message),
  );
  await assert.rejects(
    () => opts([], { DFS_API_ALLOW_HOST: "https://dfs.example" }),
    (e: unknown) => e instanceof UsageError && e.message.startsWith("$DFS_API_ALLOW_HOST: "),
  );
});
