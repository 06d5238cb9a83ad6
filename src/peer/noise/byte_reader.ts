/**
 * Exact-length reads over a byte stream, for the Noise framing.
 *
 * Given a byte stream (`type: "bytes"`, as every runtime's TCP connection is), the reader owns
 * one buffer and has the socket read straight into it (BYOB): no allocation per socket read and
 * no copy for a message that spans reads. Other streams (and a reader handed in) are read chunk
 * by chunk: a read that fits in the chunk at hand is a view of it (no copy); one that spans
 * chunks is copied once into a fresh array.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);
/** First size of the owned buffer of a byte stream (grows to hold two of the largest reads). */
const OWNED_BUFFER_SIZE = 128 * 1024;

/**
 * Reads exactly `n` bytes at a time from a `ReadableStream` (or a reader of one).
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
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #byob: ReadableStreamBYOBReader | undefined;
  #chunk: Uint8Array = EMPTY;
  #done = false;
  /** Byte-stream mode: the owned buffer; unread bytes are `#pos..#end`. */
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;

  /**
   * Reads from `source`, which this object now owns: a stream (read with a BYOB reader into
   * one owned buffer when it is a byte stream) or a default reader of one.
   */
  constructor(source: ReadableStream<Uint8Array> | ReadableStreamDefaultReader<Uint8Array>) {
    if (source instanceof ReadableStream) {
      let byob: ReadableStreamBYOBReader | undefined;
      try {
        byob = source.getReader({ mode: "byob" });
      } catch {
        // Not a byte stream: read its chunks.
      }
      this.#byob = byob;
      this.#reader = byob ? undefined : source.getReader();
    } else {
      this.#reader = source;
    }
  }

  /**
   * The next `n` bytes, the caller's to keep. Resolves to fewer (possibly 0) only when the
   * stream ended first. In chunk mode the result may be a view of the stream's chunk: callers
   * must not keep it past the next read if they write to it.
   */
  async readExact(n: number): Promise<Uint8Array> {
    if (this.#byob === undefined) return await this.#readChunks(n);
    return (await this.#readOwned(this.#byob, n)).slice();
  }

  /**
   * Like {@linkcode ByteReader.readExact}, but the result may be a view of the reader's own
   * buffer, valid only until the next read: for bytes consumed at once (a message decrypted
   * into a fresh plaintext before the next read).
   */
  async readView(n: number): Promise<Uint8Array> {
    if (this.#byob === undefined) return await this.#readChunks(n);
    return await this.#readOwned(this.#byob, n);
  }

  /**
   * The bytes already read from the stream and not consumed yet, without waiting (possibly
   * none): a view valid only until the next read. {@linkcode ByteReader.skip} consumes them.
   */
  buffered(): Uint8Array {
    return this.#byob === undefined ? this.#chunk : this.#buf.subarray(this.#pos, this.#end);
  }

  /** Consumes `n` bytes of {@linkcode ByteReader.buffered} (at most as many as it holds). */
  skip(n: number): void {
    if (this.#byob === undefined) {
      this.#chunk = this.#chunk.subarray(Math.min(n, this.#chunk.length));
    } else {
      this.#pos += Math.min(n, this.#end - this.#pos);
    }
  }

  /** Cancels the stream (best effort). */
  cancel(reason?: unknown): void {
    (this.#byob ?? this.#reader)!.cancel(reason).catch(() => {});
  }

  async #readOwned(byob: ReadableStreamBYOBReader, n: number): Promise<Uint8Array> {
    if (this.#end - this.#pos < n && !this.#done) await this.#fill(byob, n);
    const take = Math.min(n, this.#end - this.#pos);
    const out = this.#buf.subarray(this.#pos, this.#pos + take);
    this.#pos += take;
    return out;
  }

  /** Reads until `n` unread bytes are in `#buf` or the stream ends. */
  async #fill(byob: ReadableStreamBYOBReader, n: number): Promise<void> {
    if (this.#end === this.#pos) this.#pos = this.#end = 0; // all consumed: start over
    if (this.#buf.length - this.#pos < n) {
      const have = this.#end - this.#pos;
      if (this.#buf.length < 2 * n) {
        let size = Math.max(OWNED_BUFFER_SIZE, this.#buf.length);
        while (size < 2 * n) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.#buf.subarray(this.#pos, this.#end));
        this.#buf = grown;
      } else {
        this.#buf.copyWithin(0, this.#pos, this.#end);
      }
      this.#pos = 0;
      this.#end = have;
    }
    while (this.#end - this.#pos < n) {
      const result = await byob.read(this.#buf.subarray(this.#end));
      // The read transferred our buffer: continue with the one it came back in.
      const view = result.value;
      this.#buf = view === undefined ? EMPTY : new Uint8Array(view.buffer);
      if (result.done) {
        this.#done = true;
        if (this.#buf.length === 0) this.#pos = this.#end = 0;
        return;
      }
      this.#end += view!.length;
    }
  }

  async #readChunks(n: number): Promise<Uint8Array> {
    if (this.#chunk.length >= n) return this.#take(n);
    const reader = this.#reader!;
    let out: Uint8Array | null = null;
    let have = 0;
    while (have < n) {
      if (this.#chunk.length === 0) {
        if (this.#done) break;
        const { value, done } = await reader.read();
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

  #take(n: number): Uint8Array {
    const part = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    return part;
  }
}
