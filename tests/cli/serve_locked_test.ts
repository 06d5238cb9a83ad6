/**
 * `dfs serve` on a data directory another node holds: it exits 1 with one line that names the
 * lock holder's pid and the LOCK file to remove, and leaves the running node alone. The error
 * is the public `DataDirLockedError` (exported from `mod.ts`).
 */
import assert from "node:assert/strict";
import { DataDirLockedError } from "../../mod.ts";
import type { StartNodeOptions } from "../../src/cli/context.ts";
import { EXIT } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { Node } from "../../src/node/node.ts";
import { FakeProcess, testRuntime } from "./harness.ts";

/** Polls `check` every 20 ms for at most `ms`. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("serve_on_a_locked_data_dir_exits_1_naming_the_holder_pid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-locked-" });
  const data = `${dir}/data`;
  const first = new FakeProcess(["serve", "--listen", ":0", "--api", ":0", "--data", data]);
  const running = main(testRuntime(first));
  let finished = false;
  running.finally(() => finished = true);
  try {
    await waitFor(() => finished || /api {3}\S+\n/.test(first.stdout));
    assert.equal(finished, false, first.stderr);

    const caught: unknown[] = [];
    const second = new FakeProcess(["serve", "--listen", ":0", "--api", ":0", "--data", data]);
    // Another process: the holder is named as such, not as "(this process)".
    Object.defineProperty(second, "pid", { value: first.pid + 1 });
    const code = await main(testRuntime(second), {
      startNode: async (o: StartNodeOptions) => {
        try {
          return await Node.start(o);
        } catch (err) {
          caught.push(err);
          throw err;
        }
      },
    });
    assert.equal(code, EXIT.ERROR);
    assert.equal(second.stdout, "", "no banner");
    const lines = second.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, second.stderr);
    const lockPath = `${data}/LOCK`.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assert.match(
      lines[0],
      new RegExp(
        `^dfs: error: data directory .*data is in use by process ${first.pid} since \\S+; ` +
          `if no dfs node is running there, remove ${lockPath}$`,
      ),
    );
    assert.equal(caught.length, 1);
    assert.ok(caught[0] instanceof DataDirLockedError);
    assert.equal(caught[0].code, "DATA_DIR_LOCKED");
    assert.equal(caught[0].holderPid, first.pid);
    // The first node is untouched and still serving.
    assert.equal(finished, false);
  } finally {
    if (!finished) first.raise("SIGTERM");
    assert.equal(await running, 0, first.stderr);
    await Deno.remove(dir, { recursive: true });
  }
});
