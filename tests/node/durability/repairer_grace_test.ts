/**
 * The grace period runs per missing copy or column: a second loss while the first one waits
 * gets its own grace period, and repair re-creates only what is due.
 */
import assert from "node:assert/strict";
import { ContentId } from "../../../src/id/content_id.ts";
import { type CheckedFile, Repairer } from "../../../src/node/durability/repairer.ts";
import type { Redundancy } from "../../../src/file/redundancy.ts";

const GRACE = 1000;
const SELF = "01" + "00".repeat(31);
const ID = ContentId.fromDigest("sha-256", new Uint8Array(32)).toString();

function check(policy: Redundancy, live: number, missing: number[] = []): CheckedFile {
  const target = policy.kind === "rs" ? policy.k + policy.m : policy.min;
  const below = policy.kind === "rs" ? missing.length > 0 : live < target;
  return {
    policy,
    health: below ? "degraded" : "healthy",
    live: policy.kind === "rs" ? target - missing.length : live,
    target,
    survives: 1,
    holders: [{ nodeId: SELF }],
    unreachable: 0,
    answers: [{ nodeId: SELF, root: true, columns: [] }],
    silent: [],
    tombstones: [],
    below,
    missingColumns: missing,
    absentColumns: missing,
    realColumns: [0, 1, 2, 3, 4, 5],
    above: false,
  };
}

function setup(script: () => CheckedFile) {
  let now = 0;
  const seen: CheckedFile[] = [];
  const repairer = new Repairer({
    selfId: SELF,
    files: () => [ID],
    check: () => Promise.resolve(script()),
    onTombstones: () => Promise.resolve(false),
    repair: (_id, c) => {
      seen.push(c);
      return Promise.resolve({ repaired: 0, bytes: 0 });
    },
    trim: () => Promise.resolve(0),
    intervalMs: 100_000,
    graceMs: GRACE,
    clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
    random: () => 0.5,
  });
  return { repairer, seen, at: (t: number) => (now = t) };
}

Deno.test("a_second_lost_copy_waits_its_own_grace_period", async () => {
  const policy: Redundancy = { kind: "replicas", min: 3, max: 3 };
  let live = 2;
  const { repairer, seen, at } = setup(() => check(policy, live));
  at(0);
  await repairer.checkFile(ID); // one copy missing since t=0
  at(900);
  live = 1;
  await repairer.checkFile(ID); // a second one since t=900
  assert.equal(seen.length, 0, "nothing is due yet");
  at(1000);
  await repairer.checkFile(ID);
  assert.equal(seen.length, 1);
  assert.equal(policy.max - seen[0].live, 1, "only the copy whose grace is over");
  at(1900);
  await repairer.checkFile(ID);
  assert.equal(seen.length, 2);
  assert.equal(policy.max - seen[1].live, 2, "both due: back to max");
});

Deno.test("only_the_columns_whose_grace_is_over_are_rebuilt", async () => {
  const policy: Redundancy = { kind: "rs", k: 4, m: 2 };
  let missing = [1];
  const { repairer, seen, at } = setup(() => check(policy, 0, missing));
  at(0);
  await repairer.checkFile(ID);
  at(500);
  missing = [1, 4];
  await repairer.checkFile(ID);
  at(1200);
  await repairer.checkFile(ID);
  assert.deepEqual(seen.map((c) => c.missingColumns), [[1]]);
  at(1500);
  await repairer.checkFile(ID);
  assert.deepEqual(seen.at(-1)!.missingColumns, [1, 4]);
  // A column that comes back forgets its clock; lost again, it waits a whole grace period.
  missing = [];
  at(1600);
  await repairer.checkFile(ID);
  missing = [4];
  at(1700);
  await repairer.checkFile(ID);
  at(2600);
  await repairer.checkFile(ID);
  assert.equal(seen.length, 2, "column 4 lost again at 1700 is not due at 2600");
  at(2700);
  await repairer.checkFile(ID);
  assert.deepEqual(seen.at(-1)!.missingColumns, [4]);
});
