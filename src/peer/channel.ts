/**
 * The message-level view of one connection that the handshake and {@linkcode PeerConnection}
 * work on: send a message, receive the next one. {@linkcode framedChannel} builds one over a
 * runtime {@linkcode Connection} with the wire codec.
 *
 * @module
 */

import type { Connection } from "../runtime/types.ts";
import { encodeMessage } from "../wire/codec.ts";
import type { Message } from "../wire/messages.ts";
import { readMessages } from "../wire/read_messages.ts";
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

/** Options of {@linkcode framedChannel}. */
export interface FramedChannelOptions {
  /** Largest frame body accepted from the peer (default: the wire's default). */
  readonly maxFrameSize?: number;
}

/** Frames handed to the transport before the earliest of them finished writing. */
const WRITE_PIPELINE = 4;

/**
 * A {@linkcode MessageChannel} over a byte {@linkcode Connection}: messages are encoded with
 * the wire codec and written in order, at most four frames handed to the transport at once
 * (so the next write starts as soon as one finishes, and a peer that stops reading stops us
 * instead of growing a queue), and decoded from the readable side with the wire's
 * frame reader (bounded frame size; garbage rejects {@linkcode MessageChannel.receive} with
 * the wire's typed error).
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
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #inflight = 0;
  #slotWaiters: (() => void)[] = [];
  #closed = false;

  constructor(conn: Connection, options: FramedChannelOptions) {
    this.#conn = conn;
    this.closed = conn.closed.catch(() => {});
    this.remote = `${conn.remoteAddress.hostname}:${conn.remoteAddress.port}`;
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
    // Reused read buffers: every consumer of a DATA chunk copies it before the next receive.
    this.#messages = readMessages(conn.readable, {
      maxFrameSize: options.maxFrameSize,
      reuseBuffers: true,
    });
  }

  get pendingSends(): number {
    return this.#pending;
  }

  send(message: Message): Promise<void> {
    if (this.#closed) return Promise.reject(new PeerClosedError("connection is closed"));
    let frame: Uint8Array;
    try {
      frame = encodeMessage(message);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#write(frame);
  }

  #write(frame: Uint8Array): Promise<void> {
    this.#pending++;
    // Slots are taken in call order (chained on #tail), so frames reach the writer in order.
    const slot = this.#tail.then(() => this.#acquire());
    const run = slot.then(() => {
      if (this.#closed) {
        this.#release();
        throw new PeerClosedError("connection is closed");
      }
      return this.#writer.write(frame).finally(() => this.#release());
    });
    const done = run.then(
      () => {
        this.#pending--;
      },
      (err) => {
        this.#pending--;
        throw err instanceof PeerClosedError
          ? err
          : new PeerClosedError("write to peer failed", { cause: err });
      },
    );
    this.#tail = slot.catch(() => {});
    return done;
  }

  #acquire(): Promise<void> | void {
    if (this.#inflight < WRITE_PIPELINE) {
      this.#inflight++;
      return;
    }
    return new Promise<void>((resolve) =>
      this.#slotWaiters.push(() => {
        this.#inflight++;
        resolve();
      })
    );
  }

  #release(): void {
    this.#inflight--;
    this.#slotWaiters.shift()?.();
  }

  async receive(): Promise<Message | null> {
    const next = await this.#messages.next();
    return next.done ? null : next.value;
  }

  async end(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#tail;
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
    this.#messages.return(undefined).catch(() => {});
  }
}
