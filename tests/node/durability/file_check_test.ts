/**
 * `checkFile`, `healthWord` and `sampleStripe`: one round of FILE_PROBE answers turned into a
 * file's health, for replicas and Reed-Solomon policies.
 */
import assert from "node:assert/strict";
import { ContentId } from "../../../src/id/content_id.ts";
import { AbortedError, TimeoutError } from "../../../src/errors.ts";
import { encodeManifest, type Manifest } from "../../../src/file/manifest.ts";
import { CorruptFileError } from "../../../src/file/errors.ts";
import type { Redundancy } from "../../../src/file/redundancy.ts";
import type { FileProbeResult } from "../../../src/peer/block_service.ts";
import type { RemoteCallOptions, RemotePeer } from "../../../src/node/remote.ts";
import type { WireTombstone } from "../../../src/wire/messages.ts";
import {
  checkFile,
  type CheckFileOptions,
  healthWord,
  matchColumns,
  type SampleStripe,
  sampleStripe,
} from "../../../src/node/durability/file_check.ts";
import { putFile } from "../../../src/file/put_file.ts";
import { loadRoot } from "../../../src/file/tree_walker.ts";
import { decodeManifest } from "../../../src/file/manifest.ts";
import { encodeStripe } from "../../../src/file/stripes.ts";
import { MemoryBlocks } from "../../file/_fakes.ts";
import { randomBytes, testSeed } from "../../util/prng.ts";

const enc = new TextEncoder();
const id = (s: string) => ContentId.of(enc.encode(s));
const REP3: Redundancy = { kind: "replicas", min: 3, max: 3 };
const RS42: Redundancy = { kind: "rs", k: 4, m: 2 };

interface ProbeCall {
  readonly fileId: string;
  readonly ids: string[];
  readonly options?: RemoteCallOptions;
}

interface FakePeer extends RemotePeer {
  readonly calls: ProbeCall[];
}

