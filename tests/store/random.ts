/**
 * Seeded pseudo-random data for store tests (xorshift32: fast, deterministic, not secure).
 *
 * @module
 */

/** A seeded generator of integers and bytes. */
export class SeededRandom {
  #state: number;
  /** The seed this generator started from (print it when a test fails). */
  readonly seed: number;

  /** Creates a generator; a zero seed is replaced by a fixed non-zero one. */
  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed || 0x9e3779b9;
  }

  /** Next 32-bit unsigned integer. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /** An integer in `[0, n)`. */
  int(n: number): number {
    return this.next() % n;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const words = new Uint32Array(out.buffer, 0, n >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.next();
    for (let i = words.length * 4; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** Parses a seed from text (e.g. the `DFS_SEED` variable), or makes a fresh one. */
export function seedFrom(text: string | undefined): number {
  const n = text === undefined ? NaN : Number(text);
  return Number.isFinite(n) ? n >>> 0 : (Math.random() * 0xffffffff) >>> 0;
}
