/**
 * Convergent keys: a file key derived from the file's bytes, so identical files put with the
 * same options give identical ciphertext (and file ids) and are stored once.
 *
 * The key is a hash chain over the file cut into 1 MiB segments (whatever the block size), so
 * memory stays flat however long the file, and the key of a file does not depend on the node
 * that stores it:
 *
 * ```
 * s_0   = SHA-256("dfs/v1 convergent")
 * s_i+1 = SHA-256(s_i || SHA-256(segment_i))
 * key   = SHA-256(s_n || u64 file size)
 * ```
 *
 * Web Crypto has no incremental digest, hence the chain. The block cipher binds the block size
 * and index into each block's key and nonce (`block_cipher.ts`), so one convergent key used
 * with two block sizes still never seals two plaintexts under one (key, nonce).
 *
 * The key must exist before the first block is encrypted, so a convergent put reads its source
 * twice (once for the key, once to encrypt) or is handed the key computed beforehand; `putFile`
 * recomputes the chain as it encrypts and fails with `ConvergentKeyMismatchError` when the two
 * differ, so a key is never used for bytes other than its own.
 *
 * @module
 */

import { chunk } from "./chunker.ts";

const TAG = new TextEncoder().encode("dfs/v1 convergent");
/** Bytes per link of the chain. */
export const CONVERGENT_SEGMENT = 1024 * 1024;

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
 * Computes a convergent key as bytes stream past: {@linkcode ConvergentHasher.update} with the
 * file's bytes in order, cut anyhow (each full segment is hashed at once, the chain links in
 * order), then {@linkcode ConvergentHasher.digest}.
 *
 * @example
 * ```ts
 * import { ConvergentHasher } from "./convergent.ts";
 * const h = new ConvergentHasher();
 * h.update(new TextEncoder().encode("hel"));
 * h.update(new TextEncoder().encode("lo"));
 * console.log((await h.digest()).length); // 32
 * ```
 */
export class ConvergentHasher {
  #state: Promise<Uint8Array> = sha256(TAG);
  #segment = new Uint8Array(CONVERGENT_SEGMENT);
  #filled = 0;
  #size = 0;

  /** Adds the next bytes of the file (copied: the caller may reuse `bytes`). */
  update(bytes: Uint8Array): void {
    this.#size += bytes.length;
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(CONVERGENT_SEGMENT - this.#filled, bytes.length - at);
      this.#segment.set(bytes.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (this.#filled === CONVERGENT_SEGMENT) this.#link();
    }
  }

  #link(): void {
    const digest = sha256(this.#segment.subarray(0, this.#filled));
    this.#segment = new Uint8Array(CONVERGENT_SEGMENT);
    this.#filled = 0;
    this.#state = Promise.all([this.#state, digest]).then(([s, d]) => sha256(s, d));
    this.#state.catch(() => {});
  }

  /** The key: 32 bytes. Call once, after the last `update`. */
  async digest(): Promise<Uint8Array> {
    if (this.#filled > 0) this.#link();
    const size = new Uint8Array(8);
    const view = new DataView(size.buffer);
    view.setUint32(0, Math.floor(this.#size / 0x1_0000_0000));
    view.setUint32(4, this.#size >>> 0);
    return await sha256(await this.#state, size);
  }
}

/**
 * The convergent key of `input`, reading it once.
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
  options: { readonly signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const hasher = new ConvergentHasher();
  for await (const segment of chunk(input, CONVERGENT_SEGMENT, { signal: options.signal })) {
    hasher.update(segment);
  }
  return await hasher.digest();
}
