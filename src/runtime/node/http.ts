/**
 * The Node {@linkcode HttpServe}, on `node:http`: each `IncomingMessage` becomes a web `Request`
 * with a streaming body, and the handler's `Response` is streamed back with backpressure.
 *
 * @module
 */

import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { IoError } from "../../errors.ts";
import type { FetchHandler, HttpServer, NetAddress } from "../types.ts";
import { toWebStream } from "./web_stream.ts";

/** How long `close` lets in-flight responses finish before cutting their connections. */
const CLOSE_GRACE_MS = 1000;

/**
 * The request body as a pull-based web stream: the socket is paused whenever the stream's
 * queue is full and resumed on the next pull. After the stream ends, errors or is cancelled,
 * late socket events are ignored.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  return toWebStream(req, {
    // Discard the rest rather than killing the socket, so the handler can still answer
    // (e.g. 413 Payload Too Large).
    onCancel: "discard",
    mapError: (err) => new IoError(err.message, { cause: err }),
    watch: (fail) =>
      req.on("close", () => {
        if (!req.complete) fail(new IoError("the client closed the request body early"));
      }),
  });
}

function toRequest(req: IncomingMessage, local: NetAddress, signal: AbortSignal): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const host = headers.get("host") ?? `${local.hostname}:${local.port}`;
  const url = new URL(req.url ?? "/", `http://${host}`);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    signal,
    body: hasBody ? bodyStream(req) : null,
    // `duplex` is required for a streaming body but not yet in every RequestInit type.
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** Writes one chunk, waiting for `drain` when the socket buffer is full. */
function writeChunk(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Streams `response` to `res`. When the client goes away (`gone` aborts), the body is cancelled
 * at once, even if the handler's stream is stalled, so its producer can release resources.
 */
async function sendResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
  gone: AbortSignal,
): Promise<void> {
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  res.writeHead(response.status, response.statusText || undefined);
  if (req.method === "HEAD" || response.body === null) {
    await response.body?.cancel();
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel(gone.reason).catch(() => {});
  if (gone.aborted) return cancel();
  gone.addEventListener("abort", cancel, { once: true });
  try {
    while (!gone.aborted) {
      const { done, value } = await reader.read();
      if (done) {
        res.end();
        return;
      }
      await writeChunk(res, value);
    }
  } finally {
    gone.removeEventListener("abort", cancel);
  }
}

/**
 * Serves `handler` over HTTP/1.1 on `address` with `node:http`. Port 0 binds any free port; the
 * returned server reports the real one. A handler that throws yields a 500. The request's
 * `signal` aborts when the client goes away before the response is finished.
 *
 * @example
 * ```ts ignore
 * import { nodeServe } from "./http.ts";
 * const server = await nodeServe({ hostname: "127.0.0.1", port: 0 }, () => new Response("hi"));
 * console.log(server.address.port);
 * await server.close();
 * ```
 */
export function nodeServe(address: NetAddress, handler: FetchHandler): Promise<HttpServer> {
  let local: NetAddress = address;
  // No whole-request deadline (Node's default is 5 minutes): large uploads stream for as
  // long as they need; the header deadline still guards against stalled clients.
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort(new IoError("client closed the connection"));
    });
    (async () => {
      let response: Response;
      try {
        response = await handler(toRequest(req, local, abort.signal));
      } catch {
        // The handler's own errors are its caller's to log (the CLI wraps it): quiet here.
        response = new Response("internal error", { status: 500 });
      }
      await sendResponse(req, res, response, abort.signal);
    })().catch((err) => {
      if (!res.headersSent) res.writeHead(500);
      res.destroy(err instanceof Error ? err : undefined);
    });
  });
  return new Promise<HttpServer>((resolve, reject) => {
    const onError = (err: Error) => {
      reject(
        new IoError(`serve ${address.hostname}:${address.port}: ${err.message}`, { cause: err }),
      );
    };
    server.once("error", onError);
    server.listen({ host: address.hostname, port: address.port }, () => {
      server.off("error", onError);
      const bound = server.address() as AddressInfo;
      local = { hostname: bound.address, port: bound.port };
      let closing: Promise<void> | undefined;
      resolve({
        address: local,
        close: () =>
          closing ??= new Promise<void>((done) => {
            // Graceful like Deno's shutdown, but bounded: after a grace period, cut whatever
            // is still open so a stalled client cannot keep the server alive.
            const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
