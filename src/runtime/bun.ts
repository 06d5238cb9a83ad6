/**
 * The Bun runtime: files, TCP, HTTP serve and the process, as one {@linkcode Runtime}.
 *
 * Files and the process go through the Node adapters: Bun implements `node:fs` and
 * `node:process` natively, and its own `Bun.file` API has no fsync and no rename.
 *
 * @module
 */

import { bunServe } from "./bun/http.ts";
import { bunNetwork } from "./bun/net.ts";
import { bunProcess } from "./bun/process.ts";
import { nodeFileSystem } from "./node/fs.ts";
import { nodeAesGcm } from "./node/aead.ts";
import type { Runtime } from "./types.ts";

/**
 * Builds the Bun {@linkcode Runtime}.
 *
 * @example
 * ```ts ignore
 * import { bunRuntime } from "./bun.ts";
 * console.log(bunRuntime().name); // "bun"
 * ```
 */
export function bunRuntime(): Runtime {
  return {
    name: "bun",
    fs: nodeFileSystem(),
    net: bunNetwork(),
    serve: bunServe,
    process: bunProcess(),
    // node:crypto AES-GCM is 2-2.5x Web Crypto's here (bench/RESULTS.md, "Noise AEAD"); Bun
    // has no ChaCha20-Poly1305.
    aeads: { AESGCM: { factory: nodeAesGcm, cost: 1 } },
  };
}
