/**
 * Keys of encrypted files at the node: which key a put encrypts under (`encrypt` option), and
 * what a reference given to get/stat names (a file id, or a read capability: id and key).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { FILE_KEY_SIZE, randomFileKey } from "../file/block_cipher.ts";
import { isCapability, parseCapability } from "../file/capability.ts";
import { convergentKey } from "../file/convergent.ts";
import { ContentId } from "../id/content_id.ts";
import type { FileInput, PutOptions } from "./types.ts";

/** A file as a get or stat names it. */
export interface FileRef {
  /** The file id. */
  readonly id: ContentId;
  /** The file key, when named by a read capability. */
  readonly key?: Uint8Array;
  /** The capability text, when named by one. */
  readonly capability?: string;
}

/**
 * The file that `text` names directly: a file id, or a read capability (parsed, so a malformed
 * one throws `BadCapabilityError`); `null` for anything else (a name).
 *
 * @example
 * ```ts
 * import { directRef } from "./file_keys.ts";
 * console.log(directRef("reports/q3")); // null
 * ```
 */
export function directRef(text: string): FileRef | null {
  if (isCapability(text)) {
    const { id, key } = parseCapability(text);
    return { id, key, capability: text };
  }
  const id = ContentId.tryParse(text);
  return id ? { id } : null;
}

/** The key a put encrypts under, and whether it is convergent (none: a public file). */
export interface PutKey {
  /** The file key (absent: plaintext). */
  readonly key?: Uint8Array;
  /** True when `key` is the input's convergent key. */
  readonly convergent?: boolean;
}

/**
 * Chooses a put's key from its options: a fresh random key by default, none with
 * `encrypt: false`, the convergent key with `encrypt: "convergent"` (computed from bytes, or
 * `convergentKey` for a stream, which cannot be read twice). Throws `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * import { putKey } from "./file_keys.ts";
 * console.log((await putKey(new Uint8Array(3), {})).key?.length); // 32
 * console.log(await putKey(new Uint8Array(3), { encrypt: false })); // {}
 * ```
 */
export async function putKey(input: FileInput, options: PutOptions): Promise<PutKey> {
  const mode = options.encrypt ?? true;
  if (mode !== true && mode !== false && mode !== "convergent") {
    throw new InvalidArgumentError(`encrypt must be true, false or "convergent"`);
  }
  if (options.convergentKey !== undefined && mode !== "convergent") {
    throw new InvalidArgumentError(`convergentKey goes with encrypt: "convergent"`);
  }
  if (mode === false) return {};
  if (mode === true) return { key: randomFileKey() };
  const given = options.convergentKey;
  if (given !== undefined) {
    if (!(given instanceof Uint8Array) || given.length !== FILE_KEY_SIZE) {
      throw new InvalidArgumentError(`convergentKey must be ${FILE_KEY_SIZE} bytes`);
    }
    return { key: given, convergent: true };
  }
  if (input instanceof Uint8Array) {
    return { key: await convergentKey(input), convergent: true };
  }
  throw new InvalidArgumentError(
    "convergent encryption of a stream needs its convergentKey: the key must exist before the " +
      "first block is encrypted and a stream is read once (compute it with convergentKey() " +
      "from a first read of a re-readable source, such as a file)",
  );
}
