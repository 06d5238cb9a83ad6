/**
 * The ProcessHost contract, as runtime-neutral cases run by `run.ts` on each runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import { detectRuntimeName } from "../../src/runtime/detect.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import type { Case } from "./harness.ts";

/**
 * Builds the process cases for `runtime` (which must have a `process`).
 *
 * @example
 * ```ts ignore
 * const cases = processContractSuite(await detectRuntime());
 * ```
 */
export function processContractSuite(runtime: Runtime): Case[] {
  const proc = () => {
    assert.ok(runtime.process, `${runtime.name} runtime has no process`);
    return runtime.process;
  };
  return [
    {
      name: "runtime_name_matches_host",
      fn: () => assert.equal(runtime.name, detectRuntimeName()),
    },
    {
      name: "process_reports_pid_rss_args_and_env",
      fn: () => {
        const p = proc();
        assert.ok(Number.isInteger(p.pid) && p.pid > 0, `pid ${p.pid}`);
        assert.ok(p.memoryRss() > 1024 * 1024, `rss ${p.memoryRss()}`);
        assert.ok(Array.isArray(p.args));
        assert.equal(typeof p.env("PATH"), "string");
        assert.equal(p.env("DFS_SURELY_UNSET_VARIABLE_7f3a"), undefined);
        const home = p.homeDir();
        assert.ok(home === undefined || home.length > 0);
        for (const s of ["stdin", "stdout", "stderr"] as const) {
          assert.equal(typeof p.isTerminal(s), "boolean");
        }
      },
    },
    {
      name: "process_tells_its_own_pid_alive_and_an_unused_pid_dead",
      fn: () => {
        const p = proc();
        assert.ok(p.isProcessAlive, `${runtime.name} process has isProcessAlive`);
        assert.equal(p.isProcessAlive(p.pid), true);
        // Above every system's pid range (Linux caps pid_max at 2^22).
        assert.equal(p.isProcessAlive(0x3fff_ffff), false);
        assert.equal(p.isProcessAlive(0), false);
      },
    },
    {
      name: "process_writes_stdout_and_stderr",
      fn: async () => {
        const p = proc();
        await p.writeStdout(new TextEncoder().encode("     (process stdout write ok)\n"));
        await p.writeStderr(new TextEncoder().encode("     (process stderr write ok)\n"));
      },
    },
    {
      name: "signal_handler_can_be_added_and_removed",
      fn: () => {
        const remove = proc().onSignal("SIGTERM", () => {});
        remove();
        remove(); // removing twice is harmless
      },
    },
  ];
}
