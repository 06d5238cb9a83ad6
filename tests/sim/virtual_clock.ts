/**
 * A virtual {@linkcode Clock} for deterministic simulations: timers live in a binary min-heap
 * ordered by (time, insertion sequence) and fire only when {@linkcode VirtualClock.run} or
 * {@linkcode VirtualClock.runUntil} advances virtual time, so a 10-second timeout costs no wall
 * time and one seed gives the same run every time.
 *
 * One time step: take every timer due at the earliest pending time T that existed when the step
 * began, set `now` to T, call them synchronously in (time, seq) order, then yield one macrotask
 * (`setImmediate` of `node:timers`), which lets every promise continuation they caused run to
 * completion before the next step. A timer scheduled with delay 0 during a step fires in the
 * next step (same T), after those continuations — as a platform `setTimeout(fn, 0)` would.
 * Nothing in a simulation may use real I/O or real timers, or the run stops being
 * deterministic.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { Clock, TimerHandle } from "../../src/dht/clock.ts";

/** Limits of {@linkcode VirtualClock.run} and {@linkcode VirtualClock.runUntil}. */
export interface RunOptions {
  /** Absolute virtual time (ms) not to go past: stop before the first event after it. */
  readonly until?: number;
  /**
   * Most events (timer callbacks) to run in this call. Without it, a run stops with an error
   * after {@linkcode DEFAULT_MAX_EVENTS} events, so that a runaway simulation never hangs.
   */
  readonly maxEvents?: number;
  /** Checked before each time step: `true` stops the run. */
  readonly idle?: () => boolean;
}

/** What one {@linkcode VirtualClock.run} did. */
export interface RunStats {
  /** Timer callbacks run. */
  readonly events: number;
  /** Virtual milliseconds the run advanced `now` by. */
  readonly virtualMs: number;
  /** Macrotasks yielded (one per time step). */
  readonly macrotasks: number;
}

/** Events a run without `maxEvents` may execute before it fails as runaway. */
export const DEFAULT_MAX_EVENTS = 50_000_000;

/** Heap slack: compact when cancelled entries exceed this count and outnumber live ones. */
const COMPACT_MIN = 1024;

/** One scheduled timer; also its handle. */
class Timer {
  readonly clock: VirtualClock;
  readonly time: number;
  readonly seq: number;
  /** The callback; `undefined` once it fired or was cleared. */
  fn: (() => void) | undefined;
  constructor(clock: VirtualClock, time: number, seq: number, fn: () => void) {
    this.clock = clock;
    this.time = time;
    this.seq = seq;
    this.fn = fn;
  }
}

