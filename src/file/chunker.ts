/**
 * The chunker: cuts a byte stream into fixed-size blocks as it streams in.
 *
 * Each incoming chunk is copied once into the block being filled; a full block is handed
 * out and a fresh buffer started, so the chunker holds one block buffer at a time and never
 * re-copies what it already has. It pulls from the input only when asked for the next block,
 * so a slow consumer slows the producer.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { throwIfAborted } from "./options.ts";

/** Options for {@linkcode chunkStream} and {@linkcode chunk}. */
export interface ChunkOptions {
  /** Stops reading; the generator throws `AbortedError` and cancels the input. */
  readonly signal?: AbortSignal;
}

/**
 * Yields blocks of exactly `blockSize` bytes from `input`, the last one shorter (and none
 * for an empty input). Every yielded array is freshly allocated and never touched again, so
 * the consumer may keep it. Stopping early (break, throw, abort) cancels the input stream.
 * A chunk that is not a `Uint8Array` makes it throw `InvalidArgumentError`.
 *
 * @example Cut a stream into 1 KiB blocks
 * ```ts
 * import { chunkStream } from "./chunker.ts";
 * const input = new Blob([new Uint8Array(2500)]).stream();
 * const sizes = [];
 * for await (const block of chunkStream(input, 1024)) sizes.push(block.length);
 * console.log(sizes); // [1024, 1024, 452]
 * ```
 */
export async function* chunkStream(
  input: ReadableStream<Uint8Array>,
  blockSize: number,
  options: ChunkOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  checkBlockSize(blockSize);
  const { signal } = options;
  const reader = input.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  try {
    let block: Uint8Array | null = null;
    let filled = 0;
    while (true) {
      throwIfAborted(signal, "chunking");
      const { done, value } = await reader.read();
      // A cancel on abort ends the read with done: never take that for the end of input.
      throwIfAborted(signal, "chunking");
      if (done) break;
      if (!(value instanceof Uint8Array)) {
        throw new InvalidArgumentError("input stream must yield Uint8Array chunks");
      }
      let at = 0;
      while (at < value.length) {
        block ??= new Uint8Array(blockSize);
        const n = Math.min(blockSize - filled, value.length - at);
        block.set(value.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === blockSize) {
          const full = block;
          block = null;
          filled = 0;
          yield full;
          throwIfAborted(signal, "chunking");
        }
      }
    }
    finished = true;
    if (block && filled > 0) yield block.slice(0, filled);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * Yields blocks of `blockSize` bytes copied out of `input`, the last one shorter.
 *
 * @example
 * ```ts
 * import { chunkBytes } from "./chunker.ts";
 * console.log([...chunkBytes(new Uint8Array(3000), 1024)].map((b) => b.length)); // [1024, 1024, 952]
 * ```
 */
export function* chunkBytes(
  input: Uint8Array,
  blockSize: number,
): Generator<Uint8Array, void, undefined> {
  checkBlockSize(blockSize);
  for (let at = 0; at < input.length; at += blockSize) {
    yield input.slice(at, Math.min(at + blockSize, input.length));
  }
}

/**
 * Cuts a stream or a byte array into blocks: {@linkcode chunkStream} or
 * {@linkcode chunkBytes}, as one async generator that honours `signal`.
 *
 * @example
 * ```ts
 * import { chunk } from "./chunker.ts";
 * for await (const block of chunk(new Uint8Array(10), 1024)) console.log(block.length); // 10
 * ```
 */
export async function* chunk(
  input: ReadableStream<Uint8Array> | Uint8Array,
  blockSize: number,
  options: ChunkOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  if (input instanceof Uint8Array) {
    for (const block of chunkBytes(input, blockSize)) {
      throwIfAborted(options.signal, "chunking");
      yield block;
    }
    return;
  }
  if (!(input instanceof ReadableStream)) {
    throw new InvalidArgumentError("input must be a Uint8Array or a ReadableStream<Uint8Array>");
  }
  if (input.locked) throw new InvalidArgumentError("input stream is locked by another reader");
  yield* chunkStream(input, blockSize, options);
}

function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new InvalidArgumentError(`block size must be a positive integer, got ${blockSize}`);
  }
}
