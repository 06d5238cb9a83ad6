/**
 * The `dfs` command line as real processes: `mod.ts` run by Deno, Bun and Node. Three servers
 * (one per runtime, ports 0, addresses read from the banner), client commands run by each
 * runtime, exit codes checked (0, 2 bad arguments, 3 not found, 4 unreachable), then SIGTERM
 * and a clean exit 0. Only loopback; every process is bounded in time and only the processes
 * started here are killed.
 */
import assert from "node:assert/strict";
import { randomBytes, testSeed, withSeed } from "../util/prng.ts";

type Rt = "deno" | "bun" | "node";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin`;
const MOD = `${ROOT}mod.ts`;
const SEED = testSeed(777);
const COMMAND_MS = 20_000;

function argv(rt: Rt, args: readonly string[]): [string, string[]] {
  if (rt === "deno") return [`${BIN}/deno`, ["run", "-A", MOD, ...args]];
  return [`${BIN}/${rt}`, [MOD, ...args]];
}

function command(rt: Rt, args: readonly string[], signal?: AbortSignal) {
  const [cmd, rest] = argv(rt, args);
  return new Deno.Command(cmd, {
    args: rest,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { PATH: `${BIN}:${Deno.env.get("PATH") ?? ""}`, NO_COLOR: "1", DFS_API: "", DFS_DATA: "" },
    signal,
  });
}

/** Runs one client command to completion (bounded). */
async function run(rt: Rt, args: readonly string[]) {
  const out = await command(rt, args, AbortSignal.timeout(COMMAND_MS)).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

interface Server {
  readonly rt: Rt;
  readonly api: string;
  readonly p2p: string;
  readonly child: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  stderr(): string;
}

/** Starts `dfs serve` on free ports and reads its banner (bounded). */
async function serve(rt: Rt, data: string, bootstrap: string[] = []): Promise<Server> {
  const args = ["serve", "--listen", "127.0.0.1:0", "--api", "127.0.0.1:0", "--data", data];
  if (bootstrap.length) args.push("--bootstrap", bootstrap.join(","));
  const child = command(rt, args).spawn();
  const status = child.status;
  const dec = new TextDecoder();
  let err = "";
  (async () => {
    for await (const c of child.stderr) {
      err = (err + dec.decode(c, { stream: true })).slice(-20_000);
    }
  })().catch(() => {});
  const reader = child.stdout.getReader();
  let out = "";
  const deadline = Date.now() + COMMAND_MS;
  try {
    while (!/\n {2}data /.test(out)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no banner in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<never>((_, rej) => timer = setTimeout(() => rej(new Error("timeout")), left)),
      ]).finally(() => clearTimeout(timer));
      if (r.done) throw new Error("exited before its banner");
      out += dec.decode(r.value, { stream: true });
    }
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await status;
    throw new Error(`${rt} serve did not start: ${(e as Error).message}\n${out}\n${err}`);
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  const api = /\n {2}api +(\S+)/.exec(out)?.[1];
  const p2p = /\n {2}p2p +(\S+)/.exec(out)?.[1];
  assert.ok(api && p2p, `banner of ${rt}: ${out}`);
  return { rt, api, p2p, child, status, stderr: () => err };
}

/** Waits until the server reports at least `n` peers (bounded). */
async function waitForPeers(s: Server, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${s.api}/status`, { signal: AbortSignal.timeout(5000) })
      .catch(() => null);
    if (res?.ok && (await res.json()).peers >= n) return;
    await res?.body?.cancel();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${s.rt} server did not reach ${n} peers`);
}

/** A loopback port nothing listens on (bound, then closed). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "cli_processes_on_three_runtimes_serve_put_get_stat_rm_and_exit_with_the_documented_codes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dfs-cli-e2e-" });
    const servers: Server[] = [];
    try {
      await withSeed(SEED, async () => {
        const a = await serve("deno", `${dir}/a`);
        servers.push(a);
        const [b, c] = await Promise.all([
          serve("bun", `${dir}/b`, [a.p2p]),
          serve("node", `${dir}/c`, [a.p2p]),
        ]);
        servers.push(b, c);
        await Promise.all([waitForPeers(a, 2), waitForPeers(b, 1), waitForPeers(c, 1)]);

        // Each runtime created its data directory private and its key file 0600.
        for (const d of ["a", "b", "c"]) {
          assert.equal((await Deno.stat(`${dir}/${d}`)).mode! & 0o777, 0o700, `${d} dir mode`);
          assert.equal((await Deno.stat(`${dir}/${d}/node.key`)).mode! & 0o777, 0o600, d);
        }

        const data = randomBytes(300_000, SEED);
        await Deno.writeFile(`${dir}/in.bin`, data);

        // put --public (Deno client) prints only the id.
        const put = await run("deno", [
          "put",
          `${dir}/in.bin`,
          "--public",
          "--quiet",
          "--api",
          a.api,
        ]);
        assert.equal(put.code, 0, put.stderr);
        assert.match(put.stdout, /^[0-9a-f]{20,}\n$/);
        const id = put.stdout.trim();

        // get -o (Bun client) from the Bun node, which fetches the blocks from the Deno node.
        const got = await run("bun", [
          "get",
          id,
          "-o",
          `${dir}/out.bin`,
          "--quiet",
          "--api",
          b.api,
        ]);
        assert.equal(got.code, 0, got.stderr);
        assert.deepEqual(await Deno.readFile(`${dir}/out.bin`), data);

        // stat --json (Node client) on the Node node.
        const stat = await run("node", ["stat", id, "--json", "--api", c.api]);
        assert.equal(stat.code, 0, stat.stderr);
        const info = JSON.parse(stat.stdout);
        assert.equal(info.id, id);
        assert.equal(info.size, data.length);

        // An unknown (well-formed) id: exit 3, one line on stderr.
        const unknown = id.slice(0, -1) + (id.endsWith("0") ? "1" : "0");
        const missing = await run("node", ["get", unknown, "-o", `${dir}/x.bin`, "--api", c.api]);
        assert.equal(missing.code, 3, missing.stderr);
        assert.equal(missing.stderr.trimEnd().split("\n").length, 1, missing.stderr);
        assert.equal(missing.stdout, "");

        // rm (Deno client) on the Deno node; the file is gone from it.
        const rm = await run("deno", ["rm", id, "--api", a.api]);
        assert.equal(rm.code, 0, rm.stderr);
        const after = await run("deno", ["stat", id, "--json", "--api", a.api]);
        assert.equal(after.code, 3, after.stderr);

        // A node that is not there: exit 4.
        const gone = await run("bun", ["stat", id, "--api", `127.0.0.1:${closedPort()}`]);
        assert.equal(gone.code, 4, gone.stderr);
        assert.equal(gone.stderr.trimEnd().split("\n").length, 1, gone.stderr);

        // Bad arguments: exit 2 on every runtime.
        for (const rt of ["deno", "bun", "node"] as const) {
          const bad = await run(rt, ["put", `${dir}/in.bin`, "--copies", "many", "--api", a.api]);
          assert.equal(bad.code, 2, `${rt}: ${bad.stderr}`);
          assert.match(bad.stderr, /copies/);
        }

        // A second node on a running node's data directory is refused (exit 1, one line).
        const twice = await run("node", [
          "serve",
          "--listen",
          "127.0.0.1:0",
          "--api",
          "127.0.0.1:0",
          "--data",
          `${dir}/a`,
        ]);
        assert.equal(twice.code, 1, twice.stderr);
        assert.match(twice.stderr, /data directory .*\/a is in use by process \d+/);

        // SIGTERM: each server stops cleanly with exit 0.
        for (const s of servers) s.child.kill("SIGTERM");
        const codes = await Promise.all(servers.map((s) => bounded(s.status, 15_000)));
        for (const [i, st] of codes.entries()) {
          assert.equal(st.code, 0, `${servers[i].rt} server exit: ${servers[i].stderr()}`);
        }
      });
    } catch (err) {
      for (const s of servers) console.error(`--- ${s.rt} server stderr\n${s.stderr()}`);
      throw err;
    } finally {
      for (const s of servers) {
        try {
          s.child.kill("SIGKILL");
        } catch { /* already exited */ }
      }
      await Promise.all(servers.map((s) => s.status.catch(() => {})));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

async function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return await Promise.race([
    p,
    new Promise<never>((_, rej) => timer = setTimeout(() => rej(new Error(`over ${ms} ms`)), ms)),
  ]).finally(() => clearTimeout(timer));
}
