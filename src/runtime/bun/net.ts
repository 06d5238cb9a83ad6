/**
 * TCP for Bun: {@linkcode bunNetwork} adapts `Bun.listen` / `Bun.connect` to the
 * runtime-neutral {@linkcode Network} contract.
 *
 * Backpressure, as Bun's socket API allows it:
 * - writing: `socket.write()` returns how many bytes the kernel took; the rest of the chunk
 *   waits for the socket's `drain` handler and is written then. A write resolves only once
 *   every byte of its chunk was taken, so nothing is buffered beyond the kernel's send buffer
 *   and the chunk is free for reuse when the promise resolves (no copy). A big write (64 KiB
 *   or more) resolves one event-loop turn later (`setImmediate`): Bun's write is synchronous,
 *   so a writer resolved at once would fill the whole send buffer before the loop ever ran the
 *   reading side; letting the loop turn keeps the receiver (on loopback often this same
 *   thread) reading the data while it is still in cache, measured ~1.5x faster for bulk
 *   frames. Small writes resolve at once (round trips unchanged).
 * - reading: incoming data goes into a `ReadableStream` with a 64 KiB byte high-water mark;
 *   when it is full the socket is paused (`socket.pause()`, which stops Bun reading from the
 *   kernel, so the TCP receive window pushes back on the sender) and resumed on the next pull.
 *   A `data` event already in flight is still queued, so the queue may exceed the mark by one
 *   receive (Bun reads up to ~128 KiB at a time).
 *
 * Sockets are opened with `allowHalfOpen`; closing `writable` calls `socket.shutdown()` (FIN)
 * while reading goes on.
 *
 * @module
 */

import { ConnectError, IoError } from "../../errors.ts";
import type { Connection, ConnectOptions, Listener, NetAddress, Network } from "../types.ts";

/** Bytes buffered on the reading side before the socket is paused. */
const READ_HIGH_WATER = 64 * 1024;
/** Writes of at least this many bytes resolve one event-loop turn after Bun took them. */
const YIELD_AFTER = 64 * 1024;

/** The slice of Bun's socket API this adapter uses. */
interface BunSocket {
  data: SocketState | undefined;
  write(data: Uint8Array): number;
  shutdown(halfClose?: boolean): void;
  end(): void;
  close(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(noDelay?: boolean): boolean;
  readonly localAddress?: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort?: number;
}

interface BunHandlers {
  open?(socket: BunSocket): void;
  data?(socket: BunSocket, data: Uint8Array): void;
  drain?(socket: BunSocket): void;
  end?(socket: BunSocket): void;
  close?(socket: BunSocket, error?: Error): void;
  error?(socket: BunSocket, error: Error): void;
}

interface BunServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunTcp {
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunHandlers;
  }): BunServer;
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunHandlers;
  }): Promise<BunSocket>;
}

function bun(): BunTcp {
  return (globalThis as unknown as { Bun: BunTcp }).Bun;
}

/** Resolves after the event loop ran once more (Bun's `setImmediate`). */
function nextTurn(): Promise<void> {
  const g = globalThis as unknown as { setImmediate(callback: () => void): unknown };
  return new Promise<void>((resolve) => g.setImmediate(resolve));
}

/** Per-socket state, kept in `socket.data` because Bun's handlers are shared. */
class SocketState {
  readonly socket: BunSocket;
  readonly conn: Connection;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #readDone = false;
  /** True while the socket is paused because the read queue is full. */
  #paused = false;
  #localClose = false;
  #isClosed = false;
  #failure: Error | null = null;
  #drain: ((err?: Error) => void) | null = null;
  #resolveClosed!: () => void;

