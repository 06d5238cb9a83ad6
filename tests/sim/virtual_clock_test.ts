import assert from "node:assert/strict";
import { Rng } from "../util/prng.ts";
import { VirtualClock } from "./virtual_clock.ts";

Deno.test("virtual_clock_fires_by_time_then_insertion_order", async () => {
  const clock = new VirtualClock(1000);
  const log: string[] = [];
  const at = (name: string, ms: number) =>
    clock.setTimeout(() => log.push(`${name}@${clock.now()}`), ms);
  at("c", 20);
  at("a", 10);
  at("b", 10);
  at("z", -5); // negative delays count as 0
  at("d", 20);
  at("n", NaN);
  assert.equal(clock.now(), 1000, "nothing runs before run()");
  assert.equal(clock.pending, 6);
  const stats = await clock.run();
  assert.deepEqual(log, ["z@1000", "n@1000", "a@1010", "b@1010", "c@1020", "d@1020"]);
  assert.equal(clock.now(), 1020);
  assert.equal(clock.pending, 0);
  assert.equal(stats.events, 6);
  assert.equal(stats.virtualMs, 20);
  assert.equal(stats.macrotasks, 3, "one macrotask per distinct time");
});

Deno.test("virtual_clock_orders_many_random_timers", async () => {
  const clock = new VirtualClock();
  const rng = new Rng(7);
  const fired: [number, number][] = [];
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const ms = rng.int(5000);
    clock.setTimeout(() => fired.push([clock.now(), i]), ms);
  }
  const stats = await clock.run();
  assert.equal(stats.events, n);
  assert.equal(fired.length, n);
  for (let k = 1; k < n; k++) {
    const [t0, i0] = fired[k - 1];
    const [t1, i1] = fired[k];
    assert.ok(t0 < t1 || (t0 === t1 && i0 < i1), `out of order at ${k}`);
  }
});

