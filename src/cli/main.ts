/**
 * The `dfs` command: `main(runtime)` parses the process arguments, runs one command and
 * resolves with the exit code. See `docs/cli.md`.
 *
 * @module
 */

import { DfsError, errorText, InvalidArgumentError } from "../errors.ts";
import type { DfsNode } from "../node/types.ts";
import type { Runtime } from "../runtime/types.ts";
import type { FetchFn } from "./client.ts";
import { type CliContext, type StartNode, type StartNodeOptions, writers } from "./context.ts";
import { config } from "./config_command.ts";
import { drain } from "./drain.ts";
import { EXIT, exitCodeFor, UsageError } from "./errors.ts";
import { get } from "./get.ts";
import { ls, peers, rm, stat, status } from "./info.ts";
import { put } from "./put.ts";
import { serve } from "./serve.ts";
import { COMMAND_USAGE, USAGE } from "./usage.ts";
import { VERSION } from "./version.ts";

/** What {@linkcode main} can be given instead of the real thing (tests pass fakes). */
export interface MainDeps {
  /** Starts a node for `serve` (default: `Node.start` from `src/node/node.ts`, loaded lazily). */
  readonly startNode?: StartNode;
  /** HTTP client (default `globalThis.fetch`). */
  readonly fetch?: FetchFn;
  /** Clock in milliseconds for progress (default `performance.now`). */
  readonly now?: () => number;
}

type Command = (ctx: CliContext, args: readonly string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  serve,
  put,
  get,
  rm,
  ls,
  stat,
  peers,
  status,
  drain,
  config,
};

/** Starts the real node; the node layer is imported on first use, so client commands stay light. */
async function defaultStartNode(options: StartNodeOptions): Promise<DfsNode> {
  const { Node } = await import("../node/node.ts");
  return await Node.start(options);
}

/**
 * Runs the `dfs` command line with `runtime.process.args` and resolves with the exit code:
 * 0 ok, 1 error, 2 bad arguments, 3 not found, 4 node unreachable, 130 interrupted. Errors are
 * printed as one line on stderr (`dfs: error: ...`); it never throws for a command failure.
 *
 * @example Entry point (in `mod.ts`)
 * ```ts ignore
 * import { detectRuntime } from "./src/runtime/detect.ts";
 * import { main } from "./src/cli/main.ts";
 * if (import.meta.main) {
 *   const runtime = await detectRuntime();
 *   runtime.process!.exit(await main(runtime));
 * }
 * ```
 */
export async function main(runtime: Runtime, deps: MainDeps = {}): Promise<number> {
  const process = runtime.process;
  if (!process) throw new InvalidArgumentError("the dfs command needs a runtime with a process");
  const ctx: CliContext = {
    runtime,
    process,
    fetch: deps.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    startNode: deps.startNode ?? defaultStartNode,
    now: deps.now ?? (() => performance.now()),
    ...writers(process),
  };
  try {
    return await dispatch(ctx, process.args);
  } catch (err) {
    return await report(ctx, err);
  }
}

async function dispatch(ctx: CliContext, args: readonly string[]): Promise<number> {
  if (args.length === 0) {
    await ctx.err(USAGE + "\n");
    return EXIT.USAGE;
  }
  const [first, ...rest] = args;
  if (first === "help" || first === "--help" || first === "-h") {
    const topic = rest[0];
    if (topic === undefined) await ctx.out(USAGE + "\n");
    else if (COMMAND_USAGE[topic]) await ctx.out(COMMAND_USAGE[topic] + "\n");
    else throw new UsageError(`no such command: ${JSON.stringify(topic)}`);
    return EXIT.OK;
  }
  if (first === "--version" || first === "-V" || first === "version") {
    await ctx.out(`dfs ${VERSION}\n`);
    return EXIT.OK;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command) return await withUsageOf(first, () => command(ctx, rest));
  if (first.startsWith("-")) return await withUsageOf("serve", () => serve(ctx, args));
  throw new UsageError(`unknown command ${JSON.stringify(first)}`);
}

/** Runs `fn`; a usage error that names no command (e.g. a bad address) gets `command`'s usage. */
async function withUsageOf(command: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UsageError && err.command === undefined) {
      throw new UsageError(err.message, command);
    }
    throw err;
  }
}

/**
 * The one-line text of `err`. An I/O error's cause is appended when it says more (`cannot listen
 * on 127.0.0.1:3000: Address already in use`), so the user learns why.
 */
function describe(err: unknown): string {
  const message = errorText(err);
  const cause = err instanceof DfsError && err.code === "IO" ? err.cause : undefined;
  const why = cause instanceof Error ? cause.message.replace(/\s+/g, " ").trim() : "";
  return why === "" || message.includes(why) ? message : `${message}: ${why}`;
}

/** Prints one line for `err` (plus a short usage for usage errors) and returns the exit code. */
async function report(ctx: CliContext, err: unknown): Promise<number> {
  const message = describe(err);
  if (err instanceof UsageError) {
    const usage = err.command ? COMMAND_USAGE[err.command]?.split("\n\n")[0] : undefined;
    await ctx.err(
      `dfs: error: ${message}\n${usage ?? "usage: dfs COMMAND [OPTIONS]"}\n` +
        `Run "dfs help${err.command ? " " + err.command : ""}" for more.\n`,
    );
  } else if (err instanceof DfsError && err.code === "ABORTED") {
    await ctx.err(`dfs: ${message}\n`);
  } else {
    await ctx.err(`dfs: error: ${message}\n`);
  }
  return exitCodeFor(err);
}
