/**
 * The 8 bytes each side of an encrypted dfs connection sends first:
 * `FF 64 66 73 4E 58 VV OO` (0xFF, "dfs", "NX", the construction version, the sender's cipher
 * offer). The offer byte carries the sender's relative cost of AESGCM in its high nibble and of
 * ChaChaPoly in its low nibble (1..15, lower is faster; 0 = not offered; AESGCM is always
 * offered). Both sides send their preamble at once and pick the same cipher from the two
 * offers (`negotiation.ts`).
 *
 * The leading 0xFF makes an older plaintext dfs node, which reads a u32 big-endian frame length
 * first, see a frame of over 4 GiB and close; a plaintext dfs frame reaching an encrypting node
 * starts with 0x00 and is reported as {@linkcode PlaintextPeerError}. Version 1 nodes sent the
 * version as a u16 (`00 01`), so their byte 6 is 0.
 *
 * @module
 */

import type { AeadName } from "./aead.ts";
import { NoiseHandshakeError, NoisePreambleError, PlaintextPeerError } from "./errors.ts";

/** The version of the dfs Noise construction this module speaks. */
export const NOISE_PREAMBLE_VERSION = 2;

/** Length of a preamble. */
export const PREAMBLE_BYTES = 8;

/** Largest cost an offer can carry (a nibble). */
export const MAX_CIPHER_COST = 15;

/** A side's cipher offer: the relative cost of each cipher, 1..15, or 0 when not offered. */
export type CipherOffer = { readonly [name in AeadName]: number };

/** The offer of a node with only Web Crypto: AESGCM at cost 4, no ChaChaPoly. */
export const DEFAULT_CIPHER_OFFER: CipherOffer = { AESGCM: 4, ChaChaPoly: 0 };

const MAGIC = [0xff, 0x64, 0x66, 0x73, 0x4e, 0x58];

/**
 * The preamble announcing `offer`. Throws {@linkcode NoisePreambleError} when the offer does not
 * fit (a cost outside 0..15, or AESGCM not offered).
 *
 * @example
 * ```ts
 * import { encodePreamble } from "./preamble.ts";
 * console.log(encodePreamble({ AESGCM: 4, ChaChaPoly: 1 }));
 * // Uint8Array(8) [ 255, 100, 102, 115, 78, 88, 2, 65 ]
 * ```
 */
export function encodePreamble(offer: CipherOffer): Uint8Array {
  for (const cost of [offer.AESGCM, offer.ChaChaPoly]) {
    if (!Number.isInteger(cost) || cost < 0 || cost > MAX_CIPHER_COST) {
      throw new NoisePreambleError(`a cipher cost must be an integer 0..15, not ${cost}`);
    }
  }
  if (offer.AESGCM === 0) throw new NoisePreambleError("an offer must include AESGCM");
  return new Uint8Array([
    ...MAGIC,
    NOISE_PREAMBLE_VERSION,
    (offer.AESGCM << 4) | offer.ChaChaPoly,
  ]);
}

/** The preamble of {@linkcode DEFAULT_CIPHER_OFFER}: `FF 64 66 73 4E 58 02 40`. */
export const NOISE_PREAMBLE: Uint8Array = encodePreamble(DEFAULT_CIPHER_OFFER);

/**
 * Checks the first bytes the peer sent (`received`, up to 8; fewer when its stream ended) and
 * returns its offer. Throws {@linkcode PlaintextPeerError} for a plaintext dfs peer,
 * {@linkcode NoisePreambleError} for another protocol, another version (`peerVersion` set) or an
 * offer without AESGCM, {@linkcode NoiseHandshakeError} (`CLOSED`) when the peer closed before
 * sending all of it.
 *
 * @example
 * ```ts
 * import { checkPreamble, NOISE_PREAMBLE } from "./preamble.ts";
 * console.log(checkPreamble(NOISE_PREAMBLE)); // { AESGCM: 4, ChaChaPoly: 0 }
 * try {
 *   checkPreamble(new Uint8Array([0, 0, 0, 40, 1, 2, 3, 4]));
 * } catch (err) {
 *   console.log((err as Error).name); // PlaintextPeerError
 * }
 * ```
 */
export function checkPreamble(received: Uint8Array): CipherOffer {
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
  for (let i = 1; i < MAGIC.length; i++) {
    if (received[i] !== MAGIC[i]) {
      throw new NoisePreambleError("the peer is not a dfs node (unknown preamble)");
    }
  }
  // Version 1 sent a u16 (00 01); from version 2 on, byte 6 alone is the version.
  const version = received[6] === 0 ? received[7] : received[6];
  if (version !== NOISE_PREAMBLE_VERSION) {
    throw new NoisePreambleError(
      `the peer speaks dfs Noise version ${version}, this node version ${NOISE_PREAMBLE_VERSION}` +
        (version < NOISE_PREAMBLE_VERSION ? " (the peer needs an upgrade)" : ""),
      { peerVersion: version },
    );
  }
  const offer = { AESGCM: received[7] >> 4, ChaChaPoly: received[7] & 0x0f };
  if (offer.AESGCM === 0) {
    throw new NoisePreambleError(
      `the peer's cipher offer 0x${hex(received[7])} lacks AESGCM, which every node must offer`,
    );
  }
  return offer;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
