/**
 * The plaintext view of an encrypted connection after the handshake. Each direction is a
 * sequence of `u16 length (big-endian) || Noise transport message` with empty associated data.
 *
 * - Writing: bytes are gathered into pieces of at most {@linkcode MAX_PLAINTEXT_BYTES}; a piece
 *   is sealed as soon as nothing is in flight, so small writes made while a piece is being sealed
 *   or sent are batched into the next one. A full piece taken straight from a large write is not
 *   copied. At most {@linkcode MAX_PIECES_IN_FLIGHT} pieces are in flight (backpressure).
 * - Reading: messages are opened in order (the nonce counter refuses a replayed, reordered or
 *   dropped message). An empty plaintext is skipped. Any failure closes the connection and errors
 *   the readable; no byte of a message that fails is delivered.
 *
 * @module
 */

import type { Connection } from "../../runtime/types.ts";
import type { ByteReader } from "./byte_reader.ts";
import type { CipherState } from "./cipher_state.ts";
import { MAX_PLAINTEXT_BYTES } from "./cipher_state.ts";
import { NoiseTruncatedError } from "./errors.ts";

/** Pieces sealed or being written before a write waits. */
export const MAX_PIECES_IN_FLIGHT = 4;

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
          // decrypting makes a fresh plaintext, which is what goes downstream.
          const message = await readFramedMessage(reader, true);
          if (message === null) return controller.close();
          let plaintext = await receive.decryptWithAd(EMPTY, message);
          if (plaintext.buffer === message.buffer) plaintext = plaintext.slice();
          if (plaintext.length > 0) return controller.enqueue(plaintext);
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

/** Gathers written bytes into pieces, seals them in order and writes the frames. */
class Sealer {
  readonly #send: CipherState;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #fail: (err: unknown) => void;
  #acc = new Uint8Array(MAX_PLAINTEXT_BYTES);
  #accLength = 0;
  #inFlight = 0;
  #tail: Promise<void> = Promise.resolve();
  #error: unknown = null;
  #space: (() => void) | null = null;

  constructor(
    send: CipherState,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    fail: (err: unknown) => void,
  ) {
    this.#send = send;
    this.#writer = writer;
    this.#fail = fail;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#throwIfFailed();
    let at = 0;
    while (at < chunk.length) {
      if (this.#accLength === 0 && chunk.length - at >= MAX_PLAINTEXT_BYTES) {
        // A full piece straight from the caller's bytes: wait until it is sealed, so the caller
        // may reuse its buffer once this write resolves.
        await this.#seal(chunk.subarray(at, at + MAX_PLAINTEXT_BYTES));
        at += MAX_PLAINTEXT_BYTES;
      } else {
        const n = Math.min(MAX_PLAINTEXT_BYTES - this.#accLength, chunk.length - at);
        this.#acc.set(chunk.subarray(at, at + n), this.#accLength);
        this.#accLength += n;
        at += n;
        if (this.#accLength === MAX_PLAINTEXT_BYTES) void this.#seal(this.#takeAcc());
      }
      await this.#room();
    }
    if (this.#accLength > 0 && this.#inFlight === 0) void this.#seal(this.#takeAcc());
    this.#throwIfFailed();
  }

  async close(): Promise<void> {
    this.#throwIfFailed();
    if (this.#accLength > 0) void this.#seal(this.#takeAcc());
    for (;;) {
      const tail = this.#tail;
      await tail;
      if (tail === this.#tail) break;
    }
    this.#throwIfFailed();
    await this.#writer.close();
  }

  abort(reason: unknown): void {
    this.#error ??= reason ?? new Error("aborted");
    this.#space?.();
  }

  /** Seals `piece` now (its nonce is taken in call order); resolves once it is sealed. */
  #seal(piece: Uint8Array): Promise<void> {
    this.#inFlight++;
    // Sealed after 2 bytes of headroom: the frame's length goes there, no second copy.
    const sealed = this.#send.encryptWithAd(EMPTY, piece, 2);
    this.#tail = this.#tail.then(async () => {
      try {
        const frame = await sealed;
        const length = frame.length - 2;
        frame[0] = length >> 8;
        frame[1] = length & 0xff;
        if (this.#error === null) {
          // Queue the frame without waiting for it to be written (the stream keeps the order),
          // so several frames are in the socket's queue at once; wait only for backpressure.
          this.#writer.write(frame).catch((err) => this.#failWith(err));
          if ((this.#writer.desiredSize ?? 1) <= 0) await this.#writer.ready;
        }
      } catch (err) {
        if (this.#error === null) {
          this.#error = err;
          this.#fail(err);
        }
      } finally {
        this.#inFlight--;
        this.#space?.();
        if (this.#inFlight === 0 && this.#accLength > 0 && this.#error === null) {
          void this.#seal(this.#takeAcc());
        }
      }
    });
    return sealed.then(() => {}, () => {});
  }

  #failWith(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err;
    this.#fail(err);
    this.#space?.();
  }

  #takeAcc(): Uint8Array {
    // A full piece hands over the buffer; a partial one is copied out (small) and the buffer kept.
    let piece: Uint8Array;
    if (this.#accLength === MAX_PLAINTEXT_BYTES) {
      piece = this.#acc;
      this.#acc = new Uint8Array(MAX_PLAINTEXT_BYTES);
    } else {
      piece = this.#acc.slice(0, this.#accLength);
    }
    this.#accLength = 0;
    return piece;
  }

  async #room(): Promise<void> {
    while (this.#inFlight >= MAX_PIECES_IN_FLIGHT && this.#error === null) {
      await new Promise<void>((resolve) => (this.#space = resolve));
      this.#space = null;
    }
  }

  #throwIfFailed(): void {
    if (this.#error !== null) throw this.#error;
  }
}
