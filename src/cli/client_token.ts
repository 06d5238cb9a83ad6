/**
 * Which API token a client subcommand sends: the file `--api-token-file` or
 * `$DFS_API_TOKEN_FILE` names; else, for a node on this machine (a loopback API URL), the
 * `api-token` file in `--data DIR` or `$DFS_DATA` when there is one; else none.
 *
 * @module
 */

import { isLoopbackHost } from "../peer/peer_limits.ts";
import type { FileSystem } from "../runtime/types.ts";
import { type Parsed, str } from "./args.ts";
import { type ApiTokenFile, readApiToken, tokenPathIn } from "./api_token.ts";
import type { CliContext } from "./context.ts";

/** Resolves the token to send (read once, on first use), or `undefined` for none. */
export type TokenSource = () => Promise<string | undefined>;

/**
 * The token source of a client talking to `baseUrl`, from its arguments and environment. The
 * file is read on the first request (so `--help` and bad arguments need none); a named file
 * that cannot be read is a `UsageError`. A data directory's token is sent only to a loopback
 * URL: a node elsewhere has its own.
 *
 * @example
 * ```ts ignore
 * const token = clientToken(ctx, parsed, "http://127.0.0.1:5000/api/v1");
 * await token(); // the token in $DFS_DATA/api-token, if that file exists
 * ```
 */
export function clientToken(
  ctx: Pick<CliContext, "process" | "runtime">,
  p: Parsed,
  baseUrl: string,
): TokenSource {
  const flag = str(p, "api-token-file");
  const env = ctx.process.env("DFS_API_TOKEN_FILE");
  const file: ApiTokenFile | undefined = flag !== undefined
    ? { path: flag, what: "--api-token-file" }
    : env
    ? { path: env, what: "$DFS_API_TOKEN_FILE" }
    : undefined;
  const dataDir = str(p, "data") ?? ctx.process.env("DFS_DATA");
  let token: Promise<string | undefined> | undefined;
  return () => token ??= resolve(ctx.runtime.fs, file, isLocal(baseUrl) ? dataDir : undefined);
}

async function resolve(
  fs: FileSystem,
  file: ApiTokenFile | undefined,
  dataDir: string | undefined,
): Promise<string | undefined> {
  if (file) return await readApiToken(fs, file);
  if (!dataDir) return undefined;
  const path = tokenPathIn(dataDir);
  if (await fs.stat(path) === null) return undefined;
  return await readApiToken(fs, { path, what: "the data directory's API token" });
}

function isLocal(baseUrl: string): boolean {
  try {
    return isLoopbackHost(new URL(baseUrl).hostname);
  } catch {
    return false;
  }
}
