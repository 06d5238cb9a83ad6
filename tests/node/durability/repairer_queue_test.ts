/**
 * The repair loop's queue: long repairs and slow checks do not hold back a file whose grace
 * period ended (problem 4 of `tests/sim/durability_sim_test.ts`), and no file is checked twice
 * at once. On a virtual clock: interval 60 s (a tick every 6 s), grace 120 s, `random` 0.5.
 */
import assert from "node:assert/strict";
import { ContentId } from "../../../src/id/content_id.ts";
import { type CheckedFile, Repairer } from "../../../src/node/durability/repairer.ts";
import { VirtualClock } from "../../sim/virtual_clock.ts";

const INTERVAL = 60_000;
const GRACE = 120_000;
const TICK = INTERVAL / 10;
const SELF = "01" + "00".repeat(31);

function file(salt: number): string {
  const digest = new Uint8Array(32);
  digest[1] = salt;
  return ContentId.fromDigest("sha-256", digest).toString();
}

function checked(live: number): CheckedFile {
  return {
    policy: { kind: "replicas", min: 3, max: 3 },
    health: live >= 3 ? "healthy" : "degraded",
    live,
    target: 3,
    survives: live - 1,
    holders: [{ nodeId: SELF }],
    unreachable: 0,
    answers: [{ nodeId: SELF, root: true, columns: [] }],
    silent: [],
    tombstones: [],
    below: live < 3,
    missingColumns: [],
    absentColumns: [],
    realColumns: [],
    above: false,
  };
}

Deno.test("long_repairs_and_slow_checks_do_not_delay_a_due_repair_past_its_bound", async () => {
  const clock = new VirtualClock();
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
  // Two files below target from the start whose repairs take 10 min each (a big copy under
  // the rate limit), ten at target whose checks each wait out a 10 s probe timeout, and F,
  // which loses a copy at LOSS.
  const long = [file(1), file(2)];
  const slow = Array.from({ length: 10 }, (_, i) => file(10 + i));
  const F = file(99);
  const LOSS = 100_000;
  const inFlight = new Set<string>();
  let twice = 0;
  const repairs: { id: string; at: number }[] = [];
  const repairer = new Repairer({
    selfId: SELF,
    files: () => [...long, ...slow, F],
    check: async (id) => {
      const text = id.toString();
      if (inFlight.has(text)) twice++;
      inFlight.add(text);
      try {
        if (slow.includes(text)) await sleep(10_000);
        if (long.includes(text)) return checked(2);
        return checked(text === F && clock.now() >= LOSS ? 2 : 3);
      } finally {
        inFlight.delete(text);
      }
    },
    onTombstones: () => Promise.resolve(false),
    repair: async (id) => {
      const text = id.toString();
      repairs.push({ id: text, at: clock.now() });
      if (long.includes(text)) await sleep(600_000);
      return { repaired: 1, bytes: 0 };
    },
    trim: () => Promise.resolve(0),
    intervalMs: INTERVAL,
    graceMs: GRACE,
    clock,
    random: () => 0.5,
  });
  repairer.start();
  await clock.run({ until: 400_000 });
  const f = repairs.filter((r) => r.id === F).map((r) => r.at);
  // F is seen below at its first check after LOSS (within 1.25 intervals, jitter included) and
  // repaired once its grace is over, at the next tick: nothing waits for the long repairs.
  assert.ok(f.length > 0, "F was repaired");
  assert.ok(f[0] <= LOSS + 1.25 * INTERVAL + GRACE + TICK, `F repaired at ${f[0]}`);
  assert.deepEqual(repairs.filter((r) => long.includes(r.id)).length, 2);
  assert.equal(twice, 0, "no file was checked twice at once");
  await clock.runUntil(repairer.stop()); // the long repairs end on the virtual clock
});

Deno.test("a_file_under_check_is_not_queued_again_by_later_ticks", async () => {
  const clock = new VirtualClock();
  const F = file(1);
  let checks = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const repairer = new Repairer({
    selfId: SELF,
    files: () => [F],
    check: async () => {
      checks++;
      await gate;
      return checked(3);
    },
    onTombstones: () => Promise.resolve(false),
    repair: () => Promise.resolve({ repaired: 0, bytes: 0 }),
    trim: () => Promise.resolve(0),
    intervalMs: 1000, // a tick every 100 ms, the check due again at every one of them
    graceMs: GRACE,
    clock,
    random: () => 0,
  });
  repairer.start();
  await clock.run({ until: 10_000 });
  assert.equal(checks, 1, "ticks go on while the check hangs, without a second one");
  release();
  await clock.run({ until: 12_000 });
  assert.ok(checks > 1, "checked again once the first check was over");
  await repairer.stop();
});