/** A peer whose probe answers `answer(ids)`; an Error is thrown instead. */
function fakePeer(
  nodeId: string,
  answer: (ids: readonly ContentId[]) => FileProbeResult | Error,
): FakePeer {
  const calls: ProbeCall[] = [];
  return {
    nodeId,
    calls,
    probe(fileId: ContentId, ids: readonly ContentId[], options?: RemoteCallOptions) {
      calls.push({ fileId: fileId.toString(), ids: ids.map(String), options });
      const a = answer(ids);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  } as unknown as FakePeer;
}

/** A peer that holds exactly `held` (compared by id text), with an optional tombstone. */
function holding(nodeId: string, held: readonly ContentId[], tombstone?: WireTombstone) {
  const set = new Set(held.map(String));
  return fakePeer(nodeId, (ids) => ({
    has: ids.map((i) => set.has(i.toString())),
    ...(tombstone ? { tombstone } : {}),
  }));
}

const silentPeer = (nodeId: string) =>
  fakePeer(nodeId, () => new TimeoutError(`${nodeId} timed out`));

function self(nodeId: string, held: readonly ContentId[]) {
  const set = new Set(held.map(String));
  const asked: string[][] = [];
  return {
    nodeId,
    asked,
    has(ids: readonly ContentId[]) {
      asked.push(ids.map(String));
      return Promise.resolve(ids.map((i) => set.has(i.toString())));
    },
  };
}

function tombstone(fileId: ContentId, deletedAt: number): WireTombstone {
  return {
    fileId: fileId.bytes,
    issuer: new Uint8Array(32).fill(deletedAt & 0xff),
    deletedAt,
    expiresAt: deletedAt + 1000,
    signature: new Uint8Array(64),
  };
}

async function setup() {
  const fileId = await id("the file");
  const cols: ContentId[] = [];
  for (let c = 0; c < 6; c++) cols.push(await id(`shard ${c}`));
  return { fileId, cols, sample: { columns: cols } as SampleStripe };
}

function options(
  o: Partial<CheckFileOptions> & Pick<CheckFileOptions, "fileId" | "policy" | "self">,
) {
  return { peers: [], timeoutMs: 1234, ...o } as CheckFileOptions;
}

Deno.test("health_word_replicas_boundaries", () => {
  assert.equal(healthWord(REP3, 4), "healthy");
  assert.equal(healthWord(REP3, 3), "healthy");
  assert.equal(healthWord(REP3, 2), "degraded");
  assert.equal(healthWord(REP3, 1), "at risk");
  assert.equal(healthWord(REP3, 0), "lost");
  const rep25: Redundancy = { kind: "replicas", min: 2, max: 5 };
  assert.equal(healthWord(rep25, 5), "healthy");
  assert.equal(healthWord(rep25, 2), "healthy");
  assert.equal(healthWord(rep25, 1), "at risk");
  assert.equal(healthWord(rep25, 0), "lost");
  const rep1: Redundancy = { kind: "replicas", min: 1, max: 1 };
  assert.equal(healthWord(rep1, 1), "healthy");
  assert.equal(healthWord(rep1, 0), "lost");
  const rep5: Redundancy = { kind: "replicas", min: 5, max: 5 };
  assert.equal(healthWord(rep5, 4), "degraded");
  assert.equal(healthWord(rep5, 2), "degraded");
  assert.equal(healthWord(rep5, 1), "at risk");
});

Deno.test("health_word_rs_boundaries", () => {
  assert.equal(healthWord(RS42, 6), "healthy");
  assert.equal(healthWord(RS42, 5), "degraded");
  assert.equal(healthWord(RS42, 4), "at risk");
  assert.equal(healthWord(RS42, 3), "lost");
  assert.equal(healthWord(RS42, 0), "lost");
  const rs104: Redundancy = { kind: "rs", k: 10, m: 4 };
  assert.equal(healthWord(rs104, 14), "healthy");
  assert.equal(healthWord(rs104, 13), "degraded");
  assert.equal(healthWord(rs104, 11), "degraded");
  assert.equal(healthWord(rs104, 10), "at risk");
  assert.equal(healthWord(rs104, 9), "lost");
  const rs11: Redundancy = { kind: "rs", k: 1, m: 1 };
  assert.equal(healthWord(rs11, 2), "healthy");
  assert.equal(healthWord(rs11, 1), "at risk");
  assert.equal(healthWord(rs11, 0), "lost");
});

Deno.test("check_file_replicas_counts_nodes_with_the_root", async () => {
  const { fileId, cols } = await setup();
  const a = holding("aa", [fileId]);
  const b = holding("bb", [fileId, cols[0]]);
  const c = holding("cc", [cols[0]]); // answers, but without the root
  const d = silentPeer("dd");
  const me = self("00", [fileId]);
  const ac = new AbortController();
  const check = await checkFile(options({
    fileId,
    policy: REP3,
    self: me,
    peers: [a, b, c, d],
    timeoutMs: 777,
    signal: ac.signal,
  }));
  assert.equal(check.health, "healthy");
  assert.equal(check.live, 3);
  assert.equal(check.target, 3);
  assert.deepEqual(check.holders, [{ nodeId: "00" }, { nodeId: "aa" }, { nodeId: "bb" }]);
  assert.equal(check.unreachable, 1);
  assert.deepEqual(check.silent.map((p) => p.nodeId), ["dd"]);
  assert.deepEqual(
    check.answers.map((x) => [x.nodeId, x.root, x.columns]),
    [["00", true, []], ["aa", true, []], ["bb", true, []], ["cc", false, []]],
  );
  assert.equal(check.answers[0].peer, undefined);
  assert.equal("peer" in check.answers[0], false);
  assert.equal(check.answers[1].peer, a);
  assert.deepEqual(check.tombstones, []);
  assert.deepEqual(check.missingColumns, []);
  assert.equal("deletedAt" in check, false);
  // Without a sample only the root is asked for, with the time limit and signal passed on.
  assert.deepEqual(me.asked, [[fileId.toString()]]);
  for (const p of [a, b, c, d]) {
    assert.equal(p.calls.length, 1);
    assert.equal(p.calls[0].fileId, fileId.toString());
    assert.deepEqual(p.calls[0].ids, [fileId.toString()]);
    assert.equal(p.calls[0].options?.timeoutMs, 777);
    assert.equal(p.calls[0].options?.signal, ac.signal);
  }
});

Deno.test("check_file_replicas_health_at_every_boundary", async () => {
  const { fileId } = await setup();
  const expected = ["lost", "at risk", "degraded", "healthy", "healthy"];
  for (let live = 0; live <= 4; live++) {
    // self holds the root when live > 0; live - 1 of four peers hold it.
    const peers = ["a1", "b2", "c3", "d4"].map((n, i) => holding(n, i < live - 1 ? [fileId] : []));
    const check = await checkFile(options({
      fileId,
      policy: REP3,
      self: self("00", live > 0 ? [fileId] : []),
      peers,
    }));
    assert.equal(check.live, live);
    assert.equal(check.health, expected[live], `live ${live}`);
    assert.equal(check.holders.length, live);
    assert.equal(check.answers.length, 5);
    assert.equal(check.unreachable, 0);
  }
});

Deno.test("check_file_replicas_short_answer_means_no_root", async () => {
  const { fileId } = await setup();
  const empty = fakePeer("ee", () => ({ has: [] }));
  const check = await checkFile(options({
    fileId,
    policy: REP3,
    self: self("00", []),
    peers: [empty],
  }));
  assert.equal(check.live, 0);
  assert.equal(check.health, "lost");
  assert.deepEqual(check.answers.map((x) => x.root), [false, false]);
});

Deno.test("check_file_rs_columns_from_has_bits", async () => {
  const { fileId, cols, sample } = await setup();
  const me = self("00", [fileId, cols[3]]);
  const a = holding("aa", [fileId, cols[0], cols[1]]);
  const b = holding("bb", [cols[2]]); // column 2 but no root: not counted
  const c = holding("cc", [fileId, cols[4]]);
  const d = holding("dd", [fileId]); // root but no column: answers, holds nothing
  const e = holding("ee", [fileId, cols[5]]);
  const f = holding("ff", [fileId, cols[1]]);
  const check = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: me,
    peers: [a, b, c, d, e, f],
  }));
  assert.equal(check.live, 5);
  assert.equal(check.target, 6);
  assert.equal(check.health, "degraded");
  assert.deepEqual(check.missingColumns, [2]);
  assert.deepEqual(check.realColumns, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(check.holders, [
    { nodeId: "00", columns: [3] },
    { nodeId: "aa", columns: [0, 1] },
    { nodeId: "cc", columns: [4] },
    { nodeId: "ee", columns: [5] },
    { nodeId: "ff", columns: [1] },
  ]);
  assert.deepEqual(
    check.answers.map((x) => [x.nodeId, x.root, x.columns]),
    [
      ["00", true, [3]],
      ["aa", true, [0, 1]],
      ["bb", false, []],
      ["cc", true, [4]],
      ["dd", true, []],
      ["ee", true, [5]],
      ["ff", true, [1]],
    ],
  );
  // The probe asks for the root, then the shard of each column, in column order.
  const asked = [fileId, ...cols].map(String);
  assert.deepEqual(me.asked, [asked]);
  assert.deepEqual(a.calls[0].ids, asked);
});

