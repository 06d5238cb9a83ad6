/**
 * The one seeded PRNG of the tests (mulberry32: small, fast, deterministic, not secure), and
 * how a test picks and reports its seed: env `DFS_SEED` when set, else the caller's fixed
 * default; callers print the seed when they fail (see {@linkcode withSeed}). Runs on Deno, Bun
 * and Node.
 *
 * @module
 */

import process from "node:process";

/**
 * A seeded source of random numbers.
 *
 * @example
 * ```ts ignore
 * const rng = new Rng(testSeed(42));
 * const data = rng.bytes(rng.int(1000));
 * ```
 */
export class Rng {
  #state: number;
  /** The seed it started from (print it on failure). */
  readonly seed: number;

  /** Starts the sequence at `seed` (taken as an unsigned 32-bit integer). */
  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in `[0, 1)`. */
  next(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** An integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() >>> 24;
    return out;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** Creates a PRNG from `seed` (same as `new Rng(seed)`). */
export function makeRng(seed: number): Rng {
  return new Rng(seed);
}

/** `n` deterministic pseudo-random bytes from `seed` (a prefix of any longer run). */
export function randomBytes(n: number, seed: number): Uint8Array {
  return new Rng(seed).bytes(n);
}

/** Parses a seed from text; without a usable number, a fresh random seed. */
export function seedFrom(text: string | undefined): number {
  const n = text === undefined || text === "" ? NaN : Number(text);
  return Number.isFinite(n) ? n >>> 0 : (Math.random() * 0xffffffff) >>> 0;
}

/** The text of env `DFS_SEED`, or `undefined` when it is unset or empty. */
export function seedText(): string | undefined {
  const env = process.env.DFS_SEED;
  return env === undefined || env === "" ? undefined : env;
}

/**
 * The seed to use: env `DFS_SEED` (an integer) when set, else `fallback`.
 *
 * @example
 * ```ts ignore
 * const SEED = testSeed(0x5eed_0001);
 * ```
 */
export function testSeed(fallback: number): number {
  const env = seedText();
  if (env === undefined) return fallback >>> 0;
  const n = Number(env);
  if (!Number.isInteger(n)) throw new Error(`DFS_SEED must be an integer, got ${env}`);
  return n >>> 0;
}

/**
 * Runs `fn`; when it fails, prints `DFS_SEED=<seed>` (so the run can be repeated) and rethrows.
 *
 * @example
 * ```ts ignore
 * await withSeed(SEED, () => checkRoundTrip(new Rng(SEED)));
 * ```
 */
export async function withSeed<T>(seed: number, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    console.error(`failed with seed ${seed} (rerun with DFS_SEED=${seed})`);
    throw err;
  }
}
