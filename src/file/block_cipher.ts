/**
 * Block encryption of an encrypted file: AES-256-GCM (Web Crypto) under a key and a nonce that
 * HKDF-SHA256 derives from the file key for each block, so no (key, nonce) pair ever encrypts
 * two different plaintexts.
 *
 * For block `i` (0-based, in file order) of a file put with block size `B`:
 *
 * ```
 * okm   = HKDF-SHA256(ikm = file key (32 bytes), salt = "", info = "dfs/v1 block" || u32 B || u64 i, 44 bytes)
 * key   = okm[0..32]    nonce = okm[32..44]
 * block = AES-256-GCM(key, nonce, plaintext, no additional data) = ciphertext || 16-byte tag
 * ```
 *
 * A stored block is its plaintext plus {@linkcode TAG_SIZE} bytes, so a full block carries
 * `B - 16` bytes of the file and is exactly `B` bytes on disk. The position is bound through the
 * derivation: a block moved to another index, or another file, does not decrypt.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { WrongKeyError } from "./errors.ts";

/** Bytes AES-GCM adds to each block: its authentication tag. */
export const TAG_SIZE = 16;
/** Bytes of a file key (AES-256). */
export const FILE_KEY_SIZE = 32;

const INFO_TAG = new TextEncoder().encode("dfs/v1 block");
const OKM_BITS = (32 + 12) * 8;

/**
 * A fresh random 256-bit file key (`crypto.getRandomValues`).
 *
 * @example
 * ```ts
 * import { randomFileKey } from "./block_cipher.ts";
 * console.log(randomFileKey().length); // 32
 * ```
 */
export function randomFileKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(FILE_KEY_SIZE));
}

/**
 * Bytes of the file an encrypted file's stored blocks hold: `stored` bytes of blocks of
 * `blockSize`, less one tag per block.
 *
 * @example
 * ```ts
 * import { plaintextSize } from "./block_cipher.ts";
 * console.log(plaintextSize(1024 + 17, 1024)); // 1009
 * ```
 */
export function plaintextSize(stored: number, blockSize: number): number {
  return stored - TAG_SIZE * Math.ceil(stored / blockSize);
}

/**
 * Encrypts and decrypts the blocks of one file. Build with {@linkcode FileCipher.create}.
 *
 * @example Round-trip one block
 * ```ts
 * import { FileCipher, randomFileKey } from "./block_cipher.ts";
 * const cipher = await FileCipher.create(randomFileKey(), 1024);
 * const sealed = await cipher.encrypt(0, new TextEncoder().encode("hello"));
 * console.log(sealed.length, new TextDecoder().decode(await cipher.decrypt(0, sealed))); // 21 "hello"
 * ```
 */
export class FileCipher {
  readonly #master: CryptoKey;
  readonly #blockSize: number;

  private constructor(master: CryptoKey, blockSize: number) {
    this.#master = master;
    this.#blockSize = blockSize;
  }

  /**
   * A cipher for the file key `key` (32 bytes) and the file's block size. Throws
   * `InvalidArgumentError` for a key of another length.
   */
  static async create(key: Uint8Array, blockSize: number): Promise<FileCipher> {
    if (!(key instanceof Uint8Array) || key.length !== FILE_KEY_SIZE) {
      throw new InvalidArgumentError(`a file key is ${FILE_KEY_SIZE} bytes`);
    }
    const master = await crypto.subtle.importKey("raw", new Uint8Array(key), "HKDF", false, [
      "deriveBits",
    ]);
    return new FileCipher(master, blockSize);
  }

  /** Seals plaintext block `index`: ciphertext then tag, `plaintext.length + 16` bytes. */
  async encrypt(index: number, plaintext: Uint8Array): Promise<Uint8Array> {
    const { key, iv } = await this.#derive(index, "encrypt");
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      key,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(sealed);
  }

  /**
   * Opens stored block `index`. Throws {@linkcode WrongKeyError} when the tag does not verify
   * (the key is not this file's), never returning unauthenticated bytes.
   */
  async decrypt(index: number, sealed: Uint8Array): Promise<Uint8Array> {
    const { key, iv } = await this.#derive(index, "decrypt");
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv },
        key,
        sealed as Uint8Array<ArrayBuffer>,
      );
      return new Uint8Array(plain);
    } catch (err) {
      throw new WrongKeyError(`block ${index} does not decrypt: the key is not this file's`, {
        cause: err,
      });
    }
  }

  async #derive(
    index: number,
    usage: KeyUsage,
  ): Promise<{ key: CryptoKey; iv: Uint8Array<ArrayBuffer> }> {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new InvalidArgumentError(`block index must be a non-negative integer, got ${index}`);
    }
    const info = new Uint8Array(INFO_TAG.length + 12);
    info.set(INFO_TAG);
    const view = new DataView(info.buffer);
    view.setUint32(INFO_TAG.length, this.#blockSize);
    view.setUint32(INFO_TAG.length + 4, Math.floor(index / 0x1_0000_0000));
    view.setUint32(INFO_TAG.length + 8, index >>> 0);
    const okm = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info },
        this.#master,
        OKM_BITS,
      ),
    );
    const key = await crypto.subtle.importKey("raw", okm.subarray(0, 32), "AES-GCM", false, [
      usage,
    ]);
    return { key, iv: okm.slice(32, 44) };
  }
}
