import assert from "node:assert/strict";
import type { StartNodeOptions } from "../../src/cli/context.ts";
import { EXIT } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { FakeNode } from "../api/fake_node.ts";
import { ExitCalled, FakeProcess, runCli, testRuntime } from "./harness.ts";

/** Polls `check` every 20 ms for at most `ms`. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Served {
  proc: FakeProcess;
  node: FakeNode;
  started: StartNodeOptions[];
  api: string;
  done: Promise<number>;
}

/** Runs `dfs serve ARGS` on a fake node until `fn` is done (then SIGINT if still running). */
async function withServe(
  args: string[],
  fn: (s: Served) => Promise<void>,
  setup?: (node: FakeNode) => void,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dfs-serve-drain-" });
  const proc = new FakeProcess([
    "serve",
    "--listen",
    ":0",
    "--api",
    "127.0.0.1:0",
    "--data",
    `${dir}/node`,
    ...args,
  ]);
  const node = new FakeNode();
  node.drainReport = { files: 4, handedOff: 4, failed: 0, bytes: 2048 };
  setup?.(node);
  const started: StartNodeOptions[] = [];
  const done = main(testRuntime(proc), {
    startNode: (o) => {
      started.push(o);
      return Promise.resolve(node);
    },
  });
  let finished = false;
  done.finally(() => finished = true);
  try {
    await waitFor(() => finished || /api {3}\S+\n/.test(proc.stdout));
    const api = /api {3}(\S+)\n/.exec(proc.stdout)?.[1] ?? "";
    await fn({ proc, node, started, api, done });
  } finally {
    if (!finished) proc.raise("SIGINT");
    await done.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("serve_passes_the_policy_and_upkeep_knobs_to_the_node", () =>
  withServe(
    ["--redundancy", "rs:4+2", "--repair-grace", "5", "--scrub-rate", "0", "--no-repair"],
    async ({ started }) => {
      assert.equal(started[0].redundancy, "rs:4+2");
      assert.deepEqual(started[0].upkeep, {
        repairGraceMs: 5000,
        scrubBytesPerSecond: 0,
        repair: false,
      });
      await Promise.resolve();
    },
  ));

Deno.test("serve_with_drain_hands_data_off_on_sigterm_then_stops", () =>
  withServe(["--drain"], async ({ proc, node, done }) => {
    proc.raise("SIGTERM");
    assert.equal(await done, EXIT.OK, proc.stderr);
    assert.ok(node.calls.includes("drain"));
    assert.ok(node.drainSignals[0] instanceof AbortSignal);
    assert.equal(node.closed, true);
    assert.match(
      proc.stderr,
      /dfs: SIGTERM: draining \(handing data off to other nodes; signal again to stop without finishing\)\n/,
    );
    assert.match(
      proc.stderr,
      /dfs: drained: 4 files, 4 handed off, 0 failed, 2\.0 KiB pushed\ndfs: stopped\n$/,
    );
    assert.equal(proc.handlerCount, 0);
  }));

Deno.test("serve_with_drain_exits_1_when_files_could_not_be_handed_off", () =>
  withServe(["--drain"], async ({ proc, node, done }) => {
    proc.raise("SIGTERM");
    assert.equal(await done, EXIT.ERROR);
    assert.equal(node.closed, true);
    assert.match(
      proc.stderr,
      /dfs: warning: 2 files could not be handed off \(no node took them\)/,
    );
    assert.match(proc.stderr, /dfs: stopped\n$/);
  }, (node) => node.drainReport = { files: 5, handedOff: 3, failed: 2, bytes: 0 }));

Deno.test("serve_with_drain_stops_without_draining_on_sigint", () =>
  withServe(["--drain"], async ({ proc, node, done }) => {
    proc.raise("SIGINT");
    assert.equal(await done, EXIT.OK);
    assert.equal(node.calls.includes("drain"), false);
    assert.equal(node.closed, true);
    assert.match(proc.stderr, /dfs: SIGINT: stopping\ndfs: stopped\n$/);
  }));

Deno.test("serve_without_drain_does_not_drain_on_sigterm", () =>
  withServe([], async ({ proc, node, done }) => {
    proc.raise("SIGTERM");
    assert.equal(await done, EXIT.OK);
    assert.equal(node.calls.includes("drain"), false);
    assert.equal(node.closed, true);
  }));

Deno.test("a_second_signal_during_a_drain_cancels_it_and_still_stops_the_node", () => {
  let release!: () => void;
  return withServe(["--drain"], async ({ proc, node, done }) => {
    proc.raise("SIGTERM");
    await waitFor(() => node.drainSignals.length === 1);
    assert.equal(node.closed, false);
    proc.raise("SIGINT");
    assert.equal(await done, EXIT.INTERRUPTED);
    assert.equal(node.drainSignals[0]?.aborted, true);
    assert.equal(node.closed, true);
    assert.match(
      proc.stderr,
      /dfs: drain cancelled; stopping without finishing it\ndfs: stopped\n$/,
    );
    assert.equal(proc.handlerCount, 0);
    release();
  }, (node) => node.drainGate = new Promise((r) => release = r));
});

Deno.test("a_signal_after_a_cancelled_drain_exits_at_once", () => {
  let release!: () => void;
  return withServe(["--drain"], async ({ proc, node, done }) => {
    // The node's close hangs: the only way out is a third signal.
    let closing!: () => void;
    node.close = () => {
      node.closed = true;
      return new Promise<void>((r) => closing = r);
    };
    proc.raise("SIGTERM");
    await waitFor(() => node.drainSignals.length === 1);
    proc.raise("SIGTERM");
    await waitFor(() => node.closed);
    assert.throws(
      () => proc.raise("SIGINT"),
      (e: unknown) => e instanceof ExitCalled && e.code === 130,
    );
    closing();
    assert.equal(await done, EXIT.INTERRUPTED);
    release();
  }, (node) => node.drainGate = new Promise((r) => release = r));
});

Deno.test("a_failed_drain_is_reported_and_the_node_still_closes", () =>
  withServe(["--drain"], async ({ proc, node, done }) => {
    node.nextError = new Error("disk gone");
    proc.raise("SIGTERM");
    assert.equal(await done, EXIT.ERROR);
    assert.equal(node.closed, true);
    assert.match(proc.stderr, /dfs: error: drain failed: disk gone\ndfs: stopped\n$/);
  }));

Deno.test("post_drain_answers_the_report_then_serve_stops", () =>
  withServe([], async ({ proc, node, api, done }) => {
    const res = await fetch(`${api}/drain`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), node.drainReport);
    assert.equal(await done, EXIT.OK, proc.stderr);
    assert.equal(node.closed, true);
    assert.deepEqual(node.calls.filter((c) => c === "drain"), ["drain"], "drained once");
    assert.match(
      proc.stderr,
      /dfs: drained through the API: 4 files, 4 handed off, 0 failed, 2\.0 KiB pushed; stopping\ndfs: stopped\n$/,
    );
    await assert.rejects(fetch(`${api}/status`));
  }));

Deno.test("dfs_drain_against_serve_prints_the_report_and_the_node_stops", () =>
  withServe(["--drain"], async ({ proc, node, api, done }) => {
    const client = await runCli(["drain", "--api", api]);
    assert.equal(client.code, 0, client.proc.stderr);
    assert.equal(client.proc.stdout, "drained: 4 files, 4 handed off, 0 failed, 2.0 KiB pushed\n");
    assert.equal(await done, EXIT.OK, proc.stderr);
    assert.equal(node.closed, true);
    assert.equal(node.calls.filter((c) => c === "drain").length, 1, "--drain does not drain again");
  }));
