import assert from "node:assert/strict";
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

/** Runs `dfs ARGS` and returns the process, asserting it exits with `code` (any if null). */
async function cli(args: string[], code: number | null = 0): Promise<FakeProcess> {
  const proc = new FakeProcess(args);
  const exit = await main(testRuntime(proc));
  if (code !== null) assert.equal(exit, code, `${args.join(" ")}: ${proc.stderr}`);
  return proc;
}

Deno.test("a_real_node_takes_the_durability_flags_and_drains_through_the_cli", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-durable-" });
  const proc = new FakeProcess([
    "serve",
    "--listen",
    ":0",
    "--api",
    ":0",
    "--data",
    `${dir}/data`,
    "--redundancy",
    "replicas:1",
    "--repair-interval",
    "60",
    "--repair-grace",
    "5",
    "--scrub-rate",
    "0",
    "--gc-grace",
    "30",
    "--tombstone-ttl",
    "1",
  ]);
  const done = main(testRuntime(proc));
  let finished = false;
  done.finally(() => finished = true);
  try {
    await waitFor(() => finished || /api {3}\S+\n/.test(proc.stdout));
    assert.equal(finished, false, proc.stderr);
    const api = /api {3}(\S+)\n/.exec(proc.stdout)![1];
    await Deno.writeFile(`${dir}/in.bin`, new Uint8Array(70_000).fill(9));

    const put = await cli(["put", `${dir}/in.bin`, "--json", "--api", api]);
    const result = JSON.parse(put.stdout);
    assert.equal(result.redundancy, "replicas:1", "the node's default policy");
    assert.equal(result.copies, 1);

    const stat = await cli(["stat", result.id, "--health", "--api", api]);
    assert.match(stat.stdout, /\nredundancy: +replicas:1\n/);
    assert.match(stat.stdout, /\nhealth: +\S/);
    assert.match(stat.stdout, /\nlive: +\d+ of 1 copy\n/);

    const status = await cli(["status", "--api", api]);
    assert.match(status.stdout, /\nrepair queue: +\d+ files?/);
    assert.match(status.stdout, /\nscrub: +off\n/);

    const bad = await cli(["put", `${dir}/in.bin`, "-R", "rs:0+1", "--api", api], 2);
    assert.match(bad.stderr, /^dfs: error: --redundancy: rs needs k >= 1/);

    // Alone, the node has nowhere to hand its file off to: `failed` says so (exit 1).
    const drain = await cli(["drain", "--api", api], null);
    assert.match(drain.stdout, /^drained: 1 file, \d+ handed off, \d+ failed, /, drain.stderr);
    const report = /(\d+) failed/.exec(drain.stdout)!;
    assert.equal(await done, report[1] === "0" ? 0 : 1, proc.stderr);
    finished = true;
    assert.match(proc.stderr, /dfs: drained through the API: .*; stopping\n/);
  } finally {
    if (!finished) {
      proc.raise("SIGINT");
      await done;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
