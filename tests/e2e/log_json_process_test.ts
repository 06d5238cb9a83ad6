import assert from "node:assert/strict";
import { type NodeProcess, startServeProcess } from "./node_harness.ts";

/** Polls `check` every 50 ms for at most `ms`. */
async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const runtime of ["deno", "bun", "node"] as const) {
  Deno.test(`a_${runtime}_node_with_json_logs_writes_only_json_lines_to_stderr`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `dfs-log-json-${runtime}-` });
    const procs: NodeProcess[] = [];
    try {
      // The format comes from the data directory's dfs.json; the level from the flag.
      await Deno.mkdir(`${dir}/a`);
      await Deno.writeTextFile(`${dir}/a/dfs.json`, JSON.stringify({ "log-format": "json" }));
      const a = await startServeProcess({ runtime, dataDir: `${dir}/a`, logLevel: "debug" });
      procs.push(a);
      const b = await startServeProcess({
        runtime,
        dataDir: `${dir}/b`,
        bootstrap: [a.info.address],
        extraArgs: ["--log-format", "json"],
      });
      procs.push(b);
      // Something to log: a peer connects, and a stranger sends garbage to the P2P port.
      const [host, port] = [a.info.address.split(":")[0], Number(a.info.address.split(":")[1])];
      const conn = await Deno.connect({ hostname: host, port });
      await conn.write(crypto.getRandomValues(new Uint8Array(512))).catch(() => 0);
      conn.close();
      await waitFor(
        () => a.stderr().includes('"inbound handshake refused"'),
        15_000,
        `the refused handshake in ${runtime}'s log:\n${a.stderr()}`,
      );
      for (const p of procs) p.kill("SIGTERM");
      for (const p of procs) await p.exited;
      for (const p of procs) {
        const lines = p.stderr().split("\n").filter((l) => l !== "");
        assert.ok(lines.length >= 2, p.stderr());
        for (const line of lines) {
          let r: Record<string, unknown>;
          try {
            r = JSON.parse(line);
          } catch {
            throw new Error(`${runtime}: a stderr line is not JSON: ${line}`);
          }
          for (const k of ["level", "category", "message", "timestamp"]) {
            assert.equal(typeof r[k], "string", `${k} in ${line}`);
          }
          assert.ok(["debug", "info", "warn", "error"].includes(r.level as string), line);
          assert.ok(!Number.isNaN(Date.parse(r.timestamp as string)), line);
          assert.match(r.category as string, /^dfs(\.|$)/, line);
        }
      }
      const records = a.stderr().trim().split("\n").map((l) => JSON.parse(l));
      const refused = records.filter((r) => r.message === "inbound handshake refused");
      assert.equal(refused.length, 1, a.stderr());
      assert.equal(refused[0].category, "dfs.peer");
      assert.equal(refused[0].level, "warn");
      assert.equal(typeof refused[0].code, "string");
      assert.ok(records.some((r) => r.category === "dfs.node" && r.message === "node started"));
      assert.ok(records.some((r) => r.category === "dfs.cli" && r.message === "stopped"));
    } finally {
      for (const p of procs) p.kill("SIGKILL");
      for (const p of procs) await p.exited;
      await Deno.remove(dir, { recursive: true });
    }
  });
}
