/**
 * The background loop the scrubber and the garbage collector share: passes run one at a time
 * (background ones and those asked for with {@linkcode PassLoop.run}), a pause between two
 * background passes, and a stop that aborts the pass under way and waits for it to settle.
 *
 * @module
 */

import { AbortedError, errorText } from "../../errors.ts";
import type { Clock } from "../../dht/clock.ts";
import { KeyedMutex } from "../../util/keyed_mutex.ts";

/**
 * One loop of passes (see the module doc).
 *
 * @example
 * ```ts ignore
 * const loop = new PassLoop({ name: "gc", pass: (signal) => collect(signal), clock, onError });
 * loop.start(600_000);
 * await loop.stop();
 * ```
 */
export class PassLoop<T> {
  readonly #pass: (signal: AbortSignal) => Promise<T>;
  readonly #clock: Clock;
  readonly #name: string;
  readonly #onError: (message: string) => void;
  readonly #passes = new KeyedMutex();
  #life = new AbortController();
  #loop: Promise<void> | undefined;

  /** `pass` runs one pass; `onError` hears of a background pass that failed. */
  constructor(options: {
    readonly name: string;
    readonly pass: (signal: AbortSignal) => Promise<T>;
    readonly clock: Clock;
    readonly onError: (message: string) => void;
  }) {
    this.#pass = options.pass;
    this.#clock = options.clock;
    this.#name = options.name;
    this.#onError = options.onError;
  }

  /** True while background passes run. */
  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Runs passes in the background, `pauseMs` apart, until {@linkcode PassLoop.stop}. */
  start(pauseMs: number): void {
    if (this.#loop !== undefined) return;
    this.#loop = this.#background(pauseMs, this.#life.signal);
  }

  /** Aborts the pass under way and the background loop; resolves once they settled. */
  async stop(): Promise<void> {
    this.#life.abort(new AbortedError(`${this.#name} stopped`));
    const loop = this.#loop;
    await loop;
    await this.#passes.run("pass", () => Promise.resolve()); // passes run by run()
    if (this.#loop === loop) this.#loop = undefined;
    if (this.#life.signal.aborted) this.#life = new AbortController();
  }

  /** Runs one pass after the one under way, if any; it aborts with `signal` or a stop. */
  run(signal?: AbortSignal): Promise<T> {
    const life = this.#life.signal;
    const combined = signal ? AbortSignal.any([signal, life]) : life;
    return this.#passes.run("pass", () => this.#pass(combined));
  }

  async #background(pauseMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.run(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.#onError(errorText(err));
      }
      await sleep(this.#clock, pauseMs, signal);
    }
  }
}

/** Throws the signal's reason as an {@linkcode AbortedError} when it aborted. */
export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (!signal.aborted) return;
  const reason = signal.reason;
  throw reason instanceof AbortedError ? reason : new AbortedError(`${what} aborted`, {
    cause: reason,
  });
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
