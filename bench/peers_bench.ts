/**
 * dfs beside the TypeScript peers, in one sitting: a remote read of the same file sizes by dfs
 * (Deno, Bun and Node nodes), Helia 7 and Hyperdrive 11, with the raw loopback baseline, one
 * after another, written as one table.
 *
 *     deno run -A bench/peers_bench.ts [--anchors DIR] [--sizes 16,64,256] [--runs 3]
 *       [--append bench/RESULTS.md]
 *
 * - **Anchors**: the scripts that install and time Helia and Hyperdrive live outside the
 *   project: `--anchors DIR`, else `$DFS_ANCHORS`, else `../shared/anchors` (relative to the
 *   working directory). The bench stops with a clear message when `DIR/run.sh` is missing. The
 *   first run installs both from the npm registry into `$SCRATCH` (see the anchors' README).
 *   Each prints the fetcher's remote-read MiB/s (its own SHA-256 check of the bytes included)
 *   and the fetcher's peak RSS.
 * - **dfs**: for each runtime, node A (replication 1) gets the file through its API; node C
 *   joins afterwards, holds nothing, and the file is read through C's API (every block crosses
 *   the peer protocol A -> C, verified once, then HTTP to this script, which counts bytes).
 *   Median of `--runs`; the fetcher's peak RSS is C's VmHWM; the CPU both nodes spent per GiB
 *   (`/proc/PID/stat`) is put beside one SHA-256 pass per GiB (`bench/digest_cpu.ts`, same
 *   runtime, same sitting).
 * - **Raw loopback**: `bench/loopback_raw.ts` under Deno and under Node (the anchors run on
 *   Node): one TCP connection, no protocol, median of five.
 *
 * For each size, in this order: raw loopback (Deno, Node), dfs on Deno, Bun, Node, then Helia
 * and Hyperdrive. Ratios are to the raw loopback of the same runtime family (Deno for dfs on
 * Deno, Node for everything else, Bun's own for dfs on Bun) measured in the same sitting.
 *
 * @module
 */

import {
  getCountVia,
  killAll,
  type NodeProcess,
  peakRss,
  type ProcessRuntime,
  putRaw,
  randomBody,
  startNodeProcess,
  waitForPeers,
} from "../tests/e2e/node_harness.ts";
import { cpuMs, flag, median, MiB } from "./bench_util.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const anchorsGiven = flag("anchors") ?? Deno.env.get("DFS_ANCHORS") ?? "../shared/anchors";
const sizes = (flag("sizes") ?? "16,64,256").split(",").map(Number);
const runs = Math.max(1, Math.min(9, Number(flag("runs") ?? "3")));
const append = flag("append");
const RUNTIMES: ProcessRuntime[] = ["deno", "bun", "node"];

// Absolute: the anchor scripts run with their own directory as the working directory.
let anchors = anchorsGiven;
try {
  anchors = await Deno.realPath(anchorsGiven);
  if (!(await Deno.stat(`${anchors}/run.sh`)).isFile) throw new Error("not a file");
} catch {
  console.error(
    `peers_bench: the anchors are missing: no ${anchorsGiven}/run.sh (Helia and Hyperdrive scripts). ` +
      `Pass --anchors DIR or set DFS_ANCHORS.`,
  );
  Deno.exit(2);
}
if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 4096)) {
  throw new Error(`bad --sizes ${flag("sizes")}`);
}

