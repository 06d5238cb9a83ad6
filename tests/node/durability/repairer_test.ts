/**
 * `Repairer`: when a file is checked, when it is repaired or trimmed, and by whom, on a virtual
 * clock with fake callbacks.
 *
 * Unless a test says otherwise: interval 10 s (so the loop ticks every 1 s), grace 25 s, and
 * `random` always 0.5, so a new file seen at the first tick (t = 1000) is first checked at
 * 1000 + 0.5 * 10000 = 6000 and then every 10 s exactly.
 */
import assert from "node:assert/strict";
import { ContentId } from "../../../src/id/content_id.ts";
import { TimeoutError } from "../../../src/errors.ts";
import type { WireTombstone } from "../../../src/wire/messages.ts";
import {
  type CheckedFile,
  Repairer,
  type RepairerOptions,
} from "../../../src/node/durability/repairer.ts";
import type { HolderState } from "../../../src/node/durability/file_check.ts";
import { VirtualClock } from "../../sim/virtual_clock.ts";
import { Rng, testSeed, withSeed } from "../../util/prng.ts";

const INTERVAL = 10_000;
const GRACE = 25_000;

/** A 32-byte node id whose first byte is `first` (the rest zero), as hex. */
function node(first: number): string {
  return first.toString(16).padStart(2, "0") + "00".repeat(31);
}

/** A SHA-256 file id whose digest starts with `first`, then `salt`, the rest zero. */
function file(first: number, salt = 0): string {
  const digest = new Uint8Array(32);
  digest[0] = first;
  digest[1] = salt;
  return ContentId.fromDigest("sha-256", digest).toString();
}

// With file digest 00..: A is closest, then B, then C.
const A = node(0x01);
const B = node(0x02);
const C = node(0x03);

/** What the fake network says about one file. */
interface World {
  live: number;
  target: number;
  above?: boolean;
  /** Nodes that answer and hold the root. */
  holders: string[];
  /** Nodes that answer without the root. */
  others?: string[];
  tombstones?: WireTombstone[];
  /** When set, the check throws this. */
  fail?: Error;
}

interface Event {
  readonly kind: "check" | "tombstones" | "repair" | "trim";
  readonly id: string;
  readonly at: number;
}

function checked(w: World): CheckedFile {
  const answers: HolderState[] = [
    ...w.holders.map((nodeId) => ({ nodeId, root: true, columns: [] })),
    ...(w.others ?? []).map((nodeId) => ({ nodeId, root: false, columns: [] })),
  ];
  return {
    policy: { kind: "replicas", min: w.target, max: w.target },
    health: w.live >= w.target ? "healthy" : w.live > 1 ? "degraded" : w.live ? "at risk" : "lost",
    live: w.live,
    target: w.target,
    survives: w.live - 1,
    below: w.live < w.target,
    absentColumns: [],
    holders: w.holders.map((nodeId) => ({ nodeId })),
    unreachable: 0,
    answers,
    silent: [],
    tombstones: w.tombstones ?? [],
    missingColumns: [],
    realColumns: [],
    above: w.above ?? false,
  };
}

function tomb(deletedAt: number): WireTombstone {
  return {
    fileId: new Uint8Array(34),
    issuer: new Uint8Array(32),
    deletedAt,
    expiresAt: deletedAt + 1,
    signature: new Uint8Array(64),
  };
}

interface Harness {
  readonly clock: VirtualClock;
  readonly repairer: Repairer;
  readonly world: Map<string, World>;
  /** Ids `files()` lists. */
  readonly held: Set<string>;
  readonly events: Event[];
  readonly logs: { level: string; message: string; fields?: Record<string, unknown> }[];
  /** Events of one kind (and file), as times. */
  times(kind: Event["kind"], id?: string): number[];
}

