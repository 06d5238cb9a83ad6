/**
 * Read capabilities: one string that names an encrypted file and holds the key to read it,
 * `dfs:r:<file id>:<key>` (the idea of Tahoe-LAFS's read caps). The file id is the usual hex
 * multihash; the key is the 32-byte file key in unpadded base64url (43 characters). Every
 * character is URL-safe, so a capability goes as is into a URL path segment or query.
 *
 * Whoever has the capability can read the file; whoever has only the id (every node that
 * holds a block) can verify, replicate and repair it, but not read it.
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import { fromHex } from "../util/hex.ts";
import { FILE_KEY_SIZE } from "./block_cipher.ts";
import { BadCapabilityError } from "./errors.ts";

/** What every read capability starts with. */
export const CAPABILITY_PREFIX = "dfs:r:";

/** A parsed read capability. */
export interface ReadCapability {
  /** The file id. */
  readonly id: ContentId;
  /** The file key, 32 bytes. */
  readonly key: Uint8Array;
}

/**
 * True when `text` is meant as a capability (starts with `dfs:r:`); it may still be malformed.
 *
 * @example
 * ```ts
 * import { isCapability } from "./capability.ts";
 * console.log(isCapability("dfs:r:1220ab:xyz"), isCapability("1220ab")); // true false
 * ```
 */
export function isCapability(text: string): boolean {
  return typeof text === "string" && text.startsWith(CAPABILITY_PREFIX);
}

/**
 * Formats a read capability. Throws {@linkcode BadCapabilityError} for a key that is not 32
 * bytes.
 *
 * @example
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { formatCapability } from "./capability.ts";
 * const id = await ContentId.of(new Uint8Array(1));
 * console.log(formatCapability(id, new Uint8Array(32)).split(":").length); // 4
 * ```
 */
export function formatCapability(id: ContentId, key: Uint8Array): string {
  return `${CAPABILITY_PREFIX}${id.toString()}:${formatFileKey(key)}`;
}

/**
 * Parses `dfs:r:<file id>:<key>`; the key may be base64url (43 characters, no padding) or 64
 * hex digits. Throws {@linkcode BadCapabilityError} on anything else.
 *
 * @example
 * ```ts
 * import { parseCapability } from "./capability.ts";
 * const cap = parseCapability(
 *   "dfs:r:12202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824:" +
 *     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
 * );
 * console.log(cap.key[31]); // 31
 * ```
 */
export function parseCapability(text: string): ReadCapability {
  if (!isCapability(text)) {
    throw new BadCapabilityError(`not a read capability (expected ${CAPABILITY_PREFIX}ID:KEY)`);
  }
  const parts = text.slice(CAPABILITY_PREFIX.length).split(":");
  if (parts.length !== 2) {
    throw new BadCapabilityError(`a read capability is ${CAPABILITY_PREFIX}ID:KEY`);
  }
  const id = ContentId.tryParse(parts[0]);
  if (!id) throw new BadCapabilityError(`capability names no valid file id: ${parts[0]}`);
  return { id, key: parseFileKey(parts[1]) };
}

/**
 * The text form of a 32-byte file key, as in a capability: unpadded base64url.
 *
 * @example
 * ```ts
 * import { formatFileKey } from "./capability.ts";
 * console.log(formatFileKey(new Uint8Array(32)).length); // 43
 * ```
 */
export function formatFileKey(key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== FILE_KEY_SIZE) {
    throw new BadCapabilityError(`a file key is ${FILE_KEY_SIZE} bytes`);
  }
  return toBase64Url(key);
}

/**
 * Parses a 32-byte file key from base64url (43 characters, no padding) or 64 hex digits.
 * Throws {@linkcode BadCapabilityError} on anything else.
 *
 * @example
 * ```ts
 * import { parseFileKey } from "./capability.ts";
 * console.log(parseFileKey("00".repeat(32)).length); // 32
 * ```
 */
export function parseFileKey(text: string): Uint8Array {
  const key = text.length === 2 * FILE_KEY_SIZE ? fromHex(text) : fromBase64Url(text);
  if (!key || key.length !== FILE_KEY_SIZE) {
    throw new BadCapabilityError(
      `a file key is ${FILE_KEY_SIZE} bytes in base64url (43 characters) or hex`,
    );
  }
  return key;
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - text.length % 4) % 4);
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return toBase64Url(out) === text ? out : null;
  } catch {
    return null;
  }
}