/** Runs a command in the repository and returns the JSON lines it printed; a failed command stops the bench. */
async function jsonLines(cmd: string[], timeoutMs: number, cwd = ROOT): Promise<unknown[]> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) throw new Error(`peers_bench: ${cmd.join(" ")} exited with ${out.code}`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

function runtimeCmd(runtime: ProcessRuntime, script: string, ...rest: string[]): string[] {
  return runtime === "deno"
    ? [`${BIN}deno`, "run", "-A", script, ...rest]
    : [`${BIN}${runtime}`, script, ...rest];
}

async function rawLoopback(runtime: ProcessRuntime, mib: number): Promise<number> {
  const lines = await jsonLines(runtimeCmd(runtime, "bench/loopback_raw.ts", String(mib)), 120_000);
  return (lines.at(-1) as { medianMiBps: number }).medianMiBps;
}

async function digestCpu(runtime: ProcessRuntime): Promise<number> {
  const lines = await jsonLines(runtimeCmd(runtime, "bench/digest_cpu.ts", "1024"), 120_000);
  return (lines.at(-1) as { cpuMsPerGiB: number }).cpuMsPerGiB;
}

interface DfsResult {
  readonly mibps: number;
  readonly rssMiB: number;
  readonly cpuMsPerGiB: number;
}

async function dfsRemoteGet(runtime: ProcessRuntime, mib: number): Promise<DfsResult> {
  const size = mib * MiB;
  const dir = await Deno.makeTempDir({ prefix: "dfs-peers-" });
  const procs: NodeProcess[] = [];
  try {
    const a = await startNodeProcess({ runtime, dataDir: `${dir}/a`, replication: 1 });
    procs.push(a);
    const body = randomBody(size, mib);
    const put = await putRaw(a.info.apiUrl, body.stream, size, "?copies=1");
    const c = await startNodeProcess({
      runtime,
      dataDir: `${dir}/c`,
      bootstrap: [a.info.address],
      replication: 1,
    });
    procs.push(c);
    await waitForPeers(c.info.apiUrl, 1);
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const cpu0 = cpuMs(a.info.pid) + cpuMs(c.info.pid);
      const t0 = performance.now();
      const n = await getCountVia(c.info.apiUrl, put.id);
      ms.push(performance.now() - t0);
      cpu.push(cpuMs(a.info.pid) + cpuMs(c.info.pid) - cpu0);
      if (n !== size) throw new Error(`dfs ${runtime}: remote get returned ${n} of ${size} bytes`);
    }
    return {
      mibps: Math.round(mib / (median(ms) / 1000)),
      rssMiB: Math.round(peakRss(c.info.pid) / MiB),
      cpuMsPerGiB: Math.round(median(cpu) * (1024 / mib)),
    };
  } finally {
    await killAll(procs);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

interface AnchorLine {
  readonly system: string;
  readonly mib: number;
  readonly remoteGetMiBps: number | null;
  readonly fetcherRssMiB: number | null;
}

async function anchorRuns(mib: number): Promise<AnchorLine[]> {
  const lines = await jsonLines(["bash", `${anchors}/run.sh`, String(mib)], 1_800_000, anchors);
  return lines as AnchorLine[];
}

interface Row {
  size: number;
  system: string;
  mibps: number | null;
  base: number;
  baseName: string;
  rss: number | null;
  cpu?: string;
}

const load0 = Deno.loadavg();
const started = new Date().toISOString();
const rows: Row[] = [];
const digest = new Map<ProcessRuntime, number>();
for (const r of RUNTIMES) digest.set(r, await digestCpu(r));
const notes: string[] = [];
for (const mib of sizes) {
  const loopMiB = Math.min(256, Math.max(64, mib));
  const loop = new Map<ProcessRuntime, number>();
  for (const r of RUNTIMES) loop.set(r, await rawLoopback(r, loopMiB));
  for (const r of RUNTIMES) {
    const d = await dfsRemoteGet(r, mib);
    const ratio = (d.cpuMsPerGiB / digest.get(r)!).toFixed(2);
    rows.push({
      size: mib,
      system: `dfs (${r})`,
      mibps: d.mibps,
      base: loop.get(r)!,
      baseName: r,
      rss: d.rssMiB,
      cpu: `${d.cpuMsPerGiB} (${ratio}x SHA-256 ${digest.get(r)})`,
    });
    console.error(`${mib} MiB dfs ${r}: ${JSON.stringify(d)}`);
  }
  for (const line of await anchorRuns(mib)) {
    rows.push({
      size: mib,
      system: line.system,
      mibps: line.remoteGetMiBps === null ? null : Math.round(line.remoteGetMiBps * 10) / 10,
      base: loop.get("node")!,
      baseName: "node",
      rss: line.fetcherRssMiB,
    });
    console.error(`${mib} MiB ${JSON.stringify(line)}`);
  }
  const hd = rows.find((x) => x.size === mib && x.system.startsWith("hyperdrive"))?.mibps;
  if (hd) {
    const best = Math.max(
      ...rows.filter((x) => x.size === mib && x.system.startsWith("dfs"))
        .map((x) => x.mibps ?? 0),
    );
    const each = RUNTIMES.map((r) => {
      const v = rows.find((x) => x.size === mib && x.system === `dfs (${r})`)?.mibps ?? 0;
      return `${r} ${(v / hd).toFixed(1)}x`;
    }).join(", ");
    notes.push(`${mib} MiB: dfs / Hyperdrive = ${each} (best ${(best / hd).toFixed(1)}x)`);
  }
}
const load1 = Deno.loadavg();

const fmt = (x: number[]) => x.map((v) => v.toFixed(2)).join(", ");
const table = [
  ``,
  `Command: \`deno run -A bench/peers_bench.ts --anchors ${anchors} --sizes ${
    sizes.join(",")
  } --runs ${runs}\` (started ${started}; load before ${fmt(load0)}, after ${fmt(load1)})`,
  ``,
  `| size MiB | system (fetcher runtime) | remote read MiB/s | raw loopback MiB/s (runtime) | ratio to raw loopback | fetcher peak RSS MiB | CPU of both dfs nodes per GiB, ms |`,
  `| --- | --- | --- | --- | --- | --- | --- |`,
  ...rows.map((r) =>
    `| ${r.size} | ${r.system} | ${r.mibps ?? "failed"} | ${r.base} (${r.baseName}) | ${
      r.mibps ? (r.mibps / r.base).toFixed(3) : "-"
    } | ${r.rss ?? "-"} | ${r.cpu ?? "-"} |`
  ),
  ``,
  ...notes.map((n) => `- ${n}`),
  ``,
].join("\n");
console.log(table);
console.log(
  JSON.stringify({ bench: "peers", sizes, runs, rows, digest: Object.fromEntries(digest) }),
);
if (append) await Deno.writeTextFile(append, table, { append: true });
