/**
 * Stream helpers for the wire tests.
 *
 * @module
 */

import { concatBytes } from "../../src/util/concat.ts";

/** Concatenates byte arrays. */
export const concat: (parts: readonly Uint8Array[]) => Uint8Array = concatBytes;

/** A stream that yields `chunks` (as given) then closes. */
export function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

/** Cuts `bytes` at the given sorted offsets. */
export function cutAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const o of offsets) {
    out.push(bytes.subarray(prev, o));
    prev = o;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** A byte stream (BYOB-capable) that hands out `chunks`, each at most as big as the read asks. */
export function byteStreamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  const queue = chunks.map((c) => c.slice());
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest;
      while (queue.length > 0 && queue[0].length === 0) queue.shift();
      if (queue.length === 0) {
        controller.close();
        request?.respond(0);
        return;
      }
      const head = queue[0];
      if (request?.view) {
        const view = new Uint8Array(
          request.view.buffer,
          request.view.byteOffset,
          request.view.byteLength,
        );
        const n = Math.min(view.length, head.length);
        view.set(head.subarray(0, n));
        queue[0] = head.subarray(n);
        request.respond(n);
      } else {
        controller.enqueue(head.slice());
        queue.shift();
      }
    },
  });
}
