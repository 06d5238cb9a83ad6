/**
 * `dfs get ID|NAME [-o PATH]`: stream a file to stdout, or to PATH through a temporary file.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { SIZE_HEADER } from "../api/handler.ts";
import { DfsError, errorText } from "../errors.ts";
import { toHex } from "../util/hex.ts";
import { CLIENT_OPTIONS, str } from "./args.ts";
import { clientFor, printJson, progressFor } from "./client_for.ts";
import { parseOrHelp } from "./command_args.ts";
import type { CliContext } from "./context.ts";
import { EXIT } from "./errors.ts";
import { interruptOn } from "./signals.ts";

const OPTIONS: ParseArgsOptionsConfig = {
  ...CLIENT_OPTIONS,
  output: { type: "string", short: "o" },
  quiet: { type: "boolean", short: "q" },
};

/** The temporary path a download to `path` is written to before the rename. */
export function tempPathFor(path: string): string {
  const tag = toHex(crypto.getRandomValues(new Uint8Array(6)));
  return `${path}.dfs-${tag}.tmp`;
}

/**
 * Runs a local file operation for `-o PATH`; its errors (a missing directory is a
 * `NotFoundError` too) become `LOCAL_FILE` errors, so they are not mistaken for a file missing
 * from dfs (exit 3).
 */
async function local<T>(path: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    const why = errorText(err);
    throw new DfsError("LOCAL_FILE", `cannot write ${path}: ${why}`, { cause: err });
  }
}

/**
 * The bytes a download will carry: `Content-Length`, else (a whole-file answer from a server
 * that streams without it, as Bun's does) the node's `X-Dfs-Size`; `undefined` if neither.
 */
export function expectedLength(res: Response): number | undefined {
  const header = res.headers.get("content-length") ??
    (res.status === 200 ? res.headers.get(SIZE_HEADER) : null);
  return header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
}

/** Runs `dfs get`. */
export async function get(ctx: CliContext, args: readonly string[]): Promise<number> {
  const p = await parseOrHelp(ctx, "get", args, OPTIONS, 1, 1);
  if (!p) return EXIT.OK;
  const key = p.positionals[0];
  const output = str(p, "output");
  const client = clientFor(ctx, p);
  const interrupt = interruptOn(ctx.process);
  let tmp: string | undefined;
  let file: Awaited<ReturnType<CliContext["runtime"]["fs"]["create"]>> | undefined;
  try {
    const res = await client.get(key, interrupt.signal);
    const total = expectedLength(res);
    const id = (res.headers.get("etag") ?? "").replace(/^W\//, "").replace(/"/g, "") || key;
    const bar = progressFor(ctx, p, "get", total);
    if (output !== undefined) {
      const path = tempPathFor(output);
      file = await local(output, () => ctx.runtime.fs.create(path, { exclusive: true }));
      tmp = path;
    }
    let received = 0;
    // Like curl: binary bytes on a terminal garble it; ask for -o or a redirect instead.
    const guardTerminal = file === undefined && ctx.process.isTerminal("stdout");
    try {
      if (res.body) {
        const reader = res.body.getReader();
        while (true) {
          const r = await reader.read();
          if (r.done) break;
          if (guardTerminal && r.value.includes(0)) {
            await reader.cancel().catch(() => {});
            throw new DfsError(
              "BINARY_TO_TERMINAL",
              `${key} looks binary and stdout is a terminal: use -o PATH or redirect (> PATH)`,
            );
          }
          received += r.value.length;
          if (file) await local(output!, () => file!.write(r.value));
          else await ctx.process.writeStdout(r.value);
          bar?.update(received);
        }
      }
    } finally {
      await bar?.finish();
    }
    if (total !== undefined && received !== total) {
      throw new DfsError("SHORT_READ", `download ended early: got ${received} of ${total} bytes`);
    }
    if (file && tmp !== undefined && output !== undefined) {
      const f = file;
      await local(output, async () => {
        await f.sync();
        await f.close();
      });
      file = undefined;
      const from = tmp;
      await local(output, () => ctx.runtime.fs.rename(from, output));
      tmp = undefined;
      if (p.values.json) await printJson(ctx, { id, size: received, path: output });
    }
    return EXIT.OK;
  } finally {
    interrupt.dispose();
    if (file) await file.close().catch(() => {});
    if (tmp !== undefined) await ctx.runtime.fs.remove(tmp).catch(() => {});
  }
}
