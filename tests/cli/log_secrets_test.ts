import assert from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { FakeProcess, testRuntime } from "./harness.ts";

/** Polls `check` every 20 ms for at most `ms`. */
async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

Deno.test("a_node_at_debug_never_logs_its_keys_tokens_or_capabilities", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-log-secrets-" });
  const clusterKey = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeFile(`${dir}/cluster.key`, clusterKey);
  const token = "tok-" + hex(crypto.getRandomValues(new Uint8Array(16)));
  await Deno.writeTextFile(`${dir}/api.token`, token);
  const proc = new FakeProcess([
    "serve",
    "--listen",
    ":0",
    "--api",
    ":0",
    "--data",
    `${dir}/data`,
    "--log-level",
    "debug",
    "--log-format",
    "json",
    "--cluster-key-file",
    `${dir}/cluster.key`,
    "--api-token-file",
    `${dir}/api.token`,
  ]);
  const done = main(testRuntime(proc));
  let finished = false;
  done.finally(() => finished = true);
  const secrets: string[] = [token, hex(clusterKey), b64(clusterKey)];
  try {
    await waitFor(() => finished || /api {3}\S+\n/.test(proc.stdout));
    assert.equal(finished, false, proc.stderr);
    const api = /api {3}(\S+)\n/.exec(proc.stdout)![1];
    const auth = ["--api", api, "--api-token-file", `${dir}/api.token`];
    await Deno.writeFile(`${dir}/in.bin`, new Uint8Array(5000).fill(7));
    const put = new FakeProcess(["put", `${dir}/in.bin`, ...auth]);
    assert.equal(await main(testRuntime(put)), 0, put.stderr);
    const cap = put.stdout.trim();
    const fileKey = cap.split(":").at(-1)!;
    assert.equal(fileKey.length, 43);
    secrets.push(fileKey);
    const get = new FakeProcess(["get", cap, "-o", `${dir}/out.bin`, ...auth]);
    assert.equal(await main(testRuntime(get)), 0, get.stderr);
    // The capability in a URL path, with the right token and with a wrong one.
    const url = `${api}/files/${encodeURIComponent(cap)}`;
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await ok.body?.cancel();
    const wrongToken = "wrong-" + token;
    secrets.push(wrongToken);
    const denied = await fetch(`${api}/files/${cap}?key=${fileKey}`, {
      headers: { authorization: `Bearer ${wrongToken}` },
    });
    await denied.body?.cancel();
    assert.equal(denied.status, 401);
    await waitFor(() => proc.stderr.includes('"path"'));
  } finally {
    if (!finished) proc.raise("SIGINT");
    assert.equal(await done, 0, proc.stderr);
    await Deno.remove(dir, { recursive: true });
  }
  const lines = proc.stderr.trim().split("\n");
  assert.ok(lines.length >= 5, proc.stderr);
  const records = lines.map((l) => JSON.parse(l));
  assert.ok(records.some((r) => r.category === "dfs.api" && r.message === "request"));
  assert.ok(records.some((r) => r.category === "dfs.node"));
  assert.ok(proc.stderr.includes("[redacted]"), "the capability path was logged, redacted");
  for (const secret of secrets) {
    assert.ok(!proc.stderr.includes(secret), `a secret leaked into the log: ${secret}`);
    assert.ok(!proc.stderr.includes(encodeURIComponent(secret)), `leaked (URL-encoded): ${secret}`);
  }
});
