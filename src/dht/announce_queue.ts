/**
 * Background announces: keys wait in a deduplicated queue and are announced a few at a time,
 * so a node taking in many files (or starting with many) sends a bounded number of lookups at
 * once, not one burst per file.
 *
 * @module
 */

/**
 * A deduplicated work queue with bounded concurrency, paused until {@linkcode
 * AnnounceQueue.resume}.
 *
 * @example
 * ```ts
 * import { AnnounceQueue } from "./announce_queue.ts";
 * const done: string[] = [];
 * const q = new AnnounceQueue((key) => (done.push(String(key[0])), Promise.resolve()), 2);
 * q.add("01", new Uint8Array([1]));
 * q.add("01", new Uint8Array([1])); // already waiting: once
 * q.resume();
 * ```
 */
export class AnnounceQueue {
  readonly #run: (key: Uint8Array) => Promise<unknown>;
  readonly #concurrency: number;
  readonly #waiting = new Map<string, Uint8Array>();
  #running = 0;
  #active = false;

  /** A paused queue that runs `run` (errors are the caller's to catch) for each key. */
  constructor(run: (key: Uint8Array) => Promise<unknown>, concurrency: number) {
    this.#run = run;
    this.#concurrency = concurrency;
  }

  /** Keys waiting. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Queues `key` (hex `id`) unless it is already waiting. */
  add(id: string, key: Uint8Array): void {
    this.#waiting.set(id, key);
    this.#pump();
  }

  /** Takes `id` out of the queue (an announce already running finishes). */
  delete(id: string): void {
    this.#waiting.delete(id);
  }

  /** Starts (or restarts) running queued keys. */
  resume(): void {
    this.#active = true;
    this.#pump();
  }

  /** Stops taking new keys from the queue; those running finish. */
  pause(): void {
    this.#active = false;
  }

  #pump(): void {
    while (this.#active && this.#running < this.#concurrency) {
      const first = this.#waiting.entries().next();
      if (first.done) return;
      const [id, key] = first.value;
      this.#waiting.delete(id);
      this.#running++;
      this.#run(key).catch(() => {}).finally(() => {
        this.#running--;
        this.#pump();
      });
    }
  }
}
