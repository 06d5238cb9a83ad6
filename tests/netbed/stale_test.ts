/**
 * A bed left behind by a killed test run is removed by the next one: namespaces named after a
 * process that is gone and empty are deleted; one whose process still runs, or with something
 * still running inside, is kept. Root and network namespaces required (see `netbedAvailable`).
 */
import assert from "node:assert/strict";
import { netbedAvailable, removeStaleBeds, run } from "./netbed.ts";

const available = await netbedAvailable("tests/netbed/stale_test.ts");

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test({
  name: "stale_beds_of_dead_runs_are_removed_and_live_or_busy_ones_kept",
  ignore: !available,
  sanitizeResources: false,
  async fn() {
    const dead = await deadPid();
    const gone = [`dfsnb${dead}-hub`, `dfsnb${dead}-h1`];
    const busy = `dfsnb${dead}-h2`;
    const mine = `dfsnb${Deno.pid}-keep`;
    let sleeper: Deno.ChildProcess | undefined;
    try {
      for (const ns of [...gone, busy, mine]) await run(["ip", "netns", "add", ns]);
      sleeper = new Deno.Command("ip", {
        args: ["netns", "exec", busy, "sleep", "30"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      // Bounded wait until the sleeper runs inside the namespace.
      for (let i = 0; i < 100; i++) {
        if ((await run(["ip", "netns", "pids", busy])).stdout.trim() !== "") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const removed = await removeStaleBeds();
      assert.deepEqual([...removed].sort(), [...gone].sort());
      const left = (await run(["ip", "netns", "list"])).stdout;
      for (const ns of gone) assert.ok(!left.includes(ns), `${ns} removed`);
      assert.ok(left.includes(busy), "a namespace with a process inside is kept");
      assert.ok(left.includes(mine), "a namespace of a running process is kept");
    } finally {
      if (sleeper) {
        try {
          sleeper.kill("SIGKILL");
        } catch { /* already ended */ }
        await sleeper.status;
      }
      for (const ns of [...gone, busy, mine]) {
        await run(["ip", "netns", "del", ns]).catch(() => {});
      }
    }
  },
});
