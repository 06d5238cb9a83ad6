/**
 * Time as the DHT sees it: a {@linkcode Clock} gives the current time and timers. Nodes use
 * {@linkcode systemClock}; the simulation passes a virtual clock so that one seed gives the same
 * run every time and a timeout costs no wall time.
 *
 * @module
 */

/** A timer handle returned by {@linkcode Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Current time and timers. */
export interface Clock {
  /** Milliseconds since the epoch (or since the simulation started). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@linkcode Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The wall clock: `Date.now()` and the platform's timers. The DHT clears its timers when it
 * stops, so they never keep a closed node's process alive.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const t = systemClock.setTimeout(() => console.log("late"), 10_000);
 * systemClock.clearTimeout(t);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};
