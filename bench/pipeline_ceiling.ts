/**
 * The ceiling of a remote get on this machine: the work a verified remote get must do, with no
 * dfs code at all, in the same process layout as `bench/e2e_bench.ts`.
 *
 *     deno run -A bench/pipeline_ceiling.ts [--size 256M|1G] [--runs N] [--client fetch|curl]
 *       [--verify both|fetcher|none] [--runtime deno|node|bun] [--read-ahead 1]
 *       [--bun-serve 1]
 *
 * - A **holder** process has the data as 256 KiB block files in a directory (page cache). Per
 *   request it sends the list of block sizes and SHA-256 digests, then every block: read from
 *   disk (synchronous reads, the cheapest here), verified (SHA-256, compared with its digest),
 *   written raw to the socket. No framing, no request ids, no headers per block.
 * - A **fetcher** process serves HTTP (`Deno.serve`). Per HTTP request it connects to the
 *   holder, reads every block straight into a fresh buffer of its size (no copy), verifies it
 *   (SHA-256) and enqueues it on the response stream (pull-based, so the socket backpressures).
 * - The **client** (this script: `fetch` and count bytes, or `curl -o /dev/null`) gets the
 *   file through the fetcher.
 *
 * That is what ARCHITECTURE decision 1 (verify when read from disk and when it arrives from a
 * peer) plus two loopback hops cost, with the framing, scheduling and bookkeeping of a real
 * node removed: the best a remote get through an HTTP API can do here. `--verify` (default
 * `both`) drops the holder's or both hashes, to show what verification costs. After one warm-up
 * get, the script prints the throughput (median of `--runs`), the CPU each process spent per get
 * (user + system from `/proc/<pid>/stat`) and the raw loopback baseline of the same run, as one
 * JSON line.
 *
 * `--runtime node|bun` runs the holder and fetcher under Node 24 (with the e2e harness's
 * `NODE_FLAGS`) or Bun instead, from `bench/pipeline_ceiling_node.ts`: the same work on
 * `node:net`, `node:http` and `node:fs` (both runtimes implement them), and the raw loopback
 * baseline (`bench/loopback_raw.ts`) runs under that runtime too. This driver and its client stay
 * Deno in every case.
 *
 * @module
 */

import { NODE_FLAGS } from "../tests/e2e/node_harness.ts";

const MiB = 1024 * 1024;
const BLOCK = 256 * 1024;
const READS_IN_FLIGHT = 4;
const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const verify = flag("verify") ?? "both";
const runtime = flag("runtime") ?? "deno";
/** `--read-ahead 1` (node and bun roles only): the fetcher reads the next block while it works. */
const readAhead = flag("read-ahead") === "1";
if (readAhead && runtime === "deno") throw new Error("--read-ahead is for --runtime node|bun");
/** `--bun-serve 1` (bun only): the fetcher serves HTTP with `Bun.serve` instead of `node:http`. */
const bunServe = flag("bun-serve") === "1";
if (bunServe && runtime !== "bun") throw new Error("--bun-serve is for --runtime bun");
if (!["deno", "node", "bun"].includes(runtime)) throw new Error(`bad --runtime ${runtime}`);
const BIN = new URL("../node_modules/.bin/", import.meta.url).pathname;

/** The command that runs `script` (a bench file) with `args` under `runtime`. */
function commandFor(script: string, args: string[]): string[] {
  const path = new URL(script, import.meta.url).pathname;
  if (runtime === "node") return [`${BIN}node`, ...NODE_FLAGS, path, ...args];
  if (runtime === "bun") return [`${BIN}bun`, path, ...args];
  return [Deno.execPath(), "run", "-A", path, ...args];
}
if (!["both", "fetcher", "none"].includes(verify)) throw new Error(`bad --verify ${verify}`);

