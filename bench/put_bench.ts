/**
 * Durable put throughput against the disk's own speed, in one run.
 *
 *     deno run -A bench/put_bench.ts [--size 256M] [--runtime deno|bun|node] [--runs N]
 *       [--dir DIR]
 *
 * All in one sitting, on the same bytes (a seeded pseudo-random body of SIZE bytes), with every
 * data directory and the raw file under DIR (default: a fresh directory under the system temp
 * directory; the directory matters on some machines, see bench/RESULTS.md):
 *
 * 1. raw: the bytes written to one file in 1 MiB writes, then one fsync (`durability fsync`
 *    baseline), and the same without the fsync (`none` baseline); and the same bytes as 256 KiB
 *    files written, fsynced and renamed 16 at a time with one fsync per directory touched (the
 *    floor of a one-file-per-block store, no dfs code). Measured before and after the puts; the
 *    better of the two counts (the kinder baseline).
 * 2. local put, 1 copy: one node (`--replication 1`), `POST /files?copies=1`, fsync and none.
 * 3. put with 3 copies on a 3-node cluster: three nodes that know each other, `?copies=3`
 *    on one of them; the put is acknowledged once all three hold the whole file. fsync and none.
 *
 * Each put runs `--runs` times (default 3, fresh body seed each time so every block is new) and
 * the median counts. The CPU time (user + system) each node spent is reported too. Prints a
 * markdown table (for bench/RESULTS.md) and one JSON line.
 *
 * @module
 */

import {
  killAll,
  type NodeProcess,
  type ProcessRuntime,
  putRaw,
  randomBody,
  startNodeProcess,
  waitForPeers,
} from "../tests/e2e/node_harness.ts";
import { cpuMs, flag, median, MiB, parseSize } from "./bench_util.ts";

const sizeText = flag("size") ?? "256M";
const size = parseSize(sizeText);
const runtime = (flag("runtime") ?? "deno") as ProcessRuntime;
const runs = Math.max(1, Math.min(9, Number(flag("runs") ?? "3")));
const baseDir = flag("dir");
/** `--only local` or `--only three`: run one kind of put (for profiling); default both. */
const only = flag("only");
const skipped: PutFigure = { mibps: 0, runs: [], cpuMs: [] };

const mibps = (bytes: number, ms: number) => Math.round(bytes / MiB / (ms / 1000));

/** Raw sequential write of the same bytes to one file in `dir` (1 MiB writes), then fsync. */
async function rawWrite(dir: string, sync: boolean, seed: number): Promise<number> {
  const path = `${dir}/raw-${seed}.bin`;
  const body = randomBody(size, seed);
  // The body is generated in this process: materialize it first so only the disk is timed.
  const chunks: Uint8Array[] = [];
  let pending = new Uint8Array(MiB);
  let fill = 0;
  for await (const c of body.stream) {
    let at = 0;
    while (at < c.length) {
      const n = Math.min(c.length - at, MiB - fill);
      pending.set(c.subarray(at, at + n), fill);
      fill += n;
      at += n;
      if (fill === MiB) {
        chunks.push(pending);
        pending = new Uint8Array(MiB);
        fill = 0;
      }
    }
  }
  if (fill > 0) chunks.push(pending.subarray(0, fill));
  const t0 = performance.now();
  const f = await Deno.open(path, { write: true, createNew: true });
  for (const chunk of chunks) {
    let off = 0;
    while (off < chunk.length) off += await f.write(chunk.subarray(off));
  }
  if (sync) await f.sync();
  f.close();
  const ms = performance.now() - t0;
  await Deno.remove(path);
  return mibps(size, ms);
}

/**
 * The floor of a store that keeps one file per block, with no dfs code: the same bytes as
 * 256 KiB files, 16 at a time: each created under `tmp/` and written, the 16 fsynced together,
 * renamed into 256 shard directories (made beforehand, untimed), then each directory touched
 * fsynced once. On machines where creating a file is costly this, not the raw sequential
 * write, bounds a put.
 */
async function rawFiles(dir: string, seed: number): Promise<number> {
  const root = `${dir}/files-${seed}`;
  await Deno.mkdir(`${root}/tmp`, { recursive: true });
  const shard = (i: number) => `${root}/${(i & 255).toString(16).padStart(2, "0")}`;
  for (let i = 0; i < 256; i++) await Deno.mkdir(shard(i));
  const block = 256 * 1024;
  const body = randomBody(size, seed);
  const blocks: Uint8Array[] = [];
  for await (const c of body.stream) blocks.push(c); // 64 KiB chunks
  const t0 = performance.now();
  let at = 0;
  for (let n = 0; at < blocks.length; n++) {
    const batch: { file: Deno.FsFile; tmp: string; to: string }[] = [];
    for (let k = 0; k < 16 && at < blocks.length; k++) {
      const tmp = `${root}/tmp/${n}-${k}`;
      const file = await Deno.open(tmp, { write: true, createNew: true });
      for (let b = 0; b < block / (64 * 1024) && at < blocks.length; b++) {
        const c = blocks[at++];
        let off = 0;
        while (off < c.length) off += await file.write(c.subarray(off));
      }
      batch.push({ file, tmp, to: `${shard(n * 16 + k * 7)}/${n}-${k}` });
    }
    await Promise.all(batch.map((b) => b.file.sync()));
    for (const b of batch) b.file.close();
    await Promise.all(batch.map((b) => Deno.rename(b.tmp, b.to)));
    const dirs = new Set(batch.map((b) => b.to.slice(0, b.to.lastIndexOf("/"))));
    await Promise.all([...dirs].map(async (d) => {
      const f = await Deno.open(d, { read: true });
      await f.sync();
      f.close();
    }));
  }
  const ms = performance.now() - t0;
  await Deno.remove(root, { recursive: true });
  return mibps(size, ms);
}

