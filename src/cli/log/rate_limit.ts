/**
 * The rate limit of the CLI's log pipeline: a noisy peer cannot flood the log. Records about a
 * peer (a `peer` or `remote` field) pass through a token bucket per (peer, error code); what the
 * bucket turns away is counted and reported as one "suppressed N similar messages" line.
 *
 * @module
 */

/** Knobs of a {@linkcode LogRateLimiter}. */
export interface LogRateLimitOptions {
  /** Records of one key let through at once (default 5). */
  readonly burst?: number;
  /** Records of one key let through per minute once the burst is spent (default 6). */
  readonly perMinute?: number;
  /** Most keys tracked; the least recently used is forgotten past it (default 1000). */
  readonly maxKeys?: number;
  /** Clock in milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** What a limited key turned away since it was last reported. */
export interface Suppressed<T> {
  /** The last record turned away. */
  readonly sample: T;
  /** How many were turned away. */
  readonly count: number;
}

interface Bucket<T> {
  tokens: number;
  at: number;
  suppressed: number;
  sample?: T;
}

/**
 * A token bucket per key. {@linkcode admit} says whether a record of a key may be written (and
 * what was suppressed before it, to report first); {@linkcode flush} hands over every count of
 * suppressed records not reported yet (call it periodically).
 *
 * @example
 * ```ts
 * import { LogRateLimiter } from "./rate_limit.ts";
 * let now = 0;
 * const limiter = new LogRateLimiter<string>({ burst: 2, perMinute: 60, now: () => now });
 * console.log([1, 2, 3, 4].map((n) => limiter.admit("peer-a|BAD_FRAME", `m${n}`).ok)); // [true, true, false, false]
 * console.log(limiter.flush()); // [{ sample: "m4", count: 2 }]
 * ```
 */
export class LogRateLimiter<T> {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket<T>>();

  /** Creates a limiter. */
  constructor(options: LogRateLimitOptions = {}) {
    this.#burst = Math.max(1, options.burst ?? 5);
    this.#perMs = Math.max(0, options.perMinute ?? 6) / 60_000;
    this.#maxKeys = Math.max(1, options.maxKeys ?? 1000);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Takes a token of `key` for `record`: `ok` when it may be written; `suppressed` is what this
   * key turned away before (to report ahead of it), when anything was.
   */
  admit(key: string, record: T): { ok: boolean; suppressed?: Suppressed<T> } {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.#burst, at: now, suppressed: 0 };
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    } else {
      this.#buckets.delete(key); // re-inserted below: the map's order is recency
      b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#perMs);
      b.at = now;
    }
    this.#buckets.set(key, b);
    if (b.tokens < 1) {
      b.suppressed++;
      b.sample = record;
      return { ok: false };
    }
    b.tokens -= 1;
    if (b.suppressed === 0 || b.sample === undefined) return { ok: true };
    const suppressed = { sample: b.sample, count: b.suppressed };
    b.suppressed = 0;
    b.sample = undefined;
    return { ok: true, suppressed };
  }

  /** Every key's count of suppressed records not reported yet; the counts restart at 0. */
  flush(): Suppressed<T>[] {
    const out: Suppressed<T>[] = [];
    for (const b of this.#buckets.values()) {
      if (b.suppressed > 0 && b.sample !== undefined) {
        out.push({ sample: b.sample, count: b.suppressed });
        b.suppressed = 0;
        b.sample = undefined;
      }
    }
    return out;
  }
}
