/**
 * The Node runtime: files, TCP, HTTP serve and the process, as one {@linkcode Runtime}.
 *
 * @module
 */

import { nodeFileSystem } from "./node/fs.ts";
import { nodeServe } from "./node/http.ts";
import { nodeNetwork } from "./node/net.ts";
import { nodeProcess } from "./node/process.ts";
import { nodeAesGcm, nodeChaCha20Poly1305 } from "./node/aead.ts";
import type { Runtime } from "./types.ts";

/**
 * Builds the Node {@linkcode Runtime} (Node 24 or later).
 *
 * @example
 * ```ts ignore
 * import { nodeRuntime } from "./node.ts";
 * console.log(nodeRuntime().name); // "node"
 * ```
 */
export function nodeRuntime(): Runtime {
  return {
    name: "node",
    fs: nodeFileSystem(),
    net: nodeNetwork(),
    serve: nodeServe,
    process: nodeProcess(),
    // node:crypto AES-GCM is 2-2.5x Web Crypto's here, ChaCha20-Poly1305 about as fast
    // (bench/RESULTS.md, "Noise AEAD"): equal costs, so a Node-Node pair keeps AES-GCM.
    aeads: {
      AESGCM: { factory: nodeAesGcm, cost: 1 },
      ChaChaPoly: { factory: nodeChaCha20Poly1305, cost: 1 },
    },
  };
}
