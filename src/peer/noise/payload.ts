/**
 * What each side proves inside the encrypted handshake (messages 2 and 3): its Ed25519 identity
 * key and that key's signature over the Noise static key, so the node id a peer proves is the
 * one it encrypts to. Layout (all offsets in bytes):
 *
 * ```
 * 0   32  identity public key (raw Ed25519)
 * 32  64  signature: Ed25519 over "dfs/noise/v1/static-key" || Noise static public key (32)
 * 96  2   extra length, u16 big-endian, at most MAX_EXTRA_PAYLOAD_BYTES
 * 98  n   extra bytes (free for later use)
 * ```
 *
 * Also here: the psk derived from a cluster key.
 *
 * @module
 */

import { nodeIdOf, verifySignature } from "../identity.ts";
import { NoiseHandshakeError } from "./errors.ts";
import { sha256 } from "./hash.ts";
import type { NoiseKeyPair } from "./x25519.ts";
import { generateKeyPair } from "./x25519.ts";

/** The domain string the identity key signs, followed by the Noise static public key. */
export const STATIC_KEY_SIGNATURE_DOMAIN = "dfs/noise/v1/static-key";

/** The domain string hashed before the cluster key into the psk. */
export const PSK_DOMAIN = "dfs/noise/v1/cluster-psk";

/** Largest extra payload a side may send in its handshake payload. */
export const MAX_EXTRA_PAYLOAD_BYTES = 4096;

const FIXED_BYTES = 32 + 64 + 2;

/** What signs the Noise static key: a node identity (`NodeIdentity` fits). */
export interface NoiseSigner {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * A node's Noise static key pair and its identity's signature over it. Make once per node (or
 * per process) with {@linkcode createNoiseCredentials} and use for every connection.
 */
export interface NoiseCredentials {
  /** Raw Ed25519 identity public key. */
  readonly identityPublicKey: Uint8Array;
  /** The X25519 static key pair. */
  readonly staticKey: NoiseKeyPair;
  /** Ed25519 signature over the domain and `staticKey.publicKey`. */
  readonly signature: Uint8Array;
}

/** What a verified handshake payload proves about the peer. */
export interface VerifiedPayload {
  /** The peer's raw Ed25519 identity public key. */
  readonly identityPublicKey: Uint8Array;
  /** SHA-256 of it: the peer's node id. */
  readonly nodeId: Uint8Array;
  /** The peer's extra payload bytes (possibly empty). */
  readonly extra: Uint8Array;
}

/**
 * Signs a Noise static key (a fresh one unless `staticKey` is given) with `identity`.
 *
 * @example
 * ```ts
 * import { NodeIdentity } from "../identity.ts";
 * import { createNoiseCredentials } from "./payload.ts";
 * const creds = await createNoiseCredentials(await NodeIdentity.generate());
 * console.log(creds.signature.length); // 64
 * ```
 */
export async function createNoiseCredentials(
  identity: NoiseSigner,
  staticKey?: NoiseKeyPair,
): Promise<NoiseCredentials> {
  const key = staticKey ?? await generateKeyPair();
  const signature = await identity.sign(signedData(key.publicKey));
  return { identityPublicKey: identity.publicKey.slice(), staticKey: key, signature };
}

/**
 * The handshake payload for `credentials` with `extra` bytes.
 *
 * @example
 * ```ts
 * import { NodeIdentity } from "../identity.ts";
 * import { createNoiseCredentials, encodeHandshakePayload } from "./payload.ts";
 * const creds = await createNoiseCredentials(await NodeIdentity.generate());
 * console.log(encodeHandshakePayload(creds).length); // 98
 * ```
 */
export function encodeHandshakePayload(
  credentials: NoiseCredentials,
  extra: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (extra.length > MAX_EXTRA_PAYLOAD_BYTES) {
    throw new RangeError(
      `extra payload of ${extra.length} bytes is over ${MAX_EXTRA_PAYLOAD_BYTES}`,
    );
  }
  const out = new Uint8Array(FIXED_BYTES + extra.length);
  out.set(credentials.identityPublicKey, 0);
  out.set(credentials.signature, 32);
  out[96] = extra.length >> 8;
  out[97] = extra.length & 0xff;
  out.set(extra, FIXED_BYTES);
  return out;
}

/**
 * Parses a peer's handshake payload and checks its signature over `remoteStatic` (the Noise
 * static key the handshake authenticated). Throws {@linkcode NoiseHandshakeError}: `MALFORMED`
 * for a bad layout, `BAD_IDENTITY` for a signature that does not verify.
 *
 * @example
 * ```ts
 * import { NodeIdentity } from "../identity.ts";
 * import { createNoiseCredentials, encodeHandshakePayload, verifyHandshakePayload } from "./payload.ts";
 * const me = await NodeIdentity.generate();
 * const creds = await createNoiseCredentials(me);
 * const proven = await verifyHandshakePayload(
 *   encodeHandshakePayload(creds),
 *   creds.staticKey.publicKey,
 * );
 * console.log(proven.nodeId.length); // 32
 * ```
 */
export async function verifyHandshakePayload(
  payload: Uint8Array,
  remoteStatic: Uint8Array,
): Promise<VerifiedPayload> {
  if (payload.length < FIXED_BYTES) {
    throw new NoiseHandshakeError("MALFORMED", `handshake payload of ${payload.length} bytes`);
  }
  const extraLength = (payload[96] << 8) | payload[97];
  if (extraLength > MAX_EXTRA_PAYLOAD_BYTES || payload.length !== FIXED_BYTES + extraLength) {
    throw new NoiseHandshakeError(
      "MALFORMED",
      `handshake payload of ${payload.length} bytes announces ${extraLength} extra bytes`,
    );
  }
  const identityPublicKey = payload.slice(0, 32);
  const signature = payload.subarray(32, 96);
  if (!await verifySignature(identityPublicKey, signature, signedData(remoteStatic))) {
    throw new NoiseHandshakeError(
      "BAD_IDENTITY",
      "the peer's identity signature over its Noise static key does not verify",
    );
  }
  return {
    identityPublicKey,
    nodeId: await nodeIdOf(identityPublicKey),
    extra: payload.slice(FIXED_BYTES),
  };
}

/**
 * The 32-byte psk of a cluster key: SHA-256("dfs/noise/v1/cluster-psk" || key).
 *
 * @example
 * ```ts
 * import { derivePsk } from "./payload.ts";
 * console.log((await derivePsk(new Uint8Array(16))).length); // 32
 * ```
 */
export async function derivePsk(clusterKey: Uint8Array): Promise<Uint8Array> {
  return await sha256(new TextEncoder().encode(PSK_DOMAIN), clusterKey);
}

function signedData(staticPublicKey: Uint8Array): Uint8Array {
  const domain = new TextEncoder().encode(STATIC_KEY_SIGNATURE_DOMAIN);
  const out = new Uint8Array(domain.length + staticPublicKey.length);
  out.set(domain);
  out.set(staticPublicKey, domain.length);
  return out;
}