  constructor(socket: BunSocket) {
    this.socket = socket;
    socket.setNoDelay?.(true);
    const closed = new Promise<void>((r) => (this.#resolveClosed = r));
    const readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: () => {
        if (this.#paused && !this.#readDone && !this.#isClosed) {
          this.#paused = false;
          socket.resume();
        }
      },
      cancel: () => {
        this.#readDone = true;
        // Keep reading (and dropping) so the peer's FIN can still arrive.
        this.#paused = false;
        if (!this.#isClosed) socket.resume();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER }));
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.#write(chunk),
      close: () => {
        if (!this.#isClosed) socket.shutdown();
      },
      abort: () => this.close(),
    }, { highWaterMark: 1 });
    const local = { hostname: socket.localAddress ?? "", port: socket.localPort };
    const remote = { hostname: socket.remoteAddress, port: socket.remotePort ?? 0 };
    this.conn = {
      readable,
      writable,
      localAddress: local,
      remoteAddress: remote,
      close: () => this.close(),
      closed,
    };
  }

  /** Writes `chunk`: synchronously when the kernel takes all of it, else after `drain`s. */
  #write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#isClosed) return Promise.reject(this.#failure ?? new IoError("connection is closed"));
    const n = this.socket.write(chunk);
    if (n < 0) return Promise.reject(this.#failure ?? new IoError("connection is closed"));
    if (n < chunk.length) return this.#writeRest(chunk, n);
    return chunk.length >= YIELD_AFTER ? nextTurn() : undefined;
  }

  /** Writes `chunk` from `off` on, waiting for `drain` before every further write. */
  async #writeRest(chunk: Uint8Array, off: number): Promise<void> {
    while (off < chunk.length) {
      await new Promise<void>((resolve, reject) => {
        this.#drain = (err) => (err ? reject(err) : resolve());
      });
      if (this.#isClosed) throw this.#failure ?? new IoError("connection is closed");
      const n = this.socket.write(chunk.subarray(off));
      if (n < 0) throw this.#failure ?? new IoError("connection is closed");
      off += n;
    }
  }

  onData(data: Uint8Array): void {
    if (this.#readDone) return;
    // A plain view (Bun hands a Buffer), so every adapter yields the same type.
    this.#readController.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if ((this.#readController.desiredSize ?? 0) <= 0 && !this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
  }

  onDrain(): void {
    const d = this.#drain;
    this.#drain = null;
    d?.();
  }

  onEnd(): void {
    this.#finishRead();
  }

  onError(error: Error): void {
    this.#failure ??= new IoError("connection failed", { cause: error });
  }

  onClose(error?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    if (error) this.onError(error);
    this.#finishRead(this.#localClose ? undefined : this.#failure ?? undefined);
    const d = this.#drain;
    this.#drain = null;
    d?.(this.#failure ?? new IoError("connection is closed"));
    this.#resolveClosed();
  }

  close(): void {
    if (this.#localClose || this.#isClosed) return;
    this.#localClose = true;
    try {
      this.socket.close();
    } catch {
      // already gone
    }
    // Bun calls the close handler synchronously today; do not depend on it.
    this.onClose();
  }

  #finishRead(err?: Error): void {
    if (this.#readDone) return;
    this.#readDone = true;
    try {
      if (err) this.#readController.error(err);
      else this.#readController.close();
    } catch {
      // cancelled or already finished
    }
  }
}

function handlers(onOpen?: (state: SocketState) => void): BunHandlers {
  return {
    open(socket) {
      socket.data = new SocketState(socket);
      onOpen?.(socket.data);
    },
    data(socket, data) {
      socket.data?.onData(data);
    },
    drain(socket) {
      socket.data?.onDrain();
    },
    end(socket) {
      socket.data?.onEnd();
    },
    error(socket, error) {
      socket.data?.onError(error);
    },
    close(socket, error) {
      socket.data?.onClose(error);
    },
  };
}

/**
 * Returns a {@linkcode Network} backed by Bun's native TCP sockets. Call it only under Bun.
 *
 * - `connect` rejects with {@linkcode ConnectError} (Bun's error as `cause`) when the peer
 *   refuses or is unreachable, and when `options.signal` aborts the attempt (a socket that
 *   connects after the abort is closed at once).
 * - `listen` rejects with {@linkcode IoError} when the address cannot be bound.
 * - `close()` closes the socket; a pending read then resolves as done.
 *
 * @example Echo server and client on loopback (under Bun)
 * ```ts ignore
 * import { bunNetwork } from "./net.ts";
 * const net = bunNetwork();
 * const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
 *   conn.readable.pipeTo(conn.writable).catch(() => {});
 * });
 * const conn = await net.connect(listener.address);
 * const writer = conn.writable.getWriter();
 * await writer.write(new TextEncoder().encode("hi"));
 * await writer.close();
 * const reply = await new Response(conn.readable).text(); // "hi"
 * await listener.close();
 * ```
 */
export function bunNetwork(): Network {
  return { listen, connect };
}

function listen(
  address: NetAddress,
  onConnection: (conn: Connection) => void,
): Promise<Listener> {
  let server: BunServer;
  try {
    server = bun().listen({
      hostname: address.hostname,
      port: address.port,
      allowHalfOpen: true,
      socket: handlers((state) => {
        try {
          onConnection(state.conn);
        } catch {
          // The callback's own failure is not the listener's business.
        }
      }),
    });
  } catch (cause) {
    return Promise.reject(
      new IoError(`cannot listen on ${address.hostname}:${address.port}`, { cause }),
    );
  }
  let stopped = false;
  return Promise.resolve({
    address: { hostname: server.hostname, port: server.port },
    close() {
      if (!stopped) {
        stopped = true;
        server.stop(false); // false: accepted connections stay open
      }
      return Promise.resolve();
    },
  });
}

async function connect(address: NetAddress, options?: ConnectOptions): Promise<Connection> {
  const signal = options?.signal;
  const where = `${address.hostname}:${address.port}`;
  const aborted = () => new ConnectError(`connect to ${where} aborted`, { cause: signal?.reason });
  if (signal?.aborted) throw aborted();
  const attempt = bun().connect({
    hostname: address.hostname,
    port: address.port,
    allowHalfOpen: true,
    socket: handlers(),
  });
  let onAbort: (() => void) | undefined;
  const abortion = new Promise<never>((_, reject) => {
    onAbort = () => reject(aborted());
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  let socket: BunSocket;
  try {
    socket = await (signal ? Promise.race([attempt, abortion]) : attempt);
  } catch (cause) {
    if (signal?.aborted) {
      attempt.then((s) => s.data?.close(), () => {});
      throw cause instanceof ConnectError ? cause : aborted();
    }
    throw new ConnectError(`connect to ${where} failed`, { cause });
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
  const state = socket.data;
  if (!state) {
    socket.close();
    throw new ConnectError(`connect to ${where} failed: socket opened without state`);
  }
  return state.conn;
}
