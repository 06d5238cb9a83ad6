/** The HTTP API token: required off loopback, made once (0600), reused, sent by the client. */

import assert from "node:assert/strict";
import { generateApiToken, readApiToken } from "../../src/cli/api_token.ts";
import type { StartNodeOptions } from "../../src/cli/context.ts";
import { EXIT } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { denoRuntime } from "../../src/runtime/deno.ts";
import { FakeNode } from "../api/fake_node.ts";
import { FakeProcess, runCli, testRuntime } from "./harness.ts";

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts `dfs ARGS` (serve) on a fake node; `stop` ends it. `local` is its API on 127.0.0.1. */
async function serve(args: string[], env: Record<string, string> = {}) {
  const proc = new FakeProcess(args);
  for (const [k, v] of Object.entries(env)) proc.vars.set(k, v);
  const started: StartNodeOptions[] = [];
  const done = main(testRuntime(proc), {
    startNode: (o) => {
      started.push(o);
      return Promise.resolve(new FakeNode());
    },
  });
  let finished = false;
  done.finally(() => finished = true);
  await waitFor(() => finished || /api {3}\S+\n/.test(proc.stdout));
  assert.equal(finished, false, proc.stderr);
  const port = /api {3}http:\/\/\S+:(\d+)\/api\/v1\n/.exec(proc.stdout)![1];
  return {
    proc,
    started,
    local: `http://127.0.0.1:${port}/api/v1`,
    stop: async () => {
      proc.raise("SIGTERM");
      assert.equal(await done, EXIT.OK, proc.stderr);
    },
  };
}

