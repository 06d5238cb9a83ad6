/**
 * Runs the dfs Noise handshake over a runtime {@linkcode Connection} and returns its plaintext
 * view. Wire format, in each direction:
 *
 * ```
 * preamble (8 bytes, preamble.ts) || u16 length || message || u16 length || message ...
 * ```
 *
 * Both sides send their preamble, which carries their cipher offer, at once; each reads the
 * other's before its first handshake message, and both pick the same cipher (negotiation.ts).
 * The handshake is then `Noise_XX_25519_<cipher>_SHA256`, or `Noise_XXpsk3_25519_<cipher>_SHA256`
 * with a cluster key (psk = SHA-256(domain || key), payload.ts), `<cipher>` being `AESGCM` or
 * `ChaChaPoly`. The prologue is the initiator's preamble then the responder's, so an altered
 * offer fails the handshake. Message 1 carries an empty payload; messages 2 (responder) and 3
 * (initiator) carry the sender's identity key and its signature over the sender's Noise static
 * key, plus optional extra bytes. The responder then sends one empty transport message, the
 * confirmation: the initiator returns only once it has it, so a refusal (a different cluster
 * key) fails on both sides.
 *
 * @module
 */

import { AbortedError, TimeoutError } from "../../errors.ts";
import type { Connection } from "../../runtime/types.ts";
import type { AeadName, AeadProviders } from "./aead.ts";
import { ByteReader } from "./byte_reader.ts";
import { NoiseDecryptError, NoiseHandshakeError } from "./errors.ts";
import { HandshakeState } from "./handshake_state.ts";
import type { TransportCiphers } from "./handshake_state.ts";
import type { NoiseCredentials, VerifiedPayload } from "./payload.ts";
import { derivePsk, encodeHandshakePayload, verifyHandshakePayload } from "./payload.ts";
import { chooseCipher, noiseCipher, offerOf } from "./negotiation.ts";
import { checkPreamble, encodePreamble, PREAMBLE_BYTES } from "./preamble.ts";
import { readRefusal } from "./refusal.ts";
import { frameMessage, readFramedMessage, transportConnection } from "./transport.ts";
import { bytesEqual } from "../../util/bytes_equal.ts";

/** Default bound on the whole handshake, in milliseconds. */
export const DEFAULT_NOISE_HANDSHAKE_TIMEOUT_MS = 10_000;

const EMPTY = new Uint8Array(0);

/** Options for {@linkcode secureConnection}. */
export interface SecureConnectionOptions {
  /** `initiator` on the side that dialled, `responder` on the side that accepted. */
  readonly role: "initiator" | "responder";
  /** This node's static key and identity signature (see `createNoiseCredentials`). */
  readonly credentials: NoiseCredentials;
  /** The cluster key (16..1024 bytes, already checked); selects XXpsk3. */
  readonly clusterKey?: Uint8Array;
  /** Extra bytes for the peer, sent encrypted in our handshake payload (≤ 4096 bytes). */
  readonly payload?: Uint8Array;
  /** When set, the peer must prove this node id (else `BAD_IDENTITY`). */
  readonly expectedNodeId?: Uint8Array;
  /** Bound on the whole handshake (default {@linkcode DEFAULT_NOISE_HANDSHAKE_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** Aborts the handshake. */
  readonly signal?: AbortSignal;
  /** Messages per direction between two rekeys (default `REKEY_INTERVAL_MESSAGES`, 2^20). */
  readonly rekeyEvery?: number;
  /**
   * The AEADs this side offers, with their costs (`Runtime.aeads`; default: AES-256-GCM on Web
   * Crypto only).
   */
  readonly aeads?: AeadProviders;
}

/** A finished secured handshake. */
export interface SecureConnection {
  /** The plaintext view: write and read plain bytes; they travel encrypted. */
  readonly connection: Connection;
  /** The peer's X25519 static public key. */
  readonly remoteStatic: Uint8Array;
  /** The peer's Ed25519 identity public key, proven by its signature over `remoteStatic`. */
  readonly remoteIdentityKey: Uint8Array;
  /** SHA-256 of `remoteIdentityKey`: the node id the peer proved. */
  readonly remoteNodeId: Uint8Array;
  /** The Noise handshake hash (equal on both sides; usable for channel binding). */
  readonly handshakeHash: Uint8Array;
  /** The extra bytes the peer sent in its handshake payload (possibly empty). */
  readonly remotePayload: Uint8Array;
  /** The cipher the two sides picked from their offers. */
  readonly cipher: AeadName;
}

/**
 * Runs the handshake over `conn` (which it takes over: on failure `conn` is closed). Rejects with
 * {@linkcode PlaintextPeerError} / {@linkcode NoisePreambleError} for a peer that does not speak
 * dfs Noise, {@linkcode NoiseHandshakeError} for a failed handshake (wrong cluster key,
 * bad identity, closed), `TimeoutError` / `AbortedError` when it does not finish in time.
 *
 * @example
 * ```ts ignore
 * import { createNoiseCredentials } from "./payload.ts";
 * const credentials = await createNoiseCredentials(identity); // once per node
 * const conn = await runtime.net.connect({ hostname: "10.0.0.2", port: 4000 });
 * const secured = await secureConnection(conn, { role: "initiator", credentials, clusterKey });
 * console.log(toHex(secured.remoteNodeId));
 * await secured.connection.writable.getWriter().write(bytes);
 * ```
 */
