/**
 * Redial delays: exponential backoff with jitter, capped.
 *
 * @module
 */

/**
 * Delay before redial number `attempt` (1 for the first retry): the exponential step
 * `min(maxMs, baseMs * 2^(attempt-1))`, of which a random half is kept ("equal jitter"), so
 * nodes that lost the same peer do not redial in lockstep. `random` returns [0, 1).
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * const ms = backoffDelay(3, 100, 10_000, () => 0.5); // step 400 -> 200 + 0.5 * 200
 * console.log(ms); // 300
 * ```
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return exp / 2 + random() * (exp / 2);
}
