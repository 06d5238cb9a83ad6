/**
 * Degraded read of a Reed-Solomon file against the healthy read of the same file, in one run.
 *
 * A file (default 256 MiB, `--mib N`) is put as `rs:4+2` (or `--policy rs:K+M`) with 256 KiB
 * blocks into an in-memory block source that verifies every block it hands out with
 * `crypto.subtle.digest` (as the node's store does on every read). Then, each `--rounds` times
 * (default 3), in turn:
 * - **healthy**: the whole file is read; only data shards are fetched, nothing is decoded;
 * - **degraded**: the same read with `--lost` shards (default m, so 2 for rs:4+2) of every
 *   stripe gone, data shards first: every stripe is rebuilt from k of its shards, and each
 *   rebuilt block is hashed against its id;
 * - **raw digest**: one `crypto.subtle.digest("SHA-256")` pass over the same number of bytes in
 *   256 KiB pieces, 8 in flight like the reads: the physical baseline of a verified read.
 *
 * Prints a markdown table (MiB/s of file bytes, ratios) and the command, for `bench/RESULTS.md`.
 *
 * Run: `deno run -A bench/degraded_read.ts [--mib 256] [--policy rs:4+2] [--lost 2] [--rounds 3]`
 * (also `bun bench/degraded_read.ts`, `node bench/degraded_read.ts`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ContentId } from "../src/id/content_id.ts";
import { putFile } from "../src/file/put_file.ts";
import { readFile } from "../src/file/read_file.ts";
import { fileBlocks } from "../src/file/file_block_ids.ts";
import { decodeManifest } from "../src/file/manifest.ts";
import { parseRedundancy } from "../src/file/redundancy.ts";
import { NotFoundError } from "../src/errors.ts";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "256" },
    policy: { type: "string", default: "rs:4+2" },
    lost: { type: "string" },
    rounds: { type: "string", default: "3" },
  },
});
const MIB = 1024 * 1024;
const BS = 256 * 1024;
const size = Number(values.mib) * MIB;
const policy = parseRedundancy(values.policy!);
if (policy.kind !== "rs") throw new Error("--policy must be rs:K+M");
const lost = values.lost === undefined ? policy.m : Number(values.lost);
const rounds = Number(values.rounds);

/** Blocks in memory; every get verifies the bytes against their id, as a store read does. */
const blocks = new Map<string, Uint8Array>();
const gone = new Set<string>();
const source = {
  async getBlock(id: ContentId): Promise<Uint8Array> {
    const key = id.toString();
    const bytes = blocks.get(key);
    if (!bytes || gone.has(key)) throw new NotFoundError(`no block ${key}`);
    const got = await ContentId.of(bytes, id.algorithm);
    if (!got.equals(id)) throw new Error(`block ${key} does not verify`);
    return bytes;
  },
};
const sink = {
  async putBlock(bytes: Uint8Array, o?: { id?: ContentId }): Promise<ContentId> {
    const id = o?.id ?? await ContentId.of(bytes);
    blocks.set(id.toString(), bytes);
    return id;
  },
};

// The file: pseudo-random bytes (xorshift), so no two blocks are equal.
const data = new Uint8Array(size);
const words = new Uint32Array(data.buffer);
let x = 0x9e3779b9;
for (let i = 0; i < words.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  words[i] = x >>> 0;
}
const put = await putFile(data, sink, { blockSize: BS, redundancy: policy, concurrency: 8 });

// The shards each degraded read loses: `lost` per stripe, data shards first.
const toLose: string[] = [];
for await (const b of fileBlocks(put.id, source)) {
  if (b.kind !== "manifest") continue;
  const m = decodeManifest(blocks.get(b.id.toString())!);
  if (m.kind !== "leaf") continue;
  for (let s = 0; s * policy.k < m.children.length; s++) {
    const stripe = [
      ...m.children.slice(s * policy.k, (s + 1) * policy.k).map((c) => c.id),
      ...m.parity!.slice(s * policy.m, (s + 1) * policy.m),
    ];
    for (const id of stripe.slice(0, lost)) toLose.push(id.toString());
  }
}

async function timedRead(): Promise<number> {
  const t0 = performance.now();
  const file = await readFile(put.id, source, { concurrency: 8 });
  let n = 0;
  for await (const chunk of file.stream) n += chunk.length;
  if (n !== size) throw new Error(`read ${n} bytes of ${size}`);
  return (size / MIB) / ((performance.now() - t0) / 1000);
}

/** One digest pass over the file's bytes, 8 blocks in flight like the reads. */
async function rawDigest(): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    for (let at = next; at < size; at = next) {
      next += BS;
      await crypto.subtle.digest("SHA-256", data.subarray(at, Math.min(size, at + BS)));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return (size / MIB) / ((performance.now() - t0) / 1000);
}

const healthy: number[] = [];
const degraded: number[] = [];
const raw: number[] = [];
for (let r = 0; r < rounds; r++) {
  gone.clear();
  healthy.push(await timedRead());
  for (const k of toLose) gone.add(k);
  degraded.push(await timedRead());
  raw.push(await rawDigest());
}
const best = (a: number[]) => Math.max(...a);
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";
const fmt = (n: number) => n.toFixed(0);
console.log(
  `\`${runtime}\`: ${values.mib} MiB ${values.policy}, 256 KiB blocks, ${lost} of ${
    policy.k + policy.m
  } shards lost per stripe (${toLose.length} blocks), best of ${rounds}\n`,
);
console.log("| read | MiB/s (best) | all rounds | ratio to healthy | ratio to raw digest |");
console.log("|---|---|---|---|---|");
const row = (name: string, v: number[]) =>
  console.log(
    `| ${name} | ${fmt(best(v))} | ${v.map(fmt).join(", ")} | ${
      (best(v) / best(healthy)).toFixed(2)
    } | ${(best(v) / best(raw)).toFixed(2)} |`,
  );
row("healthy", healthy);
row("degraded", degraded);
row("raw SHA-256 digest", raw);