function harness(
  selfId: string,
  world: Record<string, World>,
  over: Partial<RepairerOptions> & { clock?: VirtualClock } = {},
): Harness {
  const clock = over.clock ?? new VirtualClock();
  const map = new Map(Object.entries(world));
  const held = new Set(map.keys());
  const events: Event[] = [];
  const logs: Harness["logs"] = [];
  const repairer = new Repairer({
    selfId,
    files: () => held,
    check: (id) => {
      const text = id.toString();
      events.push({ kind: "check", id: text, at: clock.now() });
      const w = map.get(text);
      if (!w) return Promise.resolve(undefined);
      if (w.fail) return Promise.reject(w.fail);
      return Promise.resolve(checked(w));
    },
    onTombstones: (id) => {
      events.push({ kind: "tombstones", id: id.toString(), at: clock.now() });
      return Promise.resolve(false);
    },
    repair: (id, check) => {
      events.push({ kind: "repair", id: id.toString(), at: clock.now() });
      const w = map.get(id.toString())!;
      const made = check.target - check.live;
      w.live = w.target;
      return Promise.resolve({ repaired: made, bytes: made * 4096 });
    },
    trim: (id, check) => {
      events.push({ kind: "trim", id: id.toString(), at: clock.now() });
      const w = map.get(id.toString())!;
      w.above = false;
      const removed = check.live - check.target;
      w.live = w.target;
      return Promise.resolve(removed);
    },
    intervalMs: INTERVAL,
    graceMs: GRACE,
    random: () => 0.5,
    log: (level, message, fields) => logs.push({ level, message, fields }),
    ...over,
    clock,
  });
  return {
    clock,
    repairer,
    world: map,
    held,
    events,
    logs,
    times: (kind, id) =>
      events.filter((e) => e.kind === kind && (id === undefined || e.id === id)).map((e) => e.at),
  };
}

const F = file(0x00);

/** Lets promise continuations and real zero-delay timers run. */
const macrotask = () => new Promise((r) => setTimeout(r, 0));

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => (resolve = res, reject = rej));
  return { promise, resolve, reject };
}

Deno.test("repairer_not_repaired_before_grace_and_right_after_it", async () => {
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A, B] } });
  h.repairer.start();
  await h.clock.run({ until: 30_999 });
  assert.deepEqual(h.times("check"), [6000, 16_000, 26_000]);
  assert.deepEqual(h.times("repair"), []);
  assert.deepEqual(h.repairer.stats(), {
    checks: 3,
    queue: 1,
    active: 0,
    repaired: 0,
    trimmed: 0,
    bytes: 0,
    failed: 0,
  });
  // Below since 6000: the grace ends at 31000, and the check at 26000 moved the next check
  // there (not to 36000, a whole interval later).
  await h.clock.run({ until: 31_000 });
  assert.deepEqual(h.times("repair"), [31_000]);
  assert.deepEqual(h.times("check"), [6000, 16_000, 26_000, 31_000]);
  assert.deepEqual(h.repairer.stats(), {
    checks: 4,
    queue: 1,
    active: 0,
    repaired: 1,
    trimmed: 0,
    bytes: 4096,
    failed: 0,
  });
  assert.deepEqual(h.logs, [{
    level: "info",
    message: "repaired",
    fields: { id: F, repaired: 1, bytes: 4096 },
  }]);
  // The next check confirms the repair: the file leaves the queue, nothing more is done.
  await h.clock.run({ until: 100_000 });
  assert.deepEqual(h.times("repair"), [31_000]);
  assert.deepEqual(h.times("check"), [
    6000,
    16_000,
    26_000,
    31_000,
    41_000,
    51_000,
    61_000,
    71_000,
    81_000,
    91_000,
  ]);
  assert.equal(h.repairer.stats().queue, 0);
  await h.repairer.stop();
  assert.equal(h.clock.pending, 0);
});

Deno.test("repairer_short_grace_repairs_before_the_next_interval", async () => {
  const h = harness(A, { [F]: { live: 1, target: 3, holders: [A] } }, { graceMs: 3000 });
  h.repairer.start();
  await h.clock.run({ until: 20_000 });
  // Below at 6000, grace ends 9000 < next check 16000: the file is looked at again at 9000.
  assert.deepEqual(h.times("repair"), [9000]);
  assert.deepEqual(h.times("check"), [6000, 9000, 19_000]);
  assert.equal(h.repairer.stats().repaired, 2);
  assert.equal(h.repairer.stats().bytes, 8192);
  await h.repairer.stop();
});

