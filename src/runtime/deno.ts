/**
 * The Deno runtime: files, TCP, HTTP serve and the process, as one {@linkcode Runtime}.
 *
 * @module
 */

import { denoFileSystem } from "./deno/fs.ts";
import { denoServe } from "./deno/http.ts";
import { denoNetwork } from "./deno/net.ts";
import { denoProcess } from "./deno/process.ts";
import { nodeChaCha20Poly1305 } from "./node/aead.ts";
import type { Runtime } from "./types.ts";

/**
 * Builds the Deno {@linkcode Runtime}. Needs `--allow-read --allow-write --allow-net` (and
 * `--allow-env` for the environment), or simply `-A`.
 *
 * @example
 * ```ts
 * import { denoRuntime } from "./deno.ts";
 * const rt = denoRuntime();
 * console.log(rt.name); // "deno"
 * ```
 */
export function denoRuntime(): Runtime {
  return {
    name: "deno",
    fs: denoFileSystem(),
    net: denoNetwork(),
    serve: denoServe,
    process: denoProcess(),
    // Deno's node:crypto ChaCha20-Poly1305 is ~4x its Web Crypto AES-GCM (bench/RESULTS.md,
    // "Noise AEAD"); AES-GCM stays on Web Crypto (cost 4): its node:crypto one is slower.
    aeads: { ChaChaPoly: { factory: nodeChaCha20Poly1305, cost: 1 } },
  };
}
