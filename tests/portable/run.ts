/**
 * Runs every portable suite on the host runtime:
 *
 *     bun tests/portable/run.ts [filter]
 *     node tests/portable/run.ts [filter]
 *     deno run -A tests/portable/run.ts [filter]
 *
 * Cases run one at a time, each bounded by a timeout; only cases whose `suite/name` contains
 * `filter` run. Each failure is printed with its error; the last line is `N passed, N failed`
 * and the exit code is 0 only when nothing failed.
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import process from "node:process";
import { detectRuntime } from "../../src/runtime/detect.ts";
import { withTimeout } from "./harness.ts";
import { suites } from "./suites.ts";

/** Per-case limit; generous for a loaded 2-core machine, still bounds a hung case. */
const CASE_TIMEOUT_MS = 60_000;

async function main(): Promise<number> {
  const filter = process.argv[2] ?? "";
  const runtime = await detectRuntime();
  const scratch = await mkdtemp(`${tmpdir()}/dfs-portable-`);
  console.log(`portable suites on ${runtime.name}, scratch ${scratch}`);
  let passed = 0;
  let failed = 0;
  try {
    for (const suite of suites) {
      for (const c of suite.make(runtime, scratch)) {
        const name = `${suite.name}/${c.name}`;
        if (!name.includes(filter)) continue;
        const started = performance.now();
        try {
          await withTimeout(CASE_TIMEOUT_MS, name, c.fn);
          passed++;
          console.log(`ok   ${name} (${Math.round(performance.now() - started)} ms)`);
        } catch (err) {
          failed++;
          console.log(`FAIL ${name}`);
          console.log(err instanceof Error ? (err.stack ?? err.message) : String(err));
          if (err instanceof Error && err.cause !== undefined) console.log("cause:", err.cause);
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

// Exit explicitly: a case that timed out may still hold a socket or timer open.
main().then((code) => process.exit(code), (err) => {
  console.log("runner failed:", err);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
