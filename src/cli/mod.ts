/**
 * The `dfs` command line.
 *
 * @module
 */

export { main, type MainDeps } from "./main.ts";
export type { CliContext, StartNode, StartNodeOptions } from "./context.ts";
export { EXIT } from "./errors.ts";
export { type ProgressState, renderProgress } from "./progress.ts";
