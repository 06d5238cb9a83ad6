/**
 * `dfs drain`: ask a node to hand its data off to other nodes; a node run by `dfs serve` then
 * stops.
 *
 * @module
 */

import { CLIENT_OPTIONS } from "./args.ts";
import { clientFor, printJson } from "./client_for.ts";
import { parseOrHelp } from "./command_args.ts";
import type { CliContext } from "./context.ts";
import { EXIT } from "./errors.ts";
import { interruptOn } from "./signals.ts";
import { drainWarning, formatDrain } from "./upkeep_format.ts";

/**
 * Runs `dfs drain`: `POST /drain`, then prints the report (`drained: 12 files, 11 handed off,
 * 1 failed, 40.0 MiB pushed`; with `--json` the `DrainReport`). Exits 1, with a warning on
 * stderr, when some file could not be handed off; 130 when interrupted (the node goes on
 * draining).
 */
export async function drain(ctx: CliContext, args: readonly string[]): Promise<number> {
  const p = await parseOrHelp(ctx, "drain", args, CLIENT_OPTIONS, 0, 0);
  if (!p) return EXIT.OK;
  const client = clientFor(ctx, p);
  const interrupt = interruptOn(ctx.process);
  try {
    const report = await client.drain(interrupt.signal);
    if (p.values.json) await printJson(ctx, report);
    else await ctx.out(`drained: ${formatDrain(report)}\n`);
    const warning = drainWarning(report);
    if (warning === undefined) return EXIT.OK;
    await ctx.err(`dfs: warning: ${warning}\n`);
    return EXIT.ERROR;
  } finally {
    interrupt.dispose();
  }
}
