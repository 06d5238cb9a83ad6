/**
 * Byte helpers shared by the tests of every layer (they run on Deno, Bun and Node alike).
 *
 * @module
 */

import { concatBytes } from "../../src/util/concat.ts";

export { concatBytes };

/**
 * Reads a stream to its end into one array. `onChunk`, when given, sees every chunk as it
 * arrives (e.g. to assert a chunk size bound).
 *
 * @example
 * ```ts ignore
 * const bytes = await readAll(file.readable);
 * ```
 */
export async function readAll(
  stream: ReadableStream<Uint8Array>,
  onChunk?: (chunk: Uint8Array) => void,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    onChunk?.(chunk);
    parts.push(chunk);
    total += chunk.length;
  }
  return concatBytes(parts, total);
}
