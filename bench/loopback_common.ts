/**
 * What the loopback benches share: one transfer over the raw native sockets of each runtime, one
 * through a dfs `Network` adapter, and the warm-up / five runs / median loop with the host's
 * arguments and RSS. Runs on Deno, Bun and Node (each raw transfer only on its own runtime).
 *
 * @module
 */

import type { Network } from "../src/runtime/types.ts";

/** Bytes per write on every sender unless a caller says otherwise. */
export const CHUNK = 64 * 1024;
/** Measured runs per line (after one warm-up). */
export const RUNS = 5;

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The command-line arguments after the script, on any runtime. */
export function argv(): string[] {
  return g.Deno ? g.Deno.args : g.process.argv.slice(2);
}

/** Resident set size now (bytes); the runs reuse one 64 KiB chunk, so this is near the peak. */
export function rss(): number {
  return g.Deno ? g.Deno.memoryUsage().rss : g.process.memoryUsage().rss;
}

/**
 * Moves `total` bytes over one raw `Deno.connect`/`Deno.listen` connection in writes of
 * `chunkSize` (default {@linkcode CHUNK}) to a receiver that counts them; returns the ms from
 * connect to the last byte received. Throws when fewer bytes arrive.
 */
export async function rawDenoTransfer(total: number, chunkSize = CHUNK): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
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
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const chunk = new Uint8Array(chunkSize).fill(1);
  for (let sent = 0; sent < total; sent += chunkSize) {
    let off = 0;
    while (off < chunkSize) off += await conn.write(off === 0 ? chunk : chunk.subarray(off));
  }
  const got = await receiving;
  const ms = performance.now() - started;
  conn.close();
  listener.close();
  if (got !== total) throw new Error(`received ${got} of ${total}`);
  return ms;
}

/**
 * Like {@linkcode rawDenoTransfer} over `Bun.listen`/`Bun.connect` (partial writes wait for
 * `drain`); Bun only.
 */
export async function rawBunTransfer(total: number, chunkSize = CHUNK): Promise<number> {
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
  const chunk = new Uint8Array(chunkSize).fill(1);
  for (let sent = 0; sent < total; sent += chunkSize) {
    let off = 0;
    while (off < chunkSize) {
      const n = sock.write(off === 0 ? chunk : chunk.subarray(off));
      if (n < 0) throw new Error("socket closed");
      off += n;
      if (off < chunkSize) await new Promise<void>((r) => (drained = r));
    }
  }
  await finished;
  const ms = performance.now() - started;
  sock.end();
  server.stop(true);
  return ms;
}

/** Like {@linkcode rawDenoTransfer} over `node:net` (`write`, then `'drain'`); Node only. */
export async function rawNodeTransfer(total: number, chunkSize = CHUNK): Promise<number> {
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
  const chunk = new Uint8Array(chunkSize).fill(1);
  for (let sent = 0; sent < total; sent += chunkSize) {
    // Node may hold the buffer after write() returns; the content is constant here, so reuse
    // is harmless for a throughput figure.
    if (!sock.write(chunk)) await new Promise<void>((r) => sock.once("drain", () => r()));
  }
  await finished;
  const ms = performance.now() - started;
  sock.destroy();
  server.close();
  return ms;
}

/** The raw transfer of the host runtime: Deno, Bun or Node sockets. */
export function rawNativeTransfer(total: number, chunkSize = CHUNK): Promise<number> {
  if (g.Deno) return rawDenoTransfer(total, chunkSize);
  if (g.Bun) return rawBunTransfer(total, chunkSize);
  return rawNodeTransfer(total, chunkSize);
}

/** Options of {@linkcode adapterTransfer}. */
export interface AdapterTransferOptions {
  /**
   * Write a fresh zeroed buffer each time, as the protocol produces one new frame per write,
   * instead of reusing one chunk. Default false.
   */
  readonly freshChunks?: boolean;
}

/**
 * Moves `total` bytes over one connection of `net` (`writable` in writes of `chunkSize`, the
 * receiver counting `readable` to its end); returns the ms from connect to the receiver's end
 * of stream. Throws when fewer bytes arrive.
 */
export async function adapterTransfer(
  net: Network,
  total: number,
  chunkSize = CHUNK,
  options: AdapterTransferOptions = {},
): Promise<number> {
  let receiving: Promise<number> | undefined;
  let accepted!: () => void;
  const acceptedP = new Promise<void>((r) => (accepted = r));
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    receiving = (async () => {
      let got = 0;
      for await (const c of conn.readable) got += c.length;
      conn.close();
      return got;
    })();
    accepted();
  });
  const started = performance.now();
  const conn = await net.connect(listener.address);
  const writer = conn.writable.getWriter();
  const chunk = new Uint8Array(chunkSize).fill(1);
  for (let sent = 0; sent < total; sent += chunkSize) {
    await writer.write(options.freshChunks ? new Uint8Array(chunkSize) : chunk);
  }
  await writer.close();
  await acceptedP;
  const got = await receiving!;
  const ms = performance.now() - started;
  conn.close();
  await listener.close();
  if (got !== total) throw new Error(`received ${got} of ${total}`);
  return ms;
}

/** The median of `xs` (the upper one of the middle two for an even count); `xs` is not changed. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The figures of {@linkcode measure}: MiB/s of every run and their median. */
export interface Runs {
  /** MiB/s of each measured run, in order. */
  readonly runs: number[];
  /** The median of `runs`. */
  readonly medianMiBps: number;
}

/**
 * One warm-up of `run` (at most 8 MiB), then {@linkcode RUNS} runs of `total` bytes; `run`
 * returns the elapsed ms of one transfer.
 */
export async function measure(
  run: (total: number) => Promise<number>,
  total: number,
): Promise<Runs> {
  await run(Math.min(total, 8 * 1024 * 1024)); // warm-up
  const mibPerSec: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ms = await run(total);
    mibPerSec.push(Math.round((total / 1024 / 1024) / (ms / 1000)));
  }
  return { runs: mibPerSec, medianMiBps: median(mibPerSec) };
}