Deno.test("repairer_default_like_timing_looks_again_a_minute_after_a_repair", async () => {
  // Interval 10 min (ticks every 30 s), grace 15 min.
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A] } }, {
    intervalMs: 600_000,
    graceMs: 900_000,
  });
  // The repair does not take: the file stays below target.
  let repairs = 0;
  const h2 = harness(A, { [F]: { live: 2, target: 3, holders: [A] } }, {
    intervalMs: 600_000,
    graceMs: 900_000,
    repair: () => {
      repairs++;
      return Promise.resolve({ repaired: 0, bytes: 0 });
    },
  });
  for (const x of [h, h2]) x.repairer.start();
  await h.clock.run({ until: 2_000_000 });
  await h2.clock.run({ until: 2_000_000 });
  // First tick 30000, first check 30000 + 300000; grace ends 1230000; a confirming look one
  // minute after the repair; then every interval.
  assert.deepEqual(h.times("check"), [330_000, 930_000, 1_230_000, 1_290_000, 1_890_000]);
  assert.deepEqual(h.times("repair"), [1_230_000]);
  // A repair that made nothing is retried a minute later, every minute, while below.
  assert.deepEqual(h2.times("check").slice(0, 6), [
    330_000,
    930_000,
    1_230_000,
    1_290_000,
    1_350_000,
    1_410_000,
  ]);
  assert.equal(repairs, h2.times("check").length - 2);
  // Nothing logged for repairs that re-created nothing.
  assert.deepEqual(h2.logs, []);
  await h.repairer.stop();
  await h2.repairer.stop();
});

Deno.test("repairer_only_the_leader_repairs", async () => {
  const clock = new VirtualClock();
  const world = () => ({ [F]: { live: 2, target: 3, holders: [A, B, C] } });
  const ha = harness(A, world(), { clock });
  const hb = harness(B, world(), { clock });
  const hc = harness(C, world(), { clock });
  for (const h of [ha, hb, hc]) h.repairer.start();
  await clock.run({ until: 200_000 });
  assert.deepEqual(ha.times("repair"), [31_000]);
  // B and C see the same file below target for 200 s, long past the grace, and never act.
  assert.deepEqual(hb.times("repair"), []);
  assert.deepEqual(hc.times("repair"), []);
  assert.equal(hb.times("check").length, 20);
  assert.equal(hb.repairer.stats().queue, 1);
  for (const h of [ha, hb, hc]) await h.repairer.stop();
  assert.equal(clock.pending, 0);
});

Deno.test("repairer_leader_is_by_file_id_distance", async () => {
  // For a file whose digest starts with 03, C (03..) is closest, then B (02: distance 01..),
  // then A (01: distance 02..).
  const G = file(0x03);
  const clock = new VirtualClock();
  const world = () => ({
    [F]: { live: 2, target: 3, holders: [A, B, C] },
    [G]: { live: 2, target: 3, holders: [A, B, C] },
  });
  const ha = harness(A, world(), { clock });
  const hb = harness(B, world(), { clock });
  const hc = harness(C, world(), { clock });
  for (const h of [ha, hb, hc]) h.repairer.start();
  await clock.run({ until: 100_000 });
  assert.deepEqual(ha.times("repair", F), [31_000]);
  assert.deepEqual(ha.times("repair", G), []);
  assert.deepEqual(hb.times("repair"), []);
  assert.deepEqual(hc.times("repair", G), [31_000]);
  assert.deepEqual(hc.times("repair", F), []);
  for (const h of [ha, hb, hc]) await h.repairer.stop();
});

Deno.test("repairer_closer_node_without_root_does_not_lead", async () => {
  // A is closer but answers without the root: B, the closest live holder, repairs.
  const h = harness(B, { [F]: { live: 1, target: 3, holders: [B, C], others: [A] } });
  h.repairer.start();
  await h.clock.run({ until: 40_000 });
  assert.deepEqual(h.times("repair"), [31_000]);
  await h.repairer.stop();
});

Deno.test("repairer_leads_without_holding_the_root_when_closest", async () => {
  // The local node lost its copy but is still the closest to the file: it acts.
  const h = harness(A, { [F]: { live: 1, target: 3, holders: [C], others: [A] } });
  h.repairer.start();
  await h.clock.run({ until: 40_000 });
  assert.deepEqual(h.times("repair"), [31_000]);
  await h.repairer.stop();
});

