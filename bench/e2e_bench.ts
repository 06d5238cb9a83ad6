/**
 * End-to-end throughput: node processes on loopback, driven through their HTTP API.
 *
 *     deno run -A bench/e2e_bench.ts [--size 256M|1G] [--durability none|fsync] [--runtime deno|bun|node]
 *       [--runs N] [--block-size BYTES] [--cpu-prof DIR] [--plaintext]
 *
 * 1. Starts node A (replication 1) and puts SIZE bytes of pseudo-random data through its API.
 * 2. Starts node C, which joins after the put and holds no copy, and gets the file through C's
 *    API: every block crosses the peer protocol from A to C, verified, then HTTP to this script.
 *    The remote get runs `--runs` times (default 3; C never keeps a copy) and the median counts;
 *    the CPU time (user + system, from /proc/<pid>/stat) each node spent per remote get is
 *    reported too, since two nodes and the client share the machine's cores.
 * 3. Gets the file through A's API too (local read path). Timed gets count bytes; one more get
 *    through each API, untimed, checks the SHA-256 of the bytes.
 * 4. Baselines in the same run: raw loopback TCP (`bench/loopback_raw.ts`, same runtime) and raw
 *    disk (write + read SIZE bytes to a file in the same temp directory, 1 MiB chunks). Also the
 *    verified-pipeline ceiling (`bench/pipeline_ceiling.ts`, 256 MiB, its roles under the nodes'
 *    runtime: `bench/pipeline_ceiling_node.ts` for Bun and Node): the same
 *    remote get's required work (two SHA-256 passes, two loopback hops, the HTTP server and this
 *    client) with no dfs code, i.e. the most a remote get can reach on this machine.
 *    With `--verify fetcher` too: the ceiling of a pipeline that hashes each block once (on
 *    arrival), the work a remote get does since the holder stopped verifying what it sends to a
 *    verifying peer. And the hashing baseline: the CPU of one `crypto.subtle.digest` SHA-256 pass
 *    per GiB (`bench/digest_cpu.ts`, the nodes' runtime), beside the nodes' CPU per GiB.
 * 5. Peak RSS of each node (VmHWM from /proc/<pid>/status).
 * 6. `--cpu-prof DIR` (Node and Deno nodes; Deno's flag is hidden from `--help`): each node writes a V8 CPU profile (`.cpuprofile`) to DIR
 *    when it exits; `bench/cpu_top.ts DIR` summarises the top frames. Node A is restarted on its
 *    data directory after the put, with the profiler on, and both nodes are stopped (profiles
 *    written) after the remote gets and restarted unprofiled for the rest: the profiles cover the
 *    remote gets only.
 *
 * Prints a markdown table (for bench/RESULTS.md) and one JSON line.
 *
 * @module
 */

import {
  getCountVia,
  getHashVia,
  killAll,
  type NodeProcess,
  peakRss,
  type ProcessRuntime,
  putRaw,
  randomBody,
  startNodeProcess,
  waitForPeers,
} from "../tests/e2e/node_harness.ts";
import { cpuMs, flag, median, MiB, parseSize } from "./bench_util.ts";

