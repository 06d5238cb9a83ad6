import assert from "node:assert/strict";
import { ConfigError, EXIT, UsageError } from "../../src/cli/errors.ts";
import { settingFlags, SETTINGS } from "../../src/cli/config/settings.ts";
import { COMMAND_USAGE } from "../../src/cli/usage.ts";
import { runCli, serveOptionsOf } from "./harness.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dfs-config-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const opts = serveOptionsOf;

Deno.test("every_serve_flag_has_a_config_key_an_env_variable_and_docs", async () => {
  const flags = Object.keys(settingFlags()).filter((f) => f !== "config" && f !== "help");
  assert.deepEqual(flags, SETTINGS.map((s) => s.key));
  // Every long option the usage of serve names is a setting (or --config / --help).
  const usageFlags = new Set(
    [...COMMAND_USAGE.serve.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]),
  );
  for (const f of usageFlags) {
    assert.ok(
      f === "config" || f === "help" || SETTINGS.some((s) => s.key === f),
      `--${f} is in serve's usage but has no config key in src/cli/config/settings.ts`,
    );
  }
  const envs = SETTINGS.flatMap((s) => s.env);
  assert.equal(new Set(envs).size, envs.length, "no two settings share an environment variable");
  const docs = await Deno.readTextFile(new URL("../../docs/cli.md", import.meta.url));
  for (const s of SETTINGS) {
    assert.ok(usageFlags.has(s.key), `--${s.key} is missing from serve's usage`);
    assert.ok(docs.includes(`--${s.key}`), `--${s.key} is missing from docs/cli.md`);
    assert.ok(docs.includes(s.env[0]), `${s.env[0]} is missing from docs/cli.md`);
  }
});

Deno.test("config_precedence_is_flag_then_env_then_file_then_default", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/c.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        listen: "127.0.0.1:4100",
        "max-store": "1GiB",
        "repair-rate": 8,
        "max-connections": 20,
        bootstrap: ["127.0.0.1:4001", "127.0.0.1:4002"],
        "no-repair": true,
        "log-format": "json",
      }),
    );
    const fromFile = await opts(["--config", file]);
    assert.deepEqual(fromFile.node.listen, { hostname: "127.0.0.1", port: 4100 });
    assert.equal(fromFile.node.dataDir, ".dfs/4100", "the default data dir follows the port");
    assert.equal(fromFile.node.maxStoreBytes, 1 << 30);
    assert.equal(fromFile.node.upkeep?.repairBytesPerSecond, 8 * 1024 * 1024);
    assert.equal(fromFile.node.upkeep?.repair, false);
    assert.deepEqual(fromFile.node.peer, { maxConnections: 20 });
    assert.deepEqual(fromFile.node.bootstrap, ["127.0.0.1:4001", "127.0.0.1:4002"]);
    assert.equal(fromFile.log.format, "json");
    assert.equal(fromFile.configFile, file);

    const env = { DFS_MAX_STORE: "2GiB", DFS_REPAIR_RATE: "4", DFS_LISTEN: ":4200" };
    const fromEnv = await opts(["--config", file], env);
    assert.equal(fromEnv.node.maxStoreBytes, 2 * 2 ** 30, "env over file");
    assert.equal(fromEnv.node.upkeep?.repairBytesPerSecond, 4 * 1024 * 1024);
    assert.equal(fromEnv.node.listen.port, 4200);

    const fromFlag = await opts(["--config", file, "--max-store", "3GiB", "-l", ":4300"], env);
    assert.equal(fromFlag.node.maxStoreBytes, 3 * 2 ** 30, "flag over env");
    assert.equal(fromFlag.node.listen.port, 4300);
    assert.equal(fromFlag.node.upkeep?.repairBytesPerSecond, 4 * 1024 * 1024);

    // $DFS_CONFIG names the file when --config does not
    assert.equal((await opts([], { DFS_CONFIG: file })).node.maxStoreBytes, 1 << 30);
  });
});

