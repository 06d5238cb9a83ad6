/**
 * Lowercase hexadecimal encoding of bytes.
 *
 * @module
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Encodes bytes as lowercase hex.
 *
 * @example
 * ```ts
 * import { toHex } from "./hex.ts";
 * toHex(new Uint8Array([0x12, 0xab])); // "12ab"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/**
 * Decodes hex (either case) to bytes; returns `null` when `text` is not valid hex of even length.
 *
 * @example
 * ```ts
 * import { fromHex } from "./hex.ts";
 * fromHex("12ab"); // Uint8Array [0x12, 0xab]
 * fromHex("xyz"); // null
 * ```
 */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}
