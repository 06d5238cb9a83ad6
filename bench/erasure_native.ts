/**
 * Erasure coding per core against the native baseline, Intel ISA-L, in the same run.
 *
 *     deno run -A bench/erasure_native.ts        (also: bun bench/erasure_native.ts,
 *                                                  node bench/erasure_native.ts)
 *
 * Builds bench/native/isal_bench.c with `gcc -O2 ... -lisal` (Debian: gcc, libisal-dev) into a
 * temporary directory and runs it for rs:4+2 and rs:10+4 at 256 KiB shards: encode, and decode
 * after losing the first 2 (rs:4+2) or 4 (rs:10+4) data shards, ISA-L's way (gf_invert_matrix,
 * ec_init_tables, ec_encode_data on the decode rows). Then times dfs's `ReedSolomon.encode`
 * and `reconstruct` on the same shapes with each kernel. Everything is single-threaded and in
 * cache (the same shards over and over); each figure is the median of 5 rounds, as MiB/s of
 * DATA (k × 256 KiB per operation). ISA-L runs before and after dfs's kernels for each shape,
 * and its figure is the better of the two (so a noisy neighbour never flatters dfs's ratio).
 * Prints a markdown table with the command, runtime and load.
 *
 * Env: ERASURE_BENCH_MS (time per measurement, default 1500).
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ReedSolomon } from "../src/file/erasure/reed_solomon.ts";
import type { GfKernel } from "../src/file/erasure/kernel.ts";
import { createTypeScriptKernel } from "../src/file/erasure/typescript_kernel.ts";
import {
  createWasmKernel,
  wasmRelaxedSimdSupported,
  wasmSimdSupported,
} from "../src/file/erasure/wasm_kernel.ts";

const SHARD = 256 * 1024;
const ROUNDS = 5;
const MILLIS = Number(process.env.ERASURE_BENCH_MS ?? 1500);
const SHAPES = [[4, 2], [10, 4]] as const;

interface Native {
  encodeCpu: number;
  decodeCpu: number;
  encodeWall: number;
  decodeWall: number;
}

/** MiB/s by CPU time and by wall-clock time. */
interface Rate {
  cpu: number;
  wall: number;
}

function runtime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${process.version}`;
}

function command(): string {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  const how = g.Deno ? "deno run -A" : g.Bun ? "bun" : "node";
  return `${how} bench/erasure_native.ts`;
}

function buildNative(): { path: string; dir: string } {
  const source = fileURLToPath(new URL("./native/isal_bench.c", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "dfs-isal-bench-"));
  const path = join(dir, "isal_bench");
  execFileSync("gcc", ["-O2", "-o", path, source, "-lisal"], { stdio: "inherit" });
  return { path, dir };
}

function native(path: string, k: number, m: number, lost: number): Native {
  const out = execFileSync(path, [
    String(k),
    String(m),
    String(SHARD),
    String(lost),
    String(MILLIS),
  ]);
  return JSON.parse(new TextDecoder().decode(out)) as Native;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Median MiB/s of `fn`, which handles `bytes` of data per call. */
function measure(fn: () => void, bytes: number): Rate {
  for (let i = 0; i < 3; i++) fn(); // warm up (and let the tiers compile)
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0;
    const c0 = cpuSeconds();
    const t0 = performance.now();
    let t1 = t0;
    do {
      fn();
      ops++;
    } while ((t1 = performance.now()) - t0 < MILLIS / ROUNDS);
    const mib = (ops * bytes) / (1024 * 1024);
    cpu.push(mib / (cpuSeconds() - c0));
    wall.push(mib / ((t1 - t0) / 1000));
  }
  return { cpu: median(cpu), wall: median(wall) };
}

function median(xs: number[]): number {
  return xs.sort((a, b) => a - b)[xs.length >> 1];
}

function fill(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

const kernels: GfKernel[] = [];
if (wasmRelaxedSimdSupported()) kernels.push(createWasmKernel({ relaxedSimd: true }));
if (wasmSimdSupported()) kernels.push(createWasmKernel({ relaxedSimd: false }));
kernels.push(createTypeScriptKernel());

const built = buildNative();
const rows: string[] = [];
try {
  for (const [k, m] of SHAPES) {
    const lost = m;
    const before = native(built.path, k, m, lost);
    const data = Array.from({ length: k }, () => fill(SHARD));
    const ours = kernels.map((kernel) => {
      const rs = ReedSolomon.create(k, m, { kernel });
      const shards = [...data, ...rs.encode(data)];
      const encode = measure(() => rs.encode(data), k * SHARD);
      const parity = Array.from({ length: m }, () => new Uint8Array(SHARD));
      const encodeInto = measure(() => rs.encodeInto(data, parity), k * SHARD);
      const decode = measure(() => {
        const copy: (Uint8Array | undefined)[] = shards.slice();
        for (let i = 0; i < lost; i++) copy[i] = undefined;
        rs.reconstruct(copy);
      }, k * SHARD);
      return { kernel: kernel.name, encode, encodeInto, decode };
    });
    const after = native(built.path, k, m, lost);
    const isal = {
      encode: {
        cpu: Math.max(before.encodeCpu, after.encodeCpu),
        wall: Math.max(before.encodeWall, after.encodeWall),
      },
      decode: {
        cpu: Math.max(before.decodeCpu, after.decodeCpu),
        wall: Math.max(before.decodeWall, after.decodeWall),
      },
    };
    const shape = `rs:${k}+${m}`;
    for (const op of ["encode", "decode"] as const) {
      const label = op === "encode" ? "encode" : `decode, ${lost} data shards lost`;
      rows.push(row(shape, label, "ISA-L (native)", isal[op], isal[op]));
      for (const o of ours) {
        if (op === "encode") {
          rows.push(
            row(shape, label, `${o.kernel}, encodeInto (reused arrays)`, o.encodeInto, isal[op]),
          );
        }
        const what = op === "encode" ? "encode (new arrays)" : "reconstruct";
        rows.push(row(shape, label, `${o.kernel}, ${what}`, o[op], isal[op]));
      }
    }
  }
} finally {
  rmSync(built.dir, { recursive: true, force: true });
}

function row(shape: string, op: string, who: string, rate: Rate, base: Rate): string {
  const f = (x: number) => x.toFixed(0);
  const r = (x: number) => x.toFixed(2);
  return `| ${shape} | ${op} | ${who} | ${f(rate.cpu)} | ${r(rate.cpu / base.cpu)} | ` +
    `${f(rate.wall)} | ${r(rate.wall / base.wall)} |`;
}

const load = loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(
  `Command: \`${command()}\` (${runtime()}, ${cpus()[0]?.model ?? "unknown CPU"}, ` +
    `${cpus().length} cores, load ${load}); 256 KiB shards, in cache, single-threaded, median of ` +
    `${ROUNDS} rounds of ${MILLIS / ROUNDS} ms; MiB/s of data; ratio = dfs / ISA-L.\n`,
);
console.log(
  "| shape | operation | implementation | MiB/s per core (CPU time) | ratio to ISA-L | " +
    "MiB/s (wall clock) | ratio (wall) |",
);
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: |");
for (const row of rows) console.log(row);