Deno.test("check_file_rs_health_at_every_boundary", async () => {
  const { fileId, cols, sample } = await setup();
  const expected: Record<number, string> = {
    6: "healthy",
    5: "degraded",
    4: "at risk",
    3: "lost",
    0: "lost",
  };
  for (const live of [6, 5, 4, 3, 0]) {
    // Column c is held by peer c while c < live; self holds the root only.
    const peers = cols.map((col, c) => holding(`p${c}`, c < live ? [fileId, col] : [fileId]));
    const check = await checkFile(options({
      fileId,
      policy: RS42,
      sample,
      self: self("00", [fileId]),
      peers,
    }));
    assert.equal(check.live, live);
    assert.equal(check.health, expected[live], `live ${live}`);
    assert.deepEqual(check.missingColumns, [0, 1, 2, 3, 4, 5].filter((c) => c >= live));
    assert.equal(check.holders.length, live);
  }
});

Deno.test("check_file_rs_each_node_counts_for_one_column", async () => {
  const { fileId, cols, sample } = await setup();
  // Three nodes between them hold every column (6 shards per stripe), but each holds two: three
  // columns have no node of their own, and losing two nodes loses the file.
  let check = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: self("00", [fileId, cols[0], cols[3]]),
    peers: [
      holding("aa", [fileId, cols[1], cols[4]]),
      holding("bb", [fileId, cols[2], cols[5]]),
    ],
  }));
  assert.equal(check.live, 6);
  assert.equal(check.spread, 3);
  assert.equal(check.survives, 1);
  assert.equal(check.health, "degraded");
  assert.equal(check.below, true);
  assert.deepEqual(check.missingColumns, [3, 4, 5]);
  assert.deepEqual(check.absentColumns, []);
  assert.equal(check.holders.length, 3);
  // One node holding everything: one column's worth.
  check = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: self("00", [fileId, ...cols]),
  }));
  assert.equal(check.live, 6);
  assert.equal(check.spread, 1);
  assert.equal(check.survives, 0);
  assert.equal(check.health, "at risk");
  assert.deepEqual(check.holders, [{ nodeId: "00", columns: [0, 1, 2, 3, 4, 5] }]);
  assert.deepEqual(check.missingColumns, [1, 2, 3, 4, 5]);
});

