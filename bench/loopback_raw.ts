/**
 * Raw loopback TCP throughput of the host runtime's native socket API, as one JSON line:
 * the physical baseline later transfer benches compare against.
 *
 *     deno run -A bench/loopback_raw.ts [MiB]
 *     bun bench/loopback_raw.ts [MiB]
 *     node bench/loopback_raw.ts [MiB]
 *
 * Deno uses `Deno.listen`/`Deno.connect` with `read`/`write`, Bun uses `Bun.listen`/
 * `Bun.connect` with partial writes and `drain`, Node uses `node:net` with `write`/`'drain'`.
 * One connection per run; the sender writes 64 KiB chunks; the time runs from connect to the
 * receiver counting the last byte. Five runs; the line gives every run and the median.
 *
 * @module
 */

import { argv, CHUNK, measure, rawDenoTransfer, rss } from "./loopback_common.ts";

type Args = { total: number };
type RunFn = (a: Args) => Promise<number>; // returns elapsed ms

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

function runtimeName(): "deno" | "bun" | "node" {
  if (g.Deno) return "deno";
  if (g.Bun) return "bun";
  return "node";
}

function versionOf(name: string): string {
  if (name === "deno") return g.Deno.version.deno;
  if (name === "bun") return g.Bun.version;
  return g.process.versions.node;
}

const denoRun: RunFn = ({ total }) => rawDenoTransfer(total);

const bunRun: RunFn = async ({ total }) => {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = g.Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_s: unknown, d: Uint8Array) {
        got += d.length;
        if (got >= total) done();
      },
    },
  });
  const started = performance.now();
  let drained: (() => void) | null = null;
  const sock = await g.Bun.connect({
    hostname: "127.0.0.1",
    port: server.port,
    socket: {
      data() {},
      drain() {
        const d = drained;
        drained = null;
        d?.();
      },
    },
  });
  const chunk = new Uint8Array(CHUNK).fill(1);
  for (let sent = 0; sent < total; sent += CHUNK) {
    let off = 0;
    while (off < CHUNK) {
      const n = sock.write(off === 0 ? chunk : chunk.subarray(off));
      if (n < 0) throw new Error("socket closed");
      off += n;
      if (off < CHUNK) await new Promise<void>((r) => (drained = r));
    }
  }
  await finished;
  const ms = performance.now() - started;
  sock.end();
  server.stop(true);
  return ms;
};

const nodeRun: RunFn = async ({ total }) => {
  const net = await import("node:net");
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = net.createServer((s) => {
    s.on("data", (d: Uint8Array) => {
      got += d.length;
      if (got >= total) done();
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const started = performance.now();
  const sock = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((r) => sock.once("connect", () => r()));
  const chunk = new Uint8Array(CHUNK).fill(1);
  for (let sent = 0; sent < total; sent += CHUNK) {
    // Node may hold the buffer after write() returns; the content is constant here, so reuse
    // is harmless for a throughput figure.
    if (!sock.write(chunk)) await new Promise<void>((r) => sock.once("drain", () => r()));
  }
  await finished;
  const ms = performance.now() - started;
  sock.destroy();
  server.close();
  return ms;
};

async function main(): Promise<void> {
  const mib = Number(argv()[0] ?? "64");
  const total = Math.max(1, mib) * 1024 * 1024;
  const name = runtimeName();
  const run = name === "deno" ? denoRun : name === "bun" ? bunRun : nodeRun;
  const { runs, medianMiBps } = await measure((n) => run({ total: n }), total);
  console.log(JSON.stringify({
    bench: "loopback_raw",
    runtime: name,
    version: versionOf(name),
    api: name === "deno"
      ? "Deno.listen/connect"
      : name === "bun"
      ? "Bun.listen/connect"
      : "node:net",
    mib: total / 1024 / 1024,
    chunkBytes: CHUNK,
    runs,
    medianMiBps,
    rssMiB: Math.round(rss() / 1024 / 1024),
  }));
}

await main();
if (g.process?.exit && !g.Deno) g.process.exit(0);
