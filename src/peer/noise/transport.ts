/**
 * The plaintext view of an encrypted connection after the handshake. Each direction is a
 * sequence of `u16 length (big-endian) || Noise transport message` with empty associated data.
 *
 * - Writing: bytes are gathered into pieces of at most {@linkcode MAX_PLAINTEXT_BYTES}; each
 *   piece is sealed straight into a reused write buffer (length, ciphertext, tag, then the next
 *   frame: up to {@linkcode FRAMES_PER_WRITE} frames per socket write). A buffer is written as
 *   soon as it is full or nothing is in flight, so small writes made while a buffer is being
 *   sent are batched into the next frame. A full piece taken straight from a large write is not
 *   copied. At most {@linkcode MAX_WRITES_IN_FLIGHT} socket writes are in flight
 *   (backpressure).
 * - Reading: messages are opened in order (the nonce counter refuses a replayed, reordered or
 *   dropped message). An empty plaintext is skipped. Any failure closes the connection and errors
 *   the readable; no byte of a message that fails is delivered.
 *
 * @module
 */

import type { Connection } from "../../runtime/types.ts";
import type { ByteReader } from "./byte_reader.ts";
import type { CipherState } from "./cipher_state.ts";
import { MAX_MESSAGE_BYTES, MAX_PLAINTEXT_BYTES } from "./cipher_state.ts";
import { TAG_BYTES } from "./aead.ts";
import { NoiseTruncatedError } from "./errors.ts";

/** Socket writes (each up to {@linkcode FRAMES_PER_WRITE} frames) in flight before a write waits. */
export const MAX_WRITES_IN_FLIGHT = 2;

/**
 * Messages each direction carries under one key before both sides rekey it (spec 11.3; the
 * message count is the agreed point, so nothing is signalled): 2^20, about 64 GiB of 64 KiB
 * messages.
 */
export const REKEY_INTERVAL_MESSAGES = 2 ** 20;

/** Messages opened ahead of the reader (so opening overlaps with what reads the plaintext). */
const READ_AHEAD_MESSAGES = 4;

const EMPTY = new Uint8Array(0);

/**
 * Frames one Noise message: 2-byte big-endian length, then the message.
 *
 * @example
 * ```ts
 * import { frameMessage } from "./transport.ts";
 * console.log(frameMessage(new Uint8Array([7, 7]))); // Uint8Array(4) [ 0, 2, 7, 7 ]
 * ```
 */
export function frameMessage(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + message.length);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

/**
 * Reads one framed Noise message; `null` when the stream ended cleanly before it. Throws
 * {@linkcode NoiseTruncatedError} when it ended inside one. With `transient`, the message may be
 * a view of the reader's buffer, valid only until its next read.
 *
 * @example
 * ```ts
 * import { ByteReader } from "./byte_reader.ts";
 * import { readFramedMessage } from "./transport.ts";
 * const r = new ByteReader(ReadableStream.from([new Uint8Array([0, 1, 9])]).getReader());
 * console.log(await readFramedMessage(r)); // Uint8Array(1) [ 9 ]
 * console.log(await readFramedMessage(r)); // null
 * ```
 */
export async function readFramedMessage(
  reader: ByteReader,
  transient = false,
): Promise<Uint8Array | null> {
  const header = await reader.readView(2);
  if (header.length === 0) return null;
  if (header.length < 2) throw new NoiseTruncatedError("the stream ended inside a length");
  const length = (header[0] << 8) | header[1];
  const message = transient ? await reader.readView(length) : await reader.readExact(length);
  if (message.length < length) {
    throw new NoiseTruncatedError(
      `the stream ended inside a message (${message.length} of ${length} bytes)`,
    );
  }
  return message;
}

/** True when the reader holds a whole framed message already. */
function frameBuffered(reader: ByteReader): boolean {
  const bytes = reader.buffered();
  return bytes.length >= 2 && bytes.length >= 2 + ((bytes[0] << 8) | bytes[1]);
}

/** The next framed message when all of it is buffered already (a transient view), else null. */
function bufferedFrame(reader: ByteReader): Uint8Array | null {
  if (!frameBuffered(reader)) return null;
  const bytes = reader.buffered();
  const length = (bytes[0] << 8) | bytes[1];
  reader.skip(2 + length);
  return bytes.subarray(2, 2 + length);
}

/**
 * The plaintext {@linkcode Connection} over `conn`, whose handshake is done: `reader` and `writer`
 * are the locks already held on its streams; `send` and `receive` the transport ciphers.
 *
 * @example
 * ```ts ignore
 * const plain = transportConnection(conn, reader, writer, ciphers.send, ciphers.receive);
 * await plain.writable.getWriter().write(new TextEncoder().encode("hello"));
 * ```
 */
