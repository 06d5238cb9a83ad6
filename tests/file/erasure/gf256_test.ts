import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/errors.ts";
import {
  GF_POLYNOMIAL,
  gfDiv,
  gfExp,
  gfInv,
  gfMul,
  gfMulTable,
} from "../../../src/file/erasure/gf256.ts";
import { withSeed } from "../_fakes.ts";

/** Carry-less multiplication reduced by 0x11d, bit by bit: the definition, no tables. */
function slowMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) if (b & (1 << i)) p ^= a << i;
  for (let bit = 14; bit >= 8; bit--) if (p & (1 << bit)) p ^= GF_POLYNOMIAL << (bit - 8);
  return p;
}

Deno.test("gf256_mul_matches_the_definition_on_all_pairs", () => {
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      const p = gfMul(a, b);
      if (p !== slowMul(a, b)) assert.fail(`gfMul(${a}, ${b}) = ${p}, expected ${slowMul(a, b)}`);
    }
  }
});

Deno.test("gf256_identity_zero_commutativity_on_all_pairs", () => {
  for (let a = 0; a < 256; a++) {
    assert.equal(gfMul(a, 1), a);
    assert.equal(gfMul(a, 0), 0);
    for (let b = 0; b < 256; b++) {
      if (gfMul(a, b) !== gfMul(b, a)) assert.fail(`not commutative at ${a}, ${b}`);
    }
  }
});

Deno.test("gf256_every_nonzero_element_has_one_inverse", () => {
  for (let a = 1; a < 256; a++) {
    const inv = gfInv(a);
    assert.equal(gfMul(a, inv), 1, `a=${a}`);
    let count = 0;
    for (let b = 1; b < 256; b++) if (gfMul(a, b) === 1) count++;
    assert.equal(count, 1, `a=${a}`);
    assert.equal(gfDiv(1, a), inv);
  }
  assert.throws(() => gfInv(0), InvalidArgumentError);
  assert.throws(() => gfDiv(5, 0), InvalidArgumentError);
});

Deno.test("gf256_no_zero_divisors", () => {
  for (let a = 1; a < 256; a++) {
    for (let b = 1; b < 256; b++) if (gfMul(a, b) === 0) assert.fail(`${a} * ${b} = 0`);
  }
});

Deno.test("gf256_associativity_and_distributivity_sampled", async () => {
  await withSeed(0x6f256, (rand) => {
    for (let i = 0; i < 200_000; i++) {
      const a = rand.int(256), b = rand.int(256), c = rand.int(256);
      if (gfMul(gfMul(a, b), c) !== gfMul(a, gfMul(b, c))) {
        assert.fail(`not associative at ${a}, ${b}, ${c}`);
      }
      if (gfMul(a, b ^ c) !== (gfMul(a, b) ^ gfMul(a, c))) {
        assert.fail(`not distributive at ${a}, ${b}, ${c}`);
      }
    }
  });
});

Deno.test("gf256_two_generates_the_multiplicative_group", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 255; i++) seen.add(gfExp(i));
  assert.equal(seen.size, 255);
  assert.ok(!seen.has(0));
  assert.equal(gfExp(255), 1);
  assert.equal(gfExp(-1), gfInv(2));
  assert.equal(gfExp(8), 0x1d);
});

Deno.test("gf256_mul_tables_match_mul", () => {
  for (let c = 0; c < 256; c++) {
    const t = gfMulTable(c);
    assert.equal(t.length, 256);
    for (let x = 0; x < 256; x++) if (t[x] !== gfMul(c, x)) assert.fail(`table ${c} at ${x}`);
  }
});
