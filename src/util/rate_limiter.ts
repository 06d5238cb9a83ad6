/**
 * A byte-rate limiter: a token bucket that background traffic (the scrubber's reads, repair
 * copies) takes its bytes from, so it never uses more than a configured share of the disk or
 * the network.
 *
 * The bucket holds up to `burstBytes` tokens (one per byte), starts full, and refills at
 * `bytesPerSecond`. A request waits, in FIFO order, until the bucket holds its size (or is full,
 * for a request larger than the burst), then takes its size out; a request larger than the burst
 * leaves the bucket in debt, which later requests wait off, so the long-run rate holds whatever
 * the request sizes. Over any interval of `t` seconds starting from a full bucket, the bytes
 * granted are at most `burstBytes + t * bytesPerSecond` plus the excess of one oversized request.
 *
 * Time comes from a {@linkcode LimiterClock} (by default the platform's `Date.now` and timers), so
 * a simulation can drive it with a virtual clock (any `Clock` of `src/dht/clock.ts` fits).
 *
 * @module
 */

import { AbortedError, InvalidArgumentError } from "../errors.ts";

/**
 * The time source of a {@linkcode RateLimiter}: the same shape as the DHT's `Clock`
 * (`src/dht/clock.ts`), declared here because `util/` sits below every other layer.
 */
export interface LimiterClock {
  /** Milliseconds since some fixed origin. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: unknown): void;
}

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Long-run bytes per second, > 0; `Infinity` for no limit. */
  readonly bytesPerSecond: number;
  /** Bucket size in bytes, > 0 (default: one second's worth, `bytesPerSecond`). */
  readonly burstBytes?: number;
  /** Time source (default: `Date.now` and the platform's timers). */
  readonly clock?: LimiterClock;
}

const platformClock: LimiterClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** Tolerance for float rounding in the refill arithmetic (a millionth of a byte). */
const EPSILON = 1e-6;

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * A token bucket in bytes (see the module doc).
 *
 * @example Holding a copy loop to 1 MiB/s
 * ```ts
 * import { RateLimiter } from "./rate_limiter.ts";
 * const limiter = new RateLimiter({ bytesPerSecond: 1024 * 1024 });
 * for (const block of [new Uint8Array(1000), new Uint8Array(2000)]) {
 *   await limiter.take(block.length); // resolves at once: the bucket starts full
 * }
 * ```
 */
export class RateLimiter {
  #rate: number;
  #burst: number;
  /** The burst follows the rate (`burstBytes` not given). */
  #burstFollowsRate: boolean;
  #tokens: number;
  #last: number;
  readonly #clock: LimiterClock;
  readonly #queue: Waiter[] = [];
  #timer: unknown = undefined;

  /** Creates a full bucket. Throws {@linkcode InvalidArgumentError} for a bad rate or burst. */
  constructor(options: RateLimiterOptions) {
    checkRate(options?.bytesPerSecond);
    this.#rate = options.bytesPerSecond;
    this.#burstFollowsRate = options.burstBytes === undefined;
    if (!this.#burstFollowsRate) checkBurst(options.burstBytes);
    this.#burst = options.burstBytes ?? this.#rate;
    this.#tokens = this.#burst;
    this.#clock = options.clock ?? platformClock;
    this.#last = this.#clock.now();
  }

  /** The current long-run rate in bytes per second (`Infinity`: no limit). */
  get bytesPerSecond(): number {
    return this.#rate;
  }

  /** The bucket size in bytes. */
  get burstBytes(): number {
    return this.#burst;
  }

  /** Requests waiting for their bytes. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Waits until `bytes` may go, then takes them from the bucket. Requests are served in the
   * order they were made. Rejects with {@linkcode AbortedError} when `signal` aborts first (the
   * signal's reason itself when it is one), taking nothing and giving its place to the next
   * request; with {@linkcode InvalidArgumentError} for a negative or non-finite size.
   */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) {
      return Promise.reject(
        new InvalidArgumentError(`bytes must be a finite number >= 0, got ${bytes}`),
      );
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (bytes === 0 || this.#rate === Infinity) return Promise.resolve();
    if (this.#queue.length === 0) {
      this.#refill();
      if (this.#fits(bytes)) {
        this.#tokens -= bytes;
        return Promise.resolve();
      }
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        signal,
        onAbort: () => this.#abort(waiter),
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#queue.push(waiter);
      if (this.#queue.length === 1) this.#pump();
    });
  }

  /**
   * Changes the rate from now on (bytes already granted stay granted; waiting requests are
   * rescheduled). A burst that was not given follows the rate. `Infinity` releases every waiting
   * request. Throws {@linkcode InvalidArgumentError} for a rate that is not > 0.
   */
  setRate(bytesPerSecond: number): void {
    checkRate(bytesPerSecond);
    this.#refill();
    const wasUnlimited = this.#rate === Infinity;
    this.#rate = bytesPerSecond;
    if (this.#burstFollowsRate) this.#burst = bytesPerSecond;
    if (wasUnlimited) this.#tokens = this.#burst;
    else this.#tokens = Math.min(this.#tokens, this.#burst);
    this.#pump();
  }

  /** Adds the tokens earned since the last refill (none while unlimited). */
  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed <= 0 || this.#rate === Infinity) return;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
  }

  /** A request of `bytes` may go now: the bucket holds it, or is full for an oversized one. */
  #fits(bytes: number): boolean {
    const need = Math.min(bytes, this.#burst);
    return this.#tokens >= need - EPSILON;
  }

  /** Grants every head request that fits, then sets a timer for the next one. */
  #pump(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#refill();
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      if (this.#rate !== Infinity) {
        if (!this.#fits(head.bytes)) break;
        this.#tokens -= head.bytes;
      }
      this.#queue.shift();
      head.signal?.removeEventListener("abort", head.onAbort);
      head.resolve();
    }
    if (this.#queue.length === 0) return;
    const need = Math.min(this.#queue[0].bytes, this.#burst);
    const ms = Math.max(1, Math.ceil(((need - this.#tokens) * 1000) / this.#rate));
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, ms);
  }

  #abort(waiter: Waiter): void {
    const at = this.#queue.indexOf(waiter);
    if (at < 0) return;
    this.#queue.splice(at, 1);
    waiter.reject(abortError(waiter.signal!));
    if (at === 0) this.#pump(); // the next request may fit now, or needs another timer
  }
}

function abortError(signal: AbortSignal): AbortedError {
  const reason = signal.reason;
  if (reason instanceof AbortedError) return reason;
  return new AbortedError("rate limiter wait aborted", { cause: reason });
}

function checkRate(rate: unknown): void {
  if (typeof rate !== "number" || Number.isNaN(rate) || !(rate > 0)) {
    throw new InvalidArgumentError(`bytesPerSecond must be > 0 (or Infinity), got ${rate}`);
  }
}

function checkBurst(burst: unknown): void {
  if (typeof burst !== "number" || !Number.isFinite(burst) || !(burst > 0)) {
    throw new InvalidArgumentError(`burstBytes must be a finite number > 0, got ${burst}`);
  }
}