Deno.test("check_file_rs_matching_reassigns_columns", async () => {
  const { fileId, cols, sample } = await setup();
  // aa could take 0 or 1, bb only 0; cc 2 or 3, dd only 2: a maximum matching gives all four
  // a column of their own, and ee one of 4 and 5.
  const check = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: self("00", []),
    peers: [
      holding("aa", [fileId, cols[0], cols[1]]),
      holding("bb", [fileId, cols[0]]),
      holding("cc", [fileId, cols[2], cols[3]]),
      holding("dd", [fileId, cols[2]]),
      holding("ee", [fileId, cols[4], cols[5]]),
    ],
  }));
  assert.equal(check.live, 6);
  assert.equal(check.spread, 5);
  assert.equal(check.survives, 1);
  assert.equal(check.health, "degraded");
  assert.deepEqual(check.missingColumns, [5]);
  // Duplicates of the same columns add nothing.
  const dup = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: self("00", []),
    peers: [
      holding("aa", [fileId, cols[0], cols[1]]),
      holding("bb", [fileId, cols[0], cols[1]]),
      holding("cc", [fileId, cols[0], cols[1]]),
      holding("dd", [fileId, cols[2]]),
    ],
  }));
  assert.equal(dup.live, 3);
  assert.equal(dup.spread, 3);
  assert.equal(dup.health, "lost");
  assert.deepEqual(dup.missingColumns, [3, 4, 5]);
  assert.deepEqual(dup.absentColumns, [3, 4, 5]);
});

Deno.test("match_columns_is_a_maximum_matching", () => {
  const size = (held: number[][], columns: number[]) => matchColumns(held, columns).size;
  assert.deepEqual(matchColumns([[0, 1], [0]], [0, 1]), new Set([0, 1]));
  assert.equal(size([[0, 1], [0], [1]], [0, 1]), 2);
  assert.equal(size([[0, 1, 2], [0], [1]], [0, 1, 2]), 3);
  // A chain that needs two reassignments: 0-1, 1-2, then 0 only.
  assert.equal(size([[0, 1], [1, 2], [0]], [0, 1, 2]), 3);
  // Columns not asked for are ignored.
  assert.equal(size([[7], [8, 0]], [0]), 1);
  assert.equal(size([[7]], [0, 1]), 0);
  assert.equal(size([], [0, 1]), 0);
  assert.equal(size([[0], [0], [0]], [0, 1, 2]), 1);
  // Every node holding all of 64 columns: 64 nodes match 64 columns.
  const all = Array.from({ length: 64 }, (_, i) => i);
  assert.equal(size(Array.from({ length: 64 }, () => all), all), 64);
  assert.equal(size(Array.from({ length: 10 }, () => all), all), 10);
});

Deno.test("check_file_rs_short_first_stripe_missing_data_columns_are_present", async () => {
  const { fileId, cols } = await setup();
  // Two data blocks (columns 0 and 1); columns 2 and 3 are zeros; parity in 4 and 5.
  const sample: SampleStripe = {
    columns: [cols[0], cols[1], undefined, undefined, cols[4], cols[5]],
  };
  const me = self("00", [fileId, cols[0]]);
  const a = holding("aa", [fileId, cols[4]]);
  const b = holding("bb", [fileId, cols[5], cols[2]]); // cols[2] is not asked for
  const check = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: me,
    peers: [a, b],
  }));
  // Only the ids that exist are asked for: root, 0, 1, 4, 5.
  assert.deepEqual(me.asked, [[fileId, cols[0], cols[1], cols[4], cols[5]].map(String)]);
  assert.deepEqual(a.calls[0].ids, me.asked[0]);
  // has bit i maps back to the right column.
  assert.deepEqual(check.answers.map((x) => x.columns), [[0], [4], [5]]);
  assert.equal(check.live, 5); // 0, 4, 5 held + 2, 3 zeros
  assert.equal(check.health, "degraded");
  assert.deepEqual(check.missingColumns, [1]);
  assert.deepEqual(check.realColumns, [0, 1, 4, 5]);
});

