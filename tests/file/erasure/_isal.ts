/**
 * ISA-L as a reference: builds `isal_harness.c` with gcc and libisal into a temporary
 * directory and runs it; plus the seeded test data shared with `isal_vectors.json`.
 *
 * @module
 */

import { Rng } from "../../util/prng.ts";

/** The harness, built, or why it could not be. */
export type Harness = { path: string; dir: string } | { error: string };

/** The C source of the harness. */
export const HARNESS_SOURCE = new URL("./isal_harness.c", import.meta.url).pathname;

/** Builds the harness with `gcc -O2 isal_harness.c -lisal`; never throws. */
export function buildHarness(): Harness {
  let dir: string | undefined;
  try {
    dir = Deno.makeTempDirSync({ prefix: "dfs-isal-" });
    const path = `${dir}/isal_harness`;
    const out = new Deno.Command("gcc", {
      args: ["-O2", "-Wall", "-o", path, HARNESS_SOURCE, "-lisal"],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!out.success) {
      Deno.removeSync(dir, { recursive: true });
      const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 3).join(" / ");
      return { error: `gcc could not build the harness against libisal: ${text}` };
    }
    return { path, dir };
  } catch (err) {
    if (dir) Deno.removeSync(dir, { recursive: true });
    return { error: `gcc is not runnable here (${err instanceof Error ? err.message : err})` };
  }
}

/** Runs the harness on a request (see isal_harness.c) and returns its stdout. */
export async function runHarness(path: string, input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(path, { stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  const written = writer.write(input).then(() => writer.close());
  const [out] = await Promise.all([child.output(), written]);
  if (!out.success) {
    throw new Error(`isal_harness failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** A harness request: the header, then the given parts. */
export function request(
  mode: "E" | "M" | "D",
  k: number,
  m: number,
  length: number,
  parts: Uint8Array[] = [],
): Uint8Array {
  const total = 16 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  [mode.charCodeAt(0), k, m, length].forEach((v, i) => view.setUint32(i * 4, v, true));
  let at = 16;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Little-endian uint32s, as the harness reads indices. */
export function u32s(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v, true));
  return out;
}

/**
 * The k data shards of a vector case: shard i is bytes i*length .. (i+1)*length-1 of
 * `new Rng(seed).bytes(k * length)` (tests/util/prng.ts).
 */
export function caseData(seed: number, k: number, length: number): Uint8Array[] {
  const all = new Rng(seed).bytes(k * length);
  return Array.from({ length: k }, (_, i) => all.subarray(i * length, (i + 1) * length));
}

/** Splits `bytes` into `count` shards of `length`. */
export function split(bytes: Uint8Array, count: number, length: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => bytes.subarray(i * length, (i + 1) * length));
}

/** Lower-case hex. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of the concatenation of `parts`, as hex. */
export async function sha256(parts: Uint8Array[]): Promise<string> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", all)));
}
