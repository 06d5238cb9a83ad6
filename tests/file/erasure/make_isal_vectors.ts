/**
 * Regenerates `isal_vectors.json` from Intel ISA-L (needs gcc and libisal-dev):
 *
 *     deno run -A tests/file/erasure/make_isal_vectors.ts
 *
 * Every parity and matrix in the file comes from ISA-L through `isal_harness.c`, none from
 * dfs's own codec, so `isal_vectors_test.ts` checks dfs against ISA-L even where ISA-L is not
 * installed.
 *
 * @module
 */

import { buildHarness, caseData, hex, request, runHarness, sha256, split } from "./_isal.ts";

const ENCODE_CASES: [seed: number, k: number, m: number, length: number][] = [
  [1, 1, 1, 5],
  [2, 4, 2, 1],
  [3, 4, 2, 17],
  [4, 4, 2, 4096],
  [5, 4, 2, 262144],
  [6, 10, 4, 1000],
  [7, 10, 4, 262144],
  [8, 3, 5, 63],
  [9, 16, 8, 777],
  [10, 6, 3, 65537],
  [11, 255, 1, 10],
  [12, 128, 128, 33],
  [13, 1, 255, 7],
];
const MATRIX_SHAPES: [k: number, m: number][] = [[4, 2], [10, 4], [3, 5]];

const harness = buildHarness();
if ("error" in harness) throw new Error(harness.error);
try {
  const version = new Deno.Command("dpkg-query", {
    args: ["-W", "-f", "${Version}", "libisal-dev"],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const encode = [];
  for (const [seed, k, m, length] of ENCODE_CASES) {
    const data = caseData(seed, k, length);
    const parity = split(
      await runHarness(harness.path, request("E", k, m, length, data)),
      m,
      length,
    );
    encode.push({
      seed,
      k,
      m,
      length,
      paritySha256: await sha256(parity),
      ...(m * length <= 64 ? { parityHex: parity.map(hex) } : {}),
    });
  }
  const matrices = [];
  for (const [k, m] of MATRIX_SHAPES) {
    matrices.push({ k, m, hex: hex(await runHarness(harness.path, request("M", k, m, 0))) });
  }
  const out = {
    about: "Reed-Solomon vectors from Intel ISA-L (gf_gen_cauchy1_matrix, ec_init_tables, " +
      "ec_encode_data), made by tests/file/erasure/make_isal_vectors.ts. Data shard i of a " +
      "case is bytes i*length..(i+1)*length-1 of new Rng(seed).bytes(k*length) " +
      "(tests/util/prng.ts); paritySha256 is the SHA-256 of the m parity shards concatenated.",
    isal: `libisal-dev ${new TextDecoder().decode(version.stdout) || "(version unknown)"}`,
    matrices,
    encode,
  };
  const path = new URL("./isal_vectors.json", import.meta.url).pathname;
  Deno.writeTextFileSync(path, JSON.stringify(out, null, 2) + "\n");
  console.log(`wrote ${path}: ${encode.length} encode cases, ${matrices.length} matrices`);
} finally {
  Deno.removeSync(harness.dir, { recursive: true });
}
