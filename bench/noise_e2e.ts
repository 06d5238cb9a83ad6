/**
 * Remote get with peer encryption on (Noise, the default) against the same get with it off
 * (`--insecure-plaintext`), on each runtime, in the same run.
 *
 *     deno run -A bench/noise_e2e.ts [--size 256M] [--runs 3] [--runtime deno,bun,node] [--write]
 *
 * For each runtime: two node processes A and C with encryption on, two with it off. A takes a
 * public put of SIZE bytes (replication 1); C, which holds nothing, serves the remote get through
 * its API, so every block crosses the peer protocol (encrypted or not) from A to C. The gets of
 * the two pairs alternate (`--runs` each; the median counts), and the CPU time (user + system)
 * both nodes spent per get is read from /proc. The bytes of one get of each pair are hashed.
 * With `--write`, the table replaces the "Noise end to end" section of bench/RESULTS.md.
 *
 * @module
 */

import {
  getCountVia,
  getHashVia,
  killAll,
  type NodeProcess,
  type ProcessRuntime,
  putRaw,
  randomBody,
  sha256Hex,
  startNodeProcess,
  waitForPeers,
} from "../tests/e2e/node_harness.ts";
import { cpuMs, flag, median, MiB, parseSize } from "./bench_util.ts";

const sizeText = flag("size") ?? "256M";
const size = parseSize(sizeText);
const runs = Math.max(1, Math.min(9, Number(flag("runs") ?? "3")));
const runtimes = (flag("runtime") ?? "deno,bun,node").split(",") as ProcessRuntime[];

const mibps = (ms: number) => Math.round(size / MiB / (ms / 1000));

interface Pair {
  readonly a: NodeProcess;
  readonly c: NodeProcess;
  readonly id: string;
  readonly ms: number[];
  readonly cpu: number[];
}

async function pair(
  runtime: ProcessRuntime,
  dir: string,
  plaintext: boolean,
  procs: NodeProcess[],
) {
  const a = await startNodeProcess({
    runtime,
    dataDir: `${dir}/a`,
    replication: 1,
    durability: "none",
    plaintext,
  });
  procs.push(a);
  const body = randomBody(size, 42);
  const put = await putRaw(a.info.apiUrl, body.stream, size);
  const c = await startNodeProcess({
    runtime,
    dataDir: `${dir}/c`,
    bootstrap: [a.info.address],
    replication: 1,
    durability: "none",
    plaintext,
  });
  procs.push(c);
  await waitForPeers(c.info.apiUrl, 1);
  return { a, c, id: put.id, ms: [], cpu: [] } as Pair;
}

async function getOnce(p: Pair): Promise<void> {
  const cpu0 = cpuMs(p.a.info.pid) + cpuMs(p.c.info.pid);
  const t0 = performance.now();
  const n = await getCountVia(p.c.info.apiUrl, p.id);
  p.ms.push(performance.now() - t0);
  p.cpu.push(cpuMs(p.a.info.pid) + cpuMs(p.c.info.pid) - cpu0);
  if (n !== size) throw new Error(`remote get returned ${n} bytes`);
}

const rows: string[] = [];
const want = sha256Hex(await new Response(randomBody(size, 42).stream).bytes());
for (const runtime of runtimes) {
  const dir = await Deno.makeTempDir({ prefix: `dfs-noise-${runtime}-` });
  const procs: NodeProcess[] = [];
  try {
    const on = await pair(runtime, `${dir}/on`, false, procs);
    const off = await pair(runtime, `${dir}/off`, true, procs);
    for (let i = 0; i < runs; i++) {
      await getOnce(off);
      await getOnce(on);
    }
    for (const p of [on, off]) {
      const check = await getHashVia(p.c.info.apiUrl, p.id, 10 * 60_000);
      if (check.digest !== want) throw new Error(`${runtime}: wrong bytes from ${p.c.info.apiUrl}`);
    }
    const onM = mibps(median(on.ms));
    const offM = mibps(median(off.ms));
    const row = `| ${runtime} | ${offM} (${off.ms.map(mibps).join(", ")}) | ${onM} (${
      on.ms.map(mibps).join(", ")
    }) | **${(onM / offM).toFixed(2)}** | ${median(off.cpu)} / ${median(on.cpu)} ms |`;
    console.error(row);
    rows.push(row);
  } finally {
    await killAll(procs);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
const table = [
  `Command: \`deno run -A bench/noise_e2e.ts --size ${sizeText} --runs ${runs} --runtime ${
    runtimes.join(",")
  }\` (${new Date().toISOString().slice(0, 16)} UTC, load ${load}).`,
  "",
  `| runtime | remote get, encryption off: median MiB/s (runs) | encryption on (Noise) | ratio on/off | CPU of both nodes per ${
    size / MiB
  } MiB get, off / on |`,
  "| --- | --- | --- | --- | --- |",
  ...rows,
].join("\n");
console.log(table);
if (Deno.args.includes("--write")) {
  const path = new URL("./RESULTS.md", import.meta.url);
  const text = await Deno.readTextFile(path);
  const heading = "\n## Noise end to end (issue 10)\n";
  const intro = [
    heading.trim(),
    "",
    "A remote get through node C's API of a public file held only by node A, with peer encryption",
    "on (Noise, the default; the AEAD negotiated per pair: ChaCha20-Poly1305 between Deno nodes,",
    "AES-256-GCM between Bun nodes and between Node nodes) and off (`--insecure-plaintext`), same",
    "runtime, same run, gets alternating. Target: on >= 0.7 of off on each runtime.",
    "",
    table,
    "",
  ].join("\n");
  const at = text.indexOf(heading);
  const next = at < 0 ? -1 : text.indexOf("\n## ", at + heading.length);
  const out = at < 0
    ? `${text.trimEnd()}\n\n${intro}`
    : `${text.slice(0, at)}\n${intro}${next < 0 ? "" : text.slice(next)}`;
  await Deno.writeTextFile(path, out);
}
