/**
 * Turning a connection away before the Noise handshake, with a reason the dialer can act on
 * (a full node, one shutting down). Nothing is secret yet, so the refusal is in clear: the
 * responder's preamble (`NOISE_PREAMBLE`, the Web Crypto-only offer: a refusal picks no cipher),
 * then an empty handshake message (u16 length 0, which no real message 2 can be), then the wire
 * error code (u16) and a UTF-8 reason (u16 length, at most 256 bytes). Like a TCP reset, an
 * on-path attacker can forge one; it can do no more than end the attempt.
 *
 * @module
 */

import type { Connection } from "../../runtime/types.ts";
import { HandshakeError } from "../errors.ts";
import type { ByteReader } from "./byte_reader.ts";
import { NOISE_PREAMBLE, PREAMBLE_BYTES } from "./preamble.ts";

/** Longest reason a refusal carries, in bytes. */
export const MAX_REFUSAL_REASON_BYTES = 256;

/**
 * Sends a refusal on `conn` (see the module doc), waits (bounded, 1 s) for the peer to hang up
 * so the bytes are not lost to a reset, and closes it.
 *
 * @example
 * ```ts ignore
 * refuseNoise(conn, WireErrorCode.LIMIT, "connection limit (64) reached");
 * ```
 */
export function refuseNoise(conn: Connection, code: number, reason: string): void {
  const text = new TextEncoder().encode(reason).subarray(0, MAX_REFUSAL_REASON_BYTES);
  const out = new Uint8Array(PREAMBLE_BYTES + 2 + 2 + 2 + text.length);
  out.set(NOISE_PREAMBLE);
  const view = new DataView(out.buffer);
  view.setUint16(PREAMBLE_BYTES + 2, code);
  view.setUint16(PREAMBLE_BYTES + 4, text.length);
  out.set(text, PREAMBLE_BYTES + 6);
  const timer = setTimeout(() => conn.close(), 1000);
  (async () => {
    const writer = conn.writable.getWriter();
    await writer.write(out);
    await writer.close();
    const reader = conn.readable.getReader();
    for (let i = 0; i < 64; i++) if ((await reader.read()).done) break;
  })().catch(() => {}).finally(() => {
    clearTimeout(timer);
    conn.close();
  });
}

/**
 * Reads the rest of a refusal after its empty handshake message and returns the
 * {@linkcode HandshakeError} (`REJECTED`, with the peer's wire code) to throw.
 */
export async function readRefusal(reader: ByteReader): Promise<HandshakeError> {
  const head = await reader.readExact(4);
  if (head.length < 4) return new HandshakeError("REJECTED", "the peer refused the connection");
  const code = (head[0] << 8) | head[1];
  const length = Math.min((head[2] << 8) | head[3], MAX_REFUSAL_REASON_BYTES);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(await reader.readExact(length));
  return new HandshakeError("REJECTED", `peer refused: ${text}`, { wireCode: code });
}
