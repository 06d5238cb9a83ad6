import assert from "node:assert/strict";
import type { StartNodeOptions } from "../../src/cli/context.ts";
import { EXIT } from "../../src/cli/errors.ts";
import { runCli, serveOptionsOf } from "./harness.ts";

/** Runs `dfs ARGS` with a startNode that records its options and then fails (no server runs). */
async function startWith(args: string[], env: Record<string, string> = {}) {
  const started: StartNodeOptions[] = [];
  const { code, proc } = await runCli(args, (p) => {
    for (const [k, v] of Object.entries(env)) p.vars.set(k, v);
  }, {
    startNode: (o) => {
      started.push(o);
      return Promise.reject(new Error("stop here"));
    },
  });
  return { code, proc, started };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dfs-cluster-key-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0];
}

Deno.test("serve_options_take_the_cluster_key_file_from_the_flag_or_the_environment", async () => {
  const parse = serveOptionsOf;
  assert.equal((await parse([])).clusterKeyFile, undefined);
  assert.deepEqual((await parse(["--cluster-key-file", "/k"])).clusterKeyFile, {
    path: "/k",
    what: "--cluster-key-file",
  });
  assert.deepEqual((await parse([], { DFS_CLUSTER_KEY_FILE: "/e" })).clusterKeyFile, {
    path: "/e",
    what: "$DFS_CLUSTER_KEY_FILE",
  });
  // The flag wins over the environment; an empty variable means none.
  assert.equal(
    (await parse(["--cluster-key-file", "/k"], { DFS_CLUSTER_KEY_FILE: "/e" })).clusterKeyFile
      ?.path,
    "/k",
  );
  assert.equal((await parse([], { DFS_CLUSTER_KEY_FILE: "" })).clusterKeyFile, undefined);
  // The node options themselves never hold a key before the file is read.
  assert.equal((await parse(["--cluster-key-file", "/k"])).node.clusterKey, undefined);
});

Deno.test("serve_reads_the_cluster_key_file_as_raw_bytes_and_prints_none_of_it", () =>
  withDir(async (dir) => {
    // 31 random bytes and a newline: the newline is part of the key, nothing is stripped.
    const key = new Uint8Array(32);
    crypto.getRandomValues(key.subarray(0, 31));
    key[31] = 0x0a;
    await Deno.writeFile(`${dir}/cluster.key`, key);
    const { code, proc, started } = await startWith([
      "serve",
      "--listen",
      ":0",
      "--api",
      ":0",
      "--data",
      `${dir}/data`,
      "--cluster-key-file",
      `${dir}/cluster.key`,
    ]);
    assert.equal(code, EXIT.ERROR); // the fake node refused to start; the options were taken
    assert.equal(started.length, 1);
    assert.deepEqual(started[0].clusterKey, key);
    const hex = Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
    for (const text of [proc.stdout, proc.stderr]) {
      assert.ok(!text.includes(hex) && !text.includes(key.join(",")), text);
    }
  }));

Deno.test("serve_reads_the_cluster_key_file_named_by_the_environment", () =>
  withDir(async (dir) => {
    const key = crypto.getRandomValues(new Uint8Array(16));
    await Deno.writeFile(`${dir}/k`, key);
    const { started } = await startWith(
      ["--listen", ":0", "--api", ":0", "--data", `${dir}/data`],
      { DFS_CLUSTER_KEY_FILE: `${dir}/k` },
    );
    assert.deepEqual(started[0].clusterKey, key);
  }));

Deno.test("serve_without_a_cluster_key_file_starts_an_open_node", () =>
  withDir(async (dir) => {
    const { started } = await startWith(["--listen", ":0", "--api", ":0", "--data", `${dir}/d`]);
    assert.equal(started[0].clusterKey, undefined);
    assert.ok(!("clusterKey" in started[0]));
  }));

Deno.test("serve_refuses_a_missing_short_or_oversized_cluster_key_file_with_usage", () =>
  withDir(async (dir) => {
    await Deno.writeFile(`${dir}/short`, new Uint8Array(15));
    await Deno.writeFile(`${dir}/large`, new Uint8Array(1025));
    const cases: [string[], Record<string, string>, string][] = [
      [
        ["--cluster-key-file", `${dir}/missing`],
        {},
        `dfs: error: --cluster-key-file: cannot read ${dir}/missing: no such file`,
      ],
      [
        ["--cluster-key-file", `${dir}/short`],
        {},
        `dfs: error: --cluster-key-file: ${dir}/short holds 15 bytes; a cluster key needs at ` +
        `least 16 (make one with: head -c 32 /dev/urandom > ${dir}/short)`,
      ],
      [
        ["--cluster-key-file", `${dir}/large`],
        {},
        `dfs: error: --cluster-key-file: ${dir}/large is larger than 1024 bytes; a cluster key ` +
        `is 16..1024 bytes`,
      ],
      [
        [],
        { DFS_CLUSTER_KEY_FILE: `${dir}/short` },
        `dfs: error: $DFS_CLUSTER_KEY_FILE: ${dir}/short holds 15 bytes; a cluster key needs at ` +
        `least 16 (make one with: head -c 32 /dev/urandom > ${dir}/short)`,
      ],
      [["--cluster-key-file", ""], {}, "dfs: error: --cluster-key-file expects a PATH"],
    ];
    for (const [extra, env, expected] of cases) {
      const data = `${dir}/data`;
      const { code, proc, started } = await startWith(
        ["serve", "--listen", ":0", "--api", ":0", "--data", data, ...extra],
        env,
      );
      assert.equal(code, EXIT.USAGE, proc.stderr);
      assert.equal(started.length, 0);
      assert.equal(firstLine(proc.stderr), expected);
      assert.match(proc.stderr.split("\n")[1], /^usage: dfs \[serve\] /);
      assert.equal(proc.stdout, "");
      // Refused before anything was created.
      assert.equal(await Deno.stat(data).then(() => true, () => false), false);
    }
  }));

Deno.test("serve_usage_lists_the_cluster_key_file_flag", async () => {
  const { code, proc } = await runCli(["help", "serve"]);
  assert.equal(code, EXIT.OK);
  assert.match(proc.stdout, /--cluster-key-file PATH/);
  assert.match(proc.stdout, /\$DFS_CLUSTER_KEY_FILE/);
});