let seed = 1000;

interface PutFigure {
  mibps: number;
  runs: number[];
  cpuMs: number[];
}

/** Starts `n` nodes (the first is the entry), puts `runs` bodies with `copies`, stops them. */
async function cluster(
  dir: string,
  tag: string,
  n: number,
  durability: "fsync" | "none",
  copies: number,
): Promise<PutFigure> {
  const procs: NodeProcess[] = [];
  try {
    const first = await startNodeProcess({
      runtime,
      dataDir: `${dir}/${tag}-0`,
      replication: copies,
      durability,
    });
    procs.push(first);
    for (let i = 1; i < n; i++) {
      procs.push(
        await startNodeProcess({
          runtime,
          dataDir: `${dir}/${tag}-${i}`,
          bootstrap: [first.info.address],
          replication: copies,
          durability,
        }),
      );
    }
    for (const p of procs) await waitForPeers(p.info.apiUrl, n - 1);
    const times: number[] = [];
    const cpu: number[] = procs.map(() => 0);
    for (let r = 0; r < runs; r++) {
      const body = randomBody(size, ++seed);
      const c0 = procs.map((p) => cpuMs(p.info.pid));
      const t0 = performance.now();
      const answer = await putRaw(first.info.apiUrl, body.stream, size, `?copies=${copies}`);
      times.push(performance.now() - t0);
      procs.forEach((p, i) => cpu[i] += cpuMs(p.info.pid) - c0[i]);
      if (answer.size !== size) throw new Error(`${tag}: put size ${answer.size}`);
      if (answer.copies !== copies) {
        throw new Error(`${tag}: ${answer.copies} copies confirmed, ${copies} wanted`);
      }
    }
    return {
      mibps: mibps(size, median(times)),
      runs: times.map((ms) => mibps(size, ms)),
      cpuMs: cpu.map((c) => Math.round(c / runs)),
    };
  } finally {
    await killAll(procs);
  }
}

const dir = await Deno.makeTempDir({ prefix: "dfs-put-bench-", dir: baseDir });
try {
  const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const loadBefore = load();
  const raw0 = await rawWrite(dir, true, 1);
  const rawNone0 = await rawWrite(dir, false, 2);
  const files0 = await rawFiles(dir, 5);
  const doLocal = only !== "three";
  const doThree = only !== "local";
  const local = doLocal ? await cluster(dir, "local-fsync", 1, "fsync", 1) : skipped;
  const localNone = doLocal ? await cluster(dir, "local-none", 1, "none", 1) : skipped;
  const three = doThree ? await cluster(dir, "three-fsync", 3, "fsync", 3) : skipped;
  const threeNone = doThree ? await cluster(dir, "three-none", 3, "none", 3) : skipped;
  const raw1 = await rawWrite(dir, true, 3);
  const rawNone1 = await rawWrite(dir, false, 4);
  const files1 = await rawFiles(dir, 6);
  const files = Math.max(files0, files1);
  const raw = Math.max(raw0, raw1);
  const rawNone = Math.max(rawNone0, rawNone1);
  const loadAfter = load();
  const ratio = (x: number, y: number) => (x / y).toFixed(2);
  const row = (what: string, f: PutFigure, base: number, baseName: string) =>
    `| ${what} | ${f.mibps} (${f.runs.join(", ")}) | ${baseName} | ${base} | ${
      ratio(f.mibps, base)
    } | ${f.cpuMs.join(" + ")} |`;
  console.log(`
Command: \`deno run -A bench/put_bench.ts --size ${sizeText} --runtime ${runtime} --runs ${runs}${
    baseDir ? ` --dir ${baseDir}` : ""
  }${only ? ` --only ${only}` : ""}\` (load average before ${loadBefore}, after ${loadAfter})

| ${
    size / MiB
  } MiB put, ${runtime} nodes | MiB/s, median (runs) | baseline | baseline MiB/s | ratio | CPU ms per put, per node |
| --- | --- | --- | --- | --- | --- |
${row("local put, 1 copy, fsync", local, raw, "raw write + fsync")}
${row("3 copies on 3 nodes, fsync", three, raw, "raw write + fsync")}
${row("local put, 1 copy, fsync", local, files, "raw 256 KiB files + fsync, 16 at a time")}
${row("3 copies on 3 nodes, fsync", three, files, "raw 256 KiB files + fsync, 16 at a time")}
${row("local put, 1 copy, durability none", localNone, rawNone, "raw write, no fsync")}
${row("3 copies on 3 nodes, durability none", threeNone, rawNone, "raw write, no fsync")}

Raw write + fsync before / after the puts: ${raw0} / ${raw1} MiB/s; without fsync: ${rawNone0} / ${rawNone1} MiB/s; raw 256 KiB files + fsync: ${files0} / ${files1} MiB/s.
`);
  console.log(JSON.stringify({
    bench: "put",
    runtime,
    sizeMiB: size / MiB,
    raw: [raw0, raw1],
    rawNone: [rawNone0, rawNone1],
    rawFiles: [files0, files1],
    local,
    localNone,
    three,
    threeNone,
    load: [loadBefore, loadAfter],
  }));
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
