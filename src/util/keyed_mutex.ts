/**
 * One critical section at a time per key: `run(key, fn)` starts `fn` once every earlier call
 * for the same key has settled. Calls for different keys run concurrently. Nothing is kept for
 * a key with no call pending.
 *
 * @module
 */

/**
 * A mutex per string key.
 *
 * @example
 * ```ts
 * import { KeyedMutex } from "./keyed_mutex.ts";
 * const mutex = new KeyedMutex();
 * const order: number[] = [];
 * await Promise.all([
 *   mutex.run("a", async () => { await new Promise((r) => setTimeout(r, 5)); order.push(1); }),
 *   mutex.run("a", () => { order.push(2); return Promise.resolve(); }),
 * ]);
 * console.log(order); // [1, 2]
 * ```
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Keys with a call running or waiting. */
  get size(): number {
    return this.#tails.size;
  }

  /** Runs `fn` after every earlier call for `key` settled; resolves or rejects as `fn` does. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => done = resolve);
    this.#tails.set(key, mine);
    try {
      if (before) await before;
      return await fn();
    } finally {
      done();
      if (this.#tails.get(key) === mine) this.#tails.delete(key);
    }
  }
}
