/**
 * A Node `Readable` as a pull-based web `ReadableStream` (used for stdin and for HTTP request
 * bodies; Bun shares it through the Node adapters).
 *
 * @module
 */

import type { Readable } from "node:stream";

/** Options of {@linkcode toWebStream}. */
export interface ToWebStreamOptions {
  /** What a cancel does: "pause" stops reading; "discard" keeps reading and drops the rest. */
  readonly onCancel: "pause" | "discard";
  /** Turns the source's `error` event into what the stream errors with. Default: as is. */
  readonly mapError?: (err: Error) => unknown;
  /** Called once at start with `fail`, to add other ways the stream can fail. */
  readonly watch?: (fail: (reason: unknown) => void) => void;
}

/**
 * A pull-based web stream over a Node readable: the source is paused while the web queue is
 * full and resumed on the next pull. Strings are encoded as UTF-8. After the end, an error or a
 * cancel, late events are ignored.
 *
 * @example
 * ```ts ignore
 * import process from "node:process";
 * const stdin = toWebStream(process.stdin, { onCancel: "pause" });
 * ```
 */
export function toWebStream(
  source: Readable,
  options: ToWebStreamOptions,
): ReadableStream<Uint8Array> {
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
      source.on(
        "error",
        (err) => finish(() => controller.error(options.mapError ? options.mapError(err) : err)),
      );
      options.watch?.((reason) => finish(() => controller.error(reason)));
      source.pause();
    },
    pull() {
      source.resume();
    },
    cancel() {
      finished = true;
      if (options.onCancel === "pause") source.pause();
      else source.resume();
    },
  }, { highWaterMark: 4 });
}