function status(url: string, token?: string): Promise<Response> {
  return fetch(`${url}/status`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

function occurrences(text: string, token: string): number {
  return text.split(token).length - 1;
}

Deno.test("an_api_bound_off_loopback_requires_the_token_made_once_and_reused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-token-test-" });
  const args = ["serve", "--listen", ":0", "--api", "0.0.0.0:0", "--data", `${dir}/node`];
  try {
    const first = await serve(args);
    const token = /\n {2}token (\S+)\n/.exec(first.proc.stdout)?.[1] ?? "";
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const path = `${dir}/node/api-token`;
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.readTextFile(path)).trim(), token);
    // No token, a wrong one, another scheme: 401 with a JSON body and WWW-Authenticate.
    for (const res of [await status(first.local), await status(first.local, token + "x")]) {
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      const body = await res.json();
      assert.equal(body.error.code, "UNAUTHORIZED");
      assert.ok(!JSON.stringify(body).includes(token));
    }
    const basic = await fetch(`${first.local}/status`, {
      headers: { authorization: `Basic ${btoa("dfs:" + token)}` },
    });
    assert.equal(basic.status, 401);
    await basic.body?.cancel();
    const refusedPut = await fetch(`${first.local}/files`, { method: "POST", body: "data" });
    assert.equal(refusedPut.status, 401);
    await refusedPut.body?.cancel();
    const ok = await status(first.local, token);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    // The dashboard page is static and holds no data: served without the token (it asks for
    // it), while the metrics, like every API route, still need it.
    const page = await fetch(new URL("/", first.local));
    assert.equal(page.status, 200);
    assert.ok(!(await page.text()).includes(token));
    const metrics = await fetch(new URL("/metrics", first.local));
    assert.equal(metrics.status, 401);
    await metrics.body?.cancel();
    // Each of the five requests refused above is counted (the page is not a refusal).
    const scraped = await fetch(new URL("/metrics", first.local), {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(scraped.status, 200);
    const text = await scraped.text();
    assert.match(text, /^dfs_api_refused_total\{reason="unauthorized"\} 5$/m, text);
    assert.match(text, /^dfs_api_refused_total\{reason="origin_not_allowed"\} 0$/m);
    await first.stop();
    const firstLog = first.proc.stdout + first.proc.stderr;
    assert.equal(occurrences(firstLog, token), 1, "printed once, at the first start");

    // Second start: the same token, from the file, not printed.
    const second = await serve(args);
    assert.match(second.proc.stdout, /\n {2}token in \S+\/node\/api-token /);
    assert.equal((await status(second.local)).status, 401);
    const again = await status(second.local, token);
    assert.equal(again.status, 200);
    await again.body?.cancel();
    await second.stop();
    assert.equal(occurrences(second.proc.stdout + second.proc.stderr, token), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the_cli_client_sends_the_token_from_a_file_the_environment_or_the_data_dir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-token-test-" });
  const node = await serve([
    "serve",
    "--listen",
    ":0",
    "--api",
    "0.0.0.0:0",
    "--data",
    `${dir}/node`,
  ]);
  try {
    const tokenFile = `${dir}/node/api-token`;
    const token = (await Deno.readTextFile(tokenFile)).trim();
    const api = ["--api", node.local];
    const denied = await runCli(["status", ...api]);
    assert.equal(denied.code, EXIT.ERROR);
    assert.match(denied.proc.stderr, /needs a bearer token.*--api-token-file/);
    for (
      const [args, env] of [
        [["--api-token-file", tokenFile], {}],
        [[], { DFS_API_TOKEN_FILE: tokenFile }],
        [["--data", `${dir}/node`], {}],
        [[], { DFS_DATA: `${dir}/node` }],
      ] as const
    ) {
      const r = await runCli(["status", "--json", ...api, ...args], (p) => {
        for (const [k, v] of Object.entries(env)) p.vars.set(k, v);
      });
      assert.equal(r.code, EXIT.OK, `${args} ${JSON.stringify(env)}: ${r.proc.stderr}`);
      assert.equal(occurrences(r.proc.stdout + r.proc.stderr, token), 0);
    }
    // A data directory's token goes only to a node on this machine.
    const elsewhere = await runCli(["status", "--api", "http://192.0.2.1:9/api/v1"], (p) => {
      p.vars.set("DFS_DATA", `${dir}/node`);
    }, {
      fetch: (_input, init) => {
        assert.equal(new Headers(init?.headers).get("authorization"), null);
        return Promise.resolve(new Response("{}", { status: 401 }));
      },
    });
    assert.equal(elsewhere.code, EXIT.ERROR);
    // A wrong token is refused; a token file that is no token is a usage error, its text unsaid.
    await Deno.writeTextFile(`${dir}/wrong`, generateApiToken());
    const wrong = await runCli(["status", ...api, "--api-token-file", `${dir}/wrong`]);
    assert.equal(wrong.code, EXIT.ERROR);
    assert.match(wrong.proc.stderr, /not this node's API token/);
    await Deno.writeTextFile(`${dir}/short`, "tiny-secret");
    const short = await runCli(["status", ...api, "--api-token-file", `${dir}/short`]);
    assert.equal(short.code, EXIT.USAGE);
    assert.match(short.proc.stderr, /does not hold an API token/);
    assert.ok(!short.proc.stderr.includes("tiny-secret"));
    const missing = await runCli(["status", ...api, "--api-token-file", `${dir}/none`]);
    assert.equal(missing.code, EXIT.USAGE);
    assert.match(missing.proc.stderr, /cannot read .*none: no such file/);
  } finally {
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a_loopback_api_needs_no_token_unless_a_token_file_is_given", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-token-test-" });
  try {
    const open = await serve(["serve", "-l", ":0", "--api", ":0", "--data", `${dir}/a`]);
    const res = await status(open.local);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await open.stop();
    assert.equal(await denoRuntime().fs.stat(`${dir}/a/api-token`), null, "no token file made");
    assert.ok(!/\n {2}token /.test(open.proc.stdout));

    // An explicit token file (here through the environment): required on loopback too.
    const file = `${dir}/shared.token`;
    const guarded = await serve(["serve", "-l", ":0", "--api", ":0", "--data", `${dir}/b`], {
      DFS_API_TOKEN_FILE: file,
    });
    const token = await readApiToken(denoRuntime().fs, { path: file, what: "test" });
    assert.equal(occurrences(guarded.proc.stdout, token), 1);
    assert.equal((await status(guarded.local)).status, 401);
    const ok = await status(guarded.local, token);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    await guarded.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve_takes_the_peer_limit_flags", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-token-test-" });
  try {
    const s = await serve([
      "serve",
      "-l",
      ":0",
      "--api",
      ":0",
      "--data",
      `${dir}/a`,
      "--max-requests-per-peer",
      "50",
      "--max-connections-per-host",
      "3",
      "--max-store-per-peer",
      "10GiB",
      "--max-connections",
      "9",
    ]);
    await s.stop();
    assert.deepEqual(s.started[0].peer, {
      maxRequestsPerSecond: 50,
      maxConnectionsPerHost: 3,
      maxConnections: 9,
    });
    assert.equal(s.started[0].maxStorePerPeer, 10 * 1024 ** 3);
    const e = await serve(["serve", "-l", ":0", "--api", ":0", "--data", `${dir}/b`], {
      DFS_MAX_STORE_PER_PEER: "1MiB",
    });
    await e.stop();
    assert.equal(e.started[0].maxStorePerPeer, 1024 ** 2);
    assert.equal(e.started[0].peer, undefined);
    for (
      const bad of [
        ["--max-requests-per-peer", "0"],
        ["--max-store-per-peer", "lots"],
        ["--max-connections-per-host", "-1"],
        ["--api-token-file", ""],
      ]
    ) {
      const r = await runCli(["serve", "--data", `${dir}/c`, ...bad]);
      assert.equal(r.code, EXIT.USAGE, bad.join(" "));
      assert.match(r.proc.stderr, /usage: dfs \[serve\]/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
