import assert from "node:assert/strict";
import { denoProcess } from "../../src/runtime/deno/process.ts";
import { nodeProcess } from "../../src/runtime/node/process.ts";

async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await child.status;
  return child.pid;
}

for (const [name, make] of [["deno", denoProcess], ["node", nodeProcess]] as const) {
  Deno.test(`${name}_process_tells_a_live_pid_from_an_exited_one`, async () => {
    const proc = make();
    assert.ok(proc.isProcessAlive, "isProcessAlive is implemented");
    assert.equal(proc.isProcessAlive(proc.pid), true);
    assert.equal(proc.isProcessAlive(await deadPid()), false);
    assert.equal(proc.isProcessAlive(0), false);
    assert.equal(proc.isProcessAlive(-1), false);
  });
}
