/**
 * Exact-length reads over a byte stream, for the Noise framing: a read that fits in the chunk at
 * hand is a view of it (no copy); one that spans chunks is copied once into a fresh array.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/**
 * Reads exactly `n` bytes at a time from a `ReadableStream` reader.
 *
 * @example
 * ```ts
 * import { ByteReader } from "./byte_reader.ts";
 * const stream = ReadableStream.from([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * const r = new ByteReader(stream.getReader());
 * console.log(await r.readExact(3)); // Uint8Array(3) [ 1, 2, 3 ]
 * console.log((await r.readExact(1)).length); // 0: the stream ended
 * ```
 */
export class ByteReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = EMPTY;
  #done = false;

  /** Reads from `reader` (which this object now owns). */
  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#reader = reader;
  }

  /**
   * The next `n` bytes. Resolves to fewer (possibly 0) only when the stream ended first. The
   * result may be a view of the stream's chunk: callers must not keep it past the next read if
   * they write to it.
   */
  async readExact(n: number): Promise<Uint8Array> {
    if (this.#chunk.length >= n) return this.#take(n);
    let out: Uint8Array | null = null;
    let have = 0;
    while (have < n) {
      if (this.#chunk.length === 0) {
        if (this.#done) break;
        const { value, done } = await this.#reader.read();
        if (done) {
          this.#done = true;
          break;
        }
        this.#chunk = value;
        if (have === 0 && value.length >= n) return this.#take(n);
        continue;
      }
      out ??= new Uint8Array(n);
      const part = this.#take(Math.min(n - have, this.#chunk.length));
      out.set(part, have);
      have += part.length;
    }
    return out === null ? EMPTY : out.subarray(0, have);
  }

  /** Cancels the stream (best effort). */
  cancel(reason?: unknown): void {
    this.#reader.cancel(reason).catch(() => {});
  }

  #take(n: number): Uint8Array {
    const part = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    return part;
  }
}