Deno.test("repairer_non_leader_takes_over_when_the_leader_stops_answering", async () => {
  const h = harness(B, { [F]: { live: 2, target: 3, holders: [A, B] } });
  h.repairer.start();
  await h.clock.run({ until: 45_000 });
  assert.deepEqual(h.times("check"), [6000, 16_000, 26_000, 31_000, 41_000]);
  assert.deepEqual(h.times("repair"), []);
  // A goes silent: it no longer answers the probes.
  h.world.get(F)!.holders = [B];
  await h.clock.run({ until: 100_000 });
  // B has seen the file below since 6000: it repairs at its very next check.
  assert.deepEqual(h.times("repair"), [51_000]);
  await h.repairer.stop();
});

Deno.test("repairer_file_recovering_during_grace_is_not_repaired", async () => {
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A] } });
  h.repairer.start();
  await h.clock.run({ until: 20_000 });
  assert.equal(h.repairer.stats().queue, 1);
  // The missing holder comes back (say a restart) before the grace ends.
  h.world.get(F)!.live = 3;
  await h.clock.run({ until: 100_000 });
  assert.deepEqual(h.times("repair"), []);
  assert.equal(h.repairer.stats().queue, 0);
  // It drops again later: the grace starts over from the new drop (seen at 106000).
  h.world.get(F)!.live = 2;
  await h.clock.run({ until: 130_999 });
  assert.deepEqual(h.times("repair"), []);
  await h.clock.run({ until: 140_000 });
  assert.deepEqual(h.times("repair"), [131_000]);
  await h.repairer.stop();
});

Deno.test("repairer_trims_above_max_after_grace_by_the_leader_only", async () => {
  const clock = new VirtualClock();
  const world = () => ({ [F]: { live: 5, target: 3, above: true, holders: [A, B, C] } });
  const ha = harness(A, world(), { clock });
  const hb = harness(B, world(), { clock });
  for (const h of [ha, hb]) h.repairer.start();
  await clock.run({ until: 30_999 });
  assert.deepEqual(ha.times("trim"), []);
  // Above is not below: the queue stays empty.
  assert.equal(ha.repairer.stats().queue, 0);
  await clock.run({ until: 200_000 });
  assert.deepEqual(ha.times("trim"), [31_000]);
  assert.deepEqual(ha.times("repair"), []);
  assert.deepEqual(hb.times("trim"), []);
  assert.deepEqual(ha.repairer.stats(), {
    checks: 20,
    queue: 0,
    active: 0,
    repaired: 0,
    trimmed: 2,
    bytes: 0,
    failed: 0,
  });
  assert.equal(hb.repairer.stats().trimmed, 0);
  for (const h of [ha, hb]) await h.repairer.stop();
});

Deno.test("repairer_trim_waits_for_a_new_grace_each_time", async () => {
  // A trim that leaves the file above (another node came back meanwhile) is retried only after
  // another full grace.
  const h = harness(A, { [F]: { live: 4, target: 3, above: true, holders: [A] } }, {
    trim: (id) => {
      h.events.push({ kind: "trim", id: id.toString(), at: h.clock.now() });
      return Promise.resolve(1);
    },
  });
  h.repairer.start();
  await h.clock.run({ until: 100_000 });
  // Above since 6000: trim at 31000; above again since 41000: trim at 66000 (grace ends,
  // after the check at 61000 moved the next one there); again since 76000: trim at 101000.
  assert.deepEqual(h.times("trim"), [31_000, 66_000]);
  assert.equal(h.repairer.stats().trimmed, 2);
  await h.repairer.stop();
});

