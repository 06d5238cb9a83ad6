/**
 * Building a Reed-Solomon file's manifest tree stripe by stripe (`addStripe`), and the leaf
 * fan-out that keeps whole stripes in one leaf (`erasureLeafFanout`).
 */
import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import {
  decodeManifest,
  encodeManifest,
  type Manifest,
  type ManifestEntry,
  manifestSizeV2,
} from "../../src/file/manifest.ts";
import { defaultFanout, erasureLeafFanout, resolvePutOptions } from "../../src/file/options.ts";
import type { ErasurePolicy, Redundancy } from "../../src/file/redundancy.ts";
import { ManifestTreeBuilder, type TreeBuilderOptions } from "../../src/file/tree_builder.ts";

const enc = new TextEncoder();
const BS = 1024;

/** A store that keeps every manifest by id text, in the order stored. */
function manifestStore() {
  const stored = new Map<string, Uint8Array>();
  const order: string[] = [];
  return {
    stored,
    order,
    store: async (bytes: Uint8Array) => {
      const id = await ContentId.of(bytes);
      stored.set(id.toString(), bytes);
      order.push(id.toString());
      return id;
    },
    get(id: ContentId): Manifest {
      const bytes = stored.get(id.toString());
      assert.ok(bytes, `manifest ${id} was not stored`);
      return decodeManifest(bytes);
    },
  };
}

/** `count` data blocks of BS bytes, the last one `last` bytes. */
async function dataBlocks(count: number, last = BS): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      id: await ContentId.of(enc.encode(`data ${i}`)),
      size: i === count - 1 ? last : BS,
    });
  }
  return out;
}

async function parityIds(stripe: number, m: number): Promise<ContentId[]> {
  const out: ContentId[] = [];
  for (let j = 0; j < m; j++) out.push(await ContentId.of(enc.encode(`parity ${stripe}.${j}`)));
  return out;
}

function builder(
  policy: Redundancy | undefined,
  store: (b: Uint8Array) => Promise<ContentId>,
  extra: Partial<TreeBuilderOptions> = {},
) {
  return new ManifestTreeBuilder({
    algorithm: "sha-256",
    blockSize: BS,
    fanout: 3,
    store,
    ...(policy ? { redundancy: policy } : {}),
    ...extra,
  });
}

