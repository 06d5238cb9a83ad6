import assert from "node:assert/strict";
import { DfsError, InvalidArgumentError } from "../../../src/errors.ts";
import { TooFewShardsError } from "../../../src/file/erasure/errors.ts";
import { cauchyMatrix } from "../../../src/file/erasure/matrix.ts";
import { ReedSolomon } from "../../../src/file/erasure/reed_solomon.ts";
import type { GfKernel } from "../../../src/file/erasure/kernel.ts";
import { withSeed } from "../_fakes.ts";
import type { Rng } from "../../util/prng.ts";
import { allKernels, assertBytes, naiveKernel } from "./_kernels.ts";

const KERNELS = allKernels();

/** Parity straight from the definition: the Cauchy rows times the data. */
function naiveParity(k: number, m: number, data: Uint8Array[]): Uint8Array[] {
  const length = data[0].length;
  const parity = Array.from({ length: m }, () => new Uint8Array(length));
  naiveKernel.mulAdd(cauchyMatrix(k, m).subarray(k * k), data, parity, length);
  return parity;
}

/** A random subset of 0..n-1 of the given size. */
function subset(rand: Rng, n: number, size: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rand.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, size).sort((a, b) => a - b);
}

/** Erases `lost` from a copy of `all`, reconstructs, checks every shard came back. */
function checkReconstruct(
  rs: ReedSolomon,
  all: Uint8Array[],
  lost: number[],
  label: string,
): void {
  const shards: (Uint8Array | undefined)[] = all.slice();
  for (const i of lost) shards[i] = undefined;
  const before = shards.slice();
  rs.reconstruct(shards);
  for (let i = 0; i < all.length; i++) {
    assert.ok(shards[i] instanceof Uint8Array, `${label}: shard ${i} missing`);
    if (before[i] !== undefined) assert.equal(shards[i], before[i], `${label}: present ${i} kept`);
    assertBytes(shards[i]!, all[i], `${label}: shard ${i}`);
  }
  // dataOnly: the data comes back, missing parity stays missing
  const partial: (Uint8Array | undefined)[] = all.slice();
  for (const i of lost) partial[i] = undefined;
  rs.reconstruct(partial, { dataOnly: true });
  for (let i = 0; i < all.length; i++) {
    if (i >= rs.k && lost.includes(i)) assert.equal(partial[i], undefined, `${label}: parity ${i}`);
    else assertBytes(partial[i]!, all[i], `${label}: dataOnly shard ${i}`);
  }
}

function randomLength(rand: Rng, iter: number): number {
  const fixed = [1, 2, 3, 7, 64, 65, 255, 1023];
  if (iter < fixed.length) return fixed[iter];
  if (iter % 17 === 0) return 256 * 1024;
  if (iter % 5 === 0) return 1 + 2 * rand.int(3000); // odd
  return 1 + rand.int(6000);
}

for (const kernel of KERNELS) {
  Deno.test(`reed_solomon_${kernel.name}_rebuilds_any_m_erasures`, async () => {
    await withSeed(0x75_0001, (rand) => {
      for (let iter = 0; iter < 120; iter++) {
        const k = 1 + rand.int(16);
        const m = 1 + rand.int(8);
        const length = randomLength(rand, iter);
        const rs = ReedSolomon.create(k, m, { kernel });
        const data = Array.from({ length: k }, () => rand.bytes(length));
        const parity = rs.encode(data);
        assert.equal(parity.length, m);
        const label = `rs:${k}+${m} length ${length} (${kernel.name})`;
        if (length <= 8192) {
          naiveParity(k, m, data).forEach((p, i) => assertBytes(parity[i], p, `${label} parity`));
        }
        const all = [...data, ...parity];
        const lost = subset(rand, k + m, rand.int(m + 1));
        checkReconstruct(rs, all, lost, `${label} lost ${lost}`);
      }
    });
  });
}

Deno.test("reed_solomon_every_erasure_pattern_of_small_codes", async () => {
  await withSeed(0x75_0002, (rand) => {
    for (const [k, m] of [[1, 1], [4, 2], [3, 3], [2, 5], [6, 3]]) {
      for (const kernel of KERNELS) {
        const rs = ReedSolomon.create(k, m, { kernel });
        const data = Array.from({ length: k }, () => rand.bytes(101));
        const all = [...data, ...rs.encode(data)];
        for (let mask = 0; mask < 1 << (k + m); mask++) {
          const lost = Array.from({ length: k + m }, (_, i) => i).filter((i) => mask & (1 << i));
          if (lost.length > m) continue;
          checkReconstruct(rs, all, lost, `rs:${k}+${m} ${kernel.name} lost ${lost}`);
        }
      }
    }
  });
});