Deno.test("repairer_tombstones_go_first_and_true_stops_checks", async () => {
  const h = harness(A, { [F]: { live: 1, target: 3, holders: [A] } }, {
    onTombstones: (id) => {
      h.events.push({ kind: "tombstones", id: id.toString(), at: h.clock.now() });
      // The file is deleted here: it leaves the list of held files.
      h.held.delete(id.toString());
      return Promise.resolve(true);
    },
  });
  h.repairer.start();
  await h.clock.run({ until: 28_000 });
  assert.equal(h.repairer.stats().queue, 1);
  // A delete happened: the check at 31000, when the grace is over, finds a tombstone.
  h.world.get(F)!.tombstones = [tomb(27_000)];
  await h.clock.run({ until: 31_000 });
  assert.deepEqual(h.times("tombstones"), [31_000]);
  assert.deepEqual(h.times("repair"), []);
  // Forgotten at once, not at the next tick.
  assert.equal(h.repairer.stats().queue, 0);
  await h.clock.run({ until: 200_000 });
  assert.deepEqual(h.times("check"), [6000, 16_000, 26_000, 31_000]);
  assert.deepEqual(h.times("repair"), []);
  assert.equal(h.repairer.stats().checks, 4);
  await h.repairer.stop();
});

Deno.test("repairer_tombstones_answered_false_then_check_goes_on", async () => {
  const seen: CheckedFile[] = [];
  const h = harness(A, {
    [F]: { live: 1, target: 3, holders: [A], tombstones: [tomb(5), tomb(7)] },
  }, {
    onTombstones: (id, check) => {
      h.events.push({ kind: "tombstones", id: id.toString(), at: h.clock.now() });
      seen.push(check);
      return Promise.resolve(false);
    },
  });
  h.repairer.start();
  await h.clock.run({ until: 31_000 });
  // onTombstones runs on every check that carries tombstones, before the repair.
  assert.deepEqual(h.times("tombstones"), [6000, 16_000, 26_000, 31_000]);
  assert.deepEqual(
    h.events.filter((e) => e.at === 31_000).map((e) => e.kind),
    ["check", "tombstones", "repair"],
  );
  assert.deepEqual(seen[0].tombstones.map((t) => t.deletedAt), [5, 7]);
  assert.equal(seen[0].live, 1);
  await h.repairer.stop();
});

Deno.test("repairer_no_tombstones_no_callback", async () => {
  const h = harness(A, { [F]: { live: 3, target: 3, holders: [A], tombstones: [] } });
  h.repairer.start();
  await h.clock.run({ until: 50_000 });
  assert.equal(h.times("check").length, 5);
  assert.deepEqual(h.times("tombstones"), []);
  await h.repairer.stop();
});

Deno.test("repairer_forgets_files_that_leave_the_list", async () => {
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A] } });
  h.repairer.start();
  await h.clock.run({ until: 20_000 });
  assert.equal(h.repairer.stats().queue, 1);
  h.held.delete(F);
  await h.clock.run({ until: 21_000 });
  assert.equal(h.repairer.stats().queue, 0);
  await h.clock.run({ until: 50_000 });
  assert.deepEqual(h.times("check"), [6000, 16_000]);
  // Back again: a new file, whose grace starts at its first check (56000), not at 6000.
  h.held.add(F);
  await h.clock.run({ until: 80_999 });
  assert.deepEqual(h.times("check"), [6000, 16_000, 56_000, 66_000, 76_000]);
  assert.deepEqual(h.times("repair"), []);
  await h.clock.run({ until: 81_000 });
  assert.deepEqual(h.times("repair"), [81_000]);
  await h.repairer.stop();
});

Deno.test("repairer_check_resolving_undefined_forgets_the_file", async () => {
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A] } });
  h.repairer.start();
  await h.clock.run({ until: 20_000 });
  assert.equal(h.repairer.stats().queue, 1);
  // No longer held here (the check says so) although still listed for a moment.
  h.world.delete(F);
  await h.clock.run({ until: 26_000 });
  assert.equal(h.repairer.stats().queue, 0);
  assert.equal(h.repairer.stats().checks, 3);
  // Still listed: seen as new, so checked again within one interval from the next tick.
  await h.clock.run({ until: 40_000 });
  assert.deepEqual(h.times("check"), [6000, 16_000, 26_000, 32_000, 38_000]);
  await h.repairer.stop();
});

