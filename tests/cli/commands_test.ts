import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/errors.ts";
import { FAKE_DHT_INFO } from "../api/fake_node.ts";
import { generated } from "../api/gen.ts";
import { closedPort, runCli, withNode } from "./harness.ts";

const enc = new TextEncoder();

Deno.test("put_prints_only_the_file_id", () =>
  withNode(async ({ node, dir, run }) => {
    const path = `${dir}/hello.txt`;
    await Deno.writeTextFile(path, "hello from disk");
    const { code, proc } = await run(["put", path]);
    assert.equal(code, 0, proc.stderr);
    assert.match(proc.stdout, /^1220[0-9a-f]{64}\n$/);
    assert.equal(proc.stderr, "");
    const id = proc.stdout.trim();
    assert.equal(new TextDecoder().decode(node.files.get(id)?.bytes), "hello from disk");
    assert.equal(proc.handlerCount, 0, "signal handlers removed");
  }));

Deno.test("put_with_name_copies_and_json_prints_the_result", () =>
  withNode(async ({ node, dir, run }) => {
    const path = `${dir}/a.bin`;
    await Deno.writeFile(path, new Uint8Array(300_000).fill(7));
    const { code, proc } = await run(["put", path, "--name", "a.bin", "-c", "2", "--json"]);
    assert.equal(code, 0, proc.stderr);
    const result = JSON.parse(proc.stdout);
    assert.equal(result.size, 300_000);
    assert.equal(result.name, "a.bin");
    assert.equal(result.wanted, 2);
    assert.equal(node.names.get("a.bin"), result.id);
  }));

Deno.test("put_warns_when_fewer_copies_than_wanted", () =>
  withNode(async ({ dir, run }) => {
    const path = `${dir}/w`;
    await Deno.writeTextFile(path, "x");
    const { code, proc } = await run(["put", path, "--copies", "5"]);
    assert.equal(code, 0);
    assert.equal(proc.stderr, "dfs: warning: 3 of 5 copies stored so far\n");
  }));

Deno.test("put_dash_reads_standard_input", () =>
  withNode(async ({ node, run }) => {
    const bytes = enc.encode("piped ".repeat(1000));
    const { code, proc } = await run(["put", "-"], (p) => p.stdinBytes = bytes);
    assert.equal(code, 0, proc.stderr);
    assert.deepEqual(node.files.get(proc.stdout.trim())?.bytes, bytes);
  }));

Deno.test("put_of_a_missing_local_file_fails_with_one_line", () =>
  withNode(async ({ dir, run, node }) => {
    const { code, proc } = await run(["put", `${dir}/nope.txt`]);
    assert.equal(code, EXIT.ERROR);
    assert.equal(proc.stderr, `dfs: error: no such file: ${dir}/nope.txt\n`);
    assert.equal(proc.stdout, "");
    assert.equal(node.calls.length, 0);
    const d = await run(["put", dir]);
    assert.equal(d.code, EXIT.ERROR);
    assert.equal(d.proc.stderr, `dfs: error: not a regular file: ${dir}\n`);
  }));

