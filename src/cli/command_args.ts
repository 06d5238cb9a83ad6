/**
 * Parsing a subcommand's arguments, answering `--help` on the way.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { parseCommand, type Parsed } from "./args.ts";
import type { CliContext } from "./context.ts";
import { COMMAND_USAGE } from "./usage.ts";

/**
 * Parses `args` of `command` like {@linkcode parseCommand} (so bad arguments throw its
 * `UsageError`); with `--help` it prints the command's usage to stdout and returns
 * `undefined`, and the command then ends with exit 0.
 *
 * @example
 * ```ts ignore
 * const p = await parseOrHelp(ctx, "get", args, OPTIONS, 1, 1);
 * if (!p) return EXIT.OK;
 * ```
 */
export async function parseOrHelp(
  ctx: CliContext,
  command: string,
  args: readonly string[],
  options: ParseArgsOptionsConfig,
  min: number,
  max: number,
): Promise<Parsed | undefined> {
  const p = parseCommand(command, args, options, min, max);
  if (!p.values.help) return p;
  await ctx.out(COMMAND_USAGE[command] + "\n");
  return undefined;
}