Deno.test("repairer_check_errors_are_logged_and_the_loop_goes_on", async () => {
  const G = file(0x00, 1);
  const h = harness(A, {
    [F]: { live: 2, target: 3, holders: [A], fail: new TimeoutError("probe timed out") },
    [G]: { live: 2, target: 3, holders: [A] },
  });
  h.repairer.start();
  await h.clock.run({ until: 20_000 });
  assert.deepEqual(h.times("check", F), [6000, 16_000]);
  assert.deepEqual(h.logs.filter((l) => l.level === "warn"), [
    {
      level: "warn",
      message: "repair check failed",
      fields: { id: F, error: "TimeoutError: probe timed out" },
    },
    {
      level: "warn",
      message: "repair check failed",
      fields: { id: F, error: "TimeoutError: probe timed out" },
    },
  ]);
  // A failed check is no information: F is not queued. G, checked alongside, is.
  assert.equal(h.repairer.stats().queue, 1);
  delete h.world.get(F)!.fail;
  await h.clock.run({ until: 60_000 });
  // G on its own schedule; F's grace counts from its first successful check, 26000.
  assert.deepEqual(h.times("repair", G), [31_000]);
  assert.deepEqual(h.times("repair", F), [51_000]);
  assert.deepEqual(h.times("check", F).slice(0, 4), [6000, 16_000, 26_000, 36_000]);
  await h.repairer.stop();
});

Deno.test("repairer_repair_failures_are_counted_and_retried", async () => {
  let attempts = 0;
  const h = harness(A, { [F]: { live: 1, target: 3, holders: [A] } }, {
    repair: (id) => {
      h.events.push({ kind: "repair", id: id.toString(), at: h.clock.now() });
      if (++attempts === 1) return Promise.reject(new Error("no node took the copy"));
      h.world.get(F)!.live = 3;
      return Promise.resolve({ repaired: 2, bytes: 10_000 });
    },
  });
  h.repairer.start();
  await h.clock.run({ until: 31_000 });
  assert.deepEqual(h.times("repair"), [31_000]);
  assert.deepEqual(h.repairer.stats(), {
    checks: 4,
    queue: 1,
    active: 0,
    repaired: 0,
    trimmed: 0,
    bytes: 0,
    failed: 1,
  });
  assert.deepEqual(h.logs, [{
    level: "warn",
    message: "repair failed",
    fields: { id: F, error: "Error: no node took the copy" },
  }]);
  // Retried at the next check, still past the grace.
  await h.clock.run({ until: 60_000 });
  assert.deepEqual(h.times("repair"), [31_000, 41_000]);
  assert.deepEqual(h.repairer.stats(), {
    checks: 6,
    queue: 0,
    active: 0,
    repaired: 2,
    trimmed: 0,
    bytes: 10_000,
    failed: 1,
  });
  await h.repairer.stop();
});

Deno.test("repairer_trim_failure_is_counted", async () => {
  const h = harness(A, { [F]: { live: 4, target: 3, above: true, holders: [A] } }, {
    trim: () => Promise.reject(new Error("delete refused")),
  });
  h.repairer.start();
  await h.clock.run({ until: 31_000 });
  assert.equal(h.repairer.stats().failed, 1);
  assert.equal(h.repairer.stats().trimmed, 0);
  assert.equal(h.logs[0].message, "repair failed");
  await h.repairer.stop();
});

Deno.test("repairer_stats_active_during_a_repair", async () => {
  const gate = deferred<{ repaired: number; bytes: number }>();
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A] } }, {
    repair: () => gate.promise,
  });
  h.repairer.start();
  // The tick at 31000 starts the repair; ticks go on meanwhile, the file is not checked again.
  await h.clock.run({ until: 40_000 });
  assert.equal(h.clock.now(), 40_000);
  assert.equal(h.clock.pending, 1);
  assert.deepEqual(h.repairer.stats(), {
    checks: 4,
    queue: 1,
    active: 1,
    repaired: 0,
    trimmed: 0,
    bytes: 0,
    failed: 0,
  });
  gate.resolve({ repaired: 1, bytes: 77 });
  await macrotask();
  assert.equal(h.repairer.stats().active, 0);
  assert.equal(h.repairer.stats().repaired, 1);
  assert.equal(h.repairer.stats().bytes, 77);
  assert.equal(h.clock.pending, 1);
  await h.repairer.stop();
});

