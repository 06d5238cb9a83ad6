/**
 * The message-level view of one connection that the handshake and {@linkcode PeerConnection}
 * work on: send a message, receive the next one. {@linkcode framedChannel} builds one over a
 * runtime {@linkcode Connection} with the wire codec.
 *
 * @module
 */

import type { Connection } from "../runtime/types.ts";
import { encodeMessage, encodeMessageInto } from "../wire/codec.ts";
import type { Message } from "../wire/messages.ts";
import { type DataPlacement, readMessages } from "../wire/read_messages.ts";
import { PeerClosedError } from "./errors.ts";

/** Bidirectional message pipe. */
export interface MessageChannel {
  /**
   * Sends one message. Sends are written in call order, one at a time; the promise resolves
   * once the transport accepted the frame (backpressure), and rejects when the channel is
   * closed or the write fails.
   */
  send(message: Message): Promise<void>;
  /**
   * Resolves with the next message, or `null` when the remote side ended the stream cleanly.
   * Rejects with the wire layer's typed error on malformed input (garbage, oversized frame,
   * truncated frame). Only one receive may be pending at a time. A DATA message's `chunk` may
   * be a view of a reused read buffer: it is valid until the next `receive()`.
   */
  receive(): Promise<Message | null>;
  /**
   * Optional: sets where the chunks of arriving DATA messages are read (see the wire's
   * `DataPlacement`; `undefined` reads them as usual). A channel without it (or that cannot
   * read into a caller's buffer, e.g. one that decrypts) reads every chunk as usual; a receiver
   * must handle both. A chunk read where `place` chose stays valid after the next `receive()`.
   */
  placeData?(place: DataPlacement | undefined): void;
  /** Sends still waiting to be written (including the one being written). */
  readonly pendingSends: number;
  /** Half-closes (FIN) after queued sends are written. Resolves when done or failed. */
  end(): Promise<void>;
  /** Closes both directions at once. Idempotent. Pending and later sends reject. */
  close(): void;
  /** Resolves once the underlying connection is closed. */
  readonly closed: Promise<void>;
  /** Remote address, for logs ("host:port"). */
  readonly remote: string;
}

/** Bytes of frames sent and received (the plaintext frames, before any encryption). */
export interface TrafficTally {
  /** Bytes written. */
  sent: number;
  /** Bytes read. */
  received: number;
}

/** Options of {@linkcode framedChannel}. */
export interface FramedChannelOptions {
  /** Largest frame body accepted from the peer (default: the wire's default). */
  readonly maxFrameSize?: number;
  /** Counts the bytes of the frames written and read (shared by a node's connections). */
  readonly tally?: TrafficTally;
}

/** Size of a reused write buffer once a connection carries bulk frames. */
const BATCH_SIZE = 512 * 1024;
/** Size of a reused write buffer while a connection carries only small frames. */
const SMALL_BATCH_SIZE = 16 * 1024;
/** Reused write buffers per connection: one being written, one filling. */
const BATCH_BUFFERS = 2;

/** Frames written with one transport write; every send in it settles with that write. */
interface Batch {
  bytes: Uint8Array;
  length: number;
  /** True for a buffer of the channel's pool (returned to it once written). */
  readonly pooled: boolean;
  readonly done: PromiseWithResolvers<void>;
}

/**
 * A {@linkcode MessageChannel} over a byte {@linkcode Connection}: messages are encoded with
 * the wire codec, in call order, straight into one of two reused buffers: while one is being
 * written, the frames sent meanwhile gather in the other and go out as one write (no
 * allocation per frame; a frame that finds both buffers busy gets its own allocation). One
 * write is in flight at a time and each send resolves when the write carrying its frame
 * finished, so a peer that stops reading stops the senders instead of growing a queue.
 * Received bytes are decoded with the wire's frame reader (bounded frame size; garbage
 * rejects {@linkcode MessageChannel.receive} with the wire's typed error).
 *
 * @example
 * ```ts ignore
 * const conn = await runtime.net.connect({ hostname: "127.0.0.1", port: 4000 });
 * const channel = framedChannel(conn);
 * await channel.send({ type: MessageType.PING, requestId: 1, timestamp: Date.now() });
 * ```
 */
export function framedChannel(
  conn: Connection,
  options: FramedChannelOptions = {},
): MessageChannel {
  return new FramedChannel(conn, options);
}

class FramedChannel implements MessageChannel {
  readonly closed: Promise<void>;
  readonly remote: string;
  #conn: Connection;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #messages: AsyncGenerator<Message, void, undefined>;
  /** Batches not yet handed to the transport; only the last one may still be filled. */
  #queue: Batch[] = [];
  /** The batch being written. */
  #current: Batch | undefined;
  #free: Uint8Array[] = [];
  #buffers = 0;
  #pumping: Promise<void> | undefined;
  #failure: unknown;
  #pending = 0;
  #closed = false;
  readonly #tally: TrafficTally | undefined;
  readonly #placement: { data?: DataPlacement } = {};

