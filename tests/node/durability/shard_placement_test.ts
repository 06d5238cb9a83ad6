/**
 * `placeColumns`: the k + m columns of a Reed-Solomon file go one per node, closest first, the
 * local node at its rank; fewer nodes wrap around; a failed push moves to the next spare
 * candidate; what nobody takes stays local.
 */
import assert from "node:assert/strict";
import type { RemotePeer } from "../../../src/node/remote.ts";
import {
  type ColumnPlacement,
  placeColumns,
} from "../../../src/node/durability/shard_placement.ts";

/** A fake peer: only `nodeId` is used by placeColumns. */
function peer(nodeId: string): RemotePeer {
  return { nodeId } as unknown as RemotePeer;
}

const peers = (...names: string[]) => names.map(peer);

interface PushLog {
  /** Every push call: node id and sorted columns, in call order. */
  readonly calls: { nodeId: string; columns: number[] }[];
  readonly push: (p: RemotePeer, columns: ReadonlySet<number>) => Promise<boolean>;
}

/** A push that fails for the node ids in `failing` and confirms for the rest. */
function pusher(failing: ReadonlySet<string> = new Set()): PushLog {
  const calls: { nodeId: string; columns: number[] }[] = [];
  return {
    calls,
    push: (p, columns) => {
      calls.push({ nodeId: p.nodeId, columns: [...columns].sort((a, b) => a - b) });
      return Promise.resolve(!failing.has(p.nodeId));
    },
  };
}

/** The placement as plain data: column -> holder, in column order. */
function holders(placement: ColumnPlacement): string[] {
  const out: string[] = [];
  for (let c = 0; c < placement.holders.size; c++) out.push(placement.holders.get(c)!);
  return out;
}

const sorted = (s: ReadonlySet<number>) => [...s].sort((a, b) => a - b);

const byNode = (calls: PushLog["calls"]) =>
  Object.fromEntries(calls.map((c) => [c.nodeId, c.columns]));

Deno.test("place_columns_one_column_each_with_self_at_its_rank", async () => {
  const log = pusher();
  const placement = await placeColumns({
    columns: 6,
    candidates: peers("a", "b", "c", "d", "e", "f", "g", "h"),
    selfRank: 2,
    push: log.push,
  });
  assert.deepEqual(holders(placement), ["a", "b", "self", "c", "d", "e"]);
  assert.equal(placement.holders.size, 6);
  assert.deepEqual(sorted(placement.local), [2]);
  assert.equal(placement.nodes, 6);
  // Only the first five candidates were pushed to, one column each; f, g, h were not asked.
  assert.equal(log.calls.length, 5);
  assert.deepEqual(byNode(log.calls), { a: [0], b: [1], c: [3], d: [4], e: [5] });
});

Deno.test("place_columns_self_rank_zero_and_last", async () => {
  let log = pusher();
  let placement = await placeColumns({
    columns: 4,
    candidates: peers("a", "b", "c", "d"),
    selfRank: 0,
    push: log.push,
  });
  assert.deepEqual(holders(placement), ["self", "a", "b", "c"]);
  assert.deepEqual(sorted(placement.local), [0]);
  assert.equal(placement.nodes, 4);
  assert.deepEqual(byNode(log.calls), { a: [1], b: [2], c: [3] });

  // Self ranked behind every candidate that is used: it takes no column.
  log = pusher();
  placement = await placeColumns({
    columns: 4,
    candidates: peers("a", "b", "c", "d", "e"),
    selfRank: 4,
    push: log.push,
  });
  assert.deepEqual(holders(placement), ["a", "b", "c", "d"]);
  assert.deepEqual(sorted(placement.local), []);
  assert.equal(placement.nodes, 4);
  assert.equal(log.calls.length, 4);

  // Exactly k + m nodes with self last: self takes the last column.
  log = pusher();
  placement = await placeColumns({
    columns: 4,
    candidates: peers("a", "b", "c"),
    selfRank: 3,
    push: log.push,
  });
  assert.deepEqual(holders(placement), ["a", "b", "c", "self"]);
  assert.deepEqual(sorted(placement.local), [3]);
});

Deno.test("place_columns_clamps_self_rank", async () => {
  let placement = await placeColumns({
    columns: 3,
    candidates: peers("a", "b"),
    selfRank: 99,
    push: pusher().push,
  });
  assert.deepEqual(holders(placement), ["a", "b", "self"]);
  placement = await placeColumns({
    columns: 3,
    candidates: peers("a", "b"),
    selfRank: -1,
    push: pusher().push,
  });
  assert.deepEqual(holders(placement), ["self", "a", "b"]);
});

Deno.test("place_columns_wraps_when_fewer_nodes_than_columns", async () => {
  const log = pusher();
  const placement = await placeColumns({
    columns: 6,
    candidates: peers("a", "b"),
    selfRank: 1,
    push: log.push,
  });
  // Slots a, self, b: column c goes to slot c % 3.
  assert.deepEqual(holders(placement), ["a", "self", "b", "a", "self", "b"]);
  assert.deepEqual(sorted(placement.local), [1, 4]);
  assert.equal(placement.nodes, 3);
  // Each node gets all its columns in one push.
  assert.equal(log.calls.length, 2);
  assert.deepEqual(byNode(log.calls), { a: [0, 3], b: [2, 5] });
});