Deno.test("virtual_clock_clear_timeout_cancels_and_counts_exactly", async () => {
  const clock = new VirtualClock();
  const log: number[] = [];
  const handles = [];
  for (let i = 0; i < 10_000; i++) handles.push(clock.setTimeout(() => log.push(i), 1 + i));
  assert.equal(clock.pending, 10_000);
  // Clear all but every 1000th: enough cancelled entries to trigger a compaction.
  for (let i = 0; i < handles.length; i++) if (i % 1000 !== 0) clock.clearTimeout(handles[i]);
  assert.equal(clock.pending, 10);
  clock.clearTimeout(handles[1]); // twice: ignored
  clock.clearTimeout(undefined);
  clock.clearTimeout(42);
  clock.clearTimeout(new VirtualClock().setTimeout(() => {}, 1)); // another clock's handle
  assert.equal(clock.pending, 10);
  const stats = await clock.run();
  assert.deepEqual(log, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
  assert.equal(stats.events, 10);
  assert.equal(clock.pending, 0);
  clock.clearTimeout(handles[0]); // already fired: ignored
  assert.equal(clock.pending, 0);

  // A timer cleared by an earlier callback of the same time step does not run.
  const order: string[] = [];
  clock.setTimeout(() => {
    order.push("first");
    clock.clearTimeout(later);
  }, 5);
  const later = clock.setTimeout(() => order.push("cleared"), 5);
  await clock.run();
  assert.deepEqual(order, ["first"]);
  assert.equal(clock.pending, 0);
});

Deno.test("virtual_clock_runs_continuations_before_the_next_time_step", async () => {
  const clock = new VirtualClock();
  let depth = 0;
  let seenAt6 = -1;
  clock.setTimeout(async () => {
    for (let i = 0; i < 100; i++) {
      await Promise.resolve();
      depth++;
    }
  }, 5);
  clock.setTimeout(() => (seenAt6 = depth), 6);
  await clock.run();
  assert.equal(seenAt6, 100, "the 100-await chain finished before t=6");
});

Deno.test("virtual_clock_zero_delay_timer_from_a_callback_runs_after_its_continuations", async () => {
  const clock = new VirtualClock();
  const log: string[] = [];
  clock.setTimeout(() => {
    clock.setTimeout(() => log.push(`zero@${clock.now()}`), 0);
    Promise.resolve().then(() => log.push("microtask"));
    log.push("callback");
  }, 3);
  const stats = await clock.run();
  assert.deepEqual(log, ["callback", "microtask", "zero@3"]);
  assert.equal(stats.macrotasks, 2, "same time, two steps");
});

Deno.test("virtual_clock_until_max_events_and_idle_stop_a_run", async () => {
  const clock = new VirtualClock();
  let ticks = 0;
  const tick = () => {
    ticks++;
    clock.setTimeout(tick, 100); // runs forever without a limit
  };
  clock.setTimeout(tick, 100);
  let stats = await clock.run({ until: 1050 });
  assert.equal(ticks, 10);
  assert.equal(clock.now(), 1050, "now moves to until");
  assert.equal(stats.virtualMs, 1050);
  stats = await clock.run({ maxEvents: 5 });
  assert.equal(stats.events, 5);
  assert.equal(ticks, 15);
  assert.equal(clock.now(), 1500);
  stats = await clock.run({ idle: () => ticks >= 20 });
  assert.equal(ticks, 20);
  assert.equal(stats.events, 5);
  assert.equal(clock.pending, 1);
});

Deno.test("virtual_clock_rethrows_a_callback_error_after_its_time_step", async () => {
  const clock = new VirtualClock();
  const log: string[] = [];
  clock.setTimeout(() => {
    throw new Error("boom");
  }, 1);
  clock.setTimeout(() => {
    log.push("same step");
    Promise.resolve().then(() => log.push("its continuation"));
  }, 1);
  clock.setTimeout(() => log.push("next step"), 2);
  await assert.rejects(clock.run(), /boom/);
  assert.deepEqual(log, ["same step", "its continuation"]);
  assert.equal(clock.now(), 1);
  await clock.run(); // the loop is usable again
  assert.deepEqual(log, ["same step", "its continuation", "next step"]);

  clock.setTimeout(() => {
    throw new Error("one");
  }, 1);
  clock.setTimeout(() => {
    throw new Error("two");
  }, 1);
  const err = await clock.run().catch((e) => e);
  assert.ok(err instanceof AggregateError);
  assert.deepEqual(err.errors.map((e: Error) => e.message), ["one", "two"]);
});

Deno.test("virtual_clock_run_until_returns_the_value_or_throws_the_error", async () => {
  const clock = new VirtualClock();
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
  const value = await clock.runUntil((async () => {
    await sleep(30);
    await sleep(20);
    return clock.now();
  })());
  assert.equal(value, 50);
  assert.equal(await clock.runUntil(Promise.resolve("ready")), "ready", "no event needed");
  await assert.rejects(
    clock.runUntil((async () => {
      await sleep(10);
      throw new RangeError("inner");
    })()),
    RangeError,
  );
  // Events after the promise settled stay pending.
  clock.setTimeout(() => {}, 1_000);
  assert.equal(await clock.runUntil(sleep(1)), undefined);
  assert.equal(clock.pending, 1);
});

Deno.test("virtual_clock_run_until_throws_instead_of_hanging", async () => {
  const clock = new VirtualClock();
  const never = new Promise<void>(() => {});
  await assert.rejects(clock.runUntil(never), /no timer left/);
  clock.setTimeout(() => {}, 10);
  clock.setTimeout(() => {}, 20);
  await assert.rejects(clock.runUntil(never), /no timer left/, "heap emptied by the run");

  const tick = () => clock.setTimeout(tick, 1);
  tick();
  await assert.rejects(clock.runUntil(never, { maxEvents: 100 }), /maxEvents=100/);
  await assert.rejects(clock.runUntil(never, { until: clock.now() + 50 }), /until=/);
  await assert.rejects(clock.runUntil(never, { idle: () => true }), /idle/);
});

Deno.test("virtual_clock_a_ten_second_timeout_costs_no_wall_time", async () => {
  const clock = new VirtualClock();
  const started = performance.now();
  const timedOut = new Promise<string>((resolve) =>
    clock.setTimeout(() => resolve("timeout"), 10_000)
  );
  assert.equal(await clock.runUntil(timedOut), "timeout");
  const wall = performance.now() - started;
  assert.equal(clock.now(), 10_000);
  assert.ok(wall < 1000, `took ${wall} ms of wall time`);
});

Deno.test("virtual_clock_refuses_concurrent_runs", async () => {
  const clock = new VirtualClock();
  clock.setTimeout(() => {}, 5);
  const first = clock.run();
  await assert.rejects(clock.run(), /already running/);
  await first;
});
