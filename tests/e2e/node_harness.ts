/**
 * Helpers for end-to-end tests and benchmarks: start `node_process.ts` under Deno, Bun or Node,
 * talk to its HTTP API, stream deterministic pseudo-random bodies and hash them on the fly.
 * Only loopback; every wait is bounded; only the processes started here are killed.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Rng } from "../util/prng.ts";

/** Which runtime runs a node process. */
export type ProcessRuntime = "deno" | "bun" | "node";

/** What a started node process printed. */
export interface NodeInfo {
  readonly nodeId: string;
  readonly address: string;
  readonly apiUrl: string;
  readonly pid: number;
  readonly runtime: string;
}

/** A running node process. */
export interface NodeProcess {
  readonly info: NodeInfo;
  readonly runtime: ProcessRuntime;
  readonly dataDir: string;
  /** Sends a signal (default SIGTERM); no-op once exited. */
  kill(signal?: Deno.Signal): void;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin`;
const SCRIPT = `${ROOT}tests/e2e/node_process.ts`;

/** Options of {@linkcode startNodeProcess}. */
export interface StartOptions {
  readonly runtime?: ProcessRuntime;
  readonly dataDir: string;
  readonly bootstrap?: readonly string[];
  readonly replication?: number;
  readonly blockSize?: number;
  readonly durability?: "fsync" | "none";
  /** Node ids (hex) the node's reads ask first for every block. */
  readonly preferPeers?: readonly string[];
  readonly verbose?: boolean;
  /** `--cluster-key-file`: the node joins the private cluster of this key file. */
  readonly clusterKeyFile?: string;
  /** Peer traffic in clear (`--insecure-plaintext`), for benches that compare. */
  readonly plaintext?: boolean;
  /** Extra flags for the runtime itself (e.g. `--cpu-prof` on Bun and Node). */
  readonly runtimeFlags?: readonly string[];
  /** How long to wait for the ready line (default 20 s). */
  readonly startTimeoutMs?: number;
}

/**
 * Flags a Node 24 node runs with, as the README starts one: a 4 MiB young-generation semi-space
 * keeps the dead block buffers between collections, and so the node's RSS, bounded (see the
 * "End to end" section of bench/RESULTS.md).
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];

/** Starts a node process and waits for its ready line. */
export async function startNodeProcess(options: StartOptions): Promise<NodeProcess> {
  const runtime = options.runtime ?? "deno";
  const args = ["--data", options.dataDir, "--listen", "127.0.0.1:0", "--api", "127.0.0.1:0"];
  if (options.bootstrap?.length) args.push("--bootstrap", options.bootstrap.join(","));
  if (options.replication) args.push("--replication", String(options.replication));
  if (options.blockSize) args.push("--block-size", String(options.blockSize));
  if (options.durability) args.push("--durability", options.durability);
  if (options.preferPeers?.length) args.push("--prefer-peers", options.preferPeers.join(","));
  if (options.verbose) args.push("--verbose");
  if (options.clusterKeyFile) args.push("--cluster-key-file", options.clusterKeyFile);
  if (options.plaintext) args.push("--insecure-plaintext");
  const cmd = runtime === "deno"
    ? [`${BIN}/deno`, "run", "-A", ...(options.runtimeFlags ?? []), SCRIPT, ...args]
    : runtime === "bun"
    ? [`${BIN}/bun`, ...(options.runtimeFlags ?? []), SCRIPT, ...args]
    : [`${BIN}/node`, ...NODE_FLAGS, ...(options.runtimeFlags ?? []), SCRIPT, ...args];
  const { out, kill, status, stderr } = await spawnUntil(
    cmd,
    (text) => text.includes("\n"),
    options.startTimeoutMs ?? 20_000,
    `${runtime} node`,
  );
  const info = JSON.parse(out.slice(0, out.indexOf("\n"))) as NodeInfo;
  return { info, runtime, dataDir: options.dataDir, kill, exited: status, stderr };
}

/** A started child process: what it printed so far, and how to stop it. */
export interface Spawned {
  /** Its stdout up to the point `ready` accepted (stdout is drained after that). */
  readonly out: string;
  /** Its pid. */
  readonly pid: number;
  /** Sends a signal (ignored once it exited). */
  readonly kill: (signal?: Deno.Signal) => void;
  /** Resolves when it exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** The tail of its stderr. */
  readonly stderr: () => string;
}

/**
 * Spawns `cmd` in the repository root and reads its stdout until `ready(out)` holds (bounded
 * by `timeoutMs`); on failure it SIGKILLs the child and throws with its stderr. Afterwards
 * stdout keeps being drained so the child never blocks on it.
 */
export async function spawnUntil(
  cmd: readonly string[],
  ready: (out: string) => boolean,
  timeoutMs: number,
  what: string,
): Promise<Spawned> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
    env: { PATH: `${BIN}:${Deno.env.get("PATH") ?? ""}`, NO_COLOR: "1" },
  }).spawn();
  let errText = "";
  const dec = new TextDecoder();
  (async () => {
    for await (const c of child.stderr) {
      errText += dec.decode(c, { stream: true });
      if (errText.length > 200_000) errText = errText.slice(-100_000);
    }
  })().catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (exited) return;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  const reader = child.stdout.getReader();
  let out = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!ready(out)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<never>((_, rej) => timer = setTimeout(() => rej(new Error("timed out")), left)),
      ]).finally(() => clearTimeout(timer));
      if (r.done) throw new Error("exited before it was ready");
      out += dec.decode(r.value, { stream: true });
    }
  } catch (err) {
    kill("SIGKILL");
    await status;
    throw new Error(`${what} did not start: ${(err as Error).message}\n${out}\n${errText}`);
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return { out, pid: child.pid, kill, status, stderr: () => errText };
}

/** Kills (SIGKILL) every process given that is still running, and waits for them. */
export async function killAll(procs: readonly NodeProcess[]): Promise<void> {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited.catch(() => {})));
}

/**
 * Runs `body` with a fresh temporary directory (named from `prefix`) and a list to push every
 * started process onto. On failure it prints each process's stderr and rethrows; in every case
 * it kills those processes and removes the directory.
 *
 * @example
 * ```ts ignore
 * await withNodeProcesses("dfs-e2e-", async (dir, procs) => {
 *   procs.push(await startNodeProcess({ dataDir: `${dir}/a` }));
 * });
 * ```
 */
export async function withNodeProcesses(
  prefix: string,
  body: (dir: string, procs: NodeProcess[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const procs: NodeProcess[] = [];
  try {
    await body(dir, procs);
  } catch (err) {
    for (const p of procs) console.error(`--- ${p.runtime} ${p.info.address}\n${p.stderr()}`);
    throw err;
  } finally {
    await killAll(procs);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Fetches JSON from a node's API (bounded). Throws with the body on a non-2xx answer. */
export async function api<T>(
  base: string,
  path: string,
  init: RequestInit = {},
  timeoutMs = 30_000,
): Promise<T> {
  const res = await fetch(`${base}/api/v1${path}`, {
    ...init,
    signal: init.signal ?? AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Waits until the node at `base` reports at least `n` connected peers (bounded). */
export async function waitForPeers(base: string, n: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const s = await api<{ peers: number }>(base, "/status", {}, 5000);
      if (s.peers >= n) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base} did not reach ${n} peers in ${timeoutMs} ms`);
}

