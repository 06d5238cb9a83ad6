import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/errors.ts";
import { FAKE_UPKEEP } from "../api/fake_node.ts";
import { runCli, withNode } from "./harness.ts";

const enc = new TextEncoder();
const NODE_C = "cd".repeat(32);
const NODE_E = "ef".repeat(32);

Deno.test("put_with_redundancy_passes_the_policy_and_prints_the_id", () =>
  withNode(async ({ node, dir, run }) => {
    const path = `${dir}/f`;
    await Deno.writeTextFile(path, "policy");
    node.maxCopies = 6;
    for (const [flag, policy] of [["--redundancy", "rs:4+2"], ["-R", "replicas:2-4"]]) {
      const { code, proc } = await run(["put", path, flag, policy.toUpperCase()]);
      assert.equal(code, 0, proc.stderr);
      assert.match(proc.stdout, /^1220[0-9a-f]{64}\n$/);
      assert.equal(proc.stderr, "");
      assert.equal(node.lastPut?.redundancy, policy);
      assert.equal(node.lastPut?.copies, undefined);
    }
    const j = await run(["put", path, "-R", "rs:10+4", "--json"]);
    const result = JSON.parse(j.proc.stdout);
    assert.equal(result.redundancy, "rs:10+4");
    assert.equal(result.wanted, 14);
  }));

Deno.test("put_warns_when_shards_are_on_fewer_nodes_than_columns", () =>
  withNode(async ({ node, dir, run }) => {
    const path = `${dir}/w`;
    await Deno.writeTextFile(path, "x");
    node.maxCopies = 4;
    const { code, proc } = await run(["put", path, "--redundancy", "rs:4+2"]);
    assert.equal(code, 0);
    assert.equal(proc.stderr, "dfs: warning: shards on 4 of 6 nodes so far (rs:4+2)\n");
  }));

Deno.test("put_rejects_a_bad_policy_and_copies_with_redundancy_before_sending", () =>
  withNode(async ({ node, dir, run }) => {
    const path = `${dir}/b`;
    await Deno.writeTextFile(path, "x");
    const cases: [string[], string][] = [
      [
        ["-R", "rs:4"],
        'dfs: error: --redundancy must be replicas:N, replicas:MIN-MAX or rs:K+M (e.g. replicas:3, rs:4+2), got "rs:4"',
      ],
      [["-R", "replicas:0"], "dfs: error: --redundancy: replicas needs 1 <= min <= max <= 64"],
      [
        ["-c", "2", "-R", "replicas:2"],
        "dfs: error: give --copies or --redundancy, not both (--copies N is replicas:N)",
      ],
    ];
    for (const [flags, first] of cases) {
      const { code, proc } = await run(["put", path, ...flags]);
      assert.equal(code, EXIT.USAGE, flags.join(" "));
      const lines = proc.stderr.split("\n");
      assert.ok(lines[0].startsWith(first), lines[0]);
      assert.match(lines[1], /^usage: dfs put PATH\|-/);
      assert.equal(proc.stdout, "");
    }
    assert.deepEqual(node.calls, [], "nothing reached the node");
  }));

Deno.test("stat_prints_the_policy_and_stripes", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("striped"));
    node.statPolicy = { redundancy: "rs:4+2", stripes: 3 };
    const { code, proc } = await run(["stat", id, "--no-health"]);
    assert.equal(code, 0, proc.stderr);
    assert.equal(
      proc.stdout,
      `id:          ${id}\nsize:        7 B\nblocks:      1 of 256.0 KiB\n` +
        `redundancy:  rs:4+2, 3 stripes\n` +
        `local:       yes (its shards and manifests are on this node)\n`,
    );
    assert.deepEqual(node.statOptions, [undefined], "no health check with --no-health");
  }));

