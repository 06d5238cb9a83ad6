import assert from "node:assert/strict";
import { KeyedMutex } from "../../src/util/keyed_mutex.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("keyed_mutex_runs_one_call_per_key_at_a_time_in_order", async () => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  let inside = 0;
  let most = 0;
  const call = (key: string, name: string, ms: number) =>
    mutex.run(key, async () => {
      inside++;
      most = Math.max(most, inside);
      log.push(`${name}+`);
      await tick(ms);
      log.push(`${name}-`);
      inside--;
    });
  await Promise.all([call("a", "a1", 10), call("a", "a2", 1), call("a", "a3", 1)]);
  assert.deepEqual(log, ["a1+", "a1-", "a2+", "a2-", "a3+", "a3-"]);
  assert.equal(most, 1);
  assert.equal(mutex.size, 0, "nothing kept once idle");
});

Deno.test("keyed_mutex_runs_other_keys_concurrently_and_survives_a_throw", async () => {
  const mutex = new KeyedMutex();
  let bothInside = false;
  let inA = false;
  await Promise.all([
    mutex.run("a", async () => {
      inA = true;
      await tick(10);
      inA = false;
    }),
    mutex.run("b", async () => {
      await tick(2);
      bothInside = inA;
    }),
  ]);
  assert.ok(bothInside, "b ran while a held its lock");
  await assert.rejects(mutex.run("a", () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await mutex.run("a", () => Promise.resolve(7)), 7, "the lock was released");
  assert.equal(mutex.size, 0);
});
