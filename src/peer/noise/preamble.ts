/**
 * The 8 bytes each side of an encrypted dfs connection sends first: `FF 64 66 73 4E 58 00 01`
 * (0xFF, "dfs", "NX", version u16 big-endian). The leading 0xFF makes an older plaintext dfs
 * node, which reads a u32 big-endian frame length first, see a frame of over 4 GiB and close;
 * a plaintext dfs frame reaching an encrypting node starts with 0x00 and is reported as
 * {@linkcode PlaintextPeerError}.
 *
 * @module
 */

import { NoiseHandshakeError, NoisePreambleError, PlaintextPeerError } from "./errors.ts";

/** The version of the dfs Noise construction this module speaks. */
export const NOISE_PREAMBLE_VERSION = 1;

/** The preamble bytes: 0xFF, "dfs", "NX", version u16 big-endian. */
export const NOISE_PREAMBLE: Uint8Array = new Uint8Array([
  0xff,
  0x64,
  0x66,
  0x73,
  0x4e,
  0x58,
  NOISE_PREAMBLE_VERSION >> 8,
  NOISE_PREAMBLE_VERSION & 0xff,
]);

/** Length of {@linkcode NOISE_PREAMBLE}. */
export const PREAMBLE_BYTES = 8;

/**
 * Checks the first bytes the peer sent (`received`, up to 8; fewer when its stream ended).
 * Throws {@linkcode PlaintextPeerError} for a plaintext dfs peer, {@linkcode NoisePreambleError}
 * for another protocol or version, {@linkcode NoiseHandshakeError} (`CLOSED`) when the peer
 * closed before sending anything.
 *
 * @example
 * ```ts
 * import { checkPreamble, NOISE_PREAMBLE } from "./preamble.ts";
 * checkPreamble(NOISE_PREAMBLE); // fine
 * try {
 *   checkPreamble(new Uint8Array([0, 0, 0, 40, 1, 2, 3, 4]));
 * } catch (err) {
 *   console.log((err as Error).name); // PlaintextPeerError
 * }
 * ```
 */
export function checkPreamble(received: Uint8Array): void {
  if (received.length === 0) {
    throw new NoiseHandshakeError(
      "CLOSED",
      "the peer closed before sending its preamble (a dfs node without encryption, or not dfs)",
    );
  }
  if (received[0] !== 0xff) {
    if (received[0] === 0x00) {
      throw new PlaintextPeerError(
        "the peer runs without encryption (it sent a plaintext dfs frame); " +
          "encrypted nodes do not talk to it",
      );
    }
    throw new NoisePreambleError(`the peer is not a dfs node (first byte 0x${hex(received[0])})`);
  }
  if (received.length < PREAMBLE_BYTES) {
    throw new NoiseHandshakeError("CLOSED", "the peer closed inside its preamble");
  }
  for (let i = 1; i < 6; i++) {
    if (received[i] !== NOISE_PREAMBLE[i]) {
      throw new NoisePreambleError("the peer is not a dfs node (unknown preamble)");
    }
  }
  const version = (received[6] << 8) | received[7];
  if (version !== NOISE_PREAMBLE_VERSION) {
    throw new NoisePreambleError(
      `the peer speaks dfs Noise version ${version}, this node version ${NOISE_PREAMBLE_VERSION}`,
      { peerVersion: version },
    );
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
