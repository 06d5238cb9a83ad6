/**
 * A small seeded PRNG (mulberry32) for property and fuzz tests. The seed comes from env
 * `DFS_SEED` when set, else from the caller's fixed default.
 *
 * @module
 */

/** A seeded source of random numbers. */
export interface Rng {
  /** The seed it started from (print it on failure). */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
}

/** The seed to use: env `DFS_SEED` (decimal) when set, else `fallback`. */
export function testSeed(fallback: number): number {
  const env = Deno.env.get("DFS_SEED");
  if (env === undefined || env === "") return fallback >>> 0;
  const n = Number(env);
  if (!Number.isInteger(n)) throw new Error(`DFS_SEED must be an integer, got ${env}`);
  return n >>> 0;
}

/** Creates a PRNG from `seed`. */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
    pick: (items) => items[int(items.length)],
  };
}

/** Runs `fn`, and on failure rethrows with the seed in the message. */
export async function withSeed(seed: number, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    console.error(`failing seed: DFS_SEED=${seed}`);
    throw err;
  }
}