Deno.test("reed_solomon_kernels_give_identical_parity", async () => {
  await withSeed(0x75_0003, (rand) => {
    for (let iter = 0; iter < 30; iter++) {
      const k = 1 + rand.int(20);
      const m = 1 + rand.int(10);
      const length = 1 + rand.int(50_000);
      const data = Array.from({ length: k }, () => rand.bytes(length));
      const results = KERNELS.map((kernel) => ReedSolomon.create(k, m, { kernel }).encode(data));
      for (const [i, parity] of results.entries()) {
        parity.forEach((p, r) =>
          assertBytes(p, results[0][r], `rs:${k}+${m} ${KERNELS[i].name} parity ${r}`)
        );
      }
    }
  });
});

Deno.test("reed_solomon_extreme_shapes", async () => {
  await withSeed(0x75_0004, (rand) => {
    for (const [k, m] of [[255, 1], [1, 255], [128, 128], [200, 56]]) {
      for (const kernel of [KERNELS[0], KERNELS.at(-1)!]) {
        const rs = ReedSolomon.create(k, m, { kernel });
        const data = Array.from({ length: k }, () => rand.bytes(37));
        const all = [...data, ...rs.encode(data)];
        checkReconstruct(rs, all, subset(rand, k + m, m), `rs:${k}+${m} ${kernel.name}`);
      }
    }
  });
});

Deno.test("reed_solomon_shards_at_odd_offsets_of_shared_buffers", async () => {
  await withSeed(0x75_0005, (rand) => {
    const k = 5, m = 3, length = 10_001;
    const pool = rand.bytes(k * length + 3);
    const data = Array.from(
      { length: k },
      (_, i) => pool.subarray(3 + i * length, 3 + (i + 1) * length),
    );
    for (const kernel of KERNELS) {
      const rs = ReedSolomon.create(k, m, { kernel });
      const parity = rs.encode(data);
      naiveParity(k, m, data).forEach((p, i) => assertBytes(parity[i], p, kernel.name));
      checkReconstruct(rs, [...data, ...parity], [0, 2, 6], kernel.name);
    }
  });
});

Deno.test("reed_solomon_many_patterns_through_the_bounded_cache", async () => {
  await withSeed(0x75_0006, (rand) => {
    const rs = ReedSolomon.create(10, 4);
    const data = Array.from({ length: 10 }, () => rand.bytes(333));
    const all = [...data, ...rs.encode(data)];
    for (let iter = 0; iter < 300; iter++) {
      checkReconstruct(rs, all, subset(rand, 14, 1 + rand.int(4)), `iter ${iter}`);
    }
  });
});

Deno.test("reed_solomon_zero_length_and_nothing_missing", () => {
  const rs = ReedSolomon.create(3, 2);
  const parity = rs.encode([new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]);
  assert.deepEqual(parity, [new Uint8Array(0), new Uint8Array(0)]);
  const shards: (Uint8Array | undefined)[] = [new Uint8Array(0), undefined, undefined, ...parity];
  rs.reconstruct(shards);
  assert.deepEqual(shards[1], new Uint8Array(0));
  const full = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])];
  const complete: (Uint8Array | undefined)[] = [...full, ...rs.encode(full)];
  const same = complete.slice();
  rs.reconstruct(complete);
  assert.ok(complete.every((s, i) => s === same[i]));
  // only parity missing, dataOnly: nothing to do
  complete[4] = undefined;
  rs.reconstruct(complete, { dataOnly: true });
  assert.equal(complete[4], undefined);
});

Deno.test("reed_solomon_create_rejects_bad_shapes", () => {
  for (const [k, m] of [[0, 1], [1, 0], [256, 1], [200, 57], [2.5, 1], [1, NaN], [-1, 3]]) {
    assert.throws(() => ReedSolomon.create(k, m), InvalidArgumentError, `rs:${k}+${m}`);
  }
  assert.equal(ReedSolomon.create(255, 1).k, 255);
  assert.equal(ReedSolomon.create(1, 255).m, 255);
});