const sizeText = flag("size") ?? "256M";
const size = parseSize(sizeText);
const durability = (flag("durability") ?? "none") as "none" | "fsync";
const runtime = (flag("runtime") ?? "deno") as ProcessRuntime;
const runs = Math.max(1, Math.min(9, Number(flag("runs") ?? "3")));
/** Block size of the put; default the node's own (256 KiB). */
const blockSize = flag("block-size") ? Number(flag("block-size")) : undefined;
const BIN = new URL("../node_modules/.bin/", import.meta.url).pathname;
const cpuProf = flag("cpu-prof");
/** `--plaintext`: nodes run with `--insecure-plaintext` (no Noise channel), to show its cost. */
const plaintext = Deno.args.includes("--plaintext");
if (cpuProf && runtime === "bun") throw new Error("--cpu-prof needs --runtime node or deno");
const runtimeFlags = cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`] : undefined;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const mibps = (bytes: number, ms: number) => Math.round(bytes / MiB / (ms / 1000));

async function rawLoopback(): Promise<number> {
  const mib = Math.min(256, Math.max(64, Math.round(size / MiB)));
  const cmd = runtime === "deno"
    ? [`${BIN}deno`, "run", "-A", "bench/loopback_raw.ts", String(mib)]
    : runtime === "bun"
    ? [`${BIN}bun`, "bench/loopback_raw.ts", String(mib)]
    : [`${BIN}node`, "bench/loopback_raw.ts", String(mib)];
  return await medianOf(cmd, 120_000);
}

/**
 * The verified-pipeline ceiling in the nodes' runtime: median MiB/s of
 * `bench/pipeline_ceiling.ts`, with both hashes (`both`) or the fetcher's only (`fetcher`).
 */
function ceiling(verify: "both" | "fetcher"): Promise<number | null> {
  const args = ["run", "-A", "bench/pipeline_ceiling.ts", "--size", "256M", "--runs", "3"];
  return medianOf([`${BIN}deno`, ...args, "--verify", verify, "--runtime", runtime], 300_000);
}

/** CPU ms of one SHA-256 pass over a GiB in the nodes' runtime (`bench/digest_cpu.ts`). */
async function digestCpuMsPerGiB(): Promise<number> {
  const cmd = runtime === "deno"
    ? [`${BIN}deno`, "run", "-A", "bench/digest_cpu.ts", "1024"]
    : [`${BIN}${runtime}`, "bench/digest_cpu.ts", "1024"];
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}";
  return JSON.parse(line).cpuMsPerGiB as number;
}

/** Runs a bench script and returns `medianMiBps` from the JSON line it prints last. */
async function medianOf(cmd: string[], timeoutMs: number): Promise<number> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}";
  return JSON.parse(line).medianMiBps as number;
}

async function rawDisk(dir: string): Promise<{ writeMiBps: number; readMiBps: number }> {
  const path = `${dir}/raw.bin`;
  const body = randomBody(size, 7);
  const w = await timed(async () => {
    const f = await Deno.open(path, { write: true, create: true, truncate: true });
    for await (const chunk of body.stream) {
      let off = 0;
      while (off < chunk.length) off += await f.write(chunk.subarray(off));
    }
    if (durability === "fsync") await f.sync();
    f.close();
  });
  const r = await timed(async () => {
    const f = await Deno.open(path, { read: true });
    const buf = new Uint8Array(MiB);
    let total = 0;
    while (true) {
      const n = await f.read(buf);
      if (n === null) break;
      total += n;
    }
    f.close();
    return total;
  });
  await Deno.remove(path);
  return { writeMiBps: mibps(size, w.ms), readMiBps: mibps(r.value, r.ms) };
}

const dir = await Deno.makeTempDir({ prefix: "dfs-bench-" });
const procs: NodeProcess[] = [];
try {
  const startA = (flags?: string[]) =>
    startNodeProcess({
      runtime,
      dataDir: `${dir}/a`,
      replication: 1,
      durability,
      blockSize,
      runtimeFlags: flags,
      plaintext,
    });
  let a = await startA();
  procs.push(a);
  const body = randomBody(size, 42);
  const put = await timed(() => putRaw(a.info.apiUrl, body.stream, size, "?copies=1"));
  const want = body.digest();
  if (put.value.size !== size) throw new Error(`put size ${put.value.size}`);
  if (cpuProf) {
    // Profile the gets only: restart A on the same data directory with the profiler on.
    a.kill("SIGTERM");
    await a.exited;
    procs.length = 0;
    a = await startA(runtimeFlags);
    procs.push(a);
  }

  const startC = async (flags?: string[]) => {
    const p = await startNodeProcess({
      runtime,
      dataDir: `${dir}/c`,
      bootstrap: [a.info.address],
      replication: 1,
      durability,
      runtimeFlags: flags,
      plaintext,
    });
    procs.push(p);
    await waitForPeers(p.info.apiUrl, 1);
    return p;
  };
  let c = await startC(runtimeFlags);
  // Timed gets only count bytes (hashing 1 GiB in this process would compete with the nodes for
  // the same cores); a hashed get of each path follows, untimed, to check the bytes.
  const remoteMs: number[] = [];
  const cpuA: number[] = [];
  const cpuC: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a0 = cpuMs(a.info.pid);
    const c0 = cpuMs(c.info.pid);
    const r = await timed(() => getCountVia(c.info.apiUrl, put.value.id));
    if (r.value !== size) throw new Error(`remote get returned ${r.value} bytes`);
    remoteMs.push(r.ms);
    cpuA.push(cpuMs(a.info.pid) - a0);
    cpuC.push(cpuMs(c.info.pid) - c0);
  }
  const remote = { ms: median(remoteMs) };
  if (cpuProf) {
    // A profile is written on a clean exit only: stop both nodes (the profiles cover the remote
    // gets only), then restart them unprofiled for the local get and the checks.
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
    procs.length = 0;
    a = await startA();
    procs.push(a);
    c = await startC();
  }
  const local = await timed(() => getCountVia(a.info.apiUrl, put.value.id));
  if (local.value !== size) throw new Error(`local get returned ${local.value} bytes`);
  for (const p of [c, a]) {
    const check = await getHashVia(p.info.apiUrl, put.value.id, 30 * 60_000);
    if (check.digest !== want || check.bytes !== size) {
      throw new Error(`get via ${p.info.apiUrl}: ${JSON.stringify(check)}, want ${want}`);
    }
  }
  const rssA = peakRss(a.info.pid);
  const rssC = peakRss(c.info.pid);
  await killAll(procs);

  const loop = await rawLoopback();
  const disk = await rawDisk(dir);
  const top = await ceiling("both");
  const topOnce = await ceiling("fetcher");
  const digest = await digestCpuMsPerGiB();
  const GiBs = size / (1024 * MiB);
  const cpuPerGiB = Math.round((median(cpuA) + median(cpuC)) / GiBs);

  const res = {
    bench: "e2e",
    runtime,
    durability,
    channel: plaintext ? "plaintext" : "noise",
    blockSize: blockSize ?? "default (256 KiB)",
    sizeMiB: size / MiB,
    putMiBps: mibps(size, put.ms),
    remoteGetMiBps: mibps(size, remote.ms),
    remoteGetRunsMiBps: remoteMs.map((ms) => mibps(size, ms)),
    remoteGetCpuMs: { origin: median(cpuA), fetcher: median(cpuC) },
    localGetMiBps: mibps(size, local.ms),
    rawLoopbackMiBps: loop,
    ceilingMiBps: top,
    ceilingOneHashMiBps: topOnce,
    digestCpuMsPerGiB: digest,
    nodesCpuMsPerGiB: cpuPerGiB,
    cpuRatioToDigest: Number((cpuPerGiB / digest).toFixed(2)),
    rawDiskWriteMiBps: disk.writeMiBps,
    rawDiskReadMiBps: disk.readMiBps,
    peakRssMiB: { origin: Math.round(rssA / MiB), fetcher: Math.round(rssC / MiB) },
  };
  const ratio = (x: number, y: number) => (x / y).toFixed(2);
  console.log(`