/**
 * A deterministic pseudo-random body of `size` bytes as a pull stream (64 KiB chunks), and the
 * SHA-256 of what it produced, available once the stream has been read to the end.
 */
export function randomBody(
  size: number,
  seed: number,
): { stream: ReadableStream<Uint8Array>; digest: () => string } {
  const hash = createHash("sha256");
  let digest = "";
  let sent = 0;
  const rng = new Rng(seed);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) {
        digest = hash.digest("hex");
        controller.close();
        return;
      }
      const n = Math.min(64 * 1024, size - sent);
      const words = new Uint32Array(Math.ceil(n / 4));
      for (let i = 0; i < words.length; i++) words[i] = rng.u32();
      const chunk = new Uint8Array(words.buffer, 0, n);
      hash.update(chunk);
      sent += n;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    digest: () => digest || (sent >= size ? (digest = hash.digest("hex")) : ""),
  };
}

/** Reads a stream to the end, hashing it; returns the SHA-256 (hex) and the byte count. */
export async function sha256Stream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ digest: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const c of stream) {
    hash.update(c);
    bytes += c.length;
  }
  return { digest: hash.digest("hex"), bytes };
}

/** SHA-256 (hex) of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What `POST /files` answers. */
export interface PutAnswer {
  readonly id: string;
  /** The read capability of an encrypted file (`?encrypt=1`). */
  readonly capability?: string;
  readonly size: number;
  readonly copies: number;
  readonly wanted: number;
}

