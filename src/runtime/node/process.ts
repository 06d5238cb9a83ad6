/**
 * The Node {@linkcode ProcessHost}, on `node:process` and `node:os`. Bun implements both, so
 * the Bun adapter uses this one too.
 *
 * @module
 */

import process from "node:process";
import { homedir } from "node:os";
import type { Readable, Writable } from "node:stream";
import type { ProcessHost } from "../types.ts";

/**
 * A pull-based web stream over a Node readable: paused while the web queue is full. Late
 * events after the end, an error or a cancel are ignored.
 */
function toWebStream(source: Readable): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const finish = (end: () => void) => {
        if (finished) return;
        finished = true;
        end();
      };
      source.on("data", (chunk: Uint8Array | string) => {
        if (finished) return;
        const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
        controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      });
      source.on("end", () => finish(() => controller.close()));
      source.on("error", (err) => finish(() => controller.error(err)));
      source.pause();
    },
    pull() {
      source.resume();
    },
    cancel() {
      finished = true;
      source.pause();
    },
  }, { highWaterMark: 4 });
}

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
      return stdin ??= toWebStream(process.stdin);
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
    memoryRss: () => process.memoryUsage.rss(),
  };
}