Deno.test("repairer_checks_eight_files_at_a_time_by_default", async () => {
  const ids = Array.from({ length: 10 }, (_, i) => file(0x00, i + 1));
  let inFlight = 0;
  let most = 0;
  const gates: ReturnType<typeof deferred<void>>[] = [];
  const world: Record<string, World> = {};
  for (const id of ids) world[id] = { live: 3, target: 3, holders: [A] };
  const h = harness(A, world, {
    random: () => 0, // every file due at the first tick
    check: async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      const g = deferred<void>();
      gates.push(g);
      await g.promise;
      inFlight--;
      return checked({ live: 3, target: 3, holders: [A] });
    },
  });
  h.repairer.start();
  await h.clock.run({ until: 1000 });
  assert.equal(inFlight, 8);
  for (let i = 0; i < 10; i++) {
    gates[i].resolve();
    await macrotask();
  }
  assert.equal(most, 8);
  assert.equal(gates.length, 10);
  assert.equal(h.repairer.stats().checks, 10);
  await h.repairer.stop();

  // With concurrency 3, three at once.
  inFlight = 0;
  most = 0;
  gates.length = 0;
  const h3 = harness(A, world, {
    random: () => 0,
    concurrency: 3,
    check: async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      const g = deferred<void>();
      gates.push(g);
      await g.promise;
      inFlight--;
      return checked({ live: 3, target: 3, holders: [A] });
    },
  });
  h3.repairer.start();
  await h3.clock.run({ until: 1000 });
  assert.equal(inFlight, 3);
  for (let i = 0; i < 10; i++) {
    gates[i].resolve();
    await macrotask();
  }
  assert.equal(most, 3);
  await h3.repairer.stop();
});

Deno.test("repairer_tick_is_a_tenth_of_the_interval_within_bounds", async () => {
  for (
    const [interval, tick] of [[10_000, 1000], [500, 100], [2_000_000, 30_000], [50_000, 5000]]
  ) {
    const h = harness(A, {}, { intervalMs: interval });
    h.repairer.start();
    assert.equal(h.clock.pending, 1);
    await h.clock.run({ until: tick - 1 });
    assert.equal(h.clock.now(), tick - 1);
    await h.clock.run({ maxEvents: 1 });
    assert.equal(h.clock.now(), tick, `interval ${interval}`);
    await h.clock.run({ maxEvents: 1 });
    assert.equal(h.clock.now(), 2 * tick);
    await h.repairer.stop();
  }
});

Deno.test("repairer_jitter_keeps_checks_within_three_quarters_and_five_quarters", async () => {
  const seed = testSeed(0x7e9a);
  await withSeed(seed, async () => {
    const rng = new Rng(seed);
    const ids = Array.from({ length: 20 }, (_, i) => file(0x00, i));
    const world: Record<string, World> = {};
    for (const id of ids) world[id] = { live: 3, target: 3, holders: [A] };
    const h = harness(A, world, { random: () => rng.next() });
    h.repairer.start();
    await h.clock.run({ until: 1_000_000 });
    const tick = INTERVAL / 10;
    const gaps: number[] = [];
    for (const id of ids) {
      const times = h.times("check", id);
      // First check within one interval of the first tick.
      assert.ok(times[0] >= tick && times[0] <= tick + INTERVAL, `first check at ${times[0]}`);
      for (let i = 1; i < times.length; i++) gaps.push(times[i] - times[i - 1]);
    }
    for (const g of gaps) {
      assert.ok(g >= 0.75 * INTERVAL && g <= 1.25 * INTERVAL + tick, `gap ${g}`);
    }
    // Spread, not a fixed period.
    assert.ok(Math.min(...gaps) <= 0.9 * INTERVAL, `min gap ${Math.min(...gaps)}`);
    assert.ok(Math.max(...gaps) >= 1.2 * INTERVAL, `max gap ${Math.max(...gaps)}`);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(mean > 0.95 * INTERVAL && mean < 1.1 * INTERVAL, `mean gap ${mean}`);
    await h.repairer.stop();
  });
});

Deno.test("repairer_jitter_extremes", async () => {
  // random 0: every 7500 ms, rounded up to the 1 s tick.
  const low = harness(A, { [F]: { live: 3, target: 3, holders: [A] } }, { random: () => 0 });
  low.repairer.start();
  await low.clock.run({ until: 40_000 });
  assert.deepEqual(low.times("check"), [1000, 9000, 17_000, 25_000, 33_000]);
  await low.repairer.stop();
  // random just below 1: every 12500 ms, rounded up.
  const high = harness(A, { [F]: { live: 3, target: 3, holders: [A] } }, {
    random: () => 0.999999,
  });
  high.repairer.start();
  await high.clock.run({ until: 50_000 });
  assert.deepEqual(high.times("check"), [11_000, 24_000, 37_000, 50_000]);
  await high.repairer.stop();
});

