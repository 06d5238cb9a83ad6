/**
 * The in-memory runtime for tests and simulations: a {@linkcode MemoryFileSystem}, a
 * {@linkcode MemoryNetwork} and in-process HTTP ({@linkcode MemoryHttp}), with no process.
 *
 * @module
 */

import { MemoryFileSystem } from "./memory/fs.ts";
import { MemoryHttp } from "./memory/http.ts";
import { MemoryNetwork } from "./memory/net.ts";
import type { Runtime } from "./types.ts";

/** Options for {@linkcode memoryRuntime}. Pass shared parts to put several nodes together. */
export interface MemoryRuntimeOptions {
  /** The network to join (default: a new, private one). */
  readonly network?: MemoryNetwork;
  /** The disk to use, e.g. the one of a node being "restarted" (default: a new, empty one). */
  readonly fs?: MemoryFileSystem;
  /**
   * The HTTP address space (default: the one shared by every runtime on the same `network`,
   * so a runtime can fetch from a server another runtime serves).
   */
  readonly http?: MemoryHttp;
}

/** A {@linkcode Runtime} whose parts are the in-memory ones, exposed with their test controls. */
export interface MemoryRuntime extends Runtime {
  /** Always `"memory"`. */
  readonly name: "memory";
  /** The in-memory disk. */
  readonly fs: MemoryFileSystem;
  /** The in-memory network. */
  readonly net: MemoryNetwork;
  /** The HTTP address space `serve` binds into; use its `fetch` to reach served handlers. */
  readonly http: MemoryHttp;
}

const httpByNetwork = new WeakMap<MemoryNetwork, MemoryHttp>();

/**
 * Builds an in-memory runtime. `serve` does not open sockets: it binds the handler in
 * `runtime.http`, and `runtime.http.fetch(url)` delivers requests to it.
 *
 * @example Two nodes on one network
 * ```ts
 * import { memoryRuntime } from "./memory.ts";
 * import { MemoryNetwork } from "./memory/net.ts";
 * const network = new MemoryNetwork();
 * const a = memoryRuntime({ network });
 * const b = memoryRuntime({ network });
 * const server = await a.serve({ hostname: "127.0.0.1", port: 8080 }, () => new Response("a"));
 * console.log(await (await b.http.fetch("http://127.0.0.1:8080/")).text()); // "a"
 * await server.close();
 * ```
 */
export function memoryRuntime(options: MemoryRuntimeOptions = {}): MemoryRuntime {
  const net = options.network ?? new MemoryNetwork();
  let http = options.http ?? httpByNetwork.get(net);
  if (http === undefined) {
    http = new MemoryHttp();
    httpByNetwork.set(net, http);
  }
  return {
    name: "memory",
    fs: options.fs ?? new MemoryFileSystem(),
    net,
    http,
    serve: http.serve,
  };
}
