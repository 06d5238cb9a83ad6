import assert from "node:assert/strict";
import { AnnounceQueue } from "../../src/dht/announce_queue.ts";
import { deferred } from "./helpers.ts";

Deno.test("announce_queue_runs_each_waiting_key_once_and_at_most_its_concurrency_at_a_time", async () => {
  const gates = new Map<number, ReturnType<typeof deferred<void>>>();
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const q = new AnnounceQueue(async (key) => {
    started.push(key[0]);
    running++;
    most = Math.max(most, running);
    const gate = deferred<void>();
    gates.set(key[0], gate);
    await gate.promise;
    running--;
  }, 2);
  for (const k of [1, 2, 3, 2, 4, 1]) q.add(String(k), new Uint8Array([k]));
  assert.deepEqual(started, [], "paused until resumed");
  q.delete("4");
  q.resume();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [1, 2]);
  gates.get(1)!.resolve();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [1, 2, 3]);
  q.pause();
  q.add("5", new Uint8Array([5]));
  gates.get(2)!.resolve();
  gates.get(3)!.resolve();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [1, 2, 3], "paused: nothing new starts");
  assert.equal(q.size, 1);
  q.resume();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [1, 2, 3, 5]);
  gates.get(5)!.resolve();
  assert.equal(most, 2);
});

Deno.test("announce_queue_goes_on_after_a_failed_run", async () => {
  const ran: number[] = [];
  const q = new AnnounceQueue((key) => {
    ran.push(key[0]);
    return key[0] === 1 ? Promise.reject(new Error("no peers")) : Promise.resolve();
  }, 1);
  q.resume();
  q.add("1", new Uint8Array([1]));
  q.add("2", new Uint8Array([2]));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(ran, [1, 2]);
});