Command: \`deno run -A bench/e2e_bench.ts --size ${sizeText} --durability ${durability} --runtime ${runtime} --runs ${runs}${
    blockSize ? ` --block-size ${blockSize}` : ""
  }${cpuProf ? ` --cpu-prof ${cpuProf}` : ""}${plaintext ? " --plaintext" : ""}\` (load: ${
    Deno.loadavg().map((x) => x.toFixed(2)).join(", ")
  })

| ${res.sizeMiB} MiB, ${runtime}, durability ${durability}, blocks ${res.blockSize} | dfs MiB/s | baseline | baseline MiB/s | ratio |
| --- | --- | --- | --- | --- |
| put via API of A (chunk, hash, store) | ${res.putMiBps} | raw disk write | ${disk.writeMiBps} | ${
    ratio(res.putMiBps, disk.writeMiBps)
  } |
| remote get via API of C (A -> C peer protocol -> HTTP), median of ${runs} | ${res.remoteGetMiBps} | raw loopback TCP | ${loop} | ${
    ratio(res.remoteGetMiBps, loop)
  } |
${
    top === null
      ? ""
      : `| remote get, as above | ${res.remoteGetMiBps} | verified pipeline, no dfs code (\`bench/pipeline_ceiling.ts\`) | ${top} | ${
        ratio(res.remoteGetMiBps, top)
      } |
| remote get, as above | ${res.remoteGetMiBps} | the same, one hash per block (\`--verify fetcher\`) | ${topOnce} | ${
        ratio(res.remoteGetMiBps, topOnce!)
      } |
`
  }| CPU of both nodes per GiB of remote get (ms) | ${cpuPerGiB} | one SHA-256 pass per GiB (\`bench/digest_cpu.ts\`) | ${digest} | ${res.cpuRatioToDigest} |
| local get via API of A | ${res.localGetMiBps} | raw disk read | ${disk.readMiBps} | ${
    ratio(res.localGetMiBps, disk.readMiBps)
  } |

Remote get runs: ${
    res.remoteGetRunsMiBps.join(", ")
  } MiB/s; CPU per remote get (median): node A ${res.remoteGetCpuMs.origin} ms, node C ${res.remoteGetCpuMs.fetcher} ms.
Peak RSS (VmHWM): node A (origin) ${res.peakRssMiB.origin} MiB, node C (fetcher) ${res.peakRssMiB.fetcher} MiB.
`);
  console.log(JSON.stringify(res));
} finally {
  await killAll(procs);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
