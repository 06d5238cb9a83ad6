/**
 * dfs's parity against vectors that Intel ISA-L produced (isal_vectors.json, made by
 * make_isal_vectors.ts): runs everywhere, with every kernel, ISA-L installed or not.
 */
import assert from "node:assert/strict";
import { cauchyMatrix } from "../../../src/file/erasure/matrix.ts";
import { ReedSolomon } from "../../../src/file/erasure/reed_solomon.ts";
import { caseData, hex, sha256 } from "./_isal.ts";
import { allKernels } from "./_kernels.ts";
import vectors from "./isal_vectors.json" with { type: "json" };

Deno.test("isal_vectors_cauchy_matrices_equal_gf_gen_cauchy1_matrix", () => {
  assert.ok(vectors.matrices.length >= 3);
  for (const { k, m, hex: expected } of vectors.matrices) {
    assert.equal(hex(cauchyMatrix(k, m)), expected, `rs:${k}+${m}`);
  }
});

for (const kernel of allKernels()) {
  Deno.test(`isal_vectors_parity_equals_ec_encode_data_${kernel.name}`, async () => {
    assert.ok(vectors.encode.length >= 10);
    const shapes = new Set(vectors.encode.map((v) => `${v.k}+${v.m}`));
    assert.ok(shapes.has("4+2") && shapes.has("10+4"));
    for (const v of vectors.encode) {
      const parity = ReedSolomon.create(v.k, v.m, { kernel }).encode(
        caseData(v.seed, v.k, v.length),
      );
      const label = `seed ${v.seed} rs:${v.k}+${v.m} length ${v.length}`;
      if ("parityHex" in v && v.parityHex) assert.deepEqual(parity.map(hex), v.parityHex, label);
      assert.equal(await sha256(parity), v.paritySha256, label);
    }
  });
}
