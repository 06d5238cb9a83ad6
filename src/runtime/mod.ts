/**
 * The runtime layer: the {@linkcode Runtime} contract, runtime detection and the in-memory
 * runtime. The per-runtime composers live in `deno.ts`, `bun.ts` and `node.ts`; import one
 * directly, or let {@linkcode detectRuntime} load the right one.
 *
 * @example
 * ```ts
 * import { detectRuntime, memoryRuntime } from "./mod.ts";
 * const rt = await detectRuntime(); // the host's adapters
 * const test = memoryRuntime(); // in-memory disk, network and HTTP
 * console.log(rt.name, test.name);
 * ```
 *
 * @module
 */

export type {
  Connection,
  ConnectOptions,
  FetchHandler,
  FileInfo,
  FileSystem,
  HttpServe,
  HttpServer,
  Listener,
  NetAddress,
  Network,
  ProcessHost,
  ReadStreamOptions,
  Runtime,
  RuntimeName,
  WritableFile,
} from "./types.ts";
export { detectRuntime, detectRuntimeName } from "./detect.ts";
export { memoryRuntime } from "./memory.ts";
export type { MemoryRuntime, MemoryRuntimeOptions } from "./memory.ts";
export { MemoryFileSystem } from "./memory/fs.ts";
export { MemoryHttp } from "./memory/http.ts";
export { MemoryNetwork } from "./memory/net.ts";
export type { MemoryConnectionInfo, MemoryNetworkOptions } from "./memory/net.ts";
