/**
 * `dfs put PATH|-`: stream a file (or stdin) to the node and print its read capability (an
 * encrypted file, the default) or its id (`--public`).
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { DfsError, NotFoundError } from "../errors.ts";
import { CLIENT_OPTIONS, int, str } from "./args.ts";
import { clientFor, printJson, progressFor } from "./client_for.ts";
import { parseOrHelp } from "./command_args.ts";
import type { CliContext } from "./context.ts";
import { EXIT, UsageError } from "./errors.ts";
import { parsePolicy } from "./policy.ts";
import { interruptOn } from "./signals.ts";
import { convergentKey } from "../file/convergent.ts";

const OPTIONS: ParseArgsOptionsConfig = {
  ...CLIENT_OPTIONS,
  name: { type: "string", short: "n" },
  copies: { type: "string", short: "c" },
  redundancy: { type: "string", short: "R" },
  quiet: { type: "boolean", short: "q" },
  public: { type: "boolean" },
  convergent: { type: "boolean" },
  "share-key": { type: "boolean" },
};

/**
 * The warning `put` prints when fewer copies than wanted were stored (for Reed-Solomon: when
 * the k + m shard columns are on fewer distinct nodes), or `undefined`.
 *
 * @example
 * ```ts
 * import { shortfallWarning } from "./put.ts";
 * shortfallWarning({ copies: 2, wanted: 3 }); // "2 of 3 copies stored so far"
 * shortfallWarning({ copies: 4, wanted: 6, redundancy: "rs:4+2" });
 * // "shards on 4 of 6 nodes so far (rs:4+2)"
 * ```
 */
export function shortfallWarning(
  r: { readonly copies: number; readonly wanted: number; readonly redundancy?: string },
): string | undefined {
  if (r.copies >= r.wanted) return undefined;
  return r.redundancy?.startsWith("rs:")
    ? `shards on ${r.copies} of ${r.wanted} nodes so far (${r.redundancy})`
    : `${r.copies} of ${r.wanted} copies stored so far`;
}

/**
 * A stream that reports bytes as they pass (`onBytes`), reports the total once the source is
 * exhausted (`onEnd`), and remembers an error of its source.
 */
export function countingStream(
  source: ReadableStream<Uint8Array>,
  onBytes: (total: number) => void,
  onEnd?: (total: number) => void,
): { stream: ReadableStream<Uint8Array>; error: () => unknown } {
  const reader = source.getReader();
  let total = 0;
  let failure: unknown;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        failure = err;
        controller.error(err);
        return;
      }
      if (r.done) {
        onEnd?.(total);
        controller.close();
        return;
      }
      total += r.value.length;
      onBytes(total);
      controller.enqueue(r.value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  return { stream, error: () => failure };
}

/** Runs `dfs put`. */
export async function put(ctx: CliContext, args: readonly string[]): Promise<number> {
  const p = await parseOrHelp(ctx, "put", args, OPTIONS, 1, 1);
  if (!p) return EXIT.OK;
  const path = p.positionals[0];
  const name = str(p, "name");
  const copies = int(p, "copies", "put");
  const policyText = str(p, "redundancy");
  if (copies !== undefined && policyText !== undefined) {
    throw new UsageError(
      "give --copies or --redundancy, not both (--copies N is replicas:N)",
      "put",
    );
  }
  const redundancy = policyText === undefined
    ? undefined
    : parsePolicy(policyText, "--redundancy", "put");
  const isPublic = p.values.public === true;
  const convergent = p.values.convergent === true;
  const shareKey = p.values["share-key"] === true;
  if (isPublic && convergent) {
    throw new UsageError("give --public or --convergent, not both", "put");
  }
  if (shareKey && (name === undefined || isPublic)) {
    throw new UsageError("--share-key goes with --name, for an encrypted file", "put");
  }
  if (convergent && path === "-") {
    throw new UsageError(
      "--convergent needs a file path: its key comes from a first read of the file, and stdin " +
        "cannot be read twice",
      "put",
    );
  }
  const client = clientFor(ctx, p);

  let source: ReadableStream<Uint8Array>;
  let total: number | undefined;
  let convergentKeyOf: Uint8Array | undefined;
  if (path === "-") {
    source = ctx.process.stdin;
  } else {
    const info = await ctx.runtime.fs.stat(path);
    if (!info) throw new DfsError("LOCAL_FILE", `no such file: ${path}`);
    if (!info.isFile) throw new DfsError("LOCAL_FILE", `not a regular file: ${path}`);
    total = info.size;
    try {
      if (convergent) convergentKeyOf = await convergentKey(await ctx.runtime.fs.readStream(path));
      source = await ctx.runtime.fs.readStream(path);
    } catch (err) {
      const why = err instanceof NotFoundError ? "no such file" : "cannot read";
      throw new DfsError("LOCAL_FILE", `${why}: ${path}`, { cause: err });
    }
  }

  const bar = progressFor(ctx, p, "put", total);
  // Once every byte is sent, the node still stores the last blocks and replicates before it
  // answers: show the full bar and say so, rather than a bar frozen at its last throttled draw.
  const counted = countingStream(
    source,
    (n) => bar?.update(n),
    (n) => bar?.update(n, { force: true, note: "replicating..." }),
  );
  const interrupt = interruptOn(ctx.process);
  try {
    let result;
    try {
      result = await client.put(counted.stream, {
        name,
        copies,
        redundancy,
        ...(isPublic ? { encrypt: false } : {}),
        ...(convergentKeyOf ? { encrypt: "convergent", convergentKey: convergentKeyOf } : {}),
        ...(shareKey ? { shareKey } : {}),
        signal: interrupt.signal,
      });
    } catch (err) {
      const local = counted.error();
      if (local !== undefined) {
        throw new DfsError(
          "LOCAL_FILE",
          `reading ${path === "-" ? "stdin" : path}: ${String(local)}`,
        );
      }
      throw err;
    }
    await bar?.finish();
    if (p.values.json) await printJson(ctx, result);
    else await ctx.out((result.capability ?? result.id) + "\n");
    const warning = shortfallWarning(result);
    if (warning !== undefined) await ctx.err(`dfs: warning: ${warning}\n`);
    return EXIT.OK;
  } finally {
    await bar?.finish();
    interrupt.dispose();
  }
}
