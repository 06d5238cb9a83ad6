/**
 * The Deno {@linkcode ProcessHost}.
 *
 * @module
 */

import type { ProcessHost } from "../types.ts";

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  let done = 0;
  while (done < bytes.length) done += await w.write(bytes.subarray(done));
}

/**
 * Describes the running Deno process. Reading the environment needs `--allow-env`.
 *
 * @example
 * ```ts
 * import { denoProcess } from "./process.ts";
 * const proc = denoProcess();
 * await proc.writeStdout(new TextEncoder().encode(`pid ${proc.pid}\n`));
 * ```
 */
export function denoProcess(): ProcessHost {
  return {
    args: Deno.args,
    env: (name) => Deno.env.get(name),
    homeDir: () => Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE"),
    get stdin() {
      return Deno.stdin.readable;
    },
    writeStdout: (bytes) => writeAll(Deno.stdout, bytes),
    writeStderr: (bytes) => writeAll(Deno.stderr, bytes),
    isTerminal: (stream) =>
      (stream === "stdin" ? Deno.stdin : stream === "stdout" ? Deno.stdout : Deno.stderr)
        .isTerminal(),
    onSignal(signal, handler) {
      Deno.addSignalListener(signal, handler);
      return () => Deno.removeSignalListener(signal, handler);
    },
    exit: (code) => Deno.exit(code),
    pid: Deno.pid,
    isProcessAlive(pid) {
      if (!Number.isInteger(pid) || pid <= 0) return false;
      try {
        // Signal 0: existence and permission check only, nothing is delivered.
        Deno.kill(pid, 0 as unknown as Deno.Signal);
        return true;
      } catch (err) {
        return !(err instanceof Deno.errors.NotFound);
      }
    },
    memoryRss: () => Deno.memoryUsage().rss,
  };
}