Deno.test("dfs_json_in_the_data_directory_is_read_without_config", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/dfs.json`, JSON.stringify({ "max-store": "5MiB" }));
    const o = await opts(["--data", dir]);
    assert.equal(o.node.maxStoreBytes, 5 << 20);
    assert.equal(o.configFile, `${dir}/dfs.json`);
    assert.equal((await opts(["--data", `${dir}/none`])).configFile, undefined, "absent: fine");
    await Deno.writeTextFile(`${dir}/dfs.json`, JSON.stringify({ data: "/elsewhere" }));
    await assert.rejects(
      () => opts([], { DFS_DATA: dir }),
      (e: unknown) => e instanceof ConfigError && e.key === "data" && e.message.includes(dir),
    );
  });
});

Deno.test("redundancy_and_replication_from_different_sources_the_stronger_wins", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/c.json`;
    await Deno.writeTextFile(file, JSON.stringify({ replication: 2 }));
    const o = await opts(["--config", file], { DFS_REDUNDANCY: "rs:4+2" });
    assert.equal(o.node.redundancy, "rs:4+2");
    assert.equal(o.node.replication, undefined);
    await Deno.writeTextFile(file, JSON.stringify({ replication: 2, redundancy: "rs:4+2" }));
    await assert.rejects(() => opts(["--config", file]), ConfigError, "not both");
  });
});

/** Asserts serve stops on one ConfigError whose message has every one of `parts`. */
async function configFails(content: string, parts: string[]): Promise<void> {
  await withDir(async (dir) => {
    const file = `${dir}/dfs.json`;
    await Deno.writeTextFile(file, content);
    await assert.rejects(() => opts(["--config", file]), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.path, file);
      for (const p of [file, ...parts]) assert.ok(e.message.includes(p), `${e.message} lacks ${p}`);
      return true;
    });
    // and through the command: exit 2, one line naming the file
    const { code, proc } = await runCli(["serve", "--config", file], undefined, {
      startNode: () => Promise.reject(new Error("must not start")),
    });
    assert.equal(code, EXIT.USAGE);
    assert.equal(proc.stderr.split("\n").filter((l) => l.startsWith("dfs: error:")).length, 1);
    assert.ok(proc.stderr.includes(file), proc.stderr);
  });
}

Deno.test("config_unknown_key_is_one_error_naming_the_key_and_file", async () => {
  await configFails(JSON.stringify({ listn: ":3000" }), ['unknown key "listn"', "listen"]);
});

Deno.test("config_wrong_type_is_one_error_naming_the_key_and_what_was_expected", async () => {
  await configFails(JSON.stringify({ "max-connections": true }), [
    '"max-connections"',
    "expects a whole number",
    "boolean true",
  ]);
  await configFails(JSON.stringify({ bootstrap: [1, 2] }), ['"bootstrap"', "a list of strings"]);
  await configFails(JSON.stringify({ drain: "yes" }), ['"drain"', "true or false"]);
});

Deno.test("config_bad_value_is_one_error_naming_the_key_and_what_was_expected", async () => {
  await configFails(JSON.stringify({ "max-store": "lots" }), ['"max-store"', "lots"]);
  await configFails(JSON.stringify({ replication: 0 }), ['"replication"', ">= 1", '"0"']);
  await configFails(JSON.stringify({ "log-level": "loud" }), ['"log-level"', "one of debug"]);
  await configFails(JSON.stringify({ listen: "nowhere" }), ['"listen"']);
});

Deno.test("config_malformed_json_is_one_error_naming_the_file", async () => {
  await configFails('{ "listen": ":3000", }', ["malformed JSON"]);
  await configFails("[1, 2]", ["expected a JSON object"]);
});

Deno.test("config_missing_file_given_with_config_is_an_error", async () => {
  await assert.rejects(
    () => opts(["--config", "/nonexistent/dfs.json"]),
    ConfigError,
    "/nonexistent/dfs.json",
  );
  await assert.rejects(() => opts(["--config", ""]), UsageError);
});

