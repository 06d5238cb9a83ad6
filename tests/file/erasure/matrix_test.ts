import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { SingularMatrixError } from "../../../src/file/erasure/errors.ts";
import { gfInv } from "../../../src/file/erasure/gf256.ts";
import { cauchyMatrix, invertMatrix, multiplyMatrices } from "../../../src/file/erasure/matrix.ts";
import { withSeed } from "../_fakes.ts";

function identity(n: number): Uint8Array {
  const out = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

Deno.test("matrix_cauchy_is_identity_over_one_over_i_xor_j", () => {
  for (const [k, m] of [[1, 1], [4, 2], [10, 4], [16, 8], [1, 255], [255, 1], [128, 128]]) {
    const a = cauchyMatrix(k, m);
    assert.equal(a.length, (k + m) * k);
    assert.deepEqual(a.subarray(0, k * k), identity(k));
    for (let i = k; i < k + m; i++) {
      for (let j = 0; j < k; j++) assert.equal(a[i * k + j], gfInv(i ^ j));
    }
  }
  assert.deepEqual(cauchyMatrix(3, 0), identity(3));
});

Deno.test("matrix_cauchy_rejects_bad_shapes", () => {
  for (const [k, m] of [[0, 1], [1, -1], [200, 57], [1.5, 1], [NaN, 1]]) {
    assert.throws(() => cauchyMatrix(k, m), InvalidArgumentError, `${k}, ${m}`);
  }
});

Deno.test("matrix_inverse_of_any_k_rows_of_the_cauchy_matrix", async () => {
  await withSeed(0x3a7, (rand) => {
    for (let iter = 0; iter < 300; iter++) {
      const k = 1 + rand.int(20);
      const m = 1 + rand.int(12);
      const a = cauchyMatrix(k, m);
      // a random k-subset of the k+m rows
      const rows = Array.from({ length: k + m }, (_, i) => i);
      for (let i = rows.length - 1; i > 0; i--) {
        const j = rand.int(i + 1);
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      const sub = new Uint8Array(k * k);
      rows.slice(0, k).forEach((r, i) => sub.set(a.subarray(r * k, r * k + k), i * k));
      const inv = invertMatrix(sub, k);
      assert.deepEqual(multiplyMatrices(sub, inv, k, k, k), identity(k));
      assert.deepEqual(multiplyMatrices(inv, sub, k, k, k), identity(k));
    }
  });
});

Deno.test("matrix_inverse_of_random_matrices_or_singular", async () => {
  await withSeed(0x5106, (rand) => {
    let singular = 0;
    for (let iter = 0; iter < 500; iter++) {
      const n = 1 + rand.int(6);
      // small entries make singular matrices common enough to test both outcomes
      const a = Uint8Array.from({ length: n * n }, () => rand.int(4));
      const before = a.slice();
      try {
        const inv = invertMatrix(a, n);
        assert.deepEqual(multiplyMatrices(a, inv, n, n, n), identity(n));
      } catch (err) {
        assert.ok(err instanceof SingularMatrixError, String(err));
        assert.equal(err.code, "SINGULAR_MATRIX");
        singular++;
      }
      assert.deepEqual(a, before, "the input is not modified");
    }
    assert.ok(singular > 10 && singular < 490, `${singular} of 500 singular`);
  });
});

Deno.test("matrix_singular_and_misshapen_inputs_throw", () => {
  assert.throws(() => invertMatrix(new Uint8Array([1, 2, 1, 2]), 2), SingularMatrixError);
  assert.throws(() => invertMatrix(new Uint8Array(4), 2), SingularMatrixError);
  assert.throws(() => invertMatrix(new Uint8Array(3), 2), InvalidArgumentError);
  assert.throws(() => invertMatrix(new Uint8Array(0), 0), InvalidArgumentError);
  assert.throws(
    () => multiplyMatrices(new Uint8Array(4), new Uint8Array(3), 2, 2, 2),
    InvalidArgumentError,
  );
});
