/**
 * The Bun {@linkcode ProcessHost}. Bun implements `node:process` and `node:os` natively, so
 * this is the Node adapter under Bun's name.
 *
 * @module
 */

import { nodeProcess } from "../node/process.ts";
import type { ProcessHost } from "../types.ts";

/**
 * Describes the running Bun process (through the Node adapter).
 *
 * @example
 * ```ts ignore
 * import { bunProcess } from "./process.ts";
 * console.log(bunProcess().pid);
 * ```
 */
export function bunProcess(): ProcessHost {
  return nodeProcess();
}
