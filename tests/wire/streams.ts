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