  constructor(conn: Connection, options: FramedChannelOptions) {
    this.#tally = options.tally;
    this.#conn = conn;
    this.closed = conn.closed.catch(() => {});
    this.remote = `${conn.remoteAddress.hostname}:${conn.remoteAddress.port}`;
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
    // Reused read buffers: every consumer of a DATA chunk copies it before the next receive.
    this.#messages = readMessages(conn.readable, {
      maxFrameSize: options.maxFrameSize,
      reuseBuffers: true,
      tally: options.tally,
      placement: this.#placement,
    });
  }

  placeData(place: DataPlacement | undefined): void {
    this.#placement.data = place;
  }

  get pendingSends(): number {
    return this.#pending;
  }

  send(message: Message): Promise<void> {
    if (this.#closed) return Promise.reject(new PeerClosedError("connection is closed"));
    if (this.#failure !== undefined) return Promise.reject(writeFailed(this.#failure));
    let batch: Batch;
    try {
      batch = this.#encode(message);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#pending++;
    this.#pumping ??= this.#pump();
    return batch.done.promise.finally(() => {
      this.#pending--;
    });
  }

  /** Encodes `message` at the end of the batch being filled, or into a new batch. */
  #encode(message: Message): Batch {
    const last = this.#queue.at(-1);
    if (last?.pooled) {
      const n = encodeMessageInto(message, last.bytes, last.length);
      if (n >= 0) {
        last.length += n;
        return last;
      }
    }
    let buffer = this.#free.pop();
    if (buffer === undefined && this.#buffers < BATCH_BUFFERS) {
      this.#buffers++;
      buffer = new Uint8Array(SMALL_BATCH_SIZE);
    }
    if (buffer !== undefined) {
      let n = encodeMessageInto(message, buffer, 0);
      if (n < 0 && buffer.length < BATCH_SIZE) {
        buffer = new Uint8Array(BATCH_SIZE); // bulk traffic: trade the small buffer up
        n = encodeMessageInto(message, buffer, 0);
      }
      if (n >= 0) {
        const batch = { bytes: buffer, length: n, pooled: true, done: deferred() };
        this.#queue.push(batch);
        return batch;
      }
      this.#free.push(buffer);
    }
    const frame = encodeMessage(message);
    const batch = { bytes: frame, length: frame.length, pooled: false, done: deferred() };
    this.#queue.push(batch);
    return batch;
  }

  /** Writes queued batches one at a time until the queue is empty. */
  async #pump(): Promise<void> {
    // Start on a later microtask: frames sent in the same turn join the first batch, and
    // `#pumping` is set before this can finish.
    await null;
    for (let batch = this.#queue.shift(); batch !== undefined; batch = this.#queue.shift()) {
      if (this.#closed || this.#failure !== undefined) {
        batch.done.reject(
          this.#closed ? new PeerClosedError("connection is closed") : writeFailed(this.#failure),
        );
        continue;
      }
      this.#current = batch;
      try {
        await this.#writer.write(batch.bytes.subarray(0, batch.length));
        if (this.#tally) this.#tally.sent += batch.length;
        batch.done.resolve();
      } catch (err) {
        this.#failure = err;
        batch.done.reject(writeFailed(err));
      }
      this.#current = undefined;
      if (batch.pooled) this.#free.push(batch.bytes);
    }
    this.#pumping = undefined;
  }

  async receive(): Promise<Message | null> {
    const next = await this.#messages.next();
    return next.done ? null : next.value;
  }

  async end(): Promise<void> {
    if (this.#closed) return;
    try {
      while (this.#pumping !== undefined) await this.#pumping;
      await this.#writer.close(); // waits for the frames already handed over
    } catch {
      // Already closed or failed: nothing to flush.
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Idempotent.
    }
    // Fail every send now, also the one whose write the closed transport may never settle.
    const closed = new PeerClosedError("connection is closed");
    this.#current?.done.reject(closed);
    for (const batch of this.#queue) batch.done.reject(closed);
    this.#messages.return(undefined).catch(() => {});
  }
}

function deferred(): PromiseWithResolvers<void> {
  const d = Promise.withResolvers<void>();
  d.promise.catch(() => {}); // each sender sees the rejection through its own chain
  return d;
}

function writeFailed(cause: unknown): PeerClosedError {
  return cause instanceof PeerClosedError
    ? cause
    : new PeerClosedError("write to peer failed", { cause });
}