function parseSize(text: string): number {
  const m = /^(\d+)([MG])$/i.exec(text);
  if (!m) throw new Error(`bad --size ${text}`);
  return Number(m[1]) * (m[2].toUpperCase() === "G" ? 1024 : 1) * MiB;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

async function readExactly(conn: Deno.Conn, into: Uint8Array): Promise<void> {
  let at = 0;
  while (at < into.length) {
    const n = await conn.read(into.subarray(at));
    if (n === null) throw new Error(`holder closed after ${at} of ${into.length} bytes`);
    at += n;
  }
}

/**
 * Reads a block file with the cheapest calls measured here (synchronous open, fstat, one read:
 * ~1/3 of the CPU of the async calls a node must use, since a node cannot block its event loop
 * on a cold disk; a ceiling can).
 */
function readBlock(path: string): Uint8Array<ArrayBuffer> {
  const file = Deno.openSync(path, { read: true });
  try {
    const bytes = new Uint8Array(file.statSync().size);
    let at = 0;
    while (at < bytes.length) {
      const n = file.readSync(bytes.subarray(at));
      if (n === null || n === 0) throw new Error(`${path}: short read`);
      at += n;
    }
    return bytes;
  } finally {
    file.close();
  }
}

/** Holder: serves the block files of `dir` (named `<index>`), one full pass per connection. */
async function holder(dir: string): Promise<void> {
  const count = Number(await Deno.readTextFile(`${dir}/count`));
  const sizes: number[] = [];
  const digests: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = await Deno.readFile(`${dir}/${i}`);
    sizes.push(bytes.length);
    digests.push(await sha256(bytes));
  }
  const manifest = new Uint8Array(4 + count * 36);
  const view = new DataView(manifest.buffer);
  view.setUint32(0, count);
  for (let i = 0; i < count; i++) {
    view.setUint32(4 + i * 36, sizes[i]);
    manifest.set(digests[i], 8 + i * 36);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ port: listener.addr.port, pid: Deno.pid }));
  for await (const conn of listener) {
    (async () => {
      try {
        await writeAll(conn, manifest);
        const reads: Promise<Uint8Array>[] = [];
        const readVerified = async (i: number) => {
          const bytes = readBlock(`${dir}/${i}`);
          if (verify === "both" && !sameBytes(await sha256(bytes), digests[i])) {
            throw new Error(`block ${i} is corrupt`);
          }
          return bytes;
        };
        for (let i = 0; i < Math.min(READS_IN_FLIGHT, count); i++) reads.push(readVerified(i));
        for (let i = 0; i < count; i++) {
          const bytes = await reads[i];
          if (i + READS_IN_FLIGHT < count) reads.push(readVerified(i + READS_IN_FLIGHT));
          await writeAll(conn, bytes);
        }
      } catch (err) {
        console.error(`holder: ${(err as Error).message}`);
      } finally {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    })();
  }
}

/** Fetcher: per HTTP request, pulls every block from the holder, verifies it, streams it out. */
function fetcher(holderPort: number): void {
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(JSON.stringify({ port, pid: Deno.pid })),
  }, async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: holderPort });
    const head = new Uint8Array(4);
    await readExactly(conn, head);
    const count = new DataView(head.buffer).getUint32(0);
    const manifest = new Uint8Array(count * 36);
    await readExactly(conn, manifest);
    const view = new DataView(manifest.buffer);
    let total = 0;
    for (let i = 0; i < count; i++) total += view.getUint32(i * 36);
    let next = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (next === count) {
          conn.close();
          return controller.close();
        }
        const i = next++;
        const block = new Uint8Array(view.getUint32(i * 36));
        await readExactly(conn, block);
        const want = manifest.subarray(i * 36 + 4, i * 36 + 36);
        if (verify !== "none" && !sameBytes(await sha256(block), want)) {
          throw new Error(`block ${i} arrived corrupt`);
        }
        controller.enqueue(block);
      },
      cancel() {
        conn.close();
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-length": String(total) } });
  });
}

function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function spawnRole(role: string, extra: string[]) {
  const script = runtime === "deno" ? "./pipeline_ceiling.ts" : "./pipeline_ceiling_node.ts";
  const cmd = commandFor(script, ["--role", role, ...extra]);
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const r = await reader.read();
    if (r.done) throw new Error(`${role} exited before it was ready`);
    text += r.value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  const info = JSON.parse(text.slice(0, text.indexOf("\n"))) as {
    port: number;
    pid: number;
    version?: string;
  };
  return { child, ...info };
}

