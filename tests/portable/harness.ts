/**
 * The smallest portable test harness: a test case is a name and a function, so the same suites
 * run under `deno test` (through {@linkcode registerCases}) and under Bun and Node (through
 * `tests/portable/run.ts`).
 *
 * @module
 */

/** One test case. `fn` throws (or rejects) to fail. */
export type Case = {
  /** Behaviour under test, e.g. `rename_replaces_atomically`. */
  name: string;
  /** The test body. */
  fn: () => Promise<void> | void;
};

/**
 * Registers cases with `Deno.test`, each named `prefix/name`. Only call this under Deno.
 *
 * @example
 * ```ts ignore
 * registerCases("fs/memory", fsContractSuite(makeMemoryFs));
 * ```
 */
export function registerCases(prefix: string, cases: readonly Case[]): void {
  for (const c of cases) {
    Deno.test({ name: `${prefix}/${c.name}`, fn: () => c.fn() });
  }
}

/**
 * Runs `fn`, rejecting with a timeout error if it has not settled after `ms` milliseconds.
 * The timer is cleared either way, so it never keeps the process alive.
 */
export async function withTimeout<T>(
  ms: number,
  name: string,
  fn: () => Promise<T> | T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
