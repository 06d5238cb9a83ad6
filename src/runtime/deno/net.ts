/**
 * TCP for Deno: {@linkcode denoNetwork} adapts `Deno.listen` / `Deno.connect` to the
 * runtime-neutral {@linkcode Network} contract.
 *
 * Reads are pull-based (the socket is read only when the consumer asks for bytes, so the
 * kernel's receive window slows a fast sender), and a write resolves only once every byte of
 * the chunk was handed to the kernel.
 *
 * @module
 */

import { ConnectError, IoError } from "../../errors.ts";
import type { Connection, ConnectOptions, Listener, NetAddress, Network } from "../types.ts";

/** Bytes asked from the socket per read. */
const READ_SIZE = 256 * 1024;

/**
 * Returns a {@linkcode Network} backed by Deno's TCP sockets.
 *
 * - `connect` rejects with {@linkcode ConnectError} (the OS error as `cause`) when the peer
 *   refuses or is unreachable, and when `options.signal` aborts the attempt.
 * - Closing a connection's `writable` sends FIN; the peer's `readable` then ends.
 * - `close()` ends both directions at once; a pending read then resolves as done.
 *
 * @example Echo server and client on loopback
 * ```ts
 * import { denoNetwork } from "./net.ts";
 * const net = denoNetwork();
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
export function denoNetwork(): Network {
  return {
    async listen(address, onConnection) {
      let raw: Deno.TcpListener;
      try {
        raw = Deno.listen({ hostname: address.hostname, port: address.port, transport: "tcp" });
      } catch (cause) {
        throw new IoError(`cannot listen on ${address.hostname}:${address.port}`, { cause });
      }
      return await Promise.resolve(acceptLoop(raw, onConnection));
    },
    async connect(address, options?: ConnectOptions) {
      const signal = options?.signal;
      const where = `${address.hostname}:${address.port}`;
      if (signal?.aborted) {
        throw new ConnectError(`connect to ${where} aborted`, { cause: signal.reason });
      }
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({
          hostname: address.hostname,
          port: address.port,
          transport: "tcp",
          signal,
        });
      } catch (cause) {
        const what = signal?.aborted ? "aborted" : "failed";
        throw new ConnectError(`connect to ${where} ${what}`, { cause });
      }
      if (signal?.aborted) {
        conn.close();
        throw new ConnectError(`connect to ${where} aborted`, { cause: signal.reason });
      }
      conn.setNoDelay(true);
      return wrapConn(conn);
    },
  };
}

function acceptLoop(
  raw: Deno.TcpListener,
  onConnection: (conn: Connection) => void,
): Listener {
  let closed = false;
  const loop = (async () => {
    while (!closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await raw.accept();
      } catch {
        if (closed) return;
        // Transient accept failures (e.g. EMFILE) must not kill the listener; back off a bit.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      conn.setNoDelay(true);
      try {
        onConnection(wrapConn(conn));
      } catch {
        // The callback's own failure is not the listener's business.
      }
    }
  })();
  return {
    address: toAddress(raw.addr),
    async close() {
      if (closed) return;
      closed = true;
      try {
        raw.close();
      } catch {
        // already closed
      }
      await loop;
    },
  };
}

function toAddress(addr: Deno.Addr): NetAddress {
  const a = addr as Deno.NetAddr;
  return { hostname: a.hostname, port: a.port };
}

function wrapConn(conn: Deno.TcpConn): Connection {
  let readDone = false;
  let writeDone = false;
  let released = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const release = () => {
    if (released) return;
    released = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
    resolveClosed();
  };
  const maybeRelease = () => {
    if (readDone && writeDone) release();
  };

  let scratch = new Uint8Array(READ_SIZE);
  // A byte stream: a BYOB reader (the wire's frame reader) has the socket read straight into
  // its own buffer; a default reader gets chunks read into our scratch buffer.
  const readable = new ReadableStream({
    type: "bytes",
    async pull(controller) {
      const request = controller.byobRequest;
      const into = request?.view
        ? new Uint8Array(request.view.buffer, request.view.byteOffset, request.view.byteLength)
        : scratch;
      let n: number | null;
      try {
        n = await conn.read(into);
      } catch (cause) {
        readDone = true;
        if (released) {
          controller.close();
          request?.respond(0);
        } else {
          controller.error(new IoError("connection read failed", { cause }));
          release();
        }
        return;
      }
      if (n === null) {
        readDone = true;
        controller.close();
        request?.respond(0);
        maybeRelease();
        return;
      }
      if (request?.view) {
        request.respond(n);
      } else if (n >= READ_SIZE / 4) {
        // A big read: hand the buffer itself over (no copy) and read into a fresh one next.
        controller.enqueue(scratch.subarray(0, n));
        scratch = new Uint8Array(READ_SIZE);
      } else if (n > 0) {
        controller.enqueue(scratch.slice(0, n));
      }
    },
    cancel() {
      readDone = true;
      maybeRelease();
    },
  }, { highWaterMark: 0 });

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (released) throw new IoError("connection is closed");
      try {
        let off = 0;
        while (off < chunk.length) off += await conn.write(chunk.subarray(off));
      } catch (cause) {
        writeDone = true;
        throw new IoError("connection write failed", { cause });
      }
    },
    async close() {
      writeDone = true;
      if (!released) {
        try {
          await conn.closeWrite();
        } catch {
          // the socket is gone already; nothing left to flush
        }
      }
      maybeRelease();
    },
    abort() {
      writeDone = true;
      release();
    },
  }, { highWaterMark: 1 });

  return {
    readable,
    writable,
    localAddress: toAddress(conn.localAddr),
    remoteAddress: toAddress(conn.remoteAddr),
    close() {
      readDone = true;
      writeDone = true;
      release();
    },
    closed,
  };
}
