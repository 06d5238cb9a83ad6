/**
 * `GroupCommit`: requests that arrive during a flush wait for the next round, a round flushes
 * each distinct key once, a failure reaches only the requests of its key, rounds are bounded.
 */

import assert from "node:assert/strict";
import { IoError } from "../../src/errors.ts";
import { GroupCommit } from "../../src/store/group_commit.ts";

/** A flush that can be held open: each call waits until `release()`. */
function heldFlush() {
  const calls: string[][] = [];
  let round: string[] = [];
  let gates: (() => void)[] = [];
  return {
    calls,
    flush: (key: string) => {
      round.push(key);
      return new Promise<void>((resolve) => gates.push(resolve));
    },
    /** Ends the flushes under way; returns the keys they flushed. */
    release(): string[] {
      const keys = round;
      calls.push(keys);
      round = [];
      const g = gates;
      gates = [];
      for (const open of g) open();
      return keys;
    },
  };
}

const settle = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("group_commit_requests_during_a_flush_wait_for_the_next_round", async () => {
  const held = heldFlush();
  const gc = new GroupCommit<string>({ flush: held.flush });
  const done: string[] = [];
  const first = gc.add("/d").then(() => done.push("first"));
  await settle();
  // The first round (only "/d") is under way; these arrive during it.
  const second = gc.add("/d").then(() => done.push("second"));
  const third = gc.add("/e").then(() => done.push("third"));
  await settle();
  assert.deepEqual(held.release(), ["/d"]);
  await first;
  await settle();
  // The flush of "/d" that was under way when "second" asked must not answer it.
  assert.deepEqual(done, ["first"]);
  assert.deepEqual(held.release().sort(), ["/d", "/e"]);
  await Promise.all([second, third]);
  assert.deepEqual(done.sort(), ["first", "second", "third"]);
  assert.deepEqual(gc.stats, { rounds: 2, keys: 3, requests: 3 });
});

Deno.test("group_commit_flushes_each_key_once_per_round", async () => {
  const held = heldFlush();
  const gc = new GroupCommit<string>({ flush: held.flush });
  // 1 + 40 requests: the first runs alone, the 40 that queue behind it share one round.
  const all = [gc.add("a")];
  await settle();
  for (let i = 0; i < 40; i++) all.push(gc.add(i % 2 ? "a" : "b"));
  await settle();
  assert.deepEqual(held.release(), ["a"]);
  await settle();
  assert.deepEqual(held.release(), ["b", "a"]);
  await Promise.all(all);
  assert.deepEqual(gc.stats, { rounds: 2, keys: 3, requests: 41 });
});

Deno.test("group_commit_failure_reaches_only_the_requests_of_its_key", async () => {
  const gc = new GroupCommit<string>({
    flush: (k) => k === "bad" ? Promise.reject(new IoError("EIO")) : Promise.resolve(),
  });
  const results = await Promise.allSettled([gc.add("ok"), gc.add("bad"), gc.add("bad")]);
  assert.equal(results[0].status, "fulfilled");
  for (const r of results.slice(1)) {
    assert.equal(r.status, "rejected");
    assert.ok((r as PromiseRejectedResult).reason instanceof IoError);
  }
  // A synchronous throw is a failure of that key too, and the batcher keeps working.
  const sync = new GroupCommit<string>({
    flush: (k) => {
      if (k === "x") throw new IoError("sync throw");
      return Promise.resolve();
    },
  });
  await assert.rejects(sync.add("x"), IoError);
  await sync.add("y");
});

Deno.test("group_commit_rounds_hold_at_most_max_batch_keys", async () => {
  let widest = 0;
  let now = 0;
  const gc = new GroupCommit<number>({
    maxBatch: 4,
    flush: async () => {
      now++;
      widest = Math.max(widest, now);
      await new Promise((r) => setTimeout(r, 1));
      now--;
    },
  });
  await Promise.all(Array.from({ length: 30 }, (_, i) => gc.add(i)));
  assert.equal(widest, 4);
  assert.equal(gc.stats.keys, 30);
  assert.ok(gc.stats.rounds >= 8, `rounds ${gc.stats.rounds}`);
});
