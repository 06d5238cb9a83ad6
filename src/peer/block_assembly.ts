/**
 * {@linkcode BlockAssembly}: the buffer a block's DATA chunks are gathered in, which the
 * channel may read the chunks straight into (a frame placement) instead of copying them.
 *
 * @module
 */

/**
 * One block of a known size being received in DATA chunks. {@linkcode BlockAssembly.place}
 * lends the channel the part of the block the next chunk goes to, so that it reads the chunk
 * there; {@linkcode BlockAssembly.add} takes each chunk as it arrives, whether it was read in
 * place (no copy) or elsewhere (copied). Never more than `size` bytes are held: a chunk past
 * the announced size is refused (and never placed).
 *
 * @example
 * ```ts
 * import { BlockAssembly } from "./block_assembly.ts";
 * const block = new BlockAssembly(4);
 * const into = block.place(2)!; // the channel reads the chunk here...
 * into.set([1, 2]);
 * block.add(into); // ...and hands it over: nothing copied
 * block.add(new Uint8Array([3, 4])); // a chunk read elsewhere is copied
 * console.log(block.complete, block.bytes); // true Uint8Array(4) [ 1, 2, 3, 4 ]
 * ```
 */
export class BlockAssembly {
  #bytes: Uint8Array;
  /** The size (a view whose buffer a read transferred reads as empty: never use its length). */
  readonly #size: number;
  #received = 0;
  /** Offset lent by the last `place`, until the next `add`; -1 when none. */
  #placedAt = -1;

  /** A block of `size` bytes (its own `ArrayBuffer`, offset 0). */
  constructor(size: number) {
    this.#bytes = new Uint8Array(size);
    this.#size = size;
  }

  /** The announced size. */
  get size(): number {
    return this.#size;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** True once `size` bytes were received. */
  get complete(): boolean {
    return this.#received === this.#size;
  }

  /** The block (complete or not); valid once no chunk is being read into it. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /**
   * Where the next chunk, of `length` bytes, may be read: a view of the block at the offset
   * it goes to, or `undefined` when it would not fit (it is then read elsewhere and refused by
   * {@linkcode BlockAssembly.add}) or is empty.
   */
  place(length: number): Uint8Array | undefined {
    if (length <= 0 || this.#received + length > this.#size) return undefined;
    this.#placedAt = this.#received;
    return this.#bytes.subarray(this.#received, this.#received + length);
  }

  /**
   * Takes the next chunk; false (nothing taken) when it would exceed the announced size. A
   * chunk read where the last `place` said (the same memory, possibly in the `ArrayBuffer` a
   * read transferred it to) is kept as is; any other is copied in.
   */
  add(chunk: Uint8Array): boolean {
    const at = this.#placedAt;
    this.#placedAt = -1;
    const size = this.#size;
    if (this.#received + chunk.length > size) return false;
    const own = this.#bytes.buffer;
    const inPlace = at === this.#received && chunk.byteOffset === at &&
      chunk.buffer.byteLength === size &&
      (chunk.buffer === own || own.byteLength === 0); // read in place, or moved by the read
    if (inPlace) {
      if (chunk.buffer !== own) this.#bytes = new Uint8Array(chunk.buffer, 0, size);
    } else {
      this.#bytes.set(chunk, this.#received);
    }
    this.#received += chunk.length;
    return true;
  }
}
