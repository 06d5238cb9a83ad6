/**
 * X25519 key pairs and Diffie-Hellman on Web Crypto (Noise's DH function "25519"). A raw
 * 32-byte private key is imported as PKCS#8 (fixed 16-byte prefix then the key).
 *
 * @module
 */

import { NoiseHandshakeError } from "./errors.ts";

/** Length of an X25519 public key and of a DH output (Noise's DHLEN). */
export const DH_LEN = 32;

const X25519 = { name: "X25519" } as const;

/** The DER prefix of a PKCS#8 X25519 private key; the 32 raw key bytes follow it. */
const PKCS8_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/** An X25519 key pair: the private half stays a non-extractable `CryptoKey`. */
export interface NoiseKeyPair {
  /** The private key, usable for `deriveBits`. */
  readonly privateKey: CryptoKey;
  /** The raw 32-byte public key. */
  readonly publicKey: Uint8Array;
}

/**
 * A fresh random X25519 key pair.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "./x25519.ts";
 * console.log((await generateKeyPair()).publicKey.length); // 32
 * ```
 */
export async function generateKeyPair(): Promise<NoiseKeyPair> {
  const pair = await crypto.subtle.generateKey(X25519, false, ["deriveBits"]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * The key pair of a raw 32-byte X25519 private key (test vectors, fixed keys).
 *
 * @example
 * ```ts
 * import { keyPairFromPrivate } from "./x25519.ts";
 * const pair = await keyPairFromPrivate(new Uint8Array(32).fill(7));
 * console.log(pair.publicKey.length); // 32
 * ```
 */
export async function keyPairFromPrivate(raw: Uint8Array): Promise<NoiseKeyPair> {
  if (raw.length !== DH_LEN) {
    throw new NoiseHandshakeError(
      "BAD_KEY",
      `an X25519 private key is 32 bytes, got ${raw.length}`,
    );
  }
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + DH_LEN);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(raw, PKCS8_PREFIX.length);
  const extractable = await crypto.subtle.importKey("pkcs8", pkcs8, X25519, true, ["deriveBits"]);
  const jwk = await crypto.subtle.exportKey("jwk", extractable);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, X25519, false, ["deriveBits"]);
  pkcs8.fill(0);
  if (typeof jwk.x !== "string") throw new NoiseHandshakeError("BAD_KEY", "no public key in JWK");
  return { privateKey, publicKey: fromBase64Url(jwk.x) };
}

/**
 * X25519(private, public): the 32-byte shared secret. Throws {@linkcode NoiseHandshakeError}
 * (`BAD_KEY`) when the runtime refuses the public key or the result is all zeros (a low-order
 * point).
 *
 * @example
 * ```ts
 * import { dh, generateKeyPair } from "./x25519.ts";
 * const a = await generateKeyPair();
 * const b = await generateKeyPair();
 * console.log((await dh(a.privateKey, b.publicKey)).length); // 32
 * ```
 */
export async function dh(privateKey: CryptoKey, publicKey: Uint8Array): Promise<Uint8Array> {
  let out: Uint8Array;
  try {
    const pub = await crypto.subtle.importKey(
      "raw",
      publicKey as Uint8Array<ArrayBuffer>,
      X25519,
      true,
      [],
    );
    out = new Uint8Array(
      await crypto.subtle.deriveBits({ name: "X25519", public: pub }, privateKey, DH_LEN * 8),
    );
  } catch (cause) {
    throw new NoiseHandshakeError("BAD_KEY", "X25519 refused the peer's public key", { cause });
  }
  if (out.every((b) => b === 0)) {
    throw new NoiseHandshakeError("BAD_KEY", "X25519 gave an all-zero secret (low-order key)");
  }
  return out;
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