export async function secureConnection(
  conn: Connection,
  options: SecureConnectionOptions,
): Promise<SecureConnection> {
  const reader = new ByteReader(conn.readable);
  const writer = conn.writable.getWriter();
  const timeoutMs = options.timeoutMs ?? DEFAULT_NOISE_HANDSHAKE_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`noise handshake did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const signal = options.signal;
    if (signal !== undefined) {
      onAbort = () => reject(new AbortedError("noise handshake aborted", { cause: signal.reason }));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  const run = handshake(conn, reader, writer, options);
  try {
    return await Promise.race([run, bound]);
  } catch (err) {
    conn.close();
    reader.cancel(err);
    run.catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) options.signal?.removeEventListener("abort", onAbort);
  }
}

async function handshake(
  conn: Connection,
  reader: ByteReader,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  options: SecureConnectionOptions,
): Promise<SecureConnection> {
  const initiator = options.role === "initiator";
  const ownOffer = offerOf(options.aeads);
  const own = encodePreamble(ownOffer);
  // Both preambles go out at once; the protocol name (the cipher) needs both offers.
  await writer.write(own);
  const theirs = await reader.readExact(PREAMBLE_BYTES);
  const theirOffer = checkPreamble(theirs);
  const cipher = initiator
    ? chooseCipher(ownOffer, theirOffer)
    : chooseCipher(theirOffer, ownOffer);
  const prologue = new Uint8Array(2 * PREAMBLE_BYTES);
  prologue.set(initiator ? own : theirs);
  prologue.set(initiator ? theirs : own, PREAMBLE_BYTES);
  const hs = await HandshakeState.create({
    pattern: options.clusterKey === undefined ? "XX" : "XXpsk3",
    initiator,
    staticKey: options.credentials.staticKey,
    prologue,
    psk: options.clusterKey === undefined ? undefined : await derivePsk(options.clusterKey),
    cipher: noiseCipher(cipher, options.aeads),
  });
  const ownPayload = encodeHandshakePayload(options.credentials, options.payload);
  const hasClusterKey = options.clusterKey !== undefined;
  const read = async (n: number) => {
    const message = await readFramedMessage(reader);
    // An empty message 2 is a refusal before the handshake (refusal.ts).
    if (n === 2 && message?.length === 0) throw await readRefusal(reader);
    if (message === null) {
      throw new NoiseHandshakeError(
        "CLOSED",
        `the peer closed before handshake message ${n}` +
          (n > 1 ? ` (it refused message ${n - 1}: a different cluster key, or none?)` : ""),
      );
    }
    try {
      return await hs.readMessage(message);
    } catch (err) {
      throw authFailure(err, n, hasClusterKey);
    }
  };

  if (initiator) {
    await writer.write(frameMessage(await hs.writeMessage(EMPTY)));
    const proven = await prove(await read(2), hs, options);
    await writer.write(frameMessage(await hs.writeMessage(ownPayload)));
    const { send, receive } = await hs.split();
    const confirmation = await readFramedMessage(reader);
    if (confirmation === null) {
      throw new NoiseHandshakeError(
        "REJECTED",
        "the peer closed instead of confirming the handshake" +
          (hasClusterKey ? " (a different cluster key?)" : ""),
      );
    }
    try {
      await receive.decryptWithAd(EMPTY, confirmation);
    } catch (err) {
      throw authFailure(err, 4, hasClusterKey);
    }
    return result(conn, reader, writer, hs, { send, receive }, proven, cipher, options.rekeyEvery);
  }
  if ((await read(1)).length !== 0) {
    throw new NoiseHandshakeError("MALFORMED", "message 1 carries a payload (sent in clear)");
  }
  await writer.write(frameMessage(await hs.writeMessage(ownPayload)));
  const proven = await prove(await read(3), hs, options);
  const { send, receive } = await hs.split();
  await writer.write(frameMessage(await send.encryptWithAd(EMPTY, EMPTY)));
  return result(conn, reader, writer, hs, { send, receive }, proven, cipher, options.rekeyEvery);
}

async function prove(
  payload: Uint8Array,
  hs: HandshakeState,
  options: SecureConnectionOptions,
): Promise<VerifiedPayload> {
  const proven = await verifyHandshakePayload(payload, hs.remoteStatic!);
  const expected = options.expectedNodeId;
  if (expected !== undefined && !bytesEqual(expected, proven.nodeId)) {
    throw new NoiseHandshakeError("BAD_IDENTITY", "the peer proved another node id than expected");
  }
  return proven;
}

function result(
  conn: Connection,
  reader: ByteReader,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  hs: HandshakeState,
  ciphers: TransportCiphers,
  proven: VerifiedPayload,
  cipher: AeadName,
  rekeyEvery: number | undefined,
): SecureConnection {
  return {
    connection: transportConnection(
      conn,
      reader,
      writer,
      ciphers.send,
      ciphers.receive,
      rekeyEvery,
    ),
    remoteStatic: hs.remoteStatic!,
    remoteIdentityKey: proven.identityPublicKey,
    remoteNodeId: proven.nodeId,
    handshakeHash: hs.handshakeHash,
    remotePayload: proven.extra,
    cipher,
  };
}

function authFailure(err: unknown, n: number, hasClusterKey: boolean): unknown {
  if (!(err instanceof NoiseDecryptError)) return err;
  return new NoiseHandshakeError(
    "AUTH_FAILED",
    `handshake message ${n} does not authenticate: ` +
      (hasClusterKey
        ? "the peer has a different cluster key (or none), or the bytes were altered"
        : "the peer uses a cluster key and we do not, or the bytes were altered"),
    { cause: err },
  );
}