export function transportConnection(
  conn: Connection,
  reader: ByteReader,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  send: CipherState,
  receive: CipherState,
  rekeyEvery: number = REKEY_INTERVAL_MESSAGES,
): Connection {
  send.setRekeyInterval(rekeyEvery);
  receive.setRekeyInterval(rekeyEvery);
  const fail = (err: unknown) => {
    conn.close();
    reader.cancel(err);
  };
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          // The ciphertext may be a view of the reader's buffer (valid until its next read):
          // decrypting makes a fresh plaintext, which is what goes downstream. A frame already
          // in the reader's buffer is taken without waiting; an AEAD with `openSync` opens it
          // without a promise (when no rekey is being derived).
          const message = bufferedFrame(reader) ?? await readFramedMessage(reader, true);
          if (message === null) return controller.close();
          let opened = receive.decrypt(EMPTY, message);
          if (opened instanceof Promise) opened = await opened;
          const plaintext = opened.buffer === message.buffer ? opened.slice() : opened;
          if (plaintext.length === 0) continue;
          controller.enqueue(plaintext);
          // More frames already here and room in the queue: open them in this same pull.
          if ((controller.desiredSize ?? 0) <= 0 || !frameBuffered(reader)) return;
        }
      } catch (err) {
        fail(err);
        throw err;
      }
    },
    cancel(reason) {
      reader.cancel(reason);
    },
  }, { highWaterMark: READ_AHEAD_MESSAGES });
  const sealer = new Sealer(send, writer, fail);
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => sealer.write(chunk),
    close: () => sealer.close(),
    abort: (reason) => {
      sealer.abort(reason);
      conn.close();
    },
  });
  return {
    readable,
    writable,
    localAddress: conn.localAddress,
    remoteAddress: conn.remoteAddress,
    close: () => conn.close(),
    closed: conn.closed,
  };
}

/** Bytes of one frame at most: the 2-byte length and the largest message. */
const MAX_FRAME_BYTES = 2 + MAX_MESSAGE_BYTES;

/**
 * Frames sealed back to back into one write buffer, written to the socket with one write (4
 * frames: about 256 KiB, one write where one per frame cost the sender a system call each).
 */
export const FRAMES_PER_WRITE = 4;

const WRITE_BUFFER_BYTES = FRAMES_PER_WRITE * MAX_FRAME_BYTES;

/**
 * Write buffers free for any connection of this process: a buffer goes back once the socket
 * write that carried it resolved (the runtime no longer reads it then). Bounded, so idle
 * connections hold none; they hold only ciphertext and frame lengths.
 */
const freeBuffers: Uint8Array[] = [];
const MAX_FREE_BUFFERS = 8;

function takeBuffer(): Uint8Array {
  return freeBuffers.pop() ?? new Uint8Array(WRITE_BUFFER_BYTES);
}

function returnBuffer(buffer: Uint8Array): void {
  if (buffer.length === WRITE_BUFFER_BYTES && freeBuffers.length < MAX_FREE_BUFFERS) {
    freeBuffers.push(buffer);
  }
}

/**
 * Gathers written bytes into pieces, seals them in order straight into write buffers (frame
 * length, ciphertext, tag; no buffer per frame) and writes each buffer with one socket write.
 */
class Sealer {
  readonly #send: CipherState;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #fail: (err: unknown) => void;
  /** Plaintext of a partial piece (small writes gathered). */
  readonly #acc = new Uint8Array(MAX_PLAINTEXT_BYTES);
  #accLength = 0;
  /** The write buffer being filled with frames, and how much of it is. */
  #buffer: Uint8Array | null = null;
  #bufferLength = 0;
  /** Socket writes not resolved yet. */
  #writes = 0;
  /** A write, close or idle flush is sealing (it may wait for an asynchronous AEAD). */
  #busy = false;
  #error: unknown = null;
  /** Woken whenever a socket write resolves or the sealer fails. */
  #waiters: (() => void)[] = [];

  constructor(
    send: CipherState,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    fail: (err: unknown) => void,
  ) {
    this.#send = send;
    this.#writer = writer;
    this.#fail = fail;
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#exclusive(() => this.#take(chunk));
  }

