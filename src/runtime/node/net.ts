/**
 * TCP for Node: {@linkcode nodeNetwork} adapts `node:net` sockets to the runtime-neutral
 * {@linkcode Network} contract.
 *
 * Backpressure both ways:
 * - writing: a small write (under 64 KiB) is copied (Node may keep it queued after the
 *   promise resolved and the caller is free to reuse its buffer) and resolves when
 *   `socket.write()` returned true, otherwise on `'drain'`; a big write is handed over without
 *   a copy and resolves once Node flushed it to the kernel (a copy of each 512 KiB batch cost
 *   the peer protocol a third of its throughput);
 * - reading: a byte stream ({@linkcode SocketReadable}) with no queue of its own: bytes that
 *   arrive while no read waits pause the socket (so the kernel's receive window pushes back on
 *   the sender) until the next pull. A connecting socket reads into one reused buffer (Node's
 *   `onread`), copied straight into a BYOB reader's buffer (the wire's frame reader): no
 *   allocation and no garbage per read (a fresh 64 KiB buffer per read had doubled the
 *   fetching node's garbage-collection time). Node offers `onread` only to sockets it
 *   connects, so an accepted socket is read through `'data'` events (a fresh buffer per read):
 *   `onread` is an option of the `Socket` constructor only, and `net.Server` (Node 24.21,
 *   `onconnection` in `lib/net.js`) builds each accepted socket as `new Socket({ handle,
 *   allowHalfOpen, pauseOnCreate, readable, writable, readableHighWaterMark,
 *   writableHighWaterMark })`, with no server option that reaches `onread`. The only way in is to
 *   re-wrap the accepted socket's private `_handle` in a second `Socket` (undocumented, and two
 *   owners of one handle), which this adapter does not do. On a remote get the accepted side is
 *   usually the holder, which reads only small requests; a fetcher whose holder dialled it gets
 *   each fresh buffer copied once, straight into the block (the frame placement).
 *
 * Sockets use `allowHalfOpen`, so closing `writable` sends FIN while reading goes on.
 *
 * @module
 */

import { connect as netConnect, createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { ConnectError, IoError } from "../../errors.ts";
import type { Connection, ConnectOptions, Listener, NetAddress, Network } from "../types.ts";
import { SocketReadable } from "./socket_readable.ts";

/** Size of the reused buffer a connecting socket reads into (the most one read returns). */
const READ_BUFFER_SIZE = 64 * 1024;
/** Writes from this size on are handed to Node without a copy (resolved when flushed). */
const ZERO_COPY_WRITE = 64 * 1024;

/**
 * Returns a {@linkcode Network} backed by `node:net`.
 *
 * - `connect` rejects with {@linkcode ConnectError} (the socket error as `cause`) when the
 *   peer refuses or is unreachable, and when `options.signal` aborts the attempt.
 * - `listen` rejects with {@linkcode IoError} when the address cannot be bound.
 * - `close()` destroys the socket; a pending read then resolves as done.
 *
 * @example Echo server and client on loopback
 * ```ts
 * import { nodeNetwork } from "./net.ts";
 * const net = nodeNetwork();
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
export function nodeNetwork(): Network {
  return { listen, connect };
}

function listen(
  address: NetAddress,
  onConnection: (conn: Connection) => void,
): Promise<Listener> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    let conn: Connection;
    try {
      const source: SocketReadable = new SocketReadable(socket);
      socket.on("data", (bytes: Uint8Array) => void feed(socket, source, bytes, false));
      conn = wrapSocket(socket, source);
    } catch {
      socket.destroy();
      return;
    }
    try {
      onConnection(conn);
    } catch {
      // The callback's own failure is not the listener's business.
    }
  });
  return new Promise<Listener>((resolve, reject) => {
    const onError = (cause: unknown) => {
      reject(new IoError(`cannot listen on ${address.hostname}:${address.port}`, { cause }));
    };
    server.once("error", onError);
    server.listen({ host: address.hostname, port: address.port }, () => {
      server.off("error", onError);
      server.on("error", () => {/* accept errors after listening: keep serving */});
      const info = server.address() as AddressInfo;
      let closed = false;
      resolve({
        address: { hostname: info.address, port: info.port },
        close() {
          if (!closed) {
            closed = true;
            // Stops accepting now; server.close's callback would wait for every accepted
            // connection to end, which the contract does not ask for.
            server.close();
          }
          return Promise.resolve();
        },
      });
    });
  });
}

