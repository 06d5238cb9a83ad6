/**
 * The dfs version the command line reports (from `src/version.ts`, the single source).
 *
 * @module
 */

import { DFS_VERSION } from "../version.ts";

/** dfs version (the same value as `DFS_VERSION` in `src/version.ts`). */
export const VERSION: string = DFS_VERSION;
