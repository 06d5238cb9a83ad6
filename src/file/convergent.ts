/**
 * Convergent keys: a file key derived from the file's bytes, so identical files put with the
 * same block size give identical ciphertext (and file ids) and are stored once.
 *
 * The key is a hash chain over the plaintext blocks (`blockSize - 16` bytes each, as an
 * encrypted file cuts them; see `block_cipher.ts`), so memory stays flat however long the file:
 *
 * ```
 * s_0   = SHA-256("dfs/v1 convergent" || u32 blockSize)
 * s_i+1 = SHA-256(s_i || SHA-256(block_i))
 * key   = SHA-256(s_n || u64 file size)
 * ```
 *
 * Web Crypto has no incremental digest, hence the chain. Since the key must exist before the
 * first block is encrypted, a convergent put reads its source twice (once for the key, once to
 * encrypt) or is handed the key computed beforehand; `putFile` recomputes the chain as it
 * encrypts and fails with `ConvergentKeyMismatchError` when the two differ, so a key is never
 * used for bytes other than its own.
 *
 * @module
 */

import { chunk } from "./chunker.ts";
import { TAG_SIZE } from "./block_cipher.ts";
import { resolvePutOptions } from "./options.ts";

const TAG = new TextEncoder().encode("dfs/v1 convergent");

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  let total = 0;
  for (const p of parts) total += p.length;
  const buf = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

/**
 * Computes a convergent key block by block. Blocks are given in order with
 * {@linkcode ConvergentHasher.update} (each is hashed at once, the chain links in order).
 *
 * @example
 * ```ts
 * import { ConvergentHasher } from "./convergent.ts";
 * const h = new ConvergentHasher(1024);
 * h.update(new TextEncoder().encode("hello"));
 * console.log((await h.digest()).length); // 32
 * ```
 */
export class ConvergentHasher {
  #state: Promise<Uint8Array>;
  #size = 0;

  /** Starts a chain for a file of `blockSize` blocks. */
  constructor(blockSize: number) {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, blockSize);
    this.#state = sha256(TAG, head);
  }

  /** Adds the next plaintext block (the caller must not change it until `digest` resolves). */
  update(block: Uint8Array): void {
    this.#size += block.length;
    const digest = sha256(block);
    const prev = this.#state;
    this.#state = Promise.all([prev, digest]).then(([s, d]) => sha256(s, d));
    this.#state.catch(() => {});
  }

  /** The key: 32 bytes. */
  async digest(): Promise<Uint8Array> {
    const size = new Uint8Array(8);
    const view = new DataView(size.buffer);
    view.setUint32(0, Math.floor(this.#size / 0x1_0000_0000));
    view.setUint32(4, this.#size >>> 0);
    return await sha256(await this.#state, size);
  }
}

/**
 * The convergent key of `input` for a put with `blockSize` (default 256 KiB): reads the input
 * once. Give the same `blockSize` to the put (a different one gives a different key).
 *
 * @example
 * ```ts
 * import { convergentKey } from "./convergent.ts";
 * const a = await convergentKey(new TextEncoder().encode("same"));
 * const b = await convergentKey(new Blob(["same"]).stream());
 * console.log(a.join() === b.join()); // true
 * ```
 */
export async function convergentKey(
  input: ReadableStream<Uint8Array> | Uint8Array,
  options: { readonly blockSize?: number; readonly signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const { blockSize } = resolvePutOptions({ blockSize: options.blockSize });
  const hasher = new ConvergentHasher(blockSize);
  for await (const block of chunk(input, blockSize - TAG_SIZE, { signal: options.signal })) {
    hasher.update(block);
  }
  return await hasher.digest();
}