function connect(address: NetAddress, options?: ConnectOptions): Promise<Connection> {
  const signal = options?.signal;
  const where = `${address.hostname}:${address.port}`;
  return new Promise<Connection>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ConnectError(`connect to ${where} aborted`, { cause: signal.reason }));
      return;
    }
    const buffer = new Uint8Array(READ_BUFFER_SIZE);
    const socket: Socket = netConnect({
      host: address.hostname,
      port: address.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: {
        buffer,
        callback: (n: number, bytes: Uint8Array): boolean =>
          feed(socket, source, bytes.subarray(0, n), true),
      },
    });
    const source: SocketReadable = new SocketReadable(socket);
    const cleanup = () => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const onConnect = () => {
      cleanup();
      try {
        resolve(wrapSocket(socket, source));
      } catch (cause) {
        socket.destroy();
        reject(new ConnectError(`connect to ${where} failed`, { cause }));
      }
    };
    const onError = (cause: Error) => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(`connect to ${where} failed`, { cause }));
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(`connect to ${where} aborted`, { cause: signal?.reason }));
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Hands received bytes to `source` (see {@linkcode SocketReadable.receive}). A failure there
 * fails the connection rather than escaping into Node's read callback (an uncaught exception).
 */
function feed(
  socket: Socket,
  source: SocketReadable,
  bytes: Uint8Array,
  reused: boolean,
): boolean {
  try {
    return source.receive(bytes, reused);
  } catch (cause) {
    socket.destroy(new IoError("reading the connection failed", { cause }));
    return false;
  }
}

function wrapSocket(socket: Socket, source: SocketReadable): Connection {
  const localAddress = { hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 };
  const remoteAddress = { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
  let localClose = false;
  let failure: Error | null = null;
  const drainWaiters = new Set<(err?: Error) => void>();
  const flushWaiters = new Set<(err?: Error | null) => void>();
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));

  socket.on("error", (cause: Error) => {
    failure ??= new IoError("connection failed", { cause });
  });
  socket.on("close", () => {
    source.finish(localClose ? undefined : failure ?? undefined);
    const err = failure ?? new IoError("connection is closed");
    for (const w of drainWaiters) w(err);
    drainWaiters.clear();
    for (const w of [...flushWaiters]) w(err);
  });
  socket.on("end", () => source.finish());
  socket.on("drain", () => {
    for (const w of drainWaiters) w();
    drainWaiters.clear();
  });

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      return new Promise<void>((resolve, reject) => {
        if (socket.destroyed || !socket.writable) {
          reject(failure ?? new IoError("connection is closed"));
          return;
        }
        if (chunk.length >= ZERO_COPY_WRITE) {
          // Big writes are not copied: resolve once Node handed them to the kernel (the
          // caller may reuse the buffer then), or fail with the socket.
          const settle = (err?: Error | null) => {
            if (!flushWaiters.delete(settle)) return;
            if (err) reject(failure ?? new IoError("connection write failed", { cause: err }));
            else resolve();
          };
          flushWaiters.add(settle);
          socket.write(chunk, settle);
          return;
        }
        if (socket.write(chunk.slice())) {
          resolve();
          return;
        }
        drainWaiters.add((err) => (err ? reject(err) : resolve()));
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed || socket.writableEnded) {
          resolve();
          return;
        }
        socket.end(() => resolve());
        // 'finish' may never come if the socket dies first.
        socket.once("close", () => resolve());
      });
    },
    abort() {
      socket.destroy();
    },
  }, { highWaterMark: 1 });

  return {
    readable: source.readable,
    writable,
    localAddress,
    remoteAddress,
    close() {
      if (localClose) return;
      localClose = true;
      socket.destroy();
    },
    closed,
  };
}