Deno.test("put_draws_progress_on_a_terminal_and_not_when_piped", () =>
  withNode(async ({ dir, run }) => {
    const path = `${dir}/big`;
    await Deno.writeFile(path, new Uint8Array(2 * 1024 * 1024));
    const tty = await run(["put", path], (p) => p.terminals.add("stderr"));
    assert.equal(tty.code, 0);
    assert.match(tty.proc.stderr, /^\rput \[/);
    assert.ok(tty.proc.stderr.endsWith("\r\x1b[K"), JSON.stringify(tty.proc.stderr.slice(-20)));
    assert.match(tty.proc.stdout, /^1220[0-9a-f]{64}\n$/);
    const quiet = await run(["put", path, "-q"], (p) => p.terminals.add("stderr"));
    assert.equal(quiet.proc.stderr, "");
    const piped = await run(["put", path]);
    assert.equal(piped.proc.stderr, "");
  }));

Deno.test("put_progress_ends_at_100_percent_while_the_node_replicates", () =>
  withNode(async ({ dir, run }) => {
    const path = `${dir}/big`;
    await Deno.writeFile(path, new Uint8Array(3 * 1024 * 1024 + 5));
    const { code, proc } = await run(["put", path], (p) => p.terminals.add("stderr"));
    assert.equal(code, 0, proc.stderr);
    const draws = proc.stderr.split("\r").filter((s) => s.startsWith("put ["));
    const last = draws[draws.length - 1];
    assert.match(last, / 100% +3\.0 MiB \/ 3\.0 MiB .*replicating/, JSON.stringify(draws));
  }));

Deno.test("get_writes_the_bytes_to_stdout", () =>
  withNode(async ({ node, run }) => {
    const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
    const id = await node.add(bytes, "pattern");
    for (const key of [id, "pattern"]) {
      const { code, proc } = await run(["get", key]);
      assert.equal(code, 0, proc.stderr);
      assert.deepEqual(proc.stdoutBytes, bytes);
      assert.equal(proc.stderr, "");
    }
  }));

Deno.test("get_with_output_writes_the_file_through_a_temporary_file", () =>
  withNode(async ({ node, dir, run }) => {
    const bytes = new Uint8Array(100_000).fill(42);
    const id = await node.add(bytes);
    const out = `${dir}/out.bin`;
    await Deno.writeTextFile(out, "old contents");
    const { code, proc } = await run(["get", id, "-o", out]);
    assert.equal(code, 0, proc.stderr);
    assert.equal(proc.stdout, "");
    assert.deepEqual(await Deno.readFile(out), bytes);
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, ["out.bin"]);
    const j = await run(["get", id, "-o", out, "--json"]);
    assert.deepEqual(JSON.parse(j.proc.stdout), { id, size: 100_000, path: out });
  }));

Deno.test("get_progress_is_drawn_on_a_terminal", () =>
  withNode(async ({ node, dir, run }) => {
    const id = await node.add(new Uint8Array(1024 * 1024));
    const { code, proc } = await run(
      ["get", id, "-o", `${dir}/p`],
      (p) => p.terminals.add("stderr"),
    );
    assert.equal(code, 0);
    assert.match(proc.stderr, /^\rget \[.*\] +\d+%/);
    assert.ok(proc.stderr.endsWith("\r\x1b[K"));
  }));

Deno.test("get_progress_knows_the_total_when_the_server_streams_without_content_length", () =>
  withNode(async ({ node, api, dir }) => {
    const id = await node.add(new Uint8Array(1024 * 1024));
    // What a Bun server does to a streamed body: no Content-Length, chunked instead.
    const chunked = async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await fetch(input, init);
      const headers = new Headers(res.headers);
      headers.delete("content-length");
      return new Response(res.body, { status: res.status, headers });
    };
    const { code, proc } = await runCli(
      ["get", id, "-o", `${dir}/p`, "--api", api],
      (p) => p.terminals.add("stderr"),
      { fetch: chunked },
    );
    assert.equal(code, 0, proc.stderr);
    assert.match(proc.stderr, /^\rget \[.*\] +\d+% .* \/ 1\.0 MiB/);
  }));

Deno.test("get_of_an_unknown_id_exits_3_with_one_line", () =>
  withNode(async ({ dir, run }) => {
    const missing = "1220" + "0".repeat(64);
    const { code, proc } = await run(["get", missing, "-o", `${dir}/never`]);
    assert.equal(code, EXIT.NOT_FOUND);
    assert.equal(proc.stderr, `dfs: error: no node has ${missing}\n`);
    assert.equal(proc.stdout, "");
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, []);
  }));