Deno.test("check_file_rs_short_stripe_with_nothing_held_is_lost", async () => {
  const { fileId, cols } = await setup();
  const sample: SampleStripe = {
    columns: [cols[0], undefined, undefined, undefined, cols[4], cols[5]],
  };
  const check = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: self("00", []),
    peers: [holding("aa", []), silentPeer("bb")],
  }));
  assert.equal(check.live, 3);
  assert.equal(check.health, "lost");
  assert.deepEqual(check.missingColumns, [0, 4, 5]);
  assert.deepEqual(check.realColumns, [0, 4, 5]);
  assert.deepEqual(check.holders, []);
  assert.equal(check.unreachable, 1);
});

Deno.test("check_file_rs_without_sample_nobody_holding_the_root_is_not_healthy", async () => {
  // An rs file without stripes (empty) has only its root. When no node that answered holds
  // the root, the file is gone, and its health must say so.
  const { fileId } = await setup();
  const check = await checkFile(options({
    fileId,
    policy: RS42,
    self: self("00", []),
    peers: [holding("aa", []), holding("bb", [])],
  }));
  assert.deepEqual(check.holders, []);
  assert.notEqual(check.health, "healthy", `live ${check.live} with no holder at all`);
  assert.equal(check.health, "lost");
});

Deno.test("check_file_collects_tombstones_and_earliest_deleted_at", async () => {
  const { fileId } = await setup();
  const t1 = tombstone(fileId, 5000);
  const t2 = tombstone(fileId, 3000);
  const t3 = tombstone(fileId, 4000);
  const check = await checkFile(options({
    fileId,
    policy: REP3,
    self: self("00", [fileId]),
    peers: [
      holding("aa", [fileId], t1),
      holding("bb", [], t2),
      holding("cc", [fileId]),
      holding("dd", [fileId], t3),
      silentPeer("ee"),
    ],
  }));
  assert.equal(check.tombstones.length, 3);
  assert.deepEqual(new Set(check.tombstones), new Set([t1, t2, t3]));
  assert.equal(check.deletedAt, 3000);
  // Tombstones do not change the count of holders.
  assert.equal(check.live, 4);
  assert.equal(check.health, "healthy");
  assert.equal(check.unreachable, 1);
});

Deno.test("check_file_all_silent", async () => {
  const { fileId, sample } = await setup();
  const check = await checkFile(options({
    fileId,
    policy: RS42,
    sample,
    self: self("00", []),
    peers: [silentPeer("aa"), silentPeer("bb"), fakePeer("cc", () => new Error("plain"))],
  }));
  assert.equal(check.unreachable, 3);
  assert.deepEqual(check.silent.map((p) => p.nodeId), ["aa", "bb", "cc"]);
  assert.deepEqual(check.answers.map((a) => a.nodeId), ["00"]);
  assert.equal(check.live, 0);
  assert.equal(check.health, "lost");
  assert.deepEqual(check.missingColumns, [0, 1, 2, 3, 4, 5]);
});

Deno.test("check_file_rejects_when_aborted", async () => {
  const { fileId } = await setup();
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    checkFile(options({
      fileId,
      policy: REP3,
      self: self("00", [fileId]),
      peers: [fakePeer("aa", () => new AbortedError("probe aborted"))],
      signal: ac.signal,
    })),
    AbortedError,
  );
});

Deno.test("check_file_probes_in_parallel", async () => {
  const { fileId } = await setup();
  let started = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const slow = (nodeId: string) =>
    ({
      nodeId,
      async probe() {
        started++;
        await gate;
        return { has: [true] };
      },
    }) as unknown as RemotePeer;
  const done = checkFile(options({
    fileId,
    policy: REP3,
    self: self("00", []),
    peers: [slow("aa"), slow("bb"), slow("cc")],
  }));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(started, 3);
  release();
  assert.equal((await done).live, 3);
});

// ---- sampleStripe ------------------------------------------------------------------------

const BS = 1024;

