/**
 * Grace ages from the probes: a holder's reported age of a loss the checker sees too starts the
 * checker's clock earlier (capped at 30 days); an age for a unit the checker does not see
 * missing, or from a node without the file, changes nothing; `missingAges` reports the loop's
 * own clocks; and the wire conversion of `grace_ages.ts`.
 */
import assert from "node:assert/strict";
import { ContentId } from "../../../src/id/content_id.ts";
import type { Redundancy } from "../../../src/file/redundancy.ts";
import type { HolderState } from "../../../src/node/durability/file_check.ts";
import { fromWireAges, toWireAges } from "../../../src/node/durability/grace_ages.ts";
import {
  type CheckedFile,
  MAX_PEER_AGE_MS,
  Repairer,
} from "../../../src/node/durability/repairer.ts";
import { MAX_FILE_AGES } from "../../../src/wire/limits.ts";

const GRACE = 1000;
const SELF = "01" + "00".repeat(31); // closest to ID: it leads
const PEER = "02" + "00".repeat(31);
const ID = ContentId.fromDigest("sha-256", new Uint8Array(32)).toString();

/** A check of ID: `missing` columns (rs) or copies under min (replicas); `others` answers. */
function check(policy: Redundancy, missing: number, others: HolderState[]): CheckedFile {
  const target = policy.kind === "rs" ? policy.k + policy.m : policy.min;
  const columns = Array.from({ length: missing }, (_, i) => i + 1);
  return {
    policy,
    health: missing ? "degraded" : "healthy",
    live: target - missing,
    target,
    survives: 1,
    holders: [{ nodeId: SELF }],
    unreachable: 0,
    answers: [{ nodeId: SELF, root: true, columns: [] }, ...others],
    silent: [],
    tombstones: [],
    below: missing > 0,
    missingColumns: policy.kind === "rs" ? columns : [],
    absentColumns: policy.kind === "rs" ? columns : [],
    realColumns: [0, 1, 2, 3, 4, 5],
    above: false,
  };
}

function peer(ages: Record<string, number>, root = true): HolderState {
  return { nodeId: PEER, root, columns: [], ages: new Map(Object.entries(ages)) };
}

function setup(script: () => CheckedFile) {
  let now = 0;
  const repaired: number[] = [];
  const repairer = new Repairer({
    selfId: SELF,
    files: () => [ID],
    check: () => Promise.resolve(script()),
    onTombstones: () => Promise.resolve(false),
    repair: () => {
      repaired.push(now);
      return Promise.resolve({ repaired: 1, bytes: 0 });
    },
    trim: () => Promise.resolve(0),
    intervalMs: 100_000,
    graceMs: GRACE,
    clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
    random: () => 0.5,
  });
  return { repairer, repaired, at: (t: number) => (now = t) };
}

const REPLICAS: Redundancy = { kind: "replicas", min: 3, max: 3 };
const RS: Redundancy = { kind: "rs", k: 4, m: 2 };

Deno.test("a_holder_age_hurries_the_repair_of_a_loss_the_checker_sees", async () => {
  const { repairer, repaired, at } = setup(() => check(REPLICAS, 1, [peer({ r0: 800 })]));
  at(10_000); // this node just (re)started: its own clock would start now
  await repairer.checkFile(ID);
  assert.deepEqual(repaired, [], "800 ms of the 1000 ms grace are over");
  assert.deepEqual(repairer.missingAges(ID), new Map([["r0", 800]]));
  at(10_200);
  await repairer.checkFile(ID);
  assert.deepEqual(repaired, [10_200], "due at 10000 - 800 + 1000");
});

Deno.test("an_older_own_clock_is_kept_and_a_younger_peer_age_changes_nothing", async () => {
  let ages: Record<string, number> = {};
  const { repairer, repaired, at } = setup(() => check(REPLICAS, 1, [peer(ages)]));
  at(0);
  await repairer.checkFile(ID);
  ages = { r0: 100 };
  at(900);
  await repairer.checkFile(ID);
  assert.deepEqual(repairer.missingAges(ID), new Map([["r0", 900]]));
  at(1000);
  await repairer.checkFile(ID);
  assert.deepEqual(repaired, [1000]);
});

