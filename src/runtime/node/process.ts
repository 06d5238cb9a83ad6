/**
 * The Node {@linkcode ProcessHost}, on `node:process` and `node:os`. Bun implements both, so
 * the Bun adapter uses this one too.
 *
 * @module
 */

import process from "node:process";
import { homedir } from "node:os";
import type { Writable } from "node:stream";
import type { ProcessHost } from "../types.ts";
import { toWebStream } from "./web_stream.ts";

function write(stream: Writable, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Describes the running Node (or Bun) process. `stdin` is created on first access, so a
 * program that never reads it does not keep the process alive.
 *
 * @example
 * ```ts ignore
 * import { nodeProcess } from "./process.ts";
 * const proc = nodeProcess();
 * await proc.writeStdout(new TextEncoder().encode(`pid ${proc.pid}\n`));
 * ```
 */
export function nodeProcess(): ProcessHost {
  let stdin: ReadableStream<Uint8Array> | undefined;
  return {
    args: process.argv.slice(2),
    env: (name) => process.env[name],
    homeDir: () => {
      try {
        return homedir() || undefined;
      } catch {
        return undefined;
      }
    },
    get stdin() {
      return stdin ??= toWebStream(process.stdin, { onCancel: "pause" });
    },
    writeStdout: (bytes) => write(process.stdout, bytes),
    writeStderr: (bytes) => write(process.stderr, bytes),
    isTerminal: (stream) => process[stream].isTTY === true,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => {
        process.off(signal, handler);
      };
    },
    exit: (code) => process.exit(code),
    pid: process.pid,
    isProcessAlive(pid) {
      if (!Number.isInteger(pid) || pid <= 0) return false;
      try {
        // Signal 0: existence and permission check only, nothing is delivered.
        process.kill(pid, 0);
        return true;
      } catch (err) {
        return (err as { code?: string }).code !== "ESRCH";
      }
    },
    memoryRss: () => process.memoryUsage.rss(),
  };
}