Deno.test("place_columns_wraps_unevenly", async () => {
  const log = pusher();
  const placement = await placeColumns({
    columns: 14,
    candidates: peers("a", "b", "c", "d"),
    selfRank: 0,
    push: log.push,
  });
  assert.deepEqual(holders(placement), [
    "self",
    "a",
    "b",
    "c",
    "d",
    "self",
    "a",
    "b",
    "c",
    "d",
    "self",
    "a",
    "b",
    "c",
  ]);
  assert.deepEqual(sorted(placement.local), [0, 5, 10]);
  assert.equal(placement.nodes, 5);
  assert.deepEqual(byNode(log.calls), {
    a: [1, 6, 11],
    b: [2, 7, 12],
    c: [3, 8, 13],
    d: [4, 9],
  });
});

Deno.test("place_columns_no_candidates_keeps_everything_local", async () => {
  const log = pusher();
  const placement = await placeColumns({ columns: 6, candidates: [], selfRank: 0, push: log.push });
  assert.deepEqual(holders(placement), Array(6).fill("self"));
  assert.deepEqual(sorted(placement.local), [0, 1, 2, 3, 4, 5]);
  assert.equal(placement.nodes, 1);
  assert.equal(log.calls.length, 0);
});

Deno.test("place_columns_failed_push_moves_to_next_spare", async () => {
  const log = pusher(new Set(["b"]));
  const placement = await placeColumns({
    columns: 4,
    candidates: peers("a", "b", "c", "d", "e", "f"),
    selfRank: 6,
    push: log.push,
  });
  // b failed: its column goes to e, the first candidate beyond the four used.
  assert.deepEqual(holders(placement), ["a", "e", "c", "d"]);
  assert.deepEqual(sorted(placement.local), []);
  assert.equal(placement.nodes, 4);
  assert.deepEqual(log.calls.map((c) => c.nodeId).sort(), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(log.calls.find((c) => c.nodeId === "e")!.columns, [1]);
});

Deno.test("place_columns_spare_that_fails_too_moves_on_and_skips_self", async () => {
  // Slots: a b c | self d e. b fails, then the spares: self is skipped, d fails, e takes it.
  const log = pusher(new Set(["b", "d"]));
  const placement = await placeColumns({
    columns: 3,
    candidates: peers("a", "b", "c", "d", "e"),
    selfRank: 3,
    push: log.push,
  });
  assert.deepEqual(holders(placement), ["a", "e", "c"]);
  assert.deepEqual(sorted(placement.local), []);
  assert.equal(placement.nodes, 3);
  assert.deepEqual(
    log.calls.filter((c) => c.columns.includes(1)).map((c) => c.nodeId),
    ["b", "d", "e"],
  );
});

Deno.test("place_columns_two_failures_take_distinct_spares", async () => {
  const log = pusher(new Set(["b", "c"]));
  const placement = await placeColumns({
    columns: 3,
    candidates: peers("a", "b", "c", "d", "e"),
    selfRank: 5,
    push: log.push,
  });
  // b and c fail in the same tick, in slot order: b's column to d, c's to e.
  assert.deepEqual(holders(placement), ["a", "d", "e"]);
  assert.equal(placement.nodes, 3);
});

Deno.test("place_columns_spares_run_out_then_local", async () => {
  const log = pusher(new Set(["b", "c", "d"]));
  const placement = await placeColumns({
    columns: 3,
    candidates: peers("a", "b", "c", "d"),
    selfRank: 4,
    push: log.push,
  });
  // b and c failed; d (the one spare) failed too; the local node keeps columns 1 and 2.
  assert.deepEqual(holders(placement), ["a", "self", "self"]);
  assert.deepEqual(sorted(placement.local), [1, 2]);
  assert.equal(placement.nodes, 2);
});

Deno.test("place_columns_all_failing_stay_local", async () => {
  const names = ["a", "b", "c", "d", "e", "f", "g", "h"];
  const log = pusher(new Set(names));
  const placement = await placeColumns({
    columns: 6,
    candidates: peers(...names),
    selfRank: 1,
    push: log.push,
  });
  assert.deepEqual(holders(placement), Array(6).fill("self"));
  assert.deepEqual(sorted(placement.local), [0, 1, 2, 3, 4, 5]);
  assert.equal(placement.nodes, 1);
  // Every candidate was tried exactly once.
  assert.deepEqual(log.calls.map((c) => c.nodeId).sort(), names);
});

Deno.test("place_columns_wrapped_failure_has_no_spare", async () => {
  // Every node is used by the wrap, so a failed node's columns stay local.
  const log = pusher(new Set(["b"]));
  const placement = await placeColumns({
    columns: 6,
    candidates: peers("a", "b"),
    selfRank: 2,
    push: log.push,
  });
  assert.deepEqual(holders(placement), ["a", "self", "self", "a", "self", "self"]);
  assert.deepEqual(sorted(placement.local), [1, 2, 4, 5]);
  assert.equal(placement.nodes, 2);
  assert.equal(log.calls.length, 2);
});

Deno.test("place_columns_pushes_in_parallel", async () => {
  // All first-choice pushes start before any settles.
  let started = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const done = placeColumns({
    columns: 4,
    candidates: peers("a", "b", "c", "d"),
    selfRank: 4,
    push: async () => {
      started++;
      await gate;
      return true;
    },
  });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(started, 4);
  release();
  const placement = await done;
  assert.equal(placement.nodes, 4);
});
