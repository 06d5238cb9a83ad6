/**
 * Turning SIGINT/SIGTERM into an `AbortSignal` for the client commands.
 *
 * @module
 */

import { AbortedError } from "../errors.ts";
import type { ProcessHost } from "../runtime/types.ts";

/** An abort signal tied to SIGINT/SIGTERM, and the function that unhooks it. */
export interface Interrupt {
  /** Aborts (with an {@linkcode AbortedError}) on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Removes the signal handlers. */
  dispose(): void;
}

/**
 * Hooks SIGINT and SIGTERM so a transfer can stop cleanly (and remove its temporary file)
 * instead of the process dying mid-write.
 *
 * @example
 * ```ts ignore
 * const intr = interruptOn(runtime.process!);
 * try { await fetch(url, { signal: intr.signal }); } finally { intr.dispose(); }
 * ```
 */
export function interruptOn(process: ProcessHost): Interrupt {
  const ac = new AbortController();
  const fire = (name: string) => () => ac.abort(new AbortedError(`interrupted (${name})`));
  const offs = [
    process.onSignal("SIGINT", fire("SIGINT")),
    process.onSignal("SIGTERM", fire("SIGTERM")),
  ];
  return {
    signal: ac.signal,
    dispose: () => {
      for (const off of offs) off();
    },
  };
}
