/**
 * Picks the runtime adapter for the program that is running.
 *
 * @module
 */

import type { Runtime, RuntimeName } from "./types.ts";

/**
 * Names the host runtime: `"deno"` when `globalThis.Deno` exists, `"bun"` when
 * `globalThis.Bun` does, otherwise `"node"`.
 *
 * @example
 * ```ts
 * import { detectRuntimeName } from "./detect.ts";
 * console.log(detectRuntimeName()); // "deno" under Deno
 * ```
 */
export function detectRuntimeName(): Exclude<RuntimeName, "memory"> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  return "node";
}

/**
 * Builds the {@linkcode Runtime} for the host. Each adapter is imported dynamically, so only
 * the one for this host is loaded.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./detect.ts";
 * const rt = await detectRuntime();
 * console.log(rt.name); // "deno" under Deno
 * ```
 */
export async function detectRuntime(): Promise<Runtime> {
  switch (detectRuntimeName()) {
    case "deno":
      return (await import("./deno.ts")).denoRuntime();
    case "bun":
      return (await import("./bun.ts")).bunRuntime();
    default:
      return (await import("./node.ts")).nodeRuntime();
  }
}