Deno.test("a_peer_age_for_a_unit_the_checker_does_not_see_missing_is_ignored", async () => {
  // The checker sees column 1 missing; the peer claims column 4 and a copy long gone.
  const { repairer, repaired, at } = setup(() =>
    check(RS, 1, [peer({ c4: 60_000, r0: 60_000, c1: 0 })])
  );
  at(5000);
  await repairer.checkFile(ID);
  assert.deepEqual(repaired, []);
  assert.deepEqual(repairer.missingAges(ID), new Map([["c1", 0]]));
  // At target, nothing the peer says sets off a repair.
  const quiet = setup(() => check(RS, 0, [peer({ c1: 60_000, c2: 60_000 })]));
  quiet.at(5000);
  await quiet.repairer.checkFile(ID);
  assert.deepEqual(quiet.repaired, []);
  assert.equal(quiet.repairer.missingAges(ID), undefined);
});

Deno.test("ages_from_a_node_without_the_file_or_nonsense_ages_are_ignored", async () => {
  const { repairer, repaired, at } = setup(() =>
    check(RS, 1, [peer({ c1: 60_000 }, false), peer({ c1: -5 }), peer({ c1: NaN })])
  );
  at(5000);
  await repairer.checkFile(ID);
  assert.deepEqual(repaired, []);
  assert.deepEqual(repairer.missingAges(ID), new Map([["c1", 0]]));
});

Deno.test("an_absurd_peer_age_is_capped_at_thirty_days", async () => {
  const now = 100 * 24 * 3600_000;
  const { repairer, repaired, at } = setup(() => check(RS, 2, [peer({ c2: 1e15 })]));
  at(now);
  await repairer.checkFile(ID);
  assert.deepEqual(repaired, [now], "column 2 is due (capped age still > grace)");
  assert.deepEqual(repairer.missingAges(ID), new Map([["c1", 0], ["c2", MAX_PEER_AGE_MS]]));
});

Deno.test("missing_ages_are_relative_to_now_and_unknown_files_have_none", async () => {
  const { repairer, at } = setup(() => check(RS, 2, []));
  assert.equal(repairer.missingAges(ID), undefined);
  at(1000);
  await repairer.checkFile(ID);
  at(1700);
  assert.deepEqual(repairer.missingAges(ID), new Map([["c1", 700], ["c2", 700]]));
  assert.equal(repairer.missingAges("not-a-file"), undefined);
});

Deno.test("grace_ages_convert_between_unit_names_and_the_wire", () => {
  const wire = toWireAges(new Map([["c3", 600_999], ["r1", 5_000], ["x9", 1], ["c70000", 1]]));
  assert.deepEqual(wire, [{ unit: 3, ageSeconds: 600 }, { unit: 0x8001, ageSeconds: 5 }]);
  assert.deepEqual(fromWireAges(wire), new Map([["c3", 600_000], ["r1", 5_000]]));
  // Capped at 30 days, negative clamped to 0, a unit twice keeps the larger age.
  assert.deepEqual(toWireAges(new Map([["c0", -5], ["c1", 1e15]])), [
    { unit: 0, ageSeconds: 0 },
    { unit: 1, ageSeconds: 0xffffffff },
  ]);
  assert.deepEqual(
    fromWireAges([
      { unit: 1, ageSeconds: 0xffffffff },
      { unit: 0x8000, ageSeconds: 2 },
      { unit: 0x8000, ageSeconds: 9 },
    ]),
    new Map([["c1", MAX_PEER_AGE_MS], ["r0", 9000]]),
  );
  // More units than a FILE_STATE carries: the oldest are kept.
  const many = new Map(Array.from({ length: 70 }, (_, i) => [`c${i}`, i * 1000]));
  const kept = toWireAges(many);
  assert.equal(kept.length, MAX_FILE_AGES);
  assert.equal(Math.min(...kept.map((a) => a.ageSeconds)), 70 - MAX_FILE_AGES);
});