async function expectRejects(p: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `not typed: ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("erasure_leaf_fanout_exact_values", () => {
  const rs = (k: number, m: number): ErasurePolicy => ({ kind: "rs", k, m });
  // The doc's example: 256 KiB blocks fit 1110 stripes of rs:4+2; fan-out caps at 1024.
  assert.equal(erasureLeafFanout(256 * 1024, "sha-256", rs(4, 2), 4096), 4096);
  // 1 KiB SHA-256: (1024 - 28) / (4*42 + 2*34) = 4 stripes (fan-out 23 would allow 5).
  assert.equal(erasureLeafFanout(1024, "sha-256", rs(4, 2), 23), 16);
  // fan-out is the bound: 10 / 4 = 2 stripes.
  assert.equal(erasureLeafFanout(1024, "sha-256", rs(4, 2), 10), 8);
  assert.equal(erasureLeafFanout(1024, "sha-256", rs(4, 2), 4), 4);
  // rs:10+4: one stripe needs 556 bytes, so one fits.
  assert.equal(erasureLeafFanout(1024, "sha-256", rs(10, 4), 23), 10);
  // rs:20+4 needs exactly 976 of the 996 bytes after the header.
  assert.equal(erasureLeafFanout(1024, "sha-256", rs(20, 4), 23), 20);
  // SHA-1: 4*30 + 2*22 = 164 bytes a stripe, 6 fit.
  assert.equal(erasureLeafFanout(1024, "sha-1", rs(4, 2), 33), 24);
  // k = 1: a stripe is one block and its m parity ids.
  assert.equal(erasureLeafFanout(1024, "sha-256", rs(1, 1), 23), 13);
  // rs:3+1 with fan-out 4096 and 4 MiB blocks: fan-out bound, rounded down to whole stripes.
  assert.equal(erasureLeafFanout(4 * 1024 * 1024, "sha-256", rs(3, 1), 4096), 4095);
});

Deno.test("erasure_leaf_fanout_always_fits_one_block_and_is_a_multiple_of_k", () => {
  for (const algorithm of ["sha-256", "sha-1"] as const) {
    for (const blockSize of [1024, 2048, 4096, 65536, 256 * 1024]) {
      const fanout = defaultFanout(blockSize, algorithm, true);
      for (let k = 1; k <= 16; k++) {
        for (const m of [1, 2, 4, 8]) {
          let leaf: number;
          try {
            leaf = erasureLeafFanout(blockSize, algorithm, { kind: "rs", k, m }, fanout);
          } catch (err) {
            assert.ok(err instanceof InvalidArgumentError);
            // Refused only when one stripe really does not fit.
            assert.ok(manifestSizeV2(algorithm, k, m) > blockSize || k > fanout);
            continue;
          }
          assert.equal(leaf % k, 0, `rs:${k}+${m} ${blockSize} ${algorithm}`);
          assert.ok(leaf >= k && leaf <= fanout);
          const stripes = leaf / k;
          assert.ok(manifestSizeV2(algorithm, leaf, stripes * m) <= blockSize);
          // One more stripe would break one of the two bounds.
          assert.ok(
            manifestSizeV2(algorithm, leaf + k, (stripes + 1) * m) > blockSize ||
              leaf + k > fanout,
          );
        }
      }
    }
  }
});

Deno.test("erasure_leaf_fanout_throws_when_one_stripe_cannot_fit", () => {
  // rs:20+5 needs 28 + 20*42 + 5*34 = 1038 bytes: more than a 1 KiB block.
  assert.throws(
    () => erasureLeafFanout(1024, "sha-256", { kind: "rs", k: 20, m: 5 }, 23),
    (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(
        err.message,
        "rs:20+5 does not fit: one stripe's manifest entries need 1038 bytes with 1024-byte blocks and fan-out 23",
      );
      return true;
    },
  );
  // A fan-out below k cannot hold one stripe, however large the block.
  assert.throws(
    () => erasureLeafFanout(256 * 1024, "sha-256", { kind: "rs", k: 4, m: 2 }, 3),
    InvalidArgumentError,
  );
  assert.throws(
    () => erasureLeafFanout(1024, "sha-256", { kind: "rs", k: 32, m: 32 }, 23),
    InvalidArgumentError,
  );
});

Deno.test("resolve_put_options_sets_leaf_fanout_for_rs", () => {
  const rs = resolvePutOptions({ blockSize: 1024, redundancy: { kind: "rs", k: 4, m: 2 } });
  assert.equal(rs.fanout, 23);
  assert.equal(rs.leafFanout, 16);
  assert.deepEqual(rs.redundancy, { kind: "rs", k: 4, m: 2 });
  const rep = resolvePutOptions({
    blockSize: 1024,
    redundancy: { kind: "replicas", min: 2, max: 3 },
  });
  assert.equal(rep.leafFanout, rep.fanout);
  const v1 = resolvePutOptions({ blockSize: 1024 });
  assert.equal(v1.leafFanout, v1.fanout);
  assert.equal("redundancy" in v1, false);
  // A version 2 header is 4 bytes longer: at 1284-byte blocks the fan-out drops from 30 to 29.
  assert.equal(resolvePutOptions({ blockSize: 1284 }).fanout, 30);
  assert.equal(
    resolvePutOptions({ blockSize: 1284, redundancy: { kind: "replicas", min: 3, max: 3 } })
      .fanout,
    29,
  );
  assert.throws(
    () => resolvePutOptions({ blockSize: 1024, redundancy: { kind: "rs", k: 20, m: 5 } }),
    /does not fit/,
  );
  assert.throws(
    () => resolvePutOptions({ blockSize: 1024, redundancy: { kind: "rs", k: 4, m: 2 }, fanout: 3 }),
    /does not fit/,
  );
  assert.throws(
    () => resolvePutOptions({ redundancy: { kind: "rs", k: 0, m: 2 } }),
    InvalidArgumentError,
  );
});

Deno.test("tree_builder_stripes_leaves_hold_whole_stripes", async () => {
  const policy: ErasurePolicy = { kind: "rs", k: 2, m: 1 };
  const s = manifestStore();
  const b = builder(policy, s.store, { leafFanout: 4, fanout: 3 });
  const data = await dataBlocks(11, 300);
  const parity: ContentId[][] = [];
  for (let i = 0, stripe = 0; i < data.length; i += 2, stripe++) {
    parity.push(await parityIds(stripe, 1));
    await b.addStripe(data.slice(i, i + 2), parity[stripe]);
    // A leaf is stored as soon as it holds leafFanout blocks.
    assert.equal(b.manifests, Math.floor(Math.min(i + 2, data.length) / 4));
  }
  const root = await b.finish();
  // 3 leaves (4, 4, 3 blocks) and one inner root over them.
  assert.equal(b.manifests, 4);
  assert.equal(s.stored.size, 4);
  const top = s.get(root);
  assert.equal(top.kind, "inner");
  assert.equal(top.height, 1);
  assert.equal(top.size, 10 * BS + 300);
  assert.deepEqual(top.redundancy, policy);
  assert.deepEqual(top.parity, []);
  assert.deepEqual(top.children.map((c) => c.size), [4 * BS, 4 * BS, 2 * BS + 300]);
  const leaves = top.children.map((c) => s.get(c.id));
  assert.deepEqual(leaves.map((l) => l.children.length), [4, 4, 3]);
  assert.deepEqual(leaves.map((l) => l.parity!.length), [2, 2, 2]);
  for (let l = 0; l < 3; l++) {
    const leaf = leaves[l];
    assert.equal(leaf.kind, "leaf");
    assert.deepEqual(leaf.redundancy, policy);
    for (let j = 0; j < leaf.children.length; j++) {
      assert.ok(leaf.children[j].id.equals(data[l * 4 + j].id), `leaf ${l} child ${j}`);
      assert.equal(leaf.children[j].size, data[l * 4 + j].size);
    }
    // Each leaf lists the parity of its own stripes, in stripe order.
    for (let p = 0; p < leaf.parity!.length; p++) {
      assert.ok(leaf.parity![p].equals(parity[l * 2 + p][0]), `leaf ${l} parity ${p}`);
    }
  }
  // The last leaf ends with the short stripe: one data block, still one parity id.
  assert.equal(leaves[2].children[2].size, 300);
});

Deno.test("tree_builder_stripes_root_is_the_hand_encoded_manifest", async () => {
  const policy: ErasurePolicy = { kind: "rs", k: 3, m: 2 };
  const s = manifestStore();
  const b = builder(policy, s.store, { leafFanout: 6, fanout: 4 });
  const data = await dataBlocks(5, 10);
  const p0 = await parityIds(0, 2);
  const p1 = await parityIds(1, 2);
  await b.addStripe(data.slice(0, 3), p0);
  await b.addStripe(data.slice(3), p1); // short last stripe: 2 of 3
  const root = await b.finish();
  assert.equal(b.manifests, 1);
  const expected = encodeManifest({
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: BS,
    size: 4 * BS + 10,
    children: data,
    redundancy: policy,
    parity: [...p0, ...p1],
  });
  assert.equal(root.toString(), (await ContentId.of(expected)).toString());
  assert.deepEqual(s.stored.get(root.toString()), expected);
});

Deno.test("tree_builder_stripes_exactly_one_full_leaf_is_the_root", async () => {
  const policy: ErasurePolicy = { kind: "rs", k: 2, m: 2 };
  const s = manifestStore();
  const b = builder(policy, s.store, { leafFanout: 4 });
  const data = await dataBlocks(4);
  await b.addStripe(data.slice(0, 2), await parityIds(0, 2));
  await b.addStripe(data.slice(2), await parityIds(1, 2));
  assert.equal(b.manifests, 1);
  const root = await b.finish();
  assert.equal(b.manifests, 1);
  assert.equal(s.order.length, 1);
  assert.equal(root.toString(), s.order[0]);
  const leaf = s.get(root);
  assert.equal(leaf.kind, "leaf");
  assert.equal(leaf.children.length, 4);
  assert.equal(leaf.parity!.length, 4);
});

Deno.test("tree_builder_stripes_empty_file_is_an_empty_rs_leaf", async () => {
  const policy: ErasurePolicy = { kind: "rs", k: 4, m: 2 };
  const s = manifestStore();
  const root = await builder(policy, s.store, { leafFanout: 8 }).finish();
  const leaf = s.get(root);
  assert.deepEqual(leaf, {
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: BS,
    size: 0,
    children: [],
    redundancy: policy,
    parity: [],
  });
});

Deno.test("tree_builder_stripes_default_leaf_fanout_is_fanout", async () => {
  // Without leafFanout, a leaf holds `fanout` blocks (here 4 = two stripes of 2).
  const policy: ErasurePolicy = { kind: "rs", k: 2, m: 1 };
  const s = manifestStore();
  const b = builder(policy, s.store, { fanout: 4 });
  const data = await dataBlocks(6);
  for (let i = 0; i < 6; i += 2) await b.addStripe(data.slice(i, i + 2), await parityIds(i, 1));
  const top = s.get(await b.finish());
  assert.equal(top.kind, "inner");
  assert.deepEqual(top.children.map((c) => s.get(c.id).children.length), [4, 2]);
});

Deno.test("tree_builder_stripes_refuses_add_on_an_rs_builder", async () => {
  const s = manifestStore();
  const b = builder({ kind: "rs", k: 2, m: 1 }, s.store, { leafFanout: 4 });
  const [d] = await dataBlocks(1);
  await expectRejects(b.add(d), /built stripe by stripe \(addStripe\)/);
  assert.equal(s.stored.size, 0);
});

Deno.test("tree_builder_stripes_refuses_add_stripe_without_rs", async () => {
  const data = await dataBlocks(2);
  const parity = await parityIds(0, 1);
  for (const policy of [undefined, { kind: "replicas", min: 2, max: 3 } as Redundancy]) {
    const s = manifestStore();
    const b = builder(policy, s.store);
    await expectRejects(b.addStripe(data, parity), /not a Reed-Solomon file/);
    // add() still works there, and a replicas builder writes v2 manifests with its policy.
    await b.add(data[0]);
    const root = s.get(await b.finish());
    assert.deepEqual(root.redundancy, policy);
    assert.equal(s.stored.get(s.order[0])![4], policy ? 2 : 1);
  }
});

Deno.test("tree_builder_stripes_refuses_a_short_stripe_that_is_not_last", async () => {
  const s = manifestStore();
  const b = builder({ kind: "rs", k: 3, m: 1 }, s.store, { leafFanout: 6 });
  const data = await dataBlocks(7);
  await b.addStripe(data.slice(0, 3), await parityIds(0, 1));
  await b.addStripe(data.slice(3, 5), await parityIds(1, 1)); // short
  await expectRejects(
    b.addStripe(data.slice(5, 7), await parityIds(2, 1)),
    /a short stripe must be the file's last/,
  );
  await expectRejects(
    b.addStripe(data.slice(5, 6), await parityIds(2, 1)),
    /a short stripe must be the file's last/,
  );
});

Deno.test("tree_builder_stripes_refuses_a_short_stripe_not_last_even_across_a_leaf", async () => {
  // A leafFanout that is not a multiple of k breaks the whole-stripe rule. Either the builder
  // refuses it up front, or it must still refuse a stripe after a short one, even when the
  // short stripe happened to fill a leaf (here 2 + 1 = 3 blocks).
  const s = manifestStore();
  let b: ManifestTreeBuilder;
  try {
    b = builder({ kind: "rs", k: 2, m: 1 }, s.store, { leafFanout: 3 });
  } catch (err) {
    assert.ok(err instanceof InvalidArgumentError);
    return;
  }
  const data = await dataBlocks(5);
  let refused = false;
  try {
    await b.addStripe(data.slice(0, 2), await parityIds(0, 1));
    await b.addStripe(data.slice(2, 3), await parityIds(1, 1)); // short
    await b.addStripe(data.slice(3, 5), await parityIds(2, 1));
  } catch (err) {
    assert.ok(err instanceof InvalidArgumentError, `not typed: ${err}`);
    refused = true;
  }
  assert.ok(refused, "a stripe after a short stripe was accepted");
});

Deno.test("tree_builder_stripes_refuses_wrong_counts", async () => {
  const s = manifestStore();
  const b = builder({ kind: "rs", k: 2, m: 2 }, s.store, { leafFanout: 4 });
  const data = await dataBlocks(3);
  const pattern = /a stripe has 1..2 data blocks and 2 parity ids, got (\d+) and (\d+)/;
  await expectRejects(b.addStripe(data.slice(0, 2), await parityIds(0, 1)), pattern);
  await expectRejects(b.addStripe(data.slice(0, 2), await parityIds(0, 3)), pattern);
  await expectRejects(b.addStripe(data.slice(0, 2), []), /got 2 and 0/);
  await expectRejects(b.addStripe([], await parityIds(0, 2)), /got 0 and 2/);
  await expectRejects(b.addStripe(data, await parityIds(0, 2)), /got 3 and 2/);
  // Nothing was taken: a good stripe still goes in first.
  await b.addStripe(data.slice(0, 2), await parityIds(0, 2));
  const leaf = s.get(await b.finish());
  assert.equal(leaf.children.length, 2);
  assert.equal(leaf.parity!.length, 2);
});

Deno.test("tree_builder_stripes_refuses_after_finish", async () => {
  const s = manifestStore();
  const b = builder({ kind: "rs", k: 2, m: 1 }, s.store, { leafFanout: 4 });
  const data = await dataBlocks(2);
  await b.addStripe(data, await parityIds(0, 1));
  await b.finish();
  await expectRejects(b.addStripe(data, await parityIds(1, 1)), /already finished/);
  await expectRejects(b.finish(), /already finished/);
});

Deno.test("tree_builder_stripes_same_input_same_root", async () => {
  const policy: ErasurePolicy = { kind: "rs", k: 4, m: 2 };
  const data = await dataBlocks(19, 1);
  const roots: string[] = [];
  for (let run = 0; run < 2; run++) {
    const s = manifestStore();
    const b = builder(policy, s.store, { leafFanout: 8, fanout: 2 });
    for (let i = 0, st = 0; i < data.length; i += 4, st++) {
      await b.addStripe(data.slice(i, i + 4), await parityIds(st, 2));
    }
    roots.push((await b.finish()).toString());
    // 19 blocks in leaves of 8: 3 leaves, then 2 inner levels (fan-out 2): 3 + 2 + 1 manifests.
    assert.equal(b.manifests, 6);
    const top = s.get(ContentId.parse(roots.at(-1)!));
    assert.equal(top.height, 2);
    assert.equal(top.size, 18 * BS + 1);
  }
  assert.equal(roots[0], roots[1]);
});