/**
 * The put query these process tests use: public (plaintext) files unless `query` asks for
 * `encrypt` itself, since they read by id; the encrypted path has its own tests.
 */
function publicUnlessAsked(query: string): string {
  if (/[?&]encrypt=/.test(query)) return query;
  return query === "" ? "?encrypt=0" : `${query}&encrypt=0`;
}

/** Puts a body through a node's API (public unless `query` sets `encrypt`). */
export async function putVia(
  base: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
  query = "",
  timeoutMs = 120_000,
): Promise<PutAnswer> {
  return await api<PutAnswer>(base, `/files${publicUnlessAsked(query)}`, {
    method: "POST",
    body: body as BodyInit,
    headers: { "content-type": "application/octet-stream" },
    // @ts-ignore: `duplex` is needed to stream a request body (not yet in every lib typing).
    duplex: "half",
  }, timeoutMs);
}

/** Gets a file through a node's API and hashes it as it streams. */
export async function getHashVia(
  base: string,
  id: string,
  timeoutMs = 120_000,
): Promise<{ digest: string; bytes: number }> {
  const res = await fetch(`${base}/api/v1/files/${id}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`GET ${id}: ${res.status} ${await res.text()}`);
  return await sha256Stream(res.body);
}

/** Peak resident set size (VmHWM) of a process in bytes, from /proc; 0 when unavailable. */
export function peakRss(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Longest a {@linkcode putRaw} upload and its answer may take (ms). */
export const PUT_RAW_TIMEOUT_MS = 300_000;
/** Largest answer {@linkcode putRaw} reads (bytes). */
const PUT_RAW_MAX_ANSWER = 1024 * 1024;

/**
 * Puts a body of known size through a node's API with a minimal HTTP/1.1 client over a raw
 * loopback socket (`Content-Length`, no chunking). Deno's `fetch` uploads streamed bodies far
 * below loopback speed, which would make the client the bottleneck of a benchmark. Bounded:
 * fails after `timeoutMs` and on an answer over 1 MiB.
 */
export async function putRaw(
  base: string,
  body: ReadableStream<Uint8Array>,
  size: number,
  query = "",
  timeoutMs = PUT_RAW_TIMEOUT_MS,
): Promise<PutAnswer> {
  const url = new URL(`${base}/api/v1/files${publicUnlessAsked(query)}`);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  // Bounded in time: closing the socket ends both the upload and the answer loop.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }, timeoutMs);
  try {
    const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: ${size}\r\n` +
      `Connection: close\r\n\r\n`;
    await writeAll(conn, new TextEncoder().encode(head));
    // Read the answer concurrently: a server may answer (an error) before the body is sent.
    const answer = (async () => {
      const parts: Uint8Array[] = [];
      const buf = new Uint8Array(64 * 1024);
      let total = 0;
      // Bounded in size (and so in count): an answer is a small JSON document.
      while (total <= PUT_RAW_MAX_ANSWER) {
        const n = await conn.read(buf).catch((err) => {
          if (timedOut) throw new Error(`POST ${url.pathname}: no answer in ${timeoutMs} ms`);
          throw err;
        });
        if (n === null) break;
        parts.push(buf.slice(0, n));
        total += n;
      }
      if (total > PUT_RAW_MAX_ANSWER) {
        throw new Error(`POST ${url.pathname}: answer over ${PUT_RAW_MAX_ANSWER} bytes`);
      }
      return new TextDecoder().decode(await new Blob(parts as BlobPart[]).arrayBuffer());
    })();
    for await (const chunk of body) await writeAll(conn, chunk);
    const text = await answer;
    const sep = text.indexOf("\r\n\r\n");
    const status = Number(text.slice(9, 12));
    let payload = text.slice(sep + 4);
    if (/transfer-encoding:\s*chunked/i.test(text.slice(0, sep))) payload = dechunk(payload);
    if (status < 200 || status >= 300) {
      throw new Error(`POST ${url.pathname}: ${status} ${payload}`);
    }
    return JSON.parse(payload) as PutAnswer;
  } catch (err) {
    if (timedOut) throw new Error(`POST ${url.pathname}: over ${timeoutMs} ms`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  while (true) {
    const nl = rest.indexOf("\r\n");
    const n = parseInt(rest.slice(0, nl), 16);
    if (!(n > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + n);
    rest = rest.slice(nl + 2 + n + 2);
  }
}

/** Gets a file through a node's API and only counts the bytes (for timing; no hashing). */
export async function getCountVia(base: string, id: string, timeoutMs = 600_000): Promise<number> {
  const res = await fetch(`${base}/api/v1/files/${id}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`GET ${id}: ${res.status} ${await res.text()}`);
  let n = 0;
  for await (const c of res.body) n += c.length;
  return n;
}

/** Options of {@linkcode startServeProcess}. */
export interface ServeProcessOptions {
  readonly runtime?: ProcessRuntime;
  readonly dataDir: string;
  readonly bootstrap?: readonly string[];
  readonly replication?: number;
  /** `--max-connections N` (the node's bound on open peer connections). */
  readonly maxConnections?: number;
  /** `--log-level` (default `warn`). */
  readonly logLevel?: "debug" | "info" | "warn" | "error";
  /** How long to wait for the banner (default 20 s). */
  readonly startTimeoutMs?: number;
  /** More `serve` flags, appended as given. */
  readonly extraArgs?: readonly string[];
  /** `--listen` (default `127.0.0.1:0`). */
  readonly listen?: string;
  /** `--api` (default `127.0.0.1:0`). */
  readonly api?: string;
  /**
   * A command the node runs under, e.g. `["ip", "netns", "exec", NS]` (it must exec the rest,
   * so that the pid and signals are the node's own).
   */
  readonly prefix?: readonly string[];
}

/**
 * Starts a node through the real command line, `dfs serve` (`mod.ts`) on loopback ports 0, and
 * waits for its banner (bounded). Unlike {@linkcode startNodeProcess} it takes every `serve`
 * flag, e.g. `--max-connections`. `info.apiUrl` is the API's origin (as {@linkcode api} wants
 * it); the environment's `DFS_*` settings are overridden by the flags given.
 */
export async function startServeProcess(options: ServeProcessOptions): Promise<NodeProcess> {
  const runtime = options.runtime ?? "deno";
  const mod = `${ROOT}mod.ts`;
  const args = ["serve", "--data", options.dataDir, "--listen", options.listen ?? "127.0.0.1:0"];
  args.push("--api", options.api ?? "127.0.0.1:0", "--log-level", options.logLevel ?? "warn");
  if (options.bootstrap?.length) args.push("--bootstrap", options.bootstrap.join(","));
  if (options.replication) args.push("--replication", String(options.replication));
  if (options.maxConnections) args.push("--max-connections", String(options.maxConnections));
  if (options.extraArgs) args.push(...options.extraArgs);
  const cmd = runtime === "deno"
    ? [`${BIN}/deno`, "run", "-A", mod, ...args]
    : runtime === "bun"
    ? [`${BIN}/bun`, mod, ...args]
    : [`${BIN}/node`, ...NODE_FLAGS, mod, ...args];
  // The banner's last line is `  data DIR`.
  const { out, pid, kill, status, stderr } = await spawnUntil(
    [...(options.prefix ?? []), ...cmd],
    (text) => /\n {2}data [^\n]*\n/.test(text),
    options.startTimeoutMs ?? 20_000,
    `${runtime} serve`,
  );
  const nodeId = / node ([0-9a-f]+)\n/.exec(out)?.[1];
  const address = /\n {2}p2p +(\S+)/.exec(out)?.[1];
  const apiText = /\n {2}api +(\S+)/.exec(out)?.[1];
  if (!nodeId || !address || !apiText) {
    kill("SIGKILL");
    await status;
    throw new Error(`${runtime} serve printed an unexpected banner:\n${out}`);
  }
  const info: NodeInfo = {
    nodeId,
    address,
    apiUrl: new URL(apiText).origin,
    pid,
    runtime,
  };
  return { info, runtime, dataDir: options.dataDir, kill, exited: status, stderr };
}
