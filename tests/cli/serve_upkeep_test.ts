import assert from "node:assert/strict";
import { decimal } from "../../src/cli/args.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { parsePolicy } from "../../src/cli/policy.ts";
import { parseRedundancy } from "../../src/file/redundancy.ts";
import { resolveUpkeepOptions } from "../../src/node/durability/options.ts";
import { serveOptionsOf } from "./harness.ts";

const MIB = 1024 * 1024;
const DAY = 86_400_000;

const opts = serveOptionsOf;

/** Asserts `fn` throws a serve UsageError whose message is exactly `message`. */
async function usage(fn: () => Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(
    fn,
    (err: unknown) => {
      assert.ok(err instanceof UsageError, String(err));
      assert.equal(err.command, "serve");
      assert.equal(err.message, message);
      return true;
    },
  );
}

Deno.test("serve_without_durability_flags_leaves_the_node_defaults", async () => {
  const o = await opts([]);
  assert.equal(o.node.redundancy, undefined);
  assert.equal(o.node.upkeep, undefined);
  assert.equal(o.drain, false);
});

Deno.test("serve_durability_flags_map_to_node_options", async () => {
  const o = await opts([
    "-R",
    "RS:4+2",
    "--repair-interval",
    "60",
    "--repair-grace",
    "5",
    "--repair-rate",
    "8",
    "--scrub-rate",
    "0",
    "--gc-grace",
    "0.5",
    "--tombstone-ttl",
    "7",
    "--no-repair",
    "--drain",
  ]);
  assert.equal(o.node.redundancy, "rs:4+2");
  assert.deepEqual(o.node.upkeep, {
    repairIntervalMs: 60_000,
    repairGraceMs: 5_000,
    repairBytesPerSecond: 8 * MIB,
    scrubBytesPerSecond: 0,
    gcGraceMs: 500,
    tombstoneTtlMs: 7 * DAY,
    repair: false,
  });
  assert.equal(o.drain, true);
  // What the node makes of them: accepted as they are.
  const resolved = resolveUpkeepOptions(o.node.upkeep);
  assert.equal(resolved.repair, false);
  assert.equal(resolved.scrubBytesPerSecond, 0);
  assert.equal(resolved.tombstoneTtlMs, 7 * DAY);
  assert.deepEqual(parseRedundancy(o.node.redundancy!), { kind: "rs", k: 4, m: 2 });
});

Deno.test("serve_rates_and_durations_take_decimals", async () => {
  const o = await opts([
    "--repair-rate=0.5",
    "--scrub-rate",
    "1.5",
    "--repair-grace",
    ".25",
    "--tombstone-ttl",
    "0.5",
  ]);
  assert.deepEqual(o.node.upkeep, {
    repairBytesPerSecond: MIB / 2,
    scrubBytesPerSecond: 1.5 * MIB,
    repairGraceMs: 250,
    tombstoneTtlMs: DAY / 2,
  });
  assert.deepEqual(
    (await opts(["--gc-grace", "0.0001"])).node.upkeep,
    { gcGraceMs: 1 },
    "never 0 ms",
  );
  assert.deepEqual(
    resolveUpkeepOptions((await opts(["--gc-grace", "0.0001"])).node.upkeep).gcGraceMs,
    1,
  );
});

Deno.test("serve_redundancy_comes_from_the_flag_else_dfs_redundancy", async () => {
  assert.equal(
    (await opts([], { DFS_REDUNDANCY: "replicas:2-4" })).node.redundancy,
    "replicas:2-4",
  );
  assert.equal(
    (await opts([], { DFS_REDUNDANCY: "" })).node.redundancy,
    undefined,
    "empty means unset",
  );
  assert.equal(
    (await opts(["--redundancy", "rs:10+4"], { DFS_REDUNDANCY: "replicas:2" })).node.redundancy,
    "rs:10+4",
    "the flag wins over the environment",
  );
  const r = await opts(["--replication", "2"], { DFS_REDUNDANCY: "rs:4+2" });
  assert.equal(r.node.redundancy, undefined, "--replication wins over the environment");
  assert.equal(r.node.replication, 2);
});

Deno.test("serve_rejects_replication_and_redundancy_together", async () => {
  await usage(
    async () => (await opts(["-r", "2", "-R", "replicas:2"])),
    "give --replication or --redundancy, not both (--replication N is replicas:N)",
  );
});

Deno.test("serve_rejects_a_bad_policy_with_the_parser_reason", async () => {
  await usage(
    async () => (await opts(["--redundancy", "rs:4"])),
    '--redundancy must be replicas:N, replicas:MIN-MAX or rs:K+M (e.g. replicas:3, rs:4+2), got "rs:4"',
  );
  await usage(
    async () => (await opts(["--redundancy", "rs:60+10"])),
    "--redundancy: rs needs k >= 1, m >= 1 and k + m <= 64, got 60+10",
  );
  await usage(
    async () => (await opts([], { DFS_REDUNDANCY: "mirror" })),
    '$DFS_REDUNDANCY must be replicas:N, replicas:MIN-MAX or rs:K+M (e.g. replicas:3, rs:4+2), got "mirror"',
  );
});

Deno.test("serve_rejects_bad_durations_and_rates", async () => {
  const cases: [string, string, string][] = [
    ["--repair-interval", "0", "> 0"],
    ["--repair-grace", "soon", "> 0"],
    ["--repair-rate", "0", "> 0"],
    ["--repair-rate", "1e3", "> 0"],
    ["--scrub-rate", "fast", ">= 0"],
    ["--scrub-rate", "", ">= 0"],
    ["--gc-grace", "Infinity", "> 0"],
    ["--tombstone-ttl", "0", "> 0"],
    ["--tombstone-ttl", "30d", "> 0"],
  ];
  for (const [flag, value, bound] of cases) {
    await usage(
      async () => (await opts([`${flag}=${value}`])),
      `${flag} expects a number ${bound}, got ${JSON.stringify(value)}`,
    );
  }
  await assert.rejects(async () => (await opts(["--repair-grace"])), UsageError, "missing value");
  await assert.rejects(
    async () => (await opts(["--no-repair=yes"])),
    UsageError,
    "a boolean takes no value",
  );
});

Deno.test("decimal_and_policy_parse_or_throw_usage_errors", () => {
  assert.equal(decimal("2.", "--x", "serve"), 2);
  assert.equal(decimal("0", "--x", "serve", true), 0);
  assert.throws(() => decimal("-1", "--x", "serve", true), UsageError);
  assert.throws(() => decimal(" 1", "--x", "serve"), UsageError);
  assert.equal(parsePolicy(" replicas:3 ", "--redundancy", "put"), "replicas:3");
  assert.throws(
    () => parsePolicy("replicas:5-2", "--redundancy", "put"),
    (err: unknown) =>
      err instanceof UsageError && err.command === "put" &&
      err.message === "--redundancy: replicas needs 1 <= min <= max <= 64, got 5-2",
  );
});