Deno.test("stat_health_of_a_reed_solomon_file_shows_shards_and_holders", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("striped"));
    node.statPolicy = { redundancy: "rs:4+2", stripes: 1 };
    node.health = {
      health: "degraded",
      live: 5,
      target: 6,
      spread: 2,
      survives: 1,
      holders: [{ nodeId: NODE_C, columns: [0, 1, 2] }, { nodeId: NODE_E, columns: [4] }],
      unreachable: 1,
    };
    const { code, proc } = await run(["stat", id, "--health"]);
    assert.equal(code, 0, proc.stderr);
    assert.deepEqual(node.statOptions, [{ health: true }]);
    assert.ok(
      proc.stdout.endsWith(
        "redundancy:   rs:4+2, 1 stripe\n" +
          "local:        yes (its shards and manifests are on this node)\n" +
          "health:       degraded\n" +
          "live:         5 of 6 shards per stripe\n" +
          "spread:       2 of 6 columns on a node of their own\n" +
          "survives:     1 more holder loss\n" +
          "holders:      cdcdcdcdcdcdcdcd  columns 0, 1, 2\n" +
          "              efefefefefefefef  column 4\n" +
          "unreachable:  1 node\n",
      ),
      proc.stdout,
    );
  }));

Deno.test("stat_health_of_a_replicated_file_shows_copies", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("copied"), "copied");
    node.health = {
      health: "at risk",
      live: 2,
      target: 3,
      survives: 0,
      holders: [{ nodeId: node.nodeId }, { nodeId: NODE_C }],
      unreachable: 0,
    };
    const { code, proc } = await run(["stat", "copied", "--health"]);
    assert.equal(code, 0, proc.stderr);
    assert.ok(
      proc.stdout.endsWith(
        "health:       at risk\n" +
          "live:         2 of 3 copies\n" +
          "survives:     0 more holder losses\n" +
          "holders:      abababababababab\n" +
          "              cdcdcdcdcdcdcdcd\n" +
          "unreachable:  0 nodes\n",
      ),
      proc.stdout,
    );
    assert.match(proc.stdout, new RegExp(`^id: +${id}\n`));
  }));

Deno.test("stat_health_of_a_deleted_file_says_when", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("gone"));
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    node.health = {
      health: "lost",
      live: 0,
      target: 3,
      survives: -1,
      holders: [],
      unreachable: 2,
      deletedAt: at,
    };
    const { code, proc } = await run(["stat", id, "--health"]);
    assert.equal(code, 0, proc.stderr);
    assert.ok(
      proc.stdout.endsWith(
        "health:       lost\n" +
          "live:         0 of 3 copies\n" +
          "holders:      none\n" +
          "unreachable:  2 nodes\n" +
          "tombstone:    deleted at 2026-01-02T03:04:05.000Z\n",
      ),
      proc.stdout,
    );
  }));

Deno.test("stat_health_from_a_node_without_upkeep_says_it_is_unknown", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("?"));
    const { code, proc } = await run(["stat", id, "--health"]);
    assert.equal(code, 0, proc.stderr);
    assert.match(proc.stdout, /\nhealth: +unknown \(the node did not check its holders\)\n$/);
  }));

Deno.test("stat_health_with_json_prints_the_health_member", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("j"));
    node.health = {
      health: "healthy",
      live: 3,
      target: 3,
      survives: 2,
      holders: [],
      unreachable: 0,
    };
    const json = JSON.parse((await run(["stat", id, "--health", "--json"])).proc.stdout);
    assert.deepEqual(json.health, node.health);
    assert.equal(json.redundancy, "replicas:3");
    const plain = JSON.parse((await run(["stat", id, "--no-health", "--json"])).proc.stdout);
    assert.equal("health" in plain, false);
  }));

Deno.test("status_shows_repair_scrub_gc_and_tombstones", () =>
  withNode(async ({ node, run }) => {
    node.dht = null;
    node.upkeep = FAKE_UPKEEP;
    let r = await run(["status"]);
    assert.equal(r.code, 0, r.proc.stderr);
    assert.ok(
      r.proc.stdout.endsWith(
        "store:         0 entries, 0 B\n" +
          "repair queue:  2 files (1 being repaired); 120 checks\n" +
          "repaired:      14 copies or shards, 3 trimmed, 12.0 MiB pushed, 1 failed\n" +
          "scrub:         1200 blocks (300.0 MiB) verified in 3 passes; 2 corrupt, 2 repaired\n" +
          "gc:            12 blocks removed in 5 passes; 3 pending\n" +
          "tombstones:    4\n",
      ),
      r.proc.stdout,
    );
    const { scrub: _, ...noScrub } = FAKE_UPKEEP;
    node.upkeep = noScrub;
    r = await run(["status"]);
    assert.match(r.proc.stdout, /\nscrub: +off\n/);
    assert.deepEqual(JSON.parse((await run(["status", "--json"])).proc.stdout).upkeep, noScrub);
  }));