/** Resolves after one macrotask (every queued microtask runs first). */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function before(a: Timer, b: Timer): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * A simulated clock.
 *
 * @example
 * ```ts ignore
 * const clock = new VirtualClock();
 * clock.setTimeout(() => console.log(clock.now()), 10_000);
 * await clock.run(); // prints 10000 at once
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  /** Binary min-heap by (time, seq); may hold cancelled timers (fn undefined). */
  #heap: Timer[] = [];
  #live = 0;
  #running = false;
  #errors: unknown[] = [];

  /** Starts virtual time at `start` ms (default 0). */
  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new RangeError(`start must be finite, got ${start}`);
    this.#now = start;
  }

  /** Current virtual time (ms). */
  now(): number {
    return this.#now;
  }

  /** Timers scheduled and neither fired nor cleared. */
  get pending(): number {
    return this.#live;
  }

  /** Calls `fn` at `now() + max(0, ms)` virtual ms (a non-finite `ms` counts as 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer = new Timer(this, this.#now + delay, this.#seq++, fn);
    this.#push(timer);
    this.#live++;
    return timer;
  }

  /** Cancels a timer; a handle that fired, was cleared, or is not this clock's is ignored. */
  clearTimeout(handle: TimerHandle): void {
    if (!(handle instanceof Timer) || handle.clock !== this || handle.fn === undefined) return;
    handle.fn = undefined; // lazily deleted; drops the closure now
    this.#live--;
    const dead = this.#heap.length - this.#live;
    if (dead > COMPACT_MIN && dead > this.#live) this.#compact();
  }

  /**
   * Advances virtual time step by step until no timer is left, the next one is after `until`
   * (then `now` becomes `until`), `maxEvents` ran, or `idle()` is true. A callback that throws
   * does not stop its step: the error is rethrown once the step (and its continuations) is
   * done (an `AggregateError` when several threw).
   */
  async run(options: RunOptions = {}): Promise<RunStats> {
    return await this.#loop(options, undefined);
  }

  /**
   * Runs the clock until `promise` settles; returns its value or throws its error. Throws an
   * `Error` when no timer is left, a limit of `options` is reached, or `idle()` is true before
   * it settles, so a test never hangs.
   */
  async runUntil<T>(promise: Promise<T>, options: RunOptions = {}): Promise<T> {
    const outcome: { state: "pending" | "fulfilled" | "rejected"; value?: T; error?: unknown } = {
      state: "pending",
    };
    promise.then(
      (value) => {
        outcome.state = "fulfilled";
        outcome.value = value;
      },
      (error) => {
        outcome.state = "rejected";
        outcome.error = error;
      },
    );
    await this.#loop(options, () => outcome.state !== "pending");
    if (outcome.state === "fulfilled") return outcome.value as T;
    if (outcome.state === "rejected") throw outcome.error;
    // #loop only returns early for `done` or for a stop condition, reported below.
    throw new Error("VirtualClock.runUntil: stopped before the promise settled");
  }

  /**
   * The step loop. With `done` (runUntil), it is checked after every macrotask and every stop
   * other than `done()` is an error.
   */
  async #loop(options: RunOptions, done: (() => boolean) | undefined): Promise<RunStats> {
    if (this.#running) throw new Error("VirtualClock: run() or runUntil() is already running");
    this.#running = true;
    const { until, idle } = options;
    const capped = options.maxEvents === undefined;
    const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    const start = this.#now;
    let events = 0;
    let macrotasks = 0;
    const stats = (): RunStats => ({ events, virtualMs: this.#now - start, macrotasks });
    const stop = (why: string): RunStats => {
      if (done) {
        throw new Error(
          `VirtualClock.runUntil: ${why} before the promise settled ` +
            `(t=${this.#now} ms, ${events} events, ${this.#live} timers pending)`,
        );
      }
      return stats();
    };
    try {
      if (done) {
        // An already-settled promise (or one settled by microtasks only) needs no event.
        await macrotask();
        macrotasks++;
      }
      for (;;) {
        if (done?.()) return stats();
        if (idle?.()) return stop("idle() returned true");
        const top = this.#peek();
        if (top === undefined) return stop("no timer left (deadlock?)");
        if (until !== undefined && top.time > until) {
          if (until > this.#now) this.#now = until;
          return stop(`reached until=${until}`);
        }
        if (events >= maxEvents) {
          if (capped) {
            throw new Error(
              `VirtualClock: ran the default cap of ${DEFAULT_MAX_EVENTS} events; ` +
                `pass maxEvents or until for longer runs (t=${this.#now} ms)`,
            );
          }
          return stop(`ran maxEvents=${maxEvents}`);
        }
        events += this.#step(top.time, maxEvents - events);
        await macrotask();
        macrotasks++;
        if (this.#errors.length > 0) {
          const errors = this.#errors;
          this.#errors = [];
          if (errors.length === 1) throw errors[0];
          throw new AggregateError(
            errors,
            `${errors.length} timer callbacks threw at t=${this.#now}`,
          );
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Runs up to `budget` timers due at `time` that exist now; returns how many ran. */
  #step(time: number, budget: number): number {
    this.#now = time;
    const seqLimit = this.#seq; // timers added during this step wait for the next one
    let ran = 0;
    while (ran < budget) {
      const top = this.#peek();
      if (top === undefined || top.time !== time || top.seq >= seqLimit) break;
      this.#pop();
      const fn = top.fn!;
      top.fn = undefined;
      this.#live--;
      ran++;
      try {
        fn();
      } catch (err) {
        this.#errors.push(err);
      }
    }
    return ran;
  }

  /** The earliest live timer, after dropping cancelled ones from the top. */
  #peek(): Timer | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].fn === undefined) this.#pop();
    return heap[0];
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length > 0) this.#siftDown(last, 0);
  }

  /** Places `timer` at index `i` and moves it down to where it belongs. */
  #siftDown(timer: Timer, i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap[child + 1], heap[child])) child++;
      if (!before(heap[child], timer)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = timer;
  }

  /** Drops every cancelled timer and rebuilds the heap (O(n)). */
  #compact(): void {
    const heap = this.#heap.filter((t) => t.fn !== undefined);
    this.#heap = heap;
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.#siftDown(heap[i], i);
  }
}
