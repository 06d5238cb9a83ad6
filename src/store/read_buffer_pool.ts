/**
 * A small, bounded pool of equal-sized buffers that entry reads can load into
 * ({@linkcode import("./types.ts").ReadOptions.into}) instead of allocating a fresh one each
 * time: a node serving many blocks in turn touches the same few buffers again and again.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Options of {@linkcode ReadBufferPool}. */
export interface ReadBufferPoolOptions {
  /** Length of every buffer, in bytes (e.g. `entryFileSize(blockSize)`). */
  readonly bufferSize: number;
  /** Most buffers the pool ever holds, lent out and idle together (at least 1). */
  readonly maxBuffers: number;
}

/**
 * Lends buffers of `bufferSize` bytes, at most `maxBuffers` of them at a time. A buffer is lent
 * to one holder only: it comes back to the pool through {@linkcode ReadBufferPool.release}
 * and only then can be lent again. Buffers are allocated on first need and kept; when all are
 * lent, {@linkcode ReadBufferPool.acquire} returns `undefined` and the caller allocates its own.
 *
 * @example
 * ```ts
 * import { ReadBufferPool } from "./read_buffer_pool.ts";
 * const pool = new ReadBufferPool({ bufferSize: 1024, maxBuffers: 2 });
 * const a = pool.acquire()!;
 * const b = pool.acquire()!;
 * console.log(pool.acquire()); // undefined: both are lent
 * pool.release(a);
 * console.log(pool.acquire() === a); // true: reused
 * pool.release(b, false); // dropped (something may still hold it); a new one is made later
 * ```
 */
export class ReadBufferPool {
  readonly #size: number;
  readonly #max: number;
  readonly #idle: Uint8Array[] = [];
  readonly #lent = new Set<Uint8Array>();

  /** Makes an empty pool; throws `InvalidArgumentError` unless both sizes are positive integers. */
  constructor(options: ReadBufferPoolOptions) {
    const { bufferSize, maxBuffers } = options;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new InvalidArgumentError(`bufferSize must be a positive integer, got ${bufferSize}`);
    }
    if (!Number.isInteger(maxBuffers) || maxBuffers < 1) {
      throw new InvalidArgumentError(`maxBuffers must be a positive integer, got ${maxBuffers}`);
    }
    this.#size = bufferSize;
    this.#max = maxBuffers;
  }

  /** Length of the pool's buffers. */
  get bufferSize(): number {
    return this.#size;
  }

  /** Buffers lent out now. */
  get lent(): number {
    return this.#lent.size;
  }

  /** Buffers held idle, ready to lend. */
  get idle(): number {
    return this.#idle.length;
  }

  /**
   * Lends an idle buffer (or a new one while fewer than `maxBuffers` exist), or returns
   * `undefined` when all are lent. Its contents are whatever its last holder left.
   */
  acquire(): Uint8Array | undefined {
    let buffer = this.#idle.pop();
    if (buffer === undefined) {
      if (this.#lent.size >= this.#max) return undefined;
      buffer = new Uint8Array(this.#size);
    }
    this.#lent.add(buffer);
    return buffer;
  }

  /**
   * Takes back a lent buffer. Call it once nothing can read or write the buffer any more; with
   * `reuse` false (something might still hold it, e.g. a send that failed mid-way) the buffer is
   * dropped instead and a fresh one takes its place when needed. A buffer that is not lent (a
   * second release, or one the pool never lent) is ignored.
   */
  release(buffer: Uint8Array, reuse = true): void {
    if (!this.#lent.delete(buffer)) return;
    if (reuse && this.#idle.length + this.#lent.size < this.#max) this.#idle.push(buffer);
  }
}
