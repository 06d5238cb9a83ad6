/**
 * Hang guards for tests: wait for a promise, but not forever. They bound a wait; they are not
 * speed checks.
 *
 * @module
 */

/**
 * Resolves with the promise's value, or `timedOut` after `ms`, clearing its timer either way.
 *
 * @example
 * ```ts ignore
 * const r = await within(reader.read(), 100, "pending");
 * ```
 */
export async function within<T, U>(p: Promise<T>, ms: number, timedOut: U): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<U>((r) => (timer = setTimeout(() => r(timedOut), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Fails with `what` if `p` takes longer than `ms` (a hang guard, not a speed check). */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const TIMEOUT = Symbol("timeout");
  const r = await within(p, ms, TIMEOUT);
  if (r === TIMEOUT) throw new Error(`timed out after ${ms} ms: ${what}`);
  return r as T;
}
