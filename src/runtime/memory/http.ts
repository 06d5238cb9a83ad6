/**
 * In-process HTTP for the memory runtime: {@linkcode MemoryHttp} "serves" a fetch handler on
 * a virtual address and routes {@linkcode MemoryHttp.fetch} calls to it, with no sockets.
 *
 * @module
 */

import { ConnectError, IoError } from "../../errors.ts";
import { guardStream } from "../../util/guard_stream.ts";
import type { FetchHandler, HttpServe, HttpServer, NetAddress } from "../types.ts";

const FIRST_EPHEMERAL = 49152;

function key(hostname: string, port: number): string {
  return `${hostname.toLowerCase().replace(/^\[|\]$/g, "")}:${port}`;
}

/**
 * A virtual HTTP address space. `serve` binds a handler to `hostname:port` (port 0 picks a
 * free one); `fetch` delivers a web `Request` to the handler bound to the URL's host and port,
 * as a real HTTP hop would: a throwing handler yields a 500, a HEAD response has no body, and
 * an address nobody serves rejects with {@linkcode ConnectError}.
 *
 * @example
 * ```ts
 * import { MemoryHttp } from "./http.ts";
 * const http = new MemoryHttp();
 * const server = await http.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response("hi"));
 * const res = await http.fetch(`http://127.0.0.1:${server.address.port}/`);
 * console.log(await res.text()); // "hi"
 * await server.close();
 * ```
 */
export class MemoryHttp {
  readonly #servers = new Map<string, FetchHandler>();
  #nextPort = FIRST_EPHEMERAL;

  /** Binds `handler` to `address`; rejects with IoError when the address is taken. */
  serve: HttpServe = (address: NetAddress, handler: FetchHandler): Promise<HttpServer> => {
    let port = address.port;
    if (port === 0) {
      while (this.#servers.has(key(address.hostname, this.#nextPort))) this.#nextPort++;
      port = this.#nextPort++;
    }
    const k = key(address.hostname, port);
    if (this.#servers.has(k)) {
      return Promise.reject(new IoError(`serve ${k}: address already in use`));
    }
    this.#servers.set(k, handler);
    return Promise.resolve({
      address: { hostname: address.hostname, port },
      close: () => {
        if (this.#servers.get(k) === handler) this.#servers.delete(k);
        return Promise.resolve();
      },
    });
  };

  /**
   * Sends a request to the handler serving the URL's host and port. Aborting the request's
   * signal behaves like a dropped connection: a pending `fetch` rejects, and both bodies
   * (the handler's request body and the caller's response body) error or are cancelled.
   */
  async fetch(input: Request | URL | string, init?: RequestInit): Promise<Response> {
    const outer = new Request(input, init);
    const url = new URL(outer.url);
    const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
    const handler = this.#servers.get(key(url.hostname, port));
    if (handler === undefined) {
      throw new ConnectError(`fetch ${url.host}: nothing is serving there`);
    }
    const signal = outer.signal;
    signal.throwIfAborted();
    const request = new Request(outer.url, {
      method: outer.method,
      headers: outer.headers,
      body: outer.body === null ? null : guardStream(outer.body, signal),
      signal,
      ...(outer.body === null ? {} : { duplex: "half" }),
    } as RequestInit);
    const handled = (async () => {
      try {
        return await handler(request);
      } catch {
        // The handler's own errors are its caller's to log (the CLI wraps it): quiet here.
        return new Response("internal error", { status: 500 });
      }
    })();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    let response: Response;
    try {
      response = await Promise.race([handled, aborted]);
    } catch (err) {
      // The client left first: whatever the handler answers later is dropped.
      handled.then((late) => late.body?.cancel(), () => {});
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    const body = request.method === "HEAD" || response.body === null ? null : response.body;
    if (body === null) await response.body?.cancel();
    return new Response(body === null ? null : guardStream(body, signal), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
}
