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

const CHUNK = 64 * 1024;
const RUNS = 5;

type Args = { total: number };
type RunFn = (a: Args) => Promise<number>; // returns elapsed ms

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

function argv(): string[] {
  if (g.Deno) return g.Deno.args;
  return g.process.argv.slice(2);
}

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

const denoRun: RunFn = async ({ total }) => {
  const listener = g.Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const started = performance.now();
  const receiving = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(256 * 1024);
    let got = 0;
    while (got < total) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += n;
    }
    conn.close();
    return got;
  })();
  const conn = await g.Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const chunk = new Uint8Array(CHUNK).fill(1);
  for (let sent = 0; sent < total; sent += CHUNK) {
    let off = 0;
    while (off < CHUNK) off += await conn.write(off === 0 ? chunk : chunk.subarray(off));
  }
  const got = await receiving;
  const ms = performance.now() - started;
  conn.close();
  listener.close();
  if (got !== total) throw new Error(`received ${got} of ${total}`);
  return ms;
};

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

/** Resident set size now (bytes); the runs reuse one 64 KiB chunk, so this is near the peak. */
function rss(): number {
  return g.Deno ? g.Deno.memoryUsage().rss : g.process.memoryUsage().rss;
}

async function main(): Promise<void> {
  const mib = Number(argv()[0] ?? "64");
  const total = Math.max(1, mib) * 1024 * 1024;
  const name = runtimeName();
  const run = name === "deno" ? denoRun : name === "bun" ? bunRun : nodeRun;
  await run({ total: Math.min(total, 8 * 1024 * 1024) }); // warm-up
  const mibPerSec: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ms = await run({ total });
    mibPerSec.push(Math.round((total / 1024 / 1024) / (ms / 1000)));
  }
  const sorted = [...mibPerSec].sort((a, b) => a - b);
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
    runs: mibPerSec,
    medianMiBps: sorted[Math.floor(sorted.length / 2)],
    rssMiB: Math.round(rss() / 1024 / 1024),
  }));
}

await main();
if (g.process?.exit && !g.Deno) g.process.exit(0);
