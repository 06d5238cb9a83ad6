/**
 * The Bun {@linkcode HttpServe}: `Bun.serve`, which speaks web `Request`/`Response` natively.
 *
 * @module
 */

import { IoError } from "../../errors.ts";
import type { FetchHandler, HttpServer, NetAddress } from "../types.ts";

/** The slice of Bun's API used here, declared locally so `deno check` needs no Bun types. */
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    maxRequestBodySize?: number;
    idleTimeout?: number;
    fetch: (request: Request) => Response | Promise<Response>;
    error?: (err: Error) => Response | Promise<Response>;
  }): {
    readonly hostname: string;
    readonly port: number;
    stop(closeActiveConnections?: boolean): Promise<void> | void;
  };
};

/**
 * Serves `handler` over HTTP/1.1 on `address` with `Bun.serve`. Port 0 binds any free port;
 * the returned server reports the real one. A handler that throws yields a 500.
 *
 * @example
 * ```ts ignore
 * import { bunServe } from "./http.ts";
 * const server = await bunServe({ hostname: "127.0.0.1", port: 0 }, () => new Response("hi"));
 * await server.close();
 * ```
 */
export function bunServe(address: NetAddress, handler: FetchHandler): Promise<HttpServer> {
  try {
    const server = Bun.serve({
      hostname: address.hostname,
      port: address.port,
      // Bun rejects bodies over 128 MiB by default; dfs streams files of any size.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // Seconds a connection may stay silent (Bun's default 10 s cuts slow remote fetches).
      idleTimeout: 120,
      fetch: (request) => handler(request),
      // The handler's own errors are its caller's to log (the CLI wraps it): quiet here.
      error: () => {
        return new Response("internal error", { status: 500 });
      },
    });
    let closing: Promise<void> | undefined;
    return Promise.resolve({
      address: { hostname: address.hostname, port: server.port },
      close: () => closing ??= Promise.resolve(server.stop()).then(() => {}),
    });
  } catch (err) {
    return Promise.reject(
      new IoError(`serve ${address.hostname}:${address.port}: ${String(err)}`, { cause: err }),
    );
  }
}