/** Hand-built rs leaf: `n` data blocks (the last `last` bytes) and made-up parity ids. */
async function rsLeaf(policy: Redundancy & { kind: "rs" }, n: number, tag: string, last = BS) {
  const children = [];
  for (let i = 0; i < n; i++) {
    children.push({ id: await id(`${tag} data ${i}`), size: i === n - 1 ? last : BS });
  }
  const parity: ContentId[] = [];
  for (let i = 0; i < Math.ceil(n / policy.k) * policy.m; i++) {
    parity.push(await id(`${tag} parity ${i}`));
  }
  const m: Manifest = {
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: BS,
    size: children.reduce((a, c) => a + c.size, 0),
    children,
    redundancy: policy,
    parity,
  };
  return m;
}

async function put(mem: MemoryBlocks, m: Manifest) {
  const bytes = encodeManifest(m);
  return { id: await mem.putBlock(bytes), size: m.size };
}

Deno.test("sample_stripe_of_a_leaf_root", async () => {
  const policy = { kind: "rs", k: 4, m: 2 } as const;
  const root = await rsLeaf(policy, 6, "x", 10);
  const mem = new MemoryBlocks();
  const sample = await sampleStripe(root, mem);
  assert.ok(sample);
  assert.deepEqual(
    sample.columns.map(String),
    [...root.children.slice(0, 4).map((c) => c.id), root.parity![0], root.parity![1]].map(String),
  );
  // A root leaf needs no fetch.
  assert.deepEqual(mem.gets, []);
});

Deno.test("sample_stripe_short_first_stripe_has_holes", async () => {
  const policy = { kind: "rs", k: 4, m: 2 } as const;
  const root = await rsLeaf(policy, 2, "y", 7);
  const sample = await sampleStripe(root, new MemoryBlocks());
  assert.ok(sample);
  assert.equal(sample.columns.length, 6);
  assert.equal(sample.columns[0]!.toString(), root.children[0].id.toString());
  assert.equal(sample.columns[1]!.toString(), root.children[1].id.toString());
  assert.equal(sample.columns[2], undefined);
  assert.equal(sample.columns[3], undefined);
  assert.equal(sample.columns[4]!.toString(), root.parity![0].toString());
  assert.equal(sample.columns[5]!.toString(), root.parity![1].toString());
});

Deno.test("sample_stripe_walks_first_children_of_a_tall_tree", async () => {
  const policy = { kind: "rs", k: 2, m: 1 } as const;
  const mem = new MemoryBlocks();
  const leaf0 = await rsLeaf(policy, 4, "l0");
  const leaf1 = await rsLeaf(policy, 3, "l1", 5);
  const e0 = await put(mem, leaf0);
  const e1 = await put(mem, leaf1);
  const inner0: Manifest = {
    kind: "inner",
    height: 1,
    algorithm: "sha-256",
    blockSize: BS,
    size: e0.size + e1.size,
    children: [e0, e1],
    redundancy: policy,
    parity: [],
  };
  const i0 = await put(mem, inner0);
  const other = await put(mem, { ...inner0, children: [e1], size: e1.size });
  const root: Manifest = {
    kind: "inner",
    height: 2,
    algorithm: "sha-256",
    blockSize: BS,
    size: i0.size + other.size,
    children: [i0, other],
    redundancy: policy,
    parity: [],
  };
  mem.gets.length = 0;
  const sample = await sampleStripe(root, mem);
  assert.ok(sample);
  assert.deepEqual(
    sample.columns.map(String),
    [leaf0.children[0].id, leaf0.children[1].id, leaf0.parity![0]].map(String),
  );
  // Only the first-child chain was fetched: inner0 then leaf0.
  assert.deepEqual(mem.gets, [i0.id.toString(), e0.id.toString()]);
});

Deno.test("sample_stripe_undefined_without_stripes", async () => {
  const mem = new MemoryBlocks();
  // An empty rs file.
  const empty = await rsLeaf({ kind: "rs", k: 4, m: 2 }, 0, "e");
  assert.equal(await sampleStripe({ ...empty, size: 0 }, mem), undefined);
  // A replicated file (v2) and a v1 file.
  const d = await id("d");
  const plain: Manifest = {
    kind: "leaf",
    height: 0,
    algorithm: "sha-256",
    blockSize: BS,
    size: 3,
    children: [{ id: d, size: 3 }],
  };
  assert.equal(await sampleStripe(plain, mem), undefined);
  assert.equal(
    await sampleStripe(
      { ...plain, redundancy: { kind: "replicas", min: 2, max: 3 }, parity: [] },
      mem,
    ),
    undefined,
  );
  assert.deepEqual(mem.gets, []);
});

