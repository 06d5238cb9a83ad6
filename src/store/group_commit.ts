/**
 * `GroupCommit`: many writers' flushes done together. The store's writes ask it to flush their
 * temp file (fsync) and, after the rename, the entry's directory (directory fsync); a flush
 * under way lets the requests that arrive meanwhile queue up, and the next round flushes all of
 * them at once, each distinct key (file, directory) once. No timer: a lone writer is flushed at
 * once, and the batches grow by themselves with the number of writers.
 *
 * @module
 */

/** Options for {@linkcode GroupCommit}. */
export interface GroupCommitOptions<K> {
  /** Flushes one key (an fsync). The keys of a round are flushed concurrently. */
  readonly flush: (key: K) => Promise<void>;
  /** Most distinct keys in one round (default 256); the rest wait for the next round. */
  readonly maxBatch?: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Batches flushes of keys (see the module doc). A request resolves once a flush of its key that
 * started after the request was made has completed, and rejects with that flush's error.
 *
 * @example Three directory syncs asked at once, two of the same directory
 * ```ts
 * import { GroupCommit } from "./group_commit.ts";
 * const flushed: string[] = [];
 * const dirs = new GroupCommit<string>({
 *   flush: (dir) => { flushed.push(dir); return Promise.resolve(); },
 * });
 * await Promise.all([dirs.add("/a"), dirs.add("/b"), dirs.add("/a")]);
 * console.log(flushed); // ["/a"], then ["/b", "/a"] flushed together: /a once in that round
 * ```
 */
export class GroupCommit<K> {
  readonly #flush: (key: K) => Promise<void>;
  readonly #maxBatch: number;
  /** Requests not yet taken by a round, by key, in arrival order. */
  #queue = new Map<K, Waiter[]>();
  #running = false;
  #rounds = 0;
  #keys = 0;
  #requests = 0;

  /** A batcher over `options.flush`. */
  constructor(options: GroupCommitOptions<K>) {
    this.#flush = options.flush;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
  }

  /** Asks for `key` to be flushed; resolves when a flush that started after this call is done. */
  add(key: K): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiting = this.#queue.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.#queue.set(key, [{ resolve, reject }]);
      this.#requests++;
      if (!this.#running) void this.#run();
    });
  }

  /** Rounds run, distinct keys flushed and requests served so far (for tests and metrics). */
  get stats(): { rounds: number; keys: number; requests: number } {
    return { rounds: this.#rounds, keys: this.#keys, requests: this.#requests };
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.size > 0) {
        // Take up to maxBatch keys; requests arriving from now on wait for the next round.
        const round: [K, Waiter[]][] = [];
        for (const entry of this.#queue) {
          round.push(entry);
          if (round.length >= this.#maxBatch) break;
        }
        for (const [key] of round) this.#queue.delete(key);
        this.#rounds++;
        this.#keys += round.length;
        await Promise.all(round.map(async ([key, waiters]) => {
          try {
            await this.#flush(key);
          } catch (err) {
            for (const w of waiters) w.reject(err);
            return;
          }
          for (const w of waiters) w.resolve();
        }));
      }
    } finally {
      this.#running = false;
    }
  }
}