Deno.test("reed_solomon_encode_rejects_bad_data", () => {
  const rs = ReedSolomon.create(3, 2);
  const ok = () => new Uint8Array(4);
  assert.throws(() => rs.encode([ok(), ok()]), InvalidArgumentError);
  assert.throws(() => rs.encode([ok(), ok(), ok(), ok()]), InvalidArgumentError);
  assert.throws(() => rs.encode([ok(), ok(), new Uint8Array(5)]), InvalidArgumentError);
  assert.throws(
    () => rs.encode([ok(), ok(), [1, 2, 3, 4] as unknown as Uint8Array]),
    InvalidArgumentError,
  );
  assert.throws(() => rs.encode(undefined as unknown as Uint8Array[]), InvalidArgumentError);
});

Deno.test("reed_solomon_reconstruct_rejects_bad_shards", () => {
  const rs = ReedSolomon.create(3, 2);
  const data = [new Uint8Array([1, 2]), new Uint8Array([3, 4]), new Uint8Array([5, 6])];
  const all = [...data, ...rs.encode(data)];
  assert.throws(() => rs.reconstruct(all.slice(0, 4)), InvalidArgumentError);
  assert.throws(() => rs.reconstruct([...all, undefined]), InvalidArgumentError);
  assert.throws(
    () => rs.reconstruct([undefined, all[1], all[2], all[3], new Uint8Array(3)]),
    InvalidArgumentError,
  );
  assert.throws(
    () => rs.reconstruct([undefined, all[1], "x" as unknown as Uint8Array, all[3], all[4]]),
    InvalidArgumentError,
  );
});

Deno.test("reed_solomon_too_few_shards_is_a_typed_error", () => {
  const rs = ReedSolomon.create(4, 2);
  const data = [1, 2, 3, 4].map((i) => new Uint8Array(8).fill(i));
  const shards: (Uint8Array | undefined)[] = [...data, ...rs.encode(data)];
  shards[0] = shards[1] = shards[5] = undefined;
  const before = shards.slice();
  assert.throws(() => rs.reconstruct(shards), (err: unknown) => {
    assert.ok(err instanceof TooFewShardsError);
    assert.ok(err instanceof DfsError);
    assert.equal(err.code, "TOO_FEW_SHARDS");
    assert.equal(err.present, 3);
    assert.equal(err.needed, 4);
    assert.equal(err.name, "TooFewShardsError");
    return true;
  });
  assert.deepEqual(shards, before, "nothing was filled in");
  assert.throws(
    () => rs.reconstruct(Array.from({ length: 6 }, () => undefined)),
    TooFewShardsError,
  );
});

Deno.test("reed_solomon_uses_the_given_kernel", () => {
  const calls: string[] = [];
  const spy: GfKernel = {
    name: "spy",
    mulAdd(coefficients, inputs, outputs, length) {
      calls.push(`${outputs.length}x${inputs.length}`);
      naiveKernel.mulAdd(coefficients, inputs, outputs, length);
    },
  };
  const rs = ReedSolomon.create(4, 2, { kernel: spy });
  assert.equal(rs.kernel, spy);
  const data = [1, 2, 3, 4].map((i) => new Uint8Array(8).fill(i));
  const shards: (Uint8Array | undefined)[] = [...data, ...rs.encode(data)];
  shards[1] = shards[4] = undefined;
  rs.reconstruct(shards);
  // one pass each: encode 2x4, and both missing shards (a data and a parity) from 4 inputs
  assert.deepEqual(calls, ["2x4", "2x4"]);
  assert.deepEqual(shards[1], data[1]);
});

Deno.test("reed_solomon_encode_into_equals_encode", async () => {
  await withSeed(0x75_0007, (rand) => {
    for (const kernel of KERNELS) {
      const rs = ReedSolomon.create(6, 3, { kernel });
      const data = Array.from({ length: 6 }, () => rand.bytes(5000));
      const parity = Array.from({ length: 3 }, () => rand.bytes(5000)); // garbage is overwritten
      rs.encodeInto(data, parity);
      rs.encode(data).forEach((p, i) => assertBytes(parity[i], p, kernel.name));
    }
    const rs = ReedSolomon.create(2, 2);
    const data = [new Uint8Array(4), new Uint8Array(4)];
    assert.throws(() => rs.encodeInto(data, [new Uint8Array(4)]), InvalidArgumentError);
    assert.throws(
      () => rs.encodeInto(data, [new Uint8Array(4), new Uint8Array(5)]),
      InvalidArgumentError,
    );
    assert.throws(
      () => rs.encodeInto(data, [new Uint8Array(3), new Uint8Array(3)]),
      InvalidArgumentError,
    );
    assert.throws(
      () => rs.encodeInto([data[0]], [new Uint8Array(4), new Uint8Array(4)]),
      InvalidArgumentError,
    );
  });
});
