/**
 * Content ids: a hash of bytes that names its hash function, multihash-style.
 *
 * Binary form: `[code][length][digest]` with the multihash codes `0x12` (SHA-256, 32-byte
 * digest) and `0x11` (SHA-1, 20-byte digest). Text form: the binary form in lowercase hex, so
 * every SHA-256 id starts with `1220` and every SHA-1 id with `1114`.
 *
 * @module
 */

import { DfsError } from "../errors.ts";
import { fromHex, toHex } from "../util/hex.ts";

/** Hash functions a content id can name. SHA-256 is the default; SHA-1 is the original design's. */
export type HashAlgorithm = "sha-256" | "sha-1";

/** The default hash algorithm for new content. */
export const DEFAULT_HASH: HashAlgorithm = "sha-256";

const ALGS: Record<HashAlgorithm, { code: number; length: number; webName: string }> = {
  "sha-256": { code: 0x12, length: 32, webName: "SHA-256" },
  "sha-1": { code: 0x11, length: 20, webName: "SHA-1" },
};

/** A string or bytes that are not a valid content id. Code `INVALID_ID`. */
export class InvalidIdError extends DfsError {
  /** Creates the error. */
  constructor(message: string) {
    super("INVALID_ID", message);
  }
}

/**
 * An immutable content id.
 *
 * @example Hash bytes and round-trip the id through text
 * ```ts
 * import { ContentId } from "./content_id.ts";
 * const id = await ContentId.of(new TextEncoder().encode("hello"));
 * const same = ContentId.parse(id.toString());
 * console.log(same.equals(id), id.algorithm); // true "sha-256"
 * ```
 */
export class ContentId {
  /** The hash function. */
  readonly algorithm: HashAlgorithm;
  /** The raw digest. */
  readonly digest: Uint8Array;
  /** The binary multihash form: code, length, digest. */
  readonly bytes: Uint8Array;
  #text: string | undefined;

  private constructor(algorithm: HashAlgorithm, digest: Uint8Array) {
    this.algorithm = algorithm;
    this.digest = digest;
    const { code } = ALGS[algorithm];
    const bytes = new Uint8Array(2 + digest.length);
    bytes[0] = code;
    bytes[1] = digest.length;
    bytes.set(digest, 2);
    this.bytes = bytes;
  }

  /** Builds an id from an algorithm and a digest of the right length. */
  static fromDigest(algorithm: HashAlgorithm, digest: Uint8Array): ContentId {
    const spec = ALGS[algorithm];
    if (!spec) throw new InvalidIdError(`unknown hash algorithm ${String(algorithm)}`);
    if (digest.length !== spec.length) {
      throw new InvalidIdError(
        `${algorithm} digest must be ${spec.length} bytes, got ${digest.length}`,
      );
    }
    return new ContentId(algorithm, digest.slice());
  }

  /** Decodes the binary multihash form. Throws {@linkcode InvalidIdError} on anything else. */
  static fromBytes(bytes: Uint8Array): ContentId {
    if (bytes.length < 2) throw new InvalidIdError(`content id too short (${bytes.length} bytes)`);
    const alg = algorithmOfCode(bytes[0]);
    if (!alg) throw new InvalidIdError(`unknown multihash code 0x${bytes[0].toString(16)}`);
    const len = ALGS[alg].length;
    if (bytes[1] !== len || bytes.length !== 2 + len) {
      throw new InvalidIdError(
        `${alg} id must be ${2 + len} bytes with length byte ${len}, got ${bytes.length} bytes`,
      );
    }
    return new ContentId(alg, bytes.slice(2));
  }

  /** Parses the text form. Throws {@linkcode InvalidIdError} on anything else. */
  static parse(text: string): ContentId {
    if (typeof text !== "string" || text.length > 200) {
      throw new InvalidIdError("content id must be a hex string");
    }
    const bytes = fromHex(text);
    if (!bytes) throw new InvalidIdError(`content id is not hex: ${JSON.stringify(text)}`);
    return ContentId.fromBytes(bytes);
  }

  /** Parses the text form, or returns `null` when `text` is not a content id. */
  static tryParse(text: string): ContentId | null {
    try {
      return ContentId.parse(text);
    } catch {
      return null;
    }
  }

  /** Hashes `data` with Web Crypto and returns its id. */
  static async of(data: Uint8Array, algorithm: HashAlgorithm = DEFAULT_HASH): Promise<ContentId> {
    const spec = ALGS[algorithm];
    if (!spec) throw new InvalidIdError(`unknown hash algorithm ${String(algorithm)}`);
    const digest = await crypto.subtle.digest(spec.webName, data as Uint8Array<ArrayBuffer>);
    return new ContentId(algorithm, new Uint8Array(digest));
  }

  /** True when `data` hashes (with this id's algorithm) to this id. */
  async matches(data: Uint8Array): Promise<boolean> {
    const other = await ContentId.of(data, this.algorithm);
    return other.equals(this);
  }

  /** True when both ids name the same algorithm and digest. */
  equals(other: ContentId): boolean {
    if (other.bytes.length !== this.bytes.length) return false;
    for (let i = 0; i < this.bytes.length; i++) if (other.bytes[i] !== this.bytes[i]) return false;
    return true;
  }

  /** The text form (lowercase hex of {@linkcode ContentId.bytes}). */
  toString(): string {
    return this.#text ??= toHex(this.bytes);
  }

  /** Same as {@linkcode ContentId.toString}, so ids serialize as strings. */
  toJSON(): string {
    return this.toString();
  }
}

function algorithmOfCode(code: number): HashAlgorithm | undefined {
  for (const [name, spec] of Object.entries(ALGS)) {
    if (spec.code === code) return name as HashAlgorithm;
  }
  return undefined;
}
