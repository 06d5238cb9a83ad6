/**
 * Shared plumbing of the client subcommands: which API to talk to, progress, JSON output.
 *
 * @module
 */

import { apiBaseUrl, DEFAULT_API } from "./address.ts";
import { type Parsed, str } from "./args.ts";
import { ApiClient } from "./client.ts";
import { clientToken } from "./client_token.ts";
import type { CliContext } from "./context.ts";
import { ProgressBar } from "./progress.ts";

/**
 * The client for `--api`, else `$DFS_API`, else the local default; it sends the API token
 * {@linkcode clientToken} finds.
 */
export function clientFor(ctx: CliContext, p: Parsed): ApiClient {
  const api = str(p, "api") ?? ctx.process.env("DFS_API") ?? DEFAULT_API;
  const baseUrl = apiBaseUrl(api);
  return new ApiClient(baseUrl, ctx.fetch, { token: clientToken(ctx, p, baseUrl) });
}

/** A progress bar on stderr when it is a terminal and `--quiet` was not given; else `undefined`. */
export function progressFor(
  ctx: CliContext,
  p: Parsed,
  label: string,
  total: number | undefined,
): ProgressBar | undefined {
  if (p.values.quiet || !ctx.process.isTerminal("stderr")) return undefined;
  const columns = Number(ctx.process.env("COLUMNS"));
  return new ProgressBar({
    label,
    total,
    write: ctx.err,
    now: ctx.now,
    width: Number.isInteger(columns) && columns >= 20 ? columns : 80,
  });
}

/** Prints `value` as indented JSON on stdout. */
export async function printJson(ctx: CliContext, value: unknown): Promise<void> {
  await ctx.out(JSON.stringify(value, null, 2) + "\n");
}
