/**
 * {@linkcode FrameReader}: cuts a byte stream into frames (u32 big-endian length + body).
 *
 * @module
 */

import { AbortedError, DfsError, InvalidArgumentError, IoError } from "../errors.ts";
import { FrameTooLargeError, TruncatedFrameError } from "./errors.ts";
import { DEFAULT_MAX_FRAME_SIZE, FRAME_PREFIX_SIZE } from "./limits.ts";
import { readU32 } from "./primitives.ts";

/** Options of {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  /** Largest body accepted (default {@linkcode DEFAULT_MAX_FRAME_SIZE}). */
  readonly maxFrameSize?: number;
  /** Cancels reading: a pending or later {@linkcode FrameReader.read} rejects with `AbortedError`. */
  readonly signal?: AbortSignal;
  /**
   * Reuse the reader's buffers: a body returned by {@linkcode FrameReader.read} is valid only
   * until the next `read()` (copy what must outlive it). When the stream is a byte stream
   * (`type: "bytes"`), the socket is read straight into one buffer the reader owns (no
   * allocation per read or per frame, a copy only for the tail of a frame that reached the end
   * of that buffer); other streams keep their chunks and only frames straddling chunks go
   * through the reused buffer. Default false: every body is the caller's to keep.
   */
  readonly reuseBuffers?: boolean;
}

/**
 * Where the rest of a frame's body goes instead of the reader's buffer (see
 * {@linkcode FrameReader.read}): a receiver that already owns the buffer a body ends up in (a
 * block being fetched) has the reader put the bytes there, with no copy out of a read buffer.
 */
export interface FramePlacement {
  /**
   * Bytes at the start of a body the reader has before asking (the message header); bodies
   * shorter than `headSize + 1` are never placed.
   */
  readonly headSize: number;
  /**
   * Given the first `headSize` bytes of a body (a view valid only during the call) and the
   * body's length (already checked against `maxFrameSize`), returns a buffer of exactly
   * `length - headSize` bytes to read the rest of the body into, or `undefined` to read it as
   * usual. A byte-stream read may transfer the buffer's `ArrayBuffer`: afterwards use
   * {@linkcode FrameReader.placed}, not the buffer returned here.
   */
  place(head: Uint8Array, length: number): Uint8Array | undefined;
}

/** Initial size of the buffer a byte stream is read into with `reuseBuffers`. */
const BYOB_BUFFER_SIZE = 64 * 1024;
/**
 * The byte-stream buffer grows to hold this many frames of the largest size seen (2: 512 KiB
 * for 128 KiB DATA frames; 4 measured ~15% slower on Deno, a bigger buffer is colder in cache).
 */
const BYOB_FRAMES = 2;
/** Largest byte-stream buffer (the largest frame still fits once, whatever the limit). */
const BYOB_BUFFER_MAX = 4 * 1024 * 1024;
/** Missing bytes of a frame from which the reader reads exactly the rest of it. */
const EXACT_READ_MIN = 16 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * Reads length-prefixed frames from a `ReadableStream<Uint8Array>`.
 *
 * A frame that lies inside one chunk is returned as a view of that chunk (no copy); a frame
 * that straddles chunks is copied once into a buffer of exactly its size, allocated only after
 * its declared length has been checked against `maxFrameSize`. Many frames in one chunk and
 * one frame spread over many chunks both cost O(frame size).
 *
 * Errors: {@linkcode FrameTooLargeError} (declared length over the limit, nothing allocated),
 * {@linkcode TruncatedFrameError} (EOF inside a frame), `AbortedError` (signal), and other
 * stream failures wrapped in `IoError` unless they already are a `DfsError`. After an error the
 * reader is unusable; call {@linkcode FrameReader.cancel}.
 *
 * @example Read two frames from one chunk
 * ```ts
 * import { FrameReader } from "./frame_reader.ts";
 * const bytes = new Uint8Array([0, 0, 0, 1, 0xaa, 0, 0, 0, 0]);
 * const reader = new FrameReader(ReadableStream.from([bytes]));
 * console.log(await reader.read()); // Uint8Array [0xaa]
 * console.log(await reader.read()); // Uint8Array []
 * console.log(await reader.read()); // null (clean end of stream)
 * ```
 */
export class FrameReader {
  #reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader;
  #byob: ReadableStreamBYOBReader | undefined;
  #reuse: boolean;
  /** With `reuseBuffers`: the byte-stream buffer, or the reused buffer for straddling frames. */
  #buf: Uint8Array = EMPTY;
  /** Unread bytes of `#buf` in byte-stream mode: `#pos..#end`. */
  #end = 0;
  #max: number;
  #signal: AbortSignal | undefined;
  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  #eof = false;
  #prefix = new Uint8Array(FRAME_PREFIX_SIZE);
  #placed: Uint8Array | undefined;
  /** The head of the last placed body (see {@linkcode FramePlacement}). */
  #head: Uint8Array = EMPTY;