Deno.test("status_puts_upkeep_before_the_dht_figures", () =>
  withNode(async ({ node, run }) => {
    node.upkeep = FAKE_UPKEEP;
    const { proc } = await run(["status"]);
    assert.match(proc.stdout, /\ntombstones: +4\ndht table: +23 contacts\n/);
  }));

Deno.test("rm_says_how_many_nodes_keep_the_tombstone", () =>
  withNode(async ({ node, run }) => {
    let id = await node.add(enc.encode("a"));
    node.tombstones = 1;
    let r = await run(["rm", id]);
    assert.equal(
      r.proc.stdout,
      `deleted ${id} (local copy removed; 1 remote holder confirmed; tombstone kept by 1 node)\n`,
    );
    id = await node.add(enc.encode("b"));
    node.tombstones = 0;
    r = await run(["rm", id]);
    assert.equal(
      r.proc.stdout,
      `deleted ${id} (local copy removed; 1 remote holder confirmed; no tombstone kept)\n`,
    );
  }));

Deno.test("drain_prints_the_report_and_exits_1_when_files_were_left_behind", () =>
  withNode(async ({ node, run }) => {
    let r = await run(["drain"]);
    assert.equal(r.code, EXIT.ERROR);
    assert.equal(r.proc.stdout, "drained: 12 files, 11 handed off, 1 failed, 40.0 MiB pushed\n");
    assert.equal(
      r.proc.stderr,
      "dfs: warning: 1 file could not be handed off (no node took it): below target without " +
        "this node; keep its data directory\n",
    );
    assert.deepEqual(node.calls, ["drain"]);
    node.drainReport = { files: 3, handedOff: 3, failed: 0, bytes: 3000 };
    r = await run(["drain"]);
    assert.equal(r.code, 0, r.proc.stderr);
    assert.equal(r.proc.stdout, "drained: 3 files, 3 handed off, 0 failed, 2.9 KiB pushed\n");
    assert.equal(r.proc.stderr, "");
    r = await run(["drain", "--json"]);
    assert.deepEqual(JSON.parse(r.proc.stdout), node.drainReport);
    assert.equal(r.proc.handlerCount, 0);
  }));

Deno.test("drain_of_a_node_without_the_route_says_so", () =>
  withNode(async ({ api }) => {
    const old = (input: RequestInfo | URL, init?: RequestInit) =>
      String(input).endsWith("/drain")
        ? Promise.resolve(
          Response.json({ error: { code: "NO_SUCH_ROUTE", message: "no route" } }, { status: 404 }),
        )
        : fetch(input, init);
    const { code, proc } = await runCli(["drain", "--api", api], undefined, { fetch: old });
    assert.equal(code, EXIT.ERROR);
    assert.equal(
      proc.stderr,
      `dfs: error: the node at http://${api} cannot drain (its API has no /drain route: an older dfs?)\n`,
    );
  }));

Deno.test("drain_takes_no_arguments_and_has_help", async () => {
  let r = await runCli(["drain", "now"]);
  assert.equal(r.code, EXIT.USAGE);
  assert.match(r.proc.stderr, /^dfs: error: drain: unexpected argument "now"\nusage: dfs drain/);
  r = await runCli(["help", "drain"]);
  assert.equal(r.code, 0);
  assert.match(r.proc.stdout, /^usage: dfs drain \[--api URL\] \[--json\]\n/);
  r = await runCli(["stat", "--help"]);
  assert.match(r.proc.stdout, /--no-health/);
  r = await runCli(["--help"]);
  assert.match(r.proc.stdout, /dfs drain /);
});