Deno.test("get_into_a_missing_directory_is_a_local_error_not_a_missing_file", () =>
  withNode(async ({ node, dir, run }) => {
    const id = await node.add(enc.encode("x"));
    const { code, proc } = await run(["get", id, "-o", `${dir}/no/such/dir/out`]);
    assert.equal(code, EXIT.ERROR);
    assert.match(proc.stderr, new RegExp(`^dfs: error: cannot write ${dir}/no/such/dir/out: `));
    assert.equal(proc.stderr.split("\n").length, 2, "one line");
  }));

Deno.test("get_of_a_malformed_id_exits_1", () =>
  withNode(async ({ run }) => {
    const { code, proc } = await run(["get", "1220xyz"]);
    assert.equal(code, EXIT.ERROR);
    assert.equal(proc.stderr, "dfs: error: not a content id: 1220xyz\n");
  }));

Deno.test("interrupting_get_removes_the_temporary_file_and_exits_130", () =>
  withNode(async ({ node, dir, api }) => {
    const id = node.addVirtual(64 * 1024 * 1024, (s, e) => generated(s, e));
    // The progress bar's first draw happens after the first bytes reached the temp file.
    const { code, proc } = await runCli(["get", id, "-o", `${dir}/big`, "--api", api], (p) => {
      p.terminals.add("stderr");
      p.onStderr = () => {
        p.onStderr = undefined;
        p.raise("SIGINT");
      };
    });
    assert.equal(code, EXIT.INTERRUPTED);
    assert.match(proc.stderr, /dfs: interrupted \(SIGINT\)\n$/);
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, []);
    assert.equal(proc.handlerCount, 0);
  }));

Deno.test("interrupting_get_to_stdout_exits_130", () =>
  withNode(async ({ node, api }) => {
    const id = node.addVirtual(64 * 1024 * 1024, (s, e) => generated(s, e));
    const { code, proc } = await runCli(["get", id, "--api", api], (p) => {
      p.onStdout = () => {
        p.onStdout = undefined;
        p.raise("SIGTERM");
      };
    });
    assert.equal(code, EXIT.INTERRUPTED);
    assert.equal(proc.stderr, "dfs: interrupted (SIGTERM)\n");
    assert.ok(proc.stdoutBytes.length < 64 * 1024 * 1024);
  }));

Deno.test("interrupting_put_exits_130_and_stores_nothing", () =>
  withNode(async ({ node, api }) => {
    const { code, proc } = await runCli(["put", "-", "--api", api], (p) => {
      p.stdinBytes = new Uint8Array(16 * 1024 * 1024);
      p.terminals.add("stderr");
      p.onStderr = () => {
        p.onStderr = undefined;
        p.raise("SIGINT");
      };
    });
    assert.equal(code, EXIT.INTERRUPTED);
    assert.match(proc.stderr, /dfs: interrupted \(SIGINT\)\n$/);
    assert.equal(proc.stdout, "");
    assert.equal(node.files.size, 0);
  }));

Deno.test("rm_ls_stat_peers_and_status_print_for_people", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("listed"), "list-me");
    let r = await run(["ls"]);
    assert.equal(r.code, 0, r.proc.stderr);
    assert.equal(r.proc.stdout, `ID${" ".repeat(66)}  SIZE  NAMES\n${id}  6 B   list-me\n`);
    r = await run(["stat", "list-me", "--no-health"]);
    assert.equal(
      r.proc.stdout,
      `id:          ${id}\nsize:        6 B\nblocks:      1 of 256.0 KiB\n` +
        `redundancy:  replicas:3\nlocal:       yes (every block is on this node)\n`,
    );
    node.dht = null;
    r = await run(["peers"]);
    assert.match(
      r.proc.stdout,
      /^NODE +ADDRESS +STATE +RTT +LAST SEEN\ncdcdcdcdcdcdcdcd +127\.0\.0\.1:3001 +connected +- +\d+h\d\dm ago\n$/,
    );
    r = await run(["status"]);
    assert.match(
      r.proc.stdout,
      new RegExp(`^node: +${node.nodeId}\naddress: +127\\.0\\.0\\.1:3000\n`),
    );
    assert.match(r.proc.stdout, /store: +1 entries, 6 B\n$/);
    node.storeLimit = 50 * 1024 ** 3;
    r = await run(["status"]);
    assert.match(r.proc.stdout, /store: +1 entries, 6 B of 50\.0 GiB allowed\n$/);
    node.storeLimit = undefined;
    r = await run(["rm", id]);
    assert.equal(
      r.proc.stdout,
      `deleted ${id} (local copy removed; 1 remote holder confirmed; tombstone kept by 3 nodes)\n`,
    );
    r = await run(["ls"]);
    assert.equal(r.proc.stdout, "");
  }));