  /**
   * Locks `readable` and reads frames from it. Throws `InvalidArgumentError` when
   * `maxFrameSize` is not an integer in 0..2^32-1.
   */
  constructor(readable: ReadableStream<Uint8Array>, options?: FrameReaderOptions) {
    const max = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) {
      throw new InvalidArgumentError(`maxFrameSize must be an integer in 0..2^32-1, got ${max}`);
    }
    this.#reuse = options?.reuseBuffers === true;
    let byob: ReadableStreamBYOBReader | undefined;
    if (this.#reuse) {
      try {
        byob = readable.getReader({ mode: "byob" });
      } catch {
        // Not a byte stream: read its chunks.
      }
    }
    this.#byob = byob;
    this.#reader = byob ?? readable.getReader();
    this.#max = max;
    this.#signal = options?.signal;
  }

  /**
   * The rest of the body of the frame the last {@linkcode FrameReader.read} returned, when its
   * `placement` put it in the buffer it chose (then `read` resolved with the first `headSize`
   * bytes only): a view of the same memory and offsets as the buffer `place` returned, but
   * possibly of a new `ArrayBuffer` (a byte-stream read transfers the one it reads into).
   * `undefined` when the last body was read as usual.
   */
  get placed(): Uint8Array | undefined {
    return this.#placed;
  }

  /**
   * Reads the next frame body (without its length prefix). Resolves `null` at a clean end of
   * stream (between frames). With `placement`, a body longer than its `headSize` may be split:
   * `place` is asked where the rest goes, and when it answers with a buffer, `read` resolves
   * with the first `headSize` bytes and {@linkcode FrameReader.placed} holds the rest.
   */
  async read(placement?: FramePlacement): Promise<Uint8Array | null> {
    if (this.#signal?.aborted) throw new AbortedError("frame read aborted");
    this.#placed = undefined;
    if (this.#byob !== undefined) return this.#readOwned(this.#byob, placement);
    // Length prefix.
    let length: number;
    if (this.#chunk.length - this.#pos >= FRAME_PREFIX_SIZE) {
      length = readU32(this.#chunk, this.#pos);
      this.#pos += FRAME_PREFIX_SIZE;
    } else {
      const prefix = this.#prefix;
      let got = 0;
      while (got < FRAME_PREFIX_SIZE) {
        if (this.#pos === this.#chunk.length && !(await this.#pull())) {
          if (got === 0) return null;
          throw new TruncatedFrameError(got, FRAME_PREFIX_SIZE);
        }
        const n = Math.min(FRAME_PREFIX_SIZE - got, this.#chunk.length - this.#pos);
        for (let i = 0; i < n; i++) prefix[got + i] = this.#chunk[this.#pos + i];
        got += n;
        this.#pos += n;
      }
      length = readU32(prefix, 0);
    }
    if (length > this.#max) throw new FrameTooLargeError(length, this.#max);

    if (placement !== undefined && length > placement.headSize) {
      const placed = await this.#readPlacedChunks(placement, length);
      if (placed !== undefined) return placed;
    }
    // Body: a view when it lies in the current chunk, else one copy.
    const available = this.#chunk.length - this.#pos;
    if (available >= length) {
      const body = this.#chunk.subarray(this.#pos, this.#pos + length);
      this.#pos += length;
      return body;
    }
    let body: Uint8Array;
    if (this.#reuse) {
      if (this.#buf.length < length) this.#buf = new Uint8Array(length);
      body = this.#buf.subarray(0, length);
    } else {
      body = new Uint8Array(length);
    }
    body.set(this.#chunk.subarray(this.#pos), 0);
    let filled = available;
    this.#pos = this.#chunk.length;
    while (filled < length) {
      if (!(await this.#pull())) {
        throw new TruncatedFrameError(FRAME_PREFIX_SIZE + filled, FRAME_PREFIX_SIZE + length);
      }
      const n = Math.min(length - filled, this.#chunk.length);
      body.set(n === this.#chunk.length ? this.#chunk : this.#chunk.subarray(0, n), filled);
      filled += n;
      this.#pos = n;
    }
    return body;
  }

  /**
   * Chunk mode with a placement: asks where the rest of the body goes (given its head, when
   * the head lies in the current chunk) and copies it there straight from the chunks.
   * `undefined` when `place` declined or was not asked (the body is then read as usual: nothing
   * of it was consumed).
   */
  async #readPlacedChunks(
    placement: FramePlacement,
    length: number,
  ): Promise<Uint8Array | undefined> {
    const headSize = placement.headSize;
    // Only a head that lies in the current chunk is offered (the common case: a frame starts
    // in a chunk with its header); a straddling head is read as usual.
    if (this.#pos === this.#chunk.length && !(await this.#pull())) return undefined;
    if (this.#chunk.length - this.#pos < headSize) return undefined;
    const into = placement.place(this.#chunk.subarray(this.#pos, this.#pos + headSize), length);
    if (into === undefined) return undefined;
    const rest = length - headSize;
    checkPlace(into, rest);
    if (this.#head.length !== headSize) this.#head = new Uint8Array(headSize);
    const head = this.#head;
    head.set(this.#chunk.subarray(this.#pos, this.#pos + headSize));
    this.#pos += headSize;
    let filled = 0;
    for (;;) {
      const n = Math.min(rest - filled, this.#chunk.length - this.#pos);
      into.set(this.#chunk.subarray(this.#pos, this.#pos + n), filled);
      filled += n;
      this.#pos += n;
      if (filled === rest) break;
      if (!(await this.#pull())) {
        throw new TruncatedFrameError(
          FRAME_PREFIX_SIZE + headSize + filled,
          FRAME_PREFIX_SIZE + length,
        );
      }
    }
    this.#placed = into;
    return head;
  }

  /**
   * Byte-stream mode: the next frame as a view of the reader's own buffer. With a placement,
   * the reads are the same as without one (as large as `#readLimit` allows; a read that ends a
   * big frame stops at its end), but the part of a placed body not yet in `#buf` is read
   * straight into the placement: what an earlier read brought is copied, the rest is not.
   * (Holding reads at each frame's head so that whole bodies land in the placement needs a
   * second, small read per frame: on loopback it cost both nodes more than the copy it saved.)
   */
  async #readOwned(
    byob: ReadableStreamBYOBReader,
    placement: FramePlacement | undefined,
  ): Promise<Uint8Array | null> {
    if (!(await this.#fill(byob, FRAME_PREFIX_SIZE))) {
      if (this.#end === this.#pos) return null;
      throw new TruncatedFrameError(this.#end - this.#pos, FRAME_PREFIX_SIZE);
    }
    const length = readU32(this.#buf, this.#pos);
    if (length > this.#max) throw new FrameTooLargeError(length, this.#max);
    this.#pos += FRAME_PREFIX_SIZE;
    if (placement !== undefined && length > placement.headSize) {
      const headSize = placement.headSize;
      if (!(await this.#fill(byob, headSize))) {
        throw new TruncatedFrameError(
          FRAME_PREFIX_SIZE + this.#end - this.#pos,
          FRAME_PREFIX_SIZE + length,
        );
      }
      const into = placement.place(this.#buf.subarray(this.#pos, this.#pos + headSize), length);
      if (into !== undefined) {
        checkPlace(into, length - headSize);
        // The head outlives moves of `#buf` while the rest is read: keep it apart.
        if (this.#head.length !== headSize) this.#head = new Uint8Array(headSize);
        const head = this.#head;
        head.set(this.#buf.subarray(this.#pos, this.#pos + headSize));
        this.#pos += headSize;
        this.#placed = await this.#readInto(byob, into, length);
        return head;
      }
    }
    if (!(await this.#fill(byob, length))) {
      throw new TruncatedFrameError(
        FRAME_PREFIX_SIZE + this.#end - this.#pos,
        FRAME_PREFIX_SIZE + length,
      );
    }
    const body = this.#buf.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return body;
  }

  /**
   * Byte-stream mode: the rest of a frame body of `length` bytes into `into` (which has room
   * for exactly that rest): what `#buf` already holds is copied, then the socket is read
   * straight into `into` to the end of the frame (the next read starts at a frame boundary,
   * as after a big frame without a placement). Returns `into` as a view of the buffer the last
   * read gave back (a byte-stream read transfers the buffer it fills).
   */
  async #readInto(
    byob: ReadableStreamBYOBReader,
    into: Uint8Array,
    length: number,
  ): Promise<Uint8Array> {
    const rest = into.length;
    const offset = into.byteOffset; // a transferred view reads as empty: keep its place
    const truncated = (filled: number) =>
      new TruncatedFrameError(
        FRAME_PREFIX_SIZE + length - rest + filled,
        FRAME_PREFIX_SIZE + length,
      );
    let filled = Math.min(rest, this.#end - this.#pos);
    into.set(this.#buf.subarray(this.#pos, this.#pos + filled));
    this.#pos += filled;
    let view = into;
    while (filled < rest) {
      if (this.#eof) throw truncated(filled);
      const result = await this.#byobRead(byob, view.subarray(filled));
      const got = result.value;
      // The read transferred the placement's buffer: continue with the one it came back in.
      if (got !== undefined) view = new Uint8Array(got.buffer, offset, rest);
      if (result.done) this.#eof = true;
      else filled += got!.length;
    }
    return view;
  }

  /** One BYOB read into `view`, raced against the abort signal; stream failures become `IoError`. */
  async #byobRead(
    byob: ReadableStreamBYOBReader,
    view: Uint8Array,
  ): Promise<ReadableStreamReadResult<Uint8Array>> {
    try {
      const reading = byob.read(view);
      return this.#signal === undefined ? await reading : await raceAbort(reading, this.#signal);
    } catch (err) {
      if (err instanceof DfsError) throw err;
      throw new IoError("frame stream failed", { cause: err });
    }
  }

  /**
   * Byte-stream mode: reads until `need` unread bytes are in `#buf` (moving the unread tail to
   * the front, or into a larger buffer, only when `need` does not fit behind `#pos`); false
   * at end of stream first.
   */
  async #fill(byob: ReadableStreamBYOBReader, need: number): Promise<boolean> {
    if (this.#end - this.#pos >= need) return true;
    if (this.#eof) return false;
    if (this.#end === this.#pos) this.#pos = this.#end = 0; // all consumed: start over
    if (this.#buf.length - this.#pos < need) {
      const have = this.#end - this.#pos;
      if (this.#buf.length < 2 * need) {
        // Big frames: room for several, so reads stay large and a frame that starts in the
        // first half always ends inside the buffer (no move).
        let size = Math.max(BYOB_BUFFER_SIZE, this.#buf.length);
        while (size < BYOB_FRAMES * need && size < BYOB_BUFFER_MAX) size *= 2;
        const grown = new Uint8Array(Math.max(need, size));
        grown.set(this.#buf.subarray(this.#pos, this.#end));
        this.#buf = grown;
      } else {
        this.#buf.copyWithin(0, this.#pos, this.#end);
      }
      this.#pos = 0;
      this.#end = have;
    }
    while (this.#end - this.#pos < need) {
      const result = await this.#byobRead(
        byob,
        this.#buf.subarray(this.#end, this.#readLimit(need)),
      );
      const view = result.value;
      // The read transferred our buffer: continue with the one it came back in.
      this.#buf = view === undefined ? EMPTY : new Uint8Array(view.buffer);
      if (result.done) {
        this.#eof = true;
        return false;
      }
      this.#end += result.value.length;
    }
    return true;
  }

  /**
   * Where the next read into `#buf` stops: exactly at the end of a frame when much of it is
   * missing (so the read after it starts at a frame boundary and the buffer is rewound for
   * free), else as far as the first half of the buffer (many small frames per read; a frame
   * that starts there still ends inside the buffer), and past that half only what this frame
   * needs.
   */
  #readLimit(need: number): number {
    const target = this.#pos + need;
    if (target - this.#end >= EXACT_READ_MIN) return target;
    const half = this.#buf.length >> 1;
    return this.#end < half ? Math.max(target, half) : target;
  }

  /** Cancels the underlying stream and releases it. Idempotent. */
  async cancel(reason?: unknown): Promise<void> {
    this.#eof = true;
    this.#chunk = EMPTY;
    this.#pos = 0;
    this.#end = 0;
    this.#buf = EMPTY;
    try {
      await this.#reader.cancel(reason);
    } catch {
      // Already errored or released: nothing left to cancel.
    }
  }

  /** Replaces the current chunk with the next non-empty one; false at end of stream. */
  async #pull(): Promise<boolean> {
    while (!this.#eof) {
      const signal = this.#signal;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        if (signal === undefined) {
          result = await (this.#reader as ReadableStreamDefaultReader<Uint8Array>).read();
        } else {
          const reader = this.#reader as ReadableStreamDefaultReader<Uint8Array>;
          result = await raceAbort(reader.read(), signal);
        }
      } catch (err) {
        if (err instanceof DfsError) throw err;
        throw new IoError("frame stream failed", { cause: err });
      }
      if (result.done) {
        this.#eof = true;
        break;
      }
      const chunk = result.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new IoError("frame stream yielded a chunk that is not a Uint8Array");
      }
      if (chunk.length === 0) continue;
      this.#chunk = chunk;
      this.#pos = 0;
      return true;
    }
    this.#chunk = EMPTY;
    this.#pos = 0;
    return false;
  }
}

/** Throws unless a placement's buffer has room for exactly the `rest` of the body. */
function checkPlace(into: Uint8Array, rest: number): void {
  if (into.length !== rest) {
    throw new InvalidArgumentError(
      `a frame placement must have room for exactly ${rest} bytes, got ${into.length}`,
    );
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedError("frame read aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError("frame read aborted", { cause: signal.reason }));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
