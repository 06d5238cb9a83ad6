/**
 * The dfs version: the one place it is written in code. `deno.json`'s `version` must equal
 * it (checked by `tests/version_test.ts`); the node's status and the command line read it
 * from here.
 *
 * @module
 */

/**
 * dfs version, semver.
 *
 * @example
 * ```ts
 * import { DFS_VERSION } from "./version.ts";
 * console.log(`dfs ${DFS_VERSION}`);
 * ```
 */
export const DFS_VERSION = "0.1.0";