Deno.test("sample_stripe_rejects_a_child_with_another_policy", async () => {
  const mem = new MemoryBlocks();
  const leaf = await rsLeaf({ kind: "rs", k: 2, m: 2 }, 2, "z");
  const e = await put(mem, leaf);
  const root: Manifest = {
    kind: "inner",
    height: 1,
    algorithm: "sha-256",
    blockSize: BS,
    size: e.size,
    children: [e],
    redundancy: { kind: "rs", k: 2, m: 1 },
    parity: [],
  };
  await assert.rejects(sampleStripe(root, mem), CorruptFileError);
});

Deno.test("sample_stripe_feeds_check_file", async () => {
  const policy = { kind: "rs", k: 4, m: 2 } as const;
  const root = await rsLeaf(policy, 9, "f", 100);
  const fileId = await ContentId.of(encodeManifest(root));
  const sample = await sampleStripe(root, new MemoryBlocks());
  assert.ok(sample);
  const c = sample.columns as ContentId[];
  const check = await checkFile(options({
    fileId,
    policy,
    sample,
    self: self("00", [fileId, c[0]]),
    peers: [
      holding("aa", [fileId, c[1]]),
      holding("bb", [fileId, c[2], c[3]]),
      holding("cc", [fileId, c[3]]),
      holding("dd", [fileId, c[5]]),
    ],
  }));
  assert.equal(check.live, 5);
  assert.deepEqual(check.missingColumns, [4]);
  assert.equal(check.health, "degraded");
});

Deno.test("sample_stripe_of_a_real_rs_file", async () => {
  const seed = testSeed(0x5a3b);
  const data = randomBytes(40 * BS + 7, seed);
  const mem = new MemoryBlocks();
  const policy = { kind: "rs", k: 4, m: 2 } as const;
  // Fan-out 4, so leaves of one stripe: 11 leaves, 3 manifests above them, then the root.
  const put = await putFile(data, mem, { blockSize: BS, fanout: 4, redundancy: policy });
  assert.equal(put.blocks, 41);
  assert.equal(put.parityBlocks, 11 * 2);
  const root = await loadRoot(put.id, mem);
  assert.equal(root.height, 2);
  mem.gets.length = 0;
  const sample = await sampleStripe(root, mem);
  assert.ok(sample);
  // Two manifests fetched on the way down: height 1, then the first leaf.
  assert.equal(mem.gets.length, 2);
  const leaf = decodeManifest(mem.blocks.get(mem.gets[1])!);
  assert.equal(leaf.kind, "leaf");
  assert.equal(leaf.children.length, 4);
  assert.deepEqual(
    sample.columns.map(String),
    [...leaf.children.slice(0, 4).map((c) => c.id), ...leaf.parity!.slice(0, 2)].map(String),
  );
  // The data columns are the file's first four blocks; the parity columns are the stored
  // parity of those four blocks.
  const first = [0, 1, 2, 3].map((i) => data.subarray(i * BS, (i + 1) * BS));
  for (let j = 0; j < 4; j++) {
    assert.deepEqual(mem.blocks.get(sample.columns[j]!.toString()), first[j]);
  }
  const parity = encodeStripe(policy, first);
  for (let j = 0; j < 2; j++) {
    assert.deepEqual(mem.blocks.get(sample.columns[4 + j]!.toString()), parity[j]);
  }
});

Deno.test("sample_stripe_of_a_real_two_block_rs_file", async () => {
  const data = randomBytes(BS + 100, testSeed(0x5a3c));
  const mem = new MemoryBlocks();
  const policy = { kind: "rs", k: 4, m: 2 } as const;
  const put = await putFile(data, mem, { blockSize: BS, redundancy: policy });
  const root = await loadRoot(put.id, mem);
  const sample = await sampleStripe(root, mem);
  assert.ok(sample);
  assert.deepEqual(sample.columns.map((c) => c === undefined), [
    false,
    false,
    true,
    true,
    false,
    false,
  ]);
  // Each parity shard is as long as the stripe's first block.
  assert.equal(mem.blocks.get(sample.columns[4]!.toString())!.length, BS);
  assert.equal(mem.blocks.get(sample.columns[5]!.toString())!.length, BS);
  // An empty rs file has no stripe to sample.
  const empty = await putFile(new Uint8Array(0), mem, { blockSize: BS, redundancy: policy });
  assert.equal(await sampleStripe(await loadRoot(empty.id, mem), mem), undefined);
});
