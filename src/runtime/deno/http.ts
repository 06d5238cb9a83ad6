/**
 * The Deno {@linkcode HttpServe}: `Deno.serve`, quiet on listen.
 *
 * @module
 */

import { IoError } from "../../errors.ts";
import type { FetchHandler, HttpServer, NetAddress } from "../types.ts";

/**
 * Serves `handler` over HTTP/1.1 on `address` with `Deno.serve`. Port 0 binds any free port;
 * the returned server reports the real one. A handler that throws yields a 500. When the client
 * goes away mid-response, the response body stream is cancelled. Note that Deno's
 * `request.signal` also aborts after a *successful* response (Deno's "legacy abort", until
 * `--unstable-no-legacy-abort` becomes the default), so portable handlers should detect a
 * vanished client through their body's `cancel`, not through `request.signal`.
 *
 * @example
 * ```ts
 * import { denoServe } from "./http.ts";
 * const server = await denoServe({ hostname: "127.0.0.1", port: 0 }, () => new Response("hi"));
 * const res = await fetch(`http://127.0.0.1:${server.address.port}/`);
 * console.log(await res.text()); // "hi"
 * await server.close();
 * ```
 */
export function denoServe(address: NetAddress, handler: FetchHandler): Promise<HttpServer> {
  return new Promise<HttpServer>((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: address.hostname,
        port: address.port,
        onListen: (addr) => {
          let closing: Promise<void> | undefined;
          resolve({
            address: { hostname: addr.hostname, port: addr.port },
            close: () => closing ??= server.shutdown(),
          });
        },
        // The handler's own errors are its caller's to log (the CLI wraps it): quiet here.
        onError: () => {
          return new Response("internal error", { status: 500 });
        },
      }, (request) => handler(request));
    } catch (err) {
      reject(
        new IoError(`serve ${address.hostname}:${address.port}: ${String(err)}`, { cause: err }),
      );
    }
  });
}