Deno.test("repairer_stop_waits_for_the_check_in_flight_and_leaves_no_timer", async () => {
  const gate = deferred<void>();
  let signal: AbortSignal | undefined;
  const h = harness(A, { [F]: { live: 3, target: 3, holders: [A] } }, {
    random: () => 0,
    check: async (_id, s) => {
      signal = s;
      await gate.promise;
      return checked({ live: 3, target: 3, holders: [A] });
    },
  });
  h.repairer.start();
  await h.clock.run({ until: 5000 });
  assert.ok(signal, "the check started");
  assert.equal(signal.aborted, false);
  let stopped = false;
  const stopping = h.repairer.stop().then(() => (stopped = true));
  await macrotask();
  assert.equal(stopped, false, "stop() resolved with a check in flight");
  assert.equal(signal.aborted, true, "stop() aborts the check's signal");
  gate.resolve();
  await stopping;
  assert.equal(stopped, true);
  assert.equal(h.clock.pending, 0);
  // Nothing runs any more.
  await h.clock.run({ until: 100_000 });
  assert.equal(h.repairer.stats().checks, 1);
});

Deno.test("repairer_stop_when_idle_clears_the_timer", async () => {
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A] } });
  h.repairer.start();
  h.repairer.start(); // twice: one loop
  assert.equal(h.clock.pending, 1);
  await h.clock.run({ until: 16_500 });
  assert.deepEqual(h.times("check"), [6000, 16_000]);
  await h.repairer.stop();
  assert.equal(h.clock.pending, 0);
  await h.clock.run({ until: 100_000 });
  assert.deepEqual(h.times("check"), [6000, 16_000]);
  await h.repairer.stop(); // twice: fine
});

Deno.test("repairer_restart_after_stop_checks_again_or_refuses", async () => {
  const h = harness(A, { [F]: { live: 3, target: 3, holders: [A] } });
  h.repairer.start();
  await h.clock.run({ until: 10_000 });
  await h.repairer.stop();
  assert.deepEqual(h.times("check"), [6000]);
  assert.equal(h.clock.pending, 0);
  // Either start() refuses a stopped loop, or the loop really runs again. A loop that ticks
  // forever without checking anything is neither.
  try {
    h.repairer.start();
  } catch {
    assert.equal(h.clock.pending, 0);
    return;
  }
  await h.clock.run({ until: 50_000 });
  assert.ok(h.times("check").length > 1, "restarted loop never checks a file");
  await h.repairer.stop();
});

Deno.test("repairer_check_all_checks_every_file_now", async () => {
  const ids = [1, 2, 3].map((i) => file(0x00, i));
  const world: Record<string, World> = {};
  for (const id of ids) world[id] = { live: 2, target: 3, holders: [A] };
  const h = harness(A, world);
  // Not started: checkAll works on demand, due or not.
  assert.equal(await h.repairer.checkAll(), 3);
  assert.deepEqual(h.events.map((e) => e.kind), ["check", "check", "check"]);
  assert.deepEqual(new Set(h.events.map((e) => e.id)), new Set(ids));
  assert.equal(h.repairer.stats().checks, 3);
  assert.equal(h.repairer.stats().queue, 3);
  assert.equal(h.clock.pending, 0);
});

Deno.test("repairer_a_bad_id_in_the_list_does_not_stop_the_loop", async () => {
  // files() comes from the local index; one unparsable entry must not break the loop (nor
  // surface as an unhandled rejection).
  const h = harness(A, { [F]: { live: 2, target: 3, holders: [A] } }, { random: () => 0 });
  h.held.add("not-a-content-id");
  h.repairer.start();
  await h.clock.run({ until: 60_000 });
  assert.ok(h.times("check", F).length >= 5, `checks of F: ${h.times("check", F)}`);
  assert.equal(h.times("repair", F).length, 1);
  await h.repairer.stop();
});