Deno.test("client_commands_print_the_api_json_with_json", () =>
  withNode(async ({ node, run }) => {
    const id = await node.add(enc.encode("j"), "jay");
    assert.deepEqual(JSON.parse((await run(["ls", "--json"])).proc.stdout), [
      { id, size: 1, names: ["jay"] },
    ]);
    assert.equal(JSON.parse((await run(["stat", id, "--json"])).proc.stdout).size, 1);
    assert.deepEqual(JSON.parse((await run(["peers", "--json"])).proc.stdout), {
      peers: node.peerList,
      dht: FAKE_DHT_INFO,
    });
    assert.equal(JSON.parse((await run(["status", "--json"])).proc.stdout).nodeId, node.nodeId);
    assert.deepEqual(JSON.parse((await run(["rm", "jay", "--json"])).proc.stdout), {
      id,
      local: true,
      remote: 1,
      tombstones: 3,
    });
  }));

Deno.test("peers_shows_the_routing_table_after_the_peer_list", () =>
  withNode(async ({ node, run }) => {
    const { code, proc } = await run(["peers"]);
    assert.equal(code, 0, proc.stderr);
    assert.equal(proc.stderr, "");
    const [list, dht] = proc.stdout.split("\n\n");
    assert.match(
      list,
      /^NODE +ADDRESS +STATE +RTT +LAST SEEN\ncdcdcdcdcdcdcdcd +127\.0\.0\.1:3001 +connected +- +\d+h\d\dm ago$/,
    );
    assert.equal(
      dht,
      "DHT: 23 contacts in 2 buckets (k = 20); 12 of 64 connections open\n" +
        "BUCKET  CONTACTS  REPLACEMENTS\n" +
        "0       20        3\n" +
        "1       3         0\n",
    );
    assert.deepEqual(node.calls.toSorted(), ["dhtInfo", "peers"]);
  }));

Deno.test("peers_with_an_empty_routing_table_and_no_peers", () =>
  withNode(async ({ node, run }) => {
    node.peerList = [];
    node.dht = { ...FAKE_DHT_INFO, tableSize: 0, buckets: [], connections: 1, maxConnections: 1 };
    const { code, proc } = await run(["peers"]);
    assert.equal(code, 0, proc.stderr);
    assert.equal(
      proc.stdout,
      "no peers\n\nDHT: 0 contacts in 0 buckets (k = 20); 1 of 1 connection open\n",
    );
  }));

Deno.test("peers_of_a_node_without_a_dht_prints_just_the_peers", () =>
  withNode(async ({ node, run }) => {
    node.dht = null;
    const human = await run(["peers"]);
    assert.equal(human.code, 0, human.proc.stderr);
    assert.match(human.proc.stdout, /^NODE .*\ncdcdcdcdcdcdcdcd .* ago\n$/);
    assert.doesNotMatch(human.proc.stdout, /DHT/);
    const json = await run(["peers", "--json"]);
    assert.equal(json.code, 0, json.proc.stderr);
    assert.deepEqual(JSON.parse(json.proc.stdout), { peers: node.peerList, dht: null });
  }));

