/**
 * An abortable sleep.
 *
 * @module
 */

/**
 * Resolves after `ms`, or rejects with the signal's reason when it aborts first (at once when it
 * already has). The timer and the listener are removed either way.
 *
 * @example
 * ```ts
 * import { sleep } from "./sleep.ts";
 * await sleep(10);
 * await sleep(1000, AbortSignal.abort()).catch(() => console.log("aborted"));
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
