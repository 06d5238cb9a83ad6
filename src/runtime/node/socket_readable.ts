/**
 * {@linkcode SocketReadable}: the reading side of a `node:net` socket as a web byte stream, fed
 * either from Node's `onread` option (one reused buffer per socket) or from `'data'` events.
 *
 * @module
 */

import type { Socket } from "node:net";

const EMPTY = new Uint8Array(0);

/**
 * The bytes a socket receives, as a pull-based web byte stream (`type: "bytes"`, no queue of
 * its own: `highWaterMark` 0).
 *
 * - A BYOB reader (the wire's frame reader) gets the bytes copied straight into its own buffer:
 *   no allocation per read.
 * - A default reader gets a copy of what arrived (or the fresh `'data'` buffer itself).
 * - Bytes that arrive while no read is pending are kept (one read's worth) and the socket is
 *   paused, so the kernel's receive window pushes back on the sender; the next pull delivers
 *   them and resumes the socket.
 *
 * Feed it with {@linkcode SocketReadable.receive} and end it with
 * {@linkcode SocketReadable.finish}. After a cancel, bytes are dropped and the socket keeps
 * reading so that it can still finish.
 *
 * @example Feed from `onread` (a client socket)
 * ```ts ignore
 * import { connect } from "node:net";
 * let source!: SocketReadable;
 * const socket = connect({
 *   port: 4000,
 *   onread: { buffer: new Uint8Array(65536), callback: (n, buf) => source.receive(buf.subarray(0, n), true) },
 * });
 * source = new SocketReadable(socket);
 * socket.on("end", () => source.finish());
 * ```
 */
export class SocketReadable {
  /** The stream handed to the consumer. */
  readonly readable: ReadableStream<Uint8Array>;
  #socket: Socket;
  #controller!: ReadableByteStreamController;
  /** Bytes received but not yet delivered. */
  #pending: Uint8Array = EMPTY;
  /** `#pending` is a view of a buffer the socket reads into again (copy before keeping). */
  #pendingReused = false;
  /** A default reader's read is waiting (it has no BYOB request to fill). */
  #wanted = false;
  /** The socket was paused because bytes are pending. */
  #paused = false;
  /** Closed, errored or cancelled: later bytes are dropped. */
  #done = false;
  /** The end came while bytes were pending: close once they are delivered. */
  #endPending = false;

  /** Wraps `socket` (used only to pause and resume it). */
  constructor(socket: Socket) {
    this.#socket = socket;
    this.readable = new ReadableStream({
      type: "bytes",
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => {
        this.#wanted = true;
        this.#flush();
        if (this.#pending.length === 0) {
          if (this.#endPending) this.#close();
          else if (this.#paused) {
            this.#paused = false;
            this.#socket.resume();
          }
        }
      },
      cancel: () => {
        this.#done = true;
        this.#pending = EMPTY;
        // Keep draining (and dropping) what arrives so the socket can still finish.
        this.#paused = false;
        this.#socket.resume();
      },
    }, { highWaterMark: 0 });
  }

  /**
   * Takes bytes the socket received. `reused` says the socket will read into `bytes`'s memory
   * again (Node's `onread` buffer): they are copied before being kept. Returns false when bytes
   * are left undelivered: the socket must pause (an `onread` callback returns it as is; a
   * `'data'` listener is paused here) until the consumer pulls them.
   */
  receive(bytes: Uint8Array, reused: boolean): boolean {
    if (this.#done || this.#endPending) return true;
    if (this.#pending.length > 0) {
      // Only reached from 'data' events that were already on their way: keep order.
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      this.#pending = joined;
      this.#pendingReused = false;
    } else {
      this.#pending = bytes;
      this.#pendingReused = reused;
    }
    this.#flush();
    if (this.#pending.length === 0) return true;
    if (this.#pendingReused) {
      if (!reused) {
        this.#pending = this.#pending.slice();
        this.#pendingReused = false;
      }
    }
    this.#paused = true;
    if (!reused) this.#socket.pause();
    return false;
  }

  /** Ends the stream: cleanly without `error` (after pending bytes are read), else with it. */
  finish(error?: unknown): void {
    if (this.#done) return;
    // The stream already ended cleanly (bytes still pending): a later error (e.g. our own write
    // hitting a reset after the peer's FIN) must not lose what the peer sent before its end.
    if (this.#endPending) return;
    if (error !== undefined) {
      this.#done = true;
      this.#pending = EMPTY;
      try {
        this.#controller.error(error);
      } catch {
        // already closed
      }
      return;
    }
    if (this.#pending.length > 0) {
      if (this.#pendingReused) {
        this.#pending = this.#pending.slice();
        this.#pendingReused = false;
      }
      this.#endPending = true;
      return;
    }
    this.#close();
  }

  #close(): void {
    this.#done = true;
    this.#endPending = false;
    try {
      this.#controller.close();
      // A pending BYOB read is settled (as done) only by giving its buffer back.
      this.#controller.byobRequest?.respond(0);
    } catch {
      // already closed or errored
    }
  }

  /** Delivers pending bytes to the reads that wait for them. */
  #flush(): void {
    const controller = this.#controller;
    while (this.#pending.length > 0) {
      const request = controller.byobRequest;
      const view = request?.view;
      if (request && view) {
        const into = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
        const pending = this.#pending;
        const n = Math.min(into.length, pending.length);
        into.set(n === pending.length ? pending : pending.subarray(0, n));
        this.#pending = n === pending.length ? EMPTY : pending.subarray(n);
        this.#wanted = false;
        request.respond(n);
      } else if (this.#wanted) {
        const pending = this.#pending;
        this.#pending = EMPTY;
        this.#wanted = false;
        controller.enqueue(this.#pendingReused || !ownsBuffer(pending) ? pending.slice() : pending);
      } else {
        return;
      }
    }
  }
}

/** True when `bytes` spans its whole buffer (so handing it over detaches nothing else). */
function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}
