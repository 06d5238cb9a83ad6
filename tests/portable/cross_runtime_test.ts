/**
 * Runs the portable suites under Bun and under Node (the pinned binaries in
 * node_modules/.bin), so every adapter is proven on its own runtime.
 */

import assert from "node:assert/strict";

const RUNNER = new URL("./run.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
/** Whole-run limit per runtime; the runner also bounds each case. */
const RUN_TIMEOUT_MS = 180_000;

async function runUnder(binary: string): Promise<void> {
  const path = `${ROOT}node_modules/.bin/${binary}`;
  const exists = await Deno.stat(path).then(() => true, () => false);
  assert.ok(exists, `${path} is missing: run \`npm install\` first`);
  const out = await new Deno.Command(path, {
    args: [RUNNER],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const summary = stdout.trimEnd().split("\n").at(-1) ?? "";
  if (out.code !== 0 || !/^\d+ passed, 0 failed$/.test(summary)) {
    assert.fail(
      `${binary} ${RUNNER} exited ${out.code}${out.signal ? ` (${out.signal})` : ""}\n` +
        `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
    );
  }
}

Deno.test("portable_suites_pass_under_bun", () => runUnder("bun"));
Deno.test("portable_suites_pass_under_node", () => runUnder("node"));
