import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { defaultKernel } from "../../../src/file/erasure/kernel.ts";
import {
  wasmRelaxedSimdSupported,
  wasmSimdSupported,
} from "../../../src/file/erasure/wasm_kernel.ts";
import {
  GF_KERNEL_WASM_RELAXED_SIMD,
  GF_KERNEL_WASM_RELAXED_SIMD_SHA256,
  GF_KERNEL_WASM_SIMD,
  GF_KERNEL_WASM_SIMD_SHA256,
} from "../../../src/file/erasure/wasm/gf_kernel_wasm.ts";
import { withSeed } from "../_fakes.ts";
import { allKernels, assertBytes, naiveKernel } from "./_kernels.ts";
import type { Rng } from "../../util/prng.ts";

const KERNELS = allKernels();

/** `length` random bytes at a random offset 0..7 into a bigger buffer (alignment varies). */
function vector(rand: Rng, length: number, slack = 0): Uint8Array {
  const offset = rand.int(8);
  const buf = rand.bytes(offset + length + slack);
  return buf.subarray(offset, offset + length + slack);
}

Deno.test("kernel_deno_runs_the_relaxed_simd_wasm_kernel_by_default", () => {
  assert.ok(wasmSimdSupported());
  assert.ok(wasmRelaxedSimdSupported());
  assert.equal(defaultKernel().name, "wasm-relaxed-simd");
  assert.equal(defaultKernel(), defaultKernel());
  assert.deepEqual(KERNELS.map((k) => k.name), ["wasm-relaxed-simd", "wasm-simd", "typescript"]);
});

Deno.test("kernel_all_kernels_agree_with_the_definition", async () => {
  await withSeed(0x6e1, (rand) => {
    const lengths = [0, 1, 3, 4, 5, 63, 64, 65, 127, 1000, 4099, 70_001];
    for (let iter = 0; iter < 60; iter++) {
      const n = rand.int(18); // 0 inputs too
      const rows = rand.int(11);
      const length = iter < lengths.length ? lengths[iter] : 1 + rand.int(20_000);
      const coefficients = rand.bytes(rows * n);
      // special coefficients: 0 and 1 often
      for (let i = 0; i < coefficients.length; i++) {
        if (rand.int(5) === 0) coefficients[i] = rand.int(2);
      }
      const inputs = Array.from({ length: n }, () => vector(rand, length, rand.int(3)));
      const expected = Array.from({ length: rows }, () => new Uint8Array(length));
      naiveKernel.mulAdd(coefficients, inputs, expected, length);
      const inputsBefore = inputs.map((v) => v.slice());
      for (const kernel of KERNELS) {
        // outputs longer than length, at odd offsets: bytes past length stay as they were
        const outputs = Array.from({ length: rows }, () => vector(rand, length, 5));
        const tails = outputs.map((o) => o.slice(length));
        kernel.mulAdd(coefficients, inputs, outputs, length);
        for (let r = 0; r < rows; r++) {
          assertBytes(
            outputs[r].subarray(0, length),
            expected[r],
            `${kernel.name}: n=${n} rows=${rows} length=${length} row ${r}`,
          );
          assertBytes(outputs[r].subarray(length), tails[r], `${kernel.name}: tail ${r}`);
        }
        inputs.forEach((v, j) => assertBytes(v, inputsBefore[j], `${kernel.name}: input ${j}`));
      }
    }
  });
});

Deno.test("kernel_large_regions_and_many_rows", async () => {
  await withSeed(0x6e2, (rand) => {
    for (const [n, rows, length] of [[4, 2, 262144], [10, 4, 262144], [3, 9, 100_000]]) {
      const coefficients = rand.bytes(rows * n);
      const inputs = Array.from({ length: n }, () => rand.bytes(length));
      const results = KERNELS.map((kernel) => {
        const outputs = Array.from({ length: rows }, () => new Uint8Array(length));
        kernel.mulAdd(coefficients, inputs, outputs, length);
        return outputs;
      });
      const expected = Array.from({ length: rows }, () => new Uint8Array(4096));
      naiveKernel.mulAdd(coefficients, inputs, expected, 4096);
      for (const [i, outputs] of results.entries()) {
        for (let r = 0; r < rows; r++) {
          assertBytes(outputs[r], results[0][r], `${KERNELS[i].name} vs ${KERNELS[0].name}`);
          assertBytes(outputs[r].subarray(0, 4096), expected[r], KERNELS[i].name);
        }
      }
    }
  });
});

Deno.test("kernel_outputs_are_overwritten_not_accumulated", () => {
  for (const kernel of KERNELS) {
    const out = [new Uint8Array(100).fill(0xaa)];
    kernel.mulAdd(new Uint8Array([1]), [new Uint8Array(100).fill(7)], out, 100);
    assert.deepEqual(out[0], new Uint8Array(100).fill(7), kernel.name);
    const zeroed = [new Uint8Array(10).fill(9)];
    kernel.mulAdd(new Uint8Array(0), [], zeroed, 8);
    assert.deepEqual(Array.from(zeroed[0]), [0, 0, 0, 0, 0, 0, 0, 0, 9, 9], kernel.name);
  }
});

Deno.test("kernel_rejects_bad_arguments", () => {
  for (const kernel of KERNELS) {
    const ins = [new Uint8Array(8), new Uint8Array(8)];
    const outs = [new Uint8Array(8)];
    assert.throws(() => kernel.mulAdd(new Uint8Array(3), ins, outs, 8), InvalidArgumentError);
    assert.throws(() => kernel.mulAdd(new Uint8Array(2), ins, outs, 9), InvalidArgumentError);
    assert.throws(() => kernel.mulAdd(new Uint8Array(2), ins, outs, -1), InvalidArgumentError);
    assert.throws(() => kernel.mulAdd(new Uint8Array(2), ins, outs, 1.5), InvalidArgumentError);
    assert.throws(
      () => kernel.mulAdd(new Uint8Array(2), ins, [new Uint8Array(4)], 8),
      InvalidArgumentError,
    );
    assert.throws(
      () => kernel.mulAdd(new Uint8Array(2), [ins[0], [1, 2] as unknown as Uint8Array], outs, 2),
      InvalidArgumentError,
    );
  }
});

Deno.test("kernel_embedded_wasm_modules_match_their_recorded_sha256", async () => {
  const hex = (b: ArrayBuffer) =>
    Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
  for (
    const [bytes, sha] of [
      [GF_KERNEL_WASM_SIMD, GF_KERNEL_WASM_SIMD_SHA256],
      [GF_KERNEL_WASM_RELAXED_SIMD, GF_KERNEL_WASM_RELAXED_SIMD_SHA256],
    ] as const
  ) {
    assert.equal(hex(await crypto.subtle.digest("SHA-256", bytes)), sha);
    assert.ok(WebAssembly.validate(bytes));
  }
});