Deno.test("peers_of_a_node_older_than_the_dht_route_prints_just_the_peers", () =>
  withNode(async ({ node, api }) => {
    // A node from before `GET /dht`: the route is unknown to it.
    const old = async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).endsWith("/dht")) {
        return Response.json({ error: { code: "NO_SUCH_ROUTE", message: "no route" } }, {
          status: 404,
        });
      }
      return await fetch(input, init);
    };
    const { code, proc } = await runCli(["peers", "--api", api], undefined, { fetch: old });
    assert.equal(code, 0, proc.stderr);
    assert.match(proc.stdout, /^NODE .*\ncdcdcdcdcdcdcdcd .* ago\n$/);
    assert.deepEqual(node.calls, ["peers"]);
  }));

Deno.test("peers_fails_when_the_dht_route_fails", () =>
  withNode(async ({ node, run }) => {
    node.dhtInfo = () => {
      throw new Error("table locked");
    };
    const { code, proc } = await run(["peers"]);
    assert.equal(code, EXIT.ERROR);
    assert.equal(proc.stderr, "dfs: error: table locked\n");
    assert.equal(proc.stdout, "");
  }));

Deno.test("status_shows_the_dht_figures", () =>
  withNode(async ({ node, run }) => {
    await node.add(enc.encode("listed"));
    let r = await run(["status"]);
    assert.equal(r.code, 0, r.proc.stderr);
    assert.match(r.proc.stdout, /^node: {11}ab/);
    assert.ok(
      r.proc.stdout.endsWith(
        "store:          1 entries, 6 B\n" +
          "dht table:      23 contacts\n" +
          "dht lookups:    40 (3.3 messages each, 1 timed out)\n" +
          "dht providers:  310 records held for 120 keys; providing 17 keys\n" +
          "dht names:      4 records held; publishing 2 names\n" +
          "dht served:     512 requests\n",
      ),
      r.proc.stdout,
    );
    node.dht = {
      ...FAKE_DHT_INFO,
      tableSize: 1,
      lookups: 0,
      lookupMessages: 0,
      lookupRounds: 0,
      lookupsTimedOut: 0,
      requestsServed: 1,
      providerRecords: 1,
      providerKeys: 1,
      providing: 1,
      nameRecords: 0,
      publishing: 1,
    };
    r = await run(["status"]);
    assert.ok(
      r.proc.stdout.endsWith(
        "dht table:      1 contact\n" +
          "dht lookups:    0 (0 messages each, 0 timed out)\n" +
          "dht providers:  1 record held for 1 key; providing 1 key\n" +
          "dht names:      0 records held; publishing 1 name\n" +
          "dht served:     1 request\n",
      ),
      r.proc.stdout,
    );
    assert.deepEqual(JSON.parse((await run(["status", "--json"])).proc.stdout).dht.publishing, 1);
  }));

Deno.test("stat_and_rm_of_unknown_ids_exit_3", () =>
  withNode(async ({ run }) => {
    for (const cmd of ["stat", "rm"]) {
      const { code, proc } = await run([cmd, "nothing-here"]);
      assert.equal(code, EXIT.NOT_FOUND, cmd);
      assert.equal(proc.stderr, "dfs: error: no node has nothing-here\n");
    }
  }));

Deno.test("dfs_api_environment_variable_picks_the_node", () =>
  withNode(async ({ api }) => {
    const { code, proc } = await runCli(["status"], (p) => p.vars.set("DFS_API", `http://${api}`));
    assert.equal(code, 0, proc.stderr);
    assert.match(proc.stdout, /^node: /);
  }));

Deno.test("unreachable_node_exits_4_with_a_hint", async () => {
  const port = closedPort();
  for (const args of [["status"], ["ls"], ["get", "x"], ["put", "-"]]) {
    const { code, proc } = await runCli([...args, "--api", `:${port}`]);
    assert.equal(code, EXIT.UNREACHABLE, args.join(" "));
    assert.equal(
      proc.stderr,
      `dfs: error: cannot reach dfs node at http://127.0.0.1:${port} — is it running? ` +
        `(dfs serve --listen ...)\n`,
    );
  }
});