  /** Runs `step` alone (one write or close at a time); a failure fails the writer for good. */
  async #exclusive(step: () => Promise<void>): Promise<void> {
    this.#throwIfFailed();
    await this.#acquire();
    try {
      await step();
    } catch (err) {
      this.#failWith(err);
      throw err;
    } finally {
      this.#busy = false;
      this.#wake();
    }
    this.#throwIfFailed();
  }

  async #take(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.#accLength === 0 && chunk.length - at >= MAX_PLAINTEXT_BYTES) {
        // A full piece straight from the caller's bytes: it is sealed (into our buffer) before
        // this write resolves, so the caller may reuse its buffer then.
        await this.#seal(chunk.subarray(at, at + MAX_PLAINTEXT_BYTES));
        at += MAX_PLAINTEXT_BYTES;
      } else {
        const n = Math.min(MAX_PLAINTEXT_BYTES - this.#accLength, chunk.length - at);
        this.#acc.set(chunk.subarray(at, at + n), this.#accLength);
        this.#accLength += n;
        at += n;
        if (this.#accLength === MAX_PLAINTEXT_BYTES) await this.#sealAcc();
      }
    }
    // Nothing on its way to the socket: send what is gathered now. Otherwise it waits for the
    // write in flight to resolve (#written), so small writes meanwhile share a frame.
    if (this.#writes === 0) await this.#sealAccAndFlush();
  }

  async close(): Promise<void> {
    await this.#exclusive(async () => {
      await this.#sealAccAndFlush();
      while (this.#writes > 0 && this.#error === null) await this.#next();
    });
    await this.#writer.close();
  }

  abort(reason: unknown): void {
    this.#error ??= reason ?? new Error("aborted");
    this.#wake();
  }

  /** Seals `piece` as the next frame of the write buffer, flushing a full buffer first. */
  async #seal(piece: Uint8Array): Promise<void> {
    const frameBytes = 2 + piece.length + TAG_BYTES;
    if (this.#buffer !== null && this.#bufferLength + frameBytes > this.#buffer.length) {
      await this.#flush();
    }
    this.#throwIfFailed();
    // A buffer of its own for a lone small frame (a small message sent at once), else a
    // reused write buffer.
    const buffer = this.#buffer ??= piece.length < MAX_PLAINTEXT_BYTES
      ? new Uint8Array(frameBytes)
      : takeBuffer();
    const at = this.#bufferLength;
    const length = piece.length + TAG_BYTES;
    buffer[at] = length >> 8;
    buffer[at + 1] = length & 0xff;
    const pending = this.#send.encryptInto(EMPTY, piece, buffer, at + 2);
    if (pending !== undefined) await pending;
    this.#bufferLength = at + frameBytes;
    if (buffer.length - this.#bufferLength < MAX_FRAME_BYTES) await this.#flush();
  }

  async #sealAcc(): Promise<void> {
    const piece = this.#acc.subarray(0, this.#accLength);
    this.#accLength = 0;
    await this.#seal(piece);
  }

  async #sealAccAndFlush(): Promise<void> {
    if (this.#accLength > 0) await this.#sealAcc();
    if (this.#bufferLength > 0) await this.#flush();
  }

  /**
   * Hands the write buffer to the socket without waiting for it to be written (the stream keeps
   * the order); waits first while {@linkcode MAX_WRITES_IN_FLIGHT} writes are in flight.
   */
  async #flush(): Promise<void> {
    while (this.#writes >= MAX_WRITES_IN_FLIGHT && this.#error === null) await this.#next();
    this.#throwIfFailed();
    const buffer = this.#buffer!;
    const length = this.#bufferLength;
    this.#buffer = null;
    this.#bufferLength = 0;
    this.#writes++;
    this.#writer.write(buffer.subarray(0, length)).then(
      () => this.#written(buffer),
      (err) => this.#failWith(err),
    );
  }

  /** A socket write resolved: its buffer is free; with none left, send what waits. */
  #written(buffer: Uint8Array): void {
    this.#writes--;
    returnBuffer(buffer);
    this.#wake();
    if (
      this.#writes > 0 || this.#busy || this.#error !== null ||
      (this.#accLength === 0 && this.#bufferLength === 0)
    ) return;
    this.#busy = true;
    this.#sealAccAndFlush().catch((err) => this.#failWith(err)).finally(() => {
      this.#busy = false;
      this.#wake();
    });
  }

  #failWith(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err;
    this.#fail(err);
    this.#wake();
  }

  /** Waits until no one else seals, then marks us busy (in the same step as the last check). */
  async #acquire(): Promise<void> {
    while (this.#busy && this.#error === null) await this.#next();
    this.#throwIfFailed();
    this.#busy = true;
  }

  #next(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #throwIfFailed(): void {
    if (this.#error !== null) throw this.#error;
  }
}
