/**
 * Test harness for the CLI: a fake process (captured stdio, injectable env, raisable signals)
 * on top of the real Deno runtime's files and HTTP serve, and a fake node served over loopback.
 *
 * @module
 */

import { concatBytes } from "../../src/util/concat.ts";
import { createApiHandler } from "../../src/api/handler.ts";
import { main, type MainDeps } from "../../src/cli/main.ts";
import { serveOptions } from "../../src/cli/serve_options.ts";
import { denoRuntime } from "../../src/runtime/deno.ts";
import type { HttpServer, ProcessHost, Runtime } from "../../src/runtime/types.ts";
import { FakeNode } from "../api/fake_node.ts";

/** Thrown by the fake `exit`. */
export class ExitCalled extends Error {
  /** The code. */
  readonly code: number;
  /** Creates it. */
  constructor(code: number) {
    super(`exit(${code})`);
    this.code = code;
  }
}

/** A fake {@linkcode ProcessHost}. */
export class FakeProcess implements ProcessHost {
  /** Arguments. */
  args: string[];
  /** Environment. */
  readonly vars = new Map<string, string>();
  /** Stdout bytes. */
  readonly stdoutChunks: Uint8Array[] = [];
  /** Stderr text. */
  stderr = "";
  /** Which streams pretend to be terminals. */
  terminals = new Set<string>();
  /** Bytes given as stdin. */
  stdinBytes: Uint8Array = new Uint8Array(0);
  /** Signal handlers. */
  readonly handlers = new Map<string, Set<() => void>>();
  /** Called when stdout is written (tests can raise signals mid-transfer). */
  onStdout: (() => void) | undefined = undefined;
  /** Called when stderr is written. */
  onStderr: (() => void) | undefined = undefined;
  /** Process id. */
  readonly pid = 4242;

  /** Creates it with arguments. */
  constructor(args: string[]) {
    this.args = args;
  }

  env(name: string): string | undefined {
    return this.vars.get(name);
  }
  homeDir(): string | undefined {
    return undefined;
  }
  get stdin(): ReadableStream<Uint8Array> {
    const bytes = this.stdinBytes;
    let at = 0;
    return new ReadableStream({
      pull(c) {
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.slice(at, at + 1000));
        at += 1000;
      },
    });
  }
  writeStdout(bytes: Uint8Array): Promise<void> {
    this.stdoutChunks.push(bytes.slice());
    this.onStdout?.();
    return Promise.resolve();
  }
  writeStderr(bytes: Uint8Array): Promise<void> {
    this.stderr += new TextDecoder().decode(bytes);
    this.onStderr?.();
    return Promise.resolve();
  }
  isTerminal(stream: "stdin" | "stdout" | "stderr"): boolean {
    return this.terminals.has(stream);
  }
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): () => void {
    let set = this.handlers.get(signal);
    if (!set) this.handlers.set(signal, set = new Set());
    set.add(handler);
    return () => set.delete(handler);
  }
  /** Delivers a signal to the registered handlers. */
  raise(signal: "SIGINT" | "SIGTERM"): void {
    for (const h of [...(this.handlers.get(signal) ?? [])]) h();
  }
  /** Number of handlers still registered. */
  get handlerCount(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
  exit(code: number): never {
    throw new ExitCalled(code);
  }
  memoryRss(): number {
    return 0;
  }
  /** Stdout as bytes. */
  get stdoutBytes(): Uint8Array {
    return concatBytes(this.stdoutChunks);
  }
  /** Stdout as text. */
  get stdout(): string {
    return new TextDecoder().decode(this.stdoutBytes);
  }
}

/** A runtime with the real Deno files and HTTP serve and a fake process. */
export function testRuntime(process: FakeProcess): Runtime {
  const real = denoRuntime();
  return { name: "deno", fs: real.fs, net: real.net, serve: real.serve, process };
}

/** What {@linkcode withNode} gives the test. */
export interface NodeFixture {
  /** The fake node. */
  readonly node: FakeNode;
  /** `127.0.0.1:PORT` of its API. */
  readonly api: string;
  /** A temporary directory, removed afterwards. */
  readonly dir: string;
  /** Runs `dfs ARGS...` against the node (adds `--api`) and returns the exit code and process. */
  run(
    args: string[],
    setup?: (p: FakeProcess) => void,
  ): Promise<{ code: number; proc: FakeProcess }>;
}

/** Runs `dfs` with `args` on a fake process. */
export async function runCli(
  args: string[],
  setup?: (p: FakeProcess) => void,
  deps: MainDeps = {},
): Promise<{ code: number; proc: FakeProcess }> {
  const proc = new FakeProcess(args);
  setup?.(proc);
  const code = await main(testRuntime(proc), deps);
  return { code, proc };
}

/** Serves a fresh fake node's API on 127.0.0.1:0 for the duration of `fn`. */
export async function withNode(fn: (f: NodeFixture) => Promise<void>): Promise<void> {
  const node = new FakeNode();
  const dir = await Deno.makeTempDir({ prefix: "dfs-cli-test-" });
  const server: HttpServer = await denoRuntime().serve(
    { hostname: "127.0.0.1", port: 0 },
    createApiHandler(node),
  );
  const api = `127.0.0.1:${server.address.port}`;
  try {
    await fn({
      node,
      api,
      dir,
      run: (args, setup) => runCli([...args, "--api", api], setup),
    });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A loopback port nothing listens on (bound, then released). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * `serve`'s options parsed from `args` with the environment `env`, as a process would see
 * them (stderr collected on the fake process). Throws on `--help`.
 */
export async function serveOptionsOf(args: string[], env: Record<string, string> = {}) {
  const proc = new FakeProcess(args);
  for (const [k, v] of Object.entries(env)) proc.vars.set(k, v);
  const o = await serveOptions({
    runtime: testRuntime(proc),
    process: proc,
    err: (t) => Promise.resolve(void (proc.stderr += t)),
  }, args);
  if (o.help) throw new Error("unexpected help");
  return o;
}
