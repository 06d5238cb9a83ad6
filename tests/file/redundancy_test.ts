/**
 * Redundancy policies: text forms, bounds, and the figures derived from them.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import {
  checkRedundancy,
  DEFAULT_REDUNDANCY,
  formatRedundancy,
  holdersWanted,
  MAX_REPLICAS,
  MAX_SHARDS,
  parseRedundancy,
  type Redundancy,
  redundancyProblem,
  sameRedundancy,
} from "../../src/file/redundancy.ts";

function expectRejected(text: unknown, pattern: RegExp = /replicas:N.*rs:K\+M/) {
  assert.throws(() => parseRedundancy(text as string), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `not typed: ${err}`);
    assert.equal(err.code, "INVALID_ARGUMENT");
    assert.match(err.message, pattern);
    return true;
  }, `accepted ${JSON.stringify(text)}`);
}

Deno.test("redundancy_parses_each_form_to_exact_policy", () => {
  assert.deepEqual(parseRedundancy("replicas:3"), { kind: "replicas", min: 3, max: 3 });
  assert.deepEqual(parseRedundancy("replicas:1"), { kind: "replicas", min: 1, max: 1 });
  assert.deepEqual(parseRedundancy("replicas:2-4"), { kind: "replicas", min: 2, max: 4 });
  assert.deepEqual(parseRedundancy("replicas:5-5"), { kind: "replicas", min: 5, max: 5 });
  assert.deepEqual(parseRedundancy("replicas:64"), { kind: "replicas", min: 64, max: 64 });
  assert.deepEqual(parseRedundancy("replicas:1-64"), { kind: "replicas", min: 1, max: 64 });
  assert.deepEqual(parseRedundancy("rs:4+2"), { kind: "rs", k: 4, m: 2 });
  assert.deepEqual(parseRedundancy("rs:10+4"), { kind: "rs", k: 10, m: 4 });
  assert.deepEqual(parseRedundancy("rs:1+1"), { kind: "rs", k: 1, m: 1 });
  assert.deepEqual(parseRedundancy("rs:63+1"), { kind: "rs", k: 63, m: 1 });
  assert.deepEqual(parseRedundancy("rs:1+63"), { kind: "rs", k: 1, m: 63 });
  assert.deepEqual(parseRedundancy("rs:32+32"), { kind: "rs", k: 32, m: 32 });
});

Deno.test("redundancy_parse_ignores_case_surrounding_whitespace_and_leading_zeros", () => {
  assert.deepEqual(parseRedundancy("REPLICAS:3"), { kind: "replicas", min: 3, max: 3 });
  assert.deepEqual(parseRedundancy("Replicas:2-4"), { kind: "replicas", min: 2, max: 4 });
  assert.deepEqual(parseRedundancy("RS:4+2"), { kind: "rs", k: 4, m: 2 });
  assert.deepEqual(parseRedundancy("  rs:10+4\n"), { kind: "rs", k: 10, m: 4 });
  assert.deepEqual(parseRedundancy("\treplicas:3 "), { kind: "replicas", min: 3, max: 3 });
  assert.deepEqual(parseRedundancy("replicas:003"), { kind: "replicas", min: 3, max: 3 });
  assert.deepEqual(parseRedundancy("rs:04+02"), { kind: "rs", k: 4, m: 2 });
});

Deno.test("redundancy_format_gives_canonical_text", () => {
  assert.equal(formatRedundancy({ kind: "replicas", min: 3, max: 3 }), "replicas:3");
  assert.equal(formatRedundancy({ kind: "replicas", min: 2, max: 4 }), "replicas:2-4");
  assert.equal(formatRedundancy({ kind: "rs", k: 4, m: 2 }), "rs:4+2");
  assert.equal(formatRedundancy({ kind: "rs", k: 10, m: 4 }), "rs:10+4");
  assert.equal(formatRedundancy(DEFAULT_REDUNDANCY), "replicas:3");
  // Non-canonical input formats canonically.
  assert.equal(formatRedundancy(parseRedundancy(" RS:04+02 ")), "rs:4+2");
  assert.equal(formatRedundancy(parseRedundancy("replicas:5-5")), "replicas:5");
});

Deno.test("redundancy_parse_format_round_trips", () => {
  const texts = [
    "replicas:1",
    "replicas:3",
    "replicas:2-4",
    "replicas:1-64",
    "replicas:64",
    "rs:1+1",
    "rs:4+2",
    "rs:10+4",
    "rs:63+1",
    "rs:1+63",
    "rs:32+32",
  ];
  for (const text of texts) {
    const policy = parseRedundancy(text);
    assert.equal(formatRedundancy(policy), text);
    assert.deepEqual(parseRedundancy(formatRedundancy(policy)), policy);
  }
  // Every in-bounds policy round-trips through text.
  for (let min = 1; min <= MAX_REPLICAS; min += 7) {
    for (let max = min; max <= MAX_REPLICAS; max += 9) {
      const p: Redundancy = { kind: "replicas", min, max };
      assert.deepEqual(parseRedundancy(formatRedundancy(p)), p);
    }
  }
  for (let k = 1; k < MAX_SHARDS; k++) {
    for (let m = 1; k + m <= MAX_SHARDS; m += 5) {
      const p: Redundancy = { kind: "rs", k, m };
      assert.deepEqual(parseRedundancy(formatRedundancy(p)), p);
    }
  }
});

Deno.test("redundancy_parse_rejects_out_of_bounds_numbers", () => {
  // Zero copies.
  expectRejected("replicas:0", /1 <= min <= max <= 64, got 0-0/);
  expectRejected("replicas:0-3", /got 0-3/);
  // min > max.
  expectRejected("replicas:4-2", /got 4-2/);
  expectRejected("replicas:3-0", /got 3-0/);
  // Above 64.
  expectRejected("replicas:65", /got 65-65/);
  expectRejected("replicas:1-65", /got 1-65/);
  expectRejected("replicas:999", /got 999-999/);
  // rs: k = 0, m = 0, k + m > 64.
  expectRejected("rs:0+2", /k >= 1, m >= 1 and k \+ m <= 64, got 0\+2/);
  expectRejected("rs:4+0", /got 4\+0/);
  expectRejected("rs:0+0", /got 0\+0/);
  expectRejected("rs:60+5", /got 60\+5/);
  expectRejected("rs:64+1", /got 64\+1/);
  expectRejected("rs:1+64", /got 1\+64/);
  expectRejected("rs:33+32", /got 33\+32/);
});

Deno.test("redundancy_parse_errors_are_invalid_argument_with_accepted_forms", () => {
  // Out-of-bounds errors come from checkRedundancy (no "accepted forms" message); junk from
  // the parser, which names the forms and quotes the input.
  assert.throws(() => parseRedundancy("rs:4+"), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(
      err.message,
      'redundancy must be replicas:N, replicas:MIN-MAX or rs:K+M (e.g. replicas:3, rs:4+2), got "rs:4+"',
    );
    return true;
  });
});

Deno.test("redundancy_parse_rejects_junk", () => {
  const junk = [
    "",
    " ",
    "3",
    "replicas",
    "replicas:",
    "replicas:3-",
    "replicas:-3",
    "replicas:3-4-5",
    "replicas: 3",
    "replicas :3",
    "replicas:3 - 4",
    "replica:3",
    "replicas=3",
    "replicas:three",
    "replicas:0x3",
    "replicas:1e1",
    "replicas:3,4",
    "replicas:1000",
    "replicas:0003",
    "rs",
    "rs:",
    "rs:4",
    "rs:4+",
    "rs:+2",
    "rs:4-2",
    "rs:4+2+1",
    "rs:4 + 2",
    "rs:4+2x",
    "rs:1000+1",
    "rs:4+1000",
    "reed-solomon:4+2",
    "ec:4+2",
    "replicas:3rs:4+2",
    "replicas:3\nrs:4+2",
    "replicas:３",
  ];
  for (const text of junk) expectRejected(text);
});

Deno.test("redundancy_parse_rejects_signed_and_decimal_numbers", () => {
  for (
    const text of [
      "replicas:+3",
      "replicas:-3",
      "replicas:3.0",
      "replicas:3.5",
      "replicas:.5",
      "replicas:2-+4",
      "replicas:2--4",
      "replicas:2-4.0",
      "replicas:1.5-4",
      "rs:+4+2",
      "rs:-4+2",
      "rs:4+-2",
      "rs:4++2",
      "rs:4.0+2",
      "rs:4+2.0",
      "rs:4.5+2",
    ]
  ) expectRejected(text);
});

Deno.test("redundancy_parse_rejects_non_strings", () => {
  for (const value of [undefined, null, 3, { kind: "replicas", min: 3, max: 3 }, ["rs:4+2"]]) {
    expectRejected(value);
  }
});

Deno.test("redundancy_holders_wanted_is_max_or_k_plus_m", () => {
  assert.equal(holdersWanted({ kind: "replicas", min: 3, max: 3 }), 3);
  assert.equal(holdersWanted({ kind: "replicas", min: 2, max: 4 }), 4);
  assert.equal(holdersWanted({ kind: "replicas", min: 1, max: 1 }), 1);
  assert.equal(holdersWanted({ kind: "rs", k: 4, m: 2 }), 6);
  assert.equal(holdersWanted({ kind: "rs", k: 10, m: 4 }), 14);
  assert.equal(holdersWanted({ kind: "rs", k: 1, m: 63 }), 64);
  assert.equal(holdersWanted(DEFAULT_REDUNDANCY), 3);
});

Deno.test("redundancy_check_returns_same_object_when_in_bounds", () => {
  const policies: Redundancy[] = [
    { kind: "replicas", min: 1, max: 1 },
    { kind: "replicas", min: 1, max: 64 },
    { kind: "replicas", min: 64, max: 64 },
    { kind: "rs", k: 1, m: 1 },
    { kind: "rs", k: 63, m: 1 },
    { kind: "rs", k: 1, m: 63 },
    { kind: "rs", k: 10, m: 4 },
  ];
  for (const p of policies) {
    assert.equal(checkRedundancy(p), p);
    assert.equal(redundancyProblem(p), undefined);
  }
  assert.equal(checkRedundancy(DEFAULT_REDUNDANCY), DEFAULT_REDUNDANCY);
});

Deno.test("redundancy_check_rejects_every_out_of_bounds_policy", () => {
  const bad: [unknown, RegExp][] = [
    [{ kind: "replicas", min: 0, max: 0 }, /got 0-0/],
    [{ kind: "replicas", min: 0, max: 3 }, /got 0-3/],
    [{ kind: "replicas", min: 4, max: 3 }, /got 4-3/],
    [{ kind: "replicas", min: 3, max: 65 }, /got 3-65/],
    [{ kind: "replicas", min: -1, max: 3 }, /got -1-3/],
    [{ kind: "replicas", min: 2.5, max: 3 }, /got 2.5-3/],
    [{ kind: "replicas", min: 2, max: 3.5 }, /got 2-3.5/],
    [{ kind: "replicas", min: NaN, max: 3 }, /got NaN-3/],
    [{ kind: "replicas", min: 3, max: Infinity }, /got 3-Infinity/],
    [{ kind: "replicas", min: "3", max: 3 }, /got 3-3/],
    [{ kind: "replicas", min: 3 }, /got 3-undefined/],
    [{ kind: "rs", k: 0, m: 2 }, /got 0\+2/],
    [{ kind: "rs", k: 4, m: 0 }, /got 4\+0/],
    [{ kind: "rs", k: 40, m: 25 }, /got 40\+25/],
    [{ kind: "rs", k: -4, m: 2 }, /got -4\+2/],
    [{ kind: "rs", k: 4.5, m: 2 }, /got 4.5\+2/],
    [{ kind: "rs", k: 4, m: 1.5 }, /got 4\+1.5/],
    [{ kind: "rs", k: 4 }, /got 4\+undefined/],
    [{ kind: "rs", k: 4, m: "2" }, /got 4\+2/],
    [{ kind: "mirror", min: 3, max: 3 }, /unknown redundancy kind mirror/],
    [{}, /unknown redundancy kind undefined/],
    [null, /unknown redundancy kind undefined/],
    [undefined, /unknown redundancy kind undefined/],
  ];
  for (const [policy, pattern] of bad) {
    assert.match(redundancyProblem(policy as Redundancy) ?? "", pattern, JSON.stringify(policy));
    assert.throws(() => checkRedundancy(policy as Redundancy), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, `not typed: ${err}`);
      assert.match(err.message, pattern);
      return true;
    });
  }
});

Deno.test("redundancy_default_is_frozen_three_replicas", () => {
  assert.deepEqual(DEFAULT_REDUNDANCY, { kind: "replicas", min: 3, max: 3 });
  assert.ok(Object.isFrozen(DEFAULT_REDUNDANCY));
  assert.equal(MAX_REPLICAS, 64);
  assert.equal(MAX_SHARDS, 64);
});

Deno.test("redundancy_same_compares_policies", () => {
  assert.equal(sameRedundancy(parseRedundancy("replicas:3"), DEFAULT_REDUNDANCY), true);
  assert.equal(
    sameRedundancy({ kind: "replicas", min: 3, max: 3 }, { kind: "replicas", min: 3, max: 4 }),
    false,
  );
  assert.equal(sameRedundancy({ kind: "rs", k: 4, m: 2 }, { kind: "rs", k: 4, m: 2 }), true);
  assert.equal(sameRedundancy({ kind: "rs", k: 4, m: 2 }, { kind: "rs", k: 2, m: 4 }), false);
  assert.equal(
    sameRedundancy({ kind: "rs", k: 2, m: 1 }, { kind: "replicas", min: 2, max: 1 }),
    false,
  );
});