Deno.test("talking_to_something_that_is_not_dfs_says_so", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("<html>hi</html>", { status: 404 }),
  );
  try {
    const { code, proc } = await runCli(["status", "--api", `:${server.addr.port}`]);
    assert.equal(code, EXIT.ERROR);
    assert.match(proc.stderr, /^dfs: error: http:\/\/127\.0\.0\.1:\d+ answered HTTP 404/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("bad_arguments_exit_2_with_a_short_usage", async () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /^dfs: error: unknown command "frobnicate"\nusage: dfs COMMAND/],
    [["get"], /^dfs: error: get: missing argument\nusage: dfs get ID\|NAME/],
    [["stat", "a", "b"], /^dfs: error: stat: unexpected argument "b"\nusage: dfs stat/],
    [["ls", "--bogus"], /^dfs: error: Unknown option '--bogus'\nusage: dfs ls/],
    [["put", "x", "--copies", "0"], /^dfs: error: --copies expects a whole number >= 1/],
    [["put", "x", "--public", "--convergent"], /^dfs: error: give --public or --convergent/],
    [["put", "-", "--convergent"], /^dfs: error: --convergent needs a file path/],
    [["put", "x", "--share-key"], /^dfs: error: --share-key goes with --name/],
    [["get", "x", "--api", "nope"], /^dfs: error: --api expects HOST:PORT/],
    [["--listen", "bad"], /^dfs: error: --listen expects HOST:PORT/],
    [["help", "nothing"], /^dfs: error: no such command: "nothing"/],
  ];
  for (const [args, re] of cases) {
    const { code, proc } = await runCli(args);
    assert.equal(code, EXIT.USAGE, args.join(" "));
    assert.match(proc.stderr, re, args.join(" "));
    assert.match(proc.stderr, /Run "dfs help.*" for more\.\n$/);
    assert.equal(proc.stdout, "");
  }
});

Deno.test("no_arguments_prints_usage_and_exits_2", async () => {
  const { code, proc } = await runCli([]);
  assert.equal(code, EXIT.USAGE);
  assert.match(proc.stderr, /^dfs — a peer-to-peer/);
});

Deno.test("help_and_version_print_to_stdout", async () => {
  let r = await runCli(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.proc.stdout, /usage:\n {2}dfs \[serve\]/);
  r = await runCli(["help", "get"]);
  assert.match(r.proc.stdout, /^usage: dfs get ID\|NAME/);
  r = await runCli(["put", "--help"]);
  assert.match(r.proc.stdout, /^usage: dfs put PATH\|-/);
  r = await runCli(["serve", "-h"]);
  assert.match(r.proc.stdout, /^usage: dfs \[serve\]/);
  r = await runCli(["--version"]);
  assert.equal(r.proc.stdout, "dfs 0.1.0\n");
});

Deno.test("get_refuses_binary_bytes_on_a_terminal_but_writes_text", () =>
  withNode(async ({ node, run }) => {
    const binary = await node.add(new Uint8Array([104, 105, 0, 1, 2]));
    const bin = await run(["get", binary], (p) => p.terminals.add("stdout"));
    assert.equal(bin.code, EXIT.ERROR);
    assert.equal(bin.proc.stdout, "");
    assert.equal(
      bin.proc.stderr,
      `dfs: error: ${binary} looks binary and stdout is a terminal: use -o PATH or redirect (> PATH)\n`,
    );
    const text = await node.add(enc.encode("hello\n"));
    const ok = await run(["get", text], (p) => p.terminals.add("stdout"));
    assert.equal(ok.code, 0, ok.proc.stderr);
    assert.equal(ok.proc.stdout, "hello\n");
    const piped = await run(["get", binary]);
    assert.equal(piped.code, 0);
    assert.deepEqual(piped.proc.stdoutBytes, new Uint8Array([104, 105, 0, 1, 2]));
  }));
