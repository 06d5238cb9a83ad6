/**
 * Live cross-check against Intel ISA-L: builds isal_harness.c with gcc and libisal (Debian's
 * libisal-dev) and compares, on fresh seeded data, the Cauchy matrix, the parity of
 * `ec_encode_data`, and ISA-L's decode of dfs's shards. Where gcc or libisal is missing it
 * says so loudly and is reported as ignored; with env DFS_REQUIRE_ISAL=1 (as in CI) that is a
 * failure instead. isal_vectors_test.ts checks recorded ISA-L output everywhere.
 */
import assert from "node:assert/strict";
import { cauchyMatrix } from "../../../src/file/erasure/matrix.ts";
import { ReedSolomon } from "../../../src/file/erasure/reed_solomon.ts";
import { testSeed } from "../../util/prng.ts";
import { withSeed } from "../_fakes.ts";
import { buildHarness, request, runHarness, split, u32s } from "./_isal.ts";
import { allKernels, assertBytes } from "./_kernels.ts";

const harness = buildHarness();
const required = Deno.env.get("DFS_REQUIRE_ISAL") === "1";
const skipped = "error" in harness ? harness.error : undefined;

if (skipped !== undefined) {
  const bar = "!".repeat(100);
  console.error(
    `${bar}\n!!! THE LIVE ISA-L CROSS-CHECK DID NOT RUN: ${skipped}\n` +
      "!!! Install gcc and libisal-dev (apt-get install -y gcc libisal-dev) to run it; the " +
      "recorded ISA-L vectors (isal_vectors_test.ts) were still checked.\n" +
      (required ? "!!! DFS_REQUIRE_ISAL=1: this is a failure.\n" : "") + bar,
  );
}

if (required) {
  Deno.test("isal_live_harness_is_available_as_required", () => {
    assert.equal(
      skipped,
      undefined,
      `DFS_REQUIRE_ISAL=1 but the harness did not build: ${skipped}`,
    );
  });
}

const path = "error" in harness ? "" : harness.path;
const SHAPES: [k: number, m: number, length: number][] = [
  [4, 2, 262144],
  [10, 4, 262144],
  [4, 2, 1],
  [10, 4, 4097],
  [1, 1, 3],
  [6, 3, 12345],
  [12, 4, 999],
  [16, 8, 65536],
  [200, 56, 100],
];

Deno.test({
  name: "isal_live_cross_check",
  ignore: skipped !== undefined,
  async fn(t) {
    try {
      await t.step("matrices_equal_gf_gen_cauchy1_matrix", async () => {
        for (const [k, m] of [[4, 2], [10, 4], [1, 255], [255, 1], [128, 128], [7, 9]]) {
          const isal = await runHarness(path, request("M", k, m, 0));
          assertBytes(cauchyMatrix(k, m), isal, `rs:${k}+${m}`);
        }
      });
      for (const kernel of allKernels()) {
        await t.step(`parity_equals_ec_encode_data_${kernel.name}`, async () => {
          await withSeed(testSeed(0x15a1), async (rand) => {
            for (const [k, m, length] of SHAPES) {
              const data = Array.from({ length: k }, () => rand.bytes(length));
              const ours = ReedSolomon.create(k, m, { kernel }).encode(data);
              const isal = split(
                await runHarness(path, request("E", k, m, length, data)),
                m,
                length,
              );
              ours.forEach((p, i) =>
                assertBytes(p, isal[i], `rs:${k}+${m} length ${length} parity ${i}`)
              );
            }
          });
        });
      }
      await t.step("isal_decodes_our_shards_and_we_decode_the_same", async () => {
        await withSeed(testSeed(0x15a2), async (rand) => {
          for (const [k, m, length] of SHAPES) {
            const rs = ReedSolomon.create(k, m);
            const data = Array.from({ length: k }, () => rand.bytes(length));
            const all = [...data, ...rs.encode(data)];
            // lose m shards, data ones first (the hard case), then random
            const order = Array.from({ length: k + m }, (_, i) => i);
            for (let i = order.length - 1; i > 0; i--) {
              const j = rand.int(i + 1);
              [order[i], order[j]] = [order[j], order[i]];
            }
            const lost = new Set(order.slice(0, m));
            const present = order.slice(m).sort((a, b) => a - b).slice(0, k);
            const isal = split(
              await runHarness(
                path,
                request("D", k, m, length, [u32s(present), ...present.map((i) => all[i])]),
              ),
              k,
              length,
            );
            const shards: (Uint8Array | undefined)[] = all.map((s, i) =>
              lost.has(i) ? undefined : s
            );
            rs.reconstruct(shards, { dataOnly: true });
            for (let i = 0; i < k; i++) {
              assertBytes(isal[i], data[i], `rs:${k}+${m}: ISA-L's decode of data shard ${i}`);
              assertBytes(shards[i]!, data[i], `rs:${k}+${m}: our decode of data shard ${i}`);
            }
          }
        });
      });
    } finally {
      if (!("error" in harness)) Deno.removeSync(harness.dir, { recursive: true });
    }
  },
});