Deno.test("env_flags_and_lists_are_parsed_and_checked", async () => {
  const o = await opts([], { DFS_NO_REPAIR: "yes", DFS_BOOTSTRAP: "127.0.0.1:1, 127.0.0.1:2" });
  assert.equal(o.node.upkeep?.repair, false);
  assert.deepEqual(o.node.bootstrap, ["127.0.0.1:1", "127.0.0.1:2"]);
  await assert.rejects(() => opts([], { DFS_DRAIN: "maybe" }), UsageError, "$DFS_DRAIN");
  await assert.rejects(() => opts([], { DFS_REPAIR_RATE: "fast" }), UsageError, "$DFS_REPAIR_RATE");
});

Deno.test("dfs_config_prints_each_value_with_its_source", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/c.json`;
    await Deno.writeTextFile(file, JSON.stringify({ "max-store": "1GiB", "gc-grace": 60 }));
    const { code, proc } = await runCli(
      ["config", "--config", file, "--repair-rate", "4"],
      (p) => p.vars.set("DFS_MAX_CONNECTIONS", "9"),
    );
    assert.equal(code, 0, proc.stderr);
    const lines = proc.stdout.split("\n");
    const row = (k: string) => lines.find((l) => l.startsWith(k + " "))?.split(/\s{2,}/);
    assert.deepEqual(row("max-store"), ["max-store", "1GiB", `file ${file}`]);
    assert.deepEqual(row("gc-grace"), ["gc-grace", "60", `file ${file}`]);
    assert.deepEqual(row("repair-rate"), ["repair-rate", "4", "flag --repair-rate"]);
    assert.deepEqual(row("max-connections"), ["max-connections", "9", "env DFS_MAX_CONNECTIONS"]);
    assert.deepEqual(row("listen"), ["listen", "127.0.0.1:3000", "default"]);
    assert.equal(lines[0], `# config file: ${file}`);
    for (const s of SETTINGS) assert.ok(row(s.key), `dfs config lacks ${s.key}`);

    const json = await runCli(
      ["config", "--config", file, "--json"],
      (p) => p.vars.set("DFS_LOG", "info"),
    );
    assert.equal(json.code, 0, json.proc.stderr);
    const report = JSON.parse(json.proc.stdout);
    assert.equal(report.file, file);
    assert.deepEqual(report.settings["max-store"], {
      value: "1GiB",
      default: "(no bound)",
      source: "file",
      from: file,
    });
    assert.deepEqual(report.settings["log-level"], {
      value: "info",
      default: "warn",
      source: "env",
      from: "DFS_LOG",
    });
    assert.deepEqual(report.settings.api, {
      value: null,
      default: "127.0.0.1:5000",
      source: "default",
    });

    const bad = await runCli(["config", "--config", file, "--max-store", "x"]);
    assert.equal(bad.code, EXIT.USAGE, "config checks values as serve would");
  });
});

Deno.test("api_allow_host_comes_from_the_config_file_and_a_bad_one_names_the_file", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/c.json`;
    await Deno.writeTextFile(file, JSON.stringify({ "api-allow-host": ["Proxy.Example", "::1"] }));
    assert.deepEqual((await opts(["--config", file])).apiAllowHosts, ["proxy.example", "[::1]"]);
    // One comma-separated string is a list too; the variable wins over the file.
    await Deno.writeTextFile(file, JSON.stringify({ "api-allow-host": "a.lan, b.lan" }));
    assert.deepEqual((await opts(["--config", file])).apiAllowHosts, ["a.lan", "b.lan"]);
    const env = { DFS_API_ALLOW_HOST: "c.lan" };
    assert.deepEqual((await opts(["--config", file], env)).apiAllowHosts, ["c.lan"]);
    await Deno.writeTextFile(file, JSON.stringify({ "api-allow-host": ["dfs.example:443"] }));
    await assert.rejects(
      () => opts(["--config", file]),
      (e: unknown) =>
        e instanceof ConfigError && e.key === "api-allow-host" && e.message.includes(file) &&
        e.message.includes("without scheme or port"),
    );
  });
});