async function getOnce(url: string, client: string, size: number): Promise<number> {
  if (client === "curl") {
    const out = await new Deno.Command("curl", {
      args: ["-sS", "-o", "/dev/null", "-w", "%{size_download}", url],
      stdout: "piped",
    }).output();
    return Number(new TextDecoder().decode(out.stdout));
  }
  const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status}`);
  let n = 0;
  for await (const chunk of res.body) n += chunk.length;
  if (n !== size) throw new Error(`got ${n} of ${size} bytes`);
  return n;
}

async function rawLoopback(mib: number): Promise<number> {
  const cmd = commandFor("./loopback_raw.ts", [String(mib)]);
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}";
  return JSON.parse(line).medianMiBps as number;
}

async function drive(): Promise<void> {
  const size = parseSize(flag("size") ?? "256M");
  const runs = Number(flag("runs") ?? "3");
  const client = flag("client") ?? "fetch";
  const dir = await Deno.makeTempDir({ prefix: "dfs-ceiling-" });
  const procs: Deno.ChildProcess[] = [];
  try {
    const count = Math.ceil(size / BLOCK);
    const block = new Uint8Array(BLOCK);
    for (let i = 0; i < count; i++) {
      for (let at = 0; at < BLOCK; at += 65536) {
        crypto.getRandomValues(block.subarray(at, at + 65536));
      }
      await Deno.writeFile(`${dir}/${i}`, block.subarray(0, Math.min(BLOCK, size - i * BLOCK)));
    }
    await Deno.writeTextFile(`${dir}/count`, String(count));
    const h = await spawnRole("holder", ["--dir", dir, "--verify", verify]);
    procs.push(h.child);
    const f = await spawnRole("fetcher", [
      "--holder-port",
      String(h.port),
      "--verify",
      verify,
      ...(readAhead ? ["--read-ahead", "1"] : []),
      ...(bunServe ? ["--bun-serve", "1"] : []),
    ]);
    procs.push(f.child);
    const url = `http://127.0.0.1:${f.port}/`;
    await getOnce(url, client, size); // warm-up: both processes compile their hot paths
    const mibps: number[] = [];
    const cpu = { holder: [] as number[], fetcher: [] as number[], client: [] as number[] };
    for (let r = 0; r < runs; r++) {
      const h0 = cpuMs(h.pid), f0 = cpuMs(f.pid), c0 = cpuMs(Deno.pid);
      const t0 = performance.now();
      const n = await getOnce(url, client, size);
      const ms = performance.now() - t0;
      if (n !== size) throw new Error(`got ${n} of ${size} bytes`);
      mibps.push(Math.round(size / MiB / (ms / 1000)));
      cpu.holder.push(cpuMs(h.pid) - h0);
      cpu.fetcher.push(cpuMs(f.pid) - f0);
      cpu.client.push(client === "fetch" ? cpuMs(Deno.pid) - c0 : NaN);
    }
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.status));
    procs.length = 0;
    const loopback = await rawLoopback(Math.min(256, size / MiB));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const best = median(mibps);
    console.log(JSON.stringify({
      bench: "pipeline_ceiling",
      runtime,
      version: h.version ?? Deno.version.deno,
      client,
      verify,
      ...(readAhead ? { readAhead: true } : {}),
      ...(bunServe ? { http: "Bun.serve" } : {}),
      sizeMiB: size / MiB,
      blockKiB: BLOCK / 1024,
      runsMiBps: mibps,
      medianMiBps: best,
      cpuMsPerGet: {
        holder: median(cpu.holder),
        fetcher: median(cpu.fetcher),
        client: client === "fetch" ? median(cpu.client) : null,
      },
      rawLoopbackMiBps: loopback,
      ratio: Math.round(best / loopback * 100) / 100,
      load: Deno.loadavg().map((x) => Math.round(x * 10) / 10),
    }));
  } finally {
    for (const p of procs) {
      try {
        p.kill("SIGKILL");
      } catch {
        // gone
      }
    }
    await Deno.remove(dir, { recursive: true });
  }
}

const role = flag("role");
if (role === "holder") await holder(flag("dir")!);
else if (role === "fetcher") fetcher(Number(flag("holder-port")));
else await drive();
