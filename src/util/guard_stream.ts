/**
 * A pass-through stream that ties a response body to the request's lifetime.
 *
 * @module
 */

/**
 * Wraps `source` in a pull-based stream (so backpressure is kept: one chunk is read from
 * `source` per chunk the consumer asks for). Cancelling the returned stream cancels `source`;
 * when `signal` aborts (the client went away), `source` is cancelled and the returned stream
 * errors, so a download that stops half way is never mistaken for a complete one.
 *
 * @example
 * ```ts
 * import { guardStream } from "./guard_stream.ts";
 * const ac = new AbortController();
 * const body = guardStream(new Blob(["hello"]).stream(), ac.signal);
 * console.log(await new Response(body).text()); // "hello"
 * ```
 */
export function guardStream(
  source: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let finished = false;
  let onAbort: (() => void) | undefined;
  const cleanup = () => {
    finished = true;
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (!signal) return;
      onAbort = () => {
        if (finished) return;
        cleanup();
        reader.cancel(signal.reason).catch(() => {});
        controller.error(signal.reason);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      if (finished) return;
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (!finished) {
          cleanup();
          controller.error(err);
        }
        return;
      }
      if (finished) return;
      if (chunk.done) {
        cleanup();
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel(reason) {
      if (finished) return;
      cleanup();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
