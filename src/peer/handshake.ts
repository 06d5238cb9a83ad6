/**
 * The authenticated handshake that opens every peer connection.
 *
 * Both sides send HELLO at once (protocol version, node id, public key, a fresh 32-byte
 * nonce, listen address, capabilities). Each checks the other's HELLO: well-formed, node id ==
 * SHA-256(public key), a protocol version it can speak, and (when dialling a known node) the
 * expected node id. Each then sends AUTH: an Ed25519 signature over the transcript
 *
 *     "dfs/handshake/v1" || other side's nonce || own nonce || own node id || other's node id
 *
 * and verifies the other's AUTH over the mirror transcript. Signing the other side's fresh
 * nonce proves possession of the private key now (no replay); binding both node ids ties the
 * proof to this pair of nodes. Any failure sends ERROR (request id 0) where possible and
 * rejects with a {@linkcode HandshakeError} whose `reason` names the check.
 *
 * Private clusters: with a cluster key `K` (`HandshakeParams.clusterKey`, 16..1024 raw bytes
 * shared by every member), what each side signs and verifies is
 *
 *     transcript || HMAC-SHA256(K, transcript)
 *
 * (176 bytes; {@linkcode clusterAuthMessage}) instead of the bare transcript. A peer holding
 * another key, or none, signs different bytes than the ones we verify, so the AUTH check fails on
 * both sides (reason `BAD_SIGNATURE`; the local error says the peer may not be in this cluster,
 * the ERROR sent to the peer stays generic) and the connection never carries a request. Nothing
 * changes on the wire: HELLO and AUTH keep their format, and the key never leaves the node. The
 * key checks membership only: no traffic is bound to the handshake or encrypted, so an on-path
 * attacker (or an outsider relaying between two members) can still inject after it. It is not the
 * standard construction the architecture asks of authenticated traffic; Noise `XXpsk3` keyed by
 * the same bytes is the intended replacement.
 *
 * Extensibility: HELLO carries `capabilities`. Channel encryption will be negotiated there
 * (e.g. a "noise/1" capability switching to a Noise XX handshake keyed by these Ed25519
 * identities, per the architecture's "standard construction" rule); when that lands, the
 * transcript moves to a new domain string that also covers both HELLOs, so capabilities
 * cannot be downgraded by a man in the middle.
 *
 * @module
 */

import { MessageType, PROTOCOL_VERSION, WireErrorCode } from "../wire/messages.ts";
import type { HelloMessage, Message } from "../wire/messages.ts";
import { DfsError, errorText } from "../errors.ts";
import { toHex } from "../util/hex.ts";
import { concatBytes } from "../util/concat.ts";
import type { MessageChannel } from "./channel.ts";
import { checkClusterKey } from "./cluster_key.ts";
import { HandshakeError } from "./errors.ts";
import { nodeIdOf, verifySignature } from "./identity.ts";
import type { NodeIdentity } from "./identity.ts";
import type { AeadName } from "../runtime/types.ts";
import { bytesEqual } from "../util/bytes_equal.ts";

/** Domain-separation prefix of the signed transcript. */
export const HANDSHAKE_DOMAIN = "dfs/handshake/v1";

/** Oldest protocol version this code speaks (version 1 had no DHT messages; it is retired). */
export const MIN_PROTOCOL_VERSION = 2;

/** Capabilities this implementation announces. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze(["blocks/1"]);

/** Inputs of {@linkcode performHandshake}. */
export interface HandshakeParams {
  /** Our key pair. */
  readonly identity: NodeIdentity;
  /** Where we accept connections ("host:port"), or "". */
  readonly listenAddress: string;
  /** Capabilities to announce (default {@linkcode DEFAULT_CAPABILITIES}). */
  readonly capabilities?: readonly string[];
  /** When dialling a known node, reject any other. */
  readonly expectedNodeId?: Uint8Array;
  /** Deadline for the whole exchange (ms). */
  readonly timeoutMs: number;
  /** Aborts the handshake (rejects with reason `CLOSED`). */
  readonly signal?: AbortSignal;
  /** Our highest protocol version (default {@linkcode PROTOCOL_VERSION}; tests override it). */
  readonly protocolVersion?: number;
  /**
   * The private cluster's shared key (16..1024 raw bytes): only a peer holding the same key
   * completes the handshake (see the module doc). Absent: an open cluster, any peer may join.
   */
  readonly clusterKey?: Uint8Array;
}

/** What a side's local error says when the AUTH check fails while a cluster key is configured. */
export const CLUSTER_BAD_SIGNATURE_TEXT =
  "bad signature, or the peer is not in this cluster (different cluster key)";

/** The ERROR text sent to the peer when its AUTH does not verify (never mentions a key). */
const BAD_SIGNATURE_WIRE_TEXT = "handshake failed (BAD_SIGNATURE): AUTH signature does not verify";

/** What the handshake learned about the peer. */
export interface HandshakeResult {
  /** Peer node id (32 bytes). */
  readonly nodeId: Uint8Array;
  /** Peer node id, hex. */
  readonly nodeIdHex: string;
  /** Peer raw Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Where the peer accepts connections ("host:port"), or "". */
  readonly listenAddress: string;
  /**
   * The host its connection came from, as this side's transport saw it (set by the peer
   * manager; absent in a bare handshake). Unlike `listenAddress`, the peer cannot choose it.
   */
  readonly observedHost?: string;
  /** Capabilities the peer announced. */
  readonly capabilities: readonly string[];
  /** The version both speak: min(ours, theirs). */
  readonly protocolVersion: number;
  /**
   * The AEAD the Noise handshake picked for this connection (set by the peer manager; absent in
   * plaintext mode and in a bare handshake).
   */
  readonly cipher?: AeadName;
}

/**
 * Builds the byte string a side signs in AUTH: domain, the other side's nonce, the signer's
 * nonce, the signer's node id, the other side's node id.
 *
 * @example
 * ```ts
 * import { handshakeTranscript } from "./handshake.ts";
 * const t = handshakeTranscript(new Uint8Array(32), new Uint8Array(32), new Uint8Array(32), new Uint8Array(32));
 * console.log(t.length); // 16 + 4 * 32 = 144
 * ```
 */
export function handshakeTranscript(
  otherNonce: Uint8Array,
  ownNonce: Uint8Array,
  ownNodeId: Uint8Array,
  otherNodeId: Uint8Array,
): Uint8Array {
  const domain = new TextEncoder().encode(HANDSHAKE_DOMAIN);
  return concatBytes([domain, otherNonce, ownNonce, ownNodeId, otherNodeId]);
}

/**
 * The bytes a side signs in AUTH (and the other verifies): `transcript` alone in an open
 * cluster, `transcript || HMAC-SHA256(clusterKey, transcript)` (32 more bytes) with a cluster
 * key. The HMAC key is the cluster key's raw bytes (Web Crypto). Rejects with
 * `InvalidArgumentError` for a key outside 16..1024 bytes.
 *
 * @example
 * ```ts
 * import { clusterAuthMessage, handshakeTranscript } from "./handshake.ts";
 * const t = handshakeTranscript(new Uint8Array(32), new Uint8Array(32), new Uint8Array(32), new Uint8Array(32));
 * const open = await clusterAuthMessage(t, undefined);
 * const closed = await clusterAuthMessage(t, new Uint8Array(32).fill(7));
 * console.log(open.length, closed.length); // 144 176
 * ```
 */
export async function clusterAuthMessage(
  transcript: Uint8Array,
  clusterKey: Uint8Array | undefined,
): Promise<Uint8Array> {
  const key = checkClusterKey(clusterKey);
  return await authMessage(transcript, key ? await importHmacKey(key) : undefined);
}

function importHmacKey(key: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

async function authMessage(
  transcript: Uint8Array,
  hmacKey: CryptoKey | undefined,
): Promise<Uint8Array> {
  if (!hmacKey) return transcript;
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", hmacKey, transcript as Uint8Array<ArrayBuffer>),
  );
  return concatBytes([transcript, mac]);
}

/**
 * Runs the handshake over `channel`. Resolves with the authenticated peer, or rejects with a
 * {@linkcode HandshakeError} (after sending ERROR to the peer where possible). The caller
 * closes the channel on failure. A `clusterKey` outside 16..1024 bytes rejects with
 * `InvalidArgumentError` before anything is sent.
 *
 * @example
 * ```ts ignore
 * const peer = await performHandshake(channel, { identity, listenAddress: "", timeoutMs: 5000 });
 * console.log(peer.nodeIdHex);
 * ```
 */
export async function performHandshake(
  channel: MessageChannel,
  params: HandshakeParams,
): Promise<HandshakeResult> {
  const clusterKey = checkClusterKey(params.clusterKey);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HandshakeError("TIMEOUT", `no completed handshake within ${params.timeoutMs} ms`),
        ),
      params.timeoutMs,
    );
    if (params.signal) {
      onAbort = () => reject(new HandshakeError("CLOSED", "handshake aborted"));
      if (params.signal.aborted) onAbort();
      else params.signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([exchange(channel, params, clusterKey), stop]);
  } catch (err) {
    const error = err instanceof HandshakeError
      ? err
      : new HandshakeError("CLOSED", errorText(err), { cause: err });
    if (error.reason !== "REJECTED" && error.reason !== "CLOSED") {
      const code = error.reason === "VERSION_MISMATCH"
        ? WireErrorCode.UNSUPPORTED
        : WireErrorCode.BAD_REQUEST;
      await sendQuietly(channel, {
        type: MessageType.ERROR,
        requestId: 0,
        code,
        message: error.reason === "BAD_SIGNATURE" ? BAD_SIGNATURE_WIRE_TEXT : error.message,
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) params.signal?.removeEventListener("abort", onAbort);
  }
}

async function exchange(
  channel: MessageChannel,
  params: HandshakeParams,
  clusterKey: Uint8Array | undefined,
): Promise<HandshakeResult> {
  const me = params.identity;
  // Imported once per handshake, used to sign ours and to check theirs.
  const hmacKey = clusterKey ? await importHmacKey(clusterKey) : undefined;
  const ourVersion = params.protocolVersion ?? PROTOCOL_VERSION;
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  // Send and receive concurrently: both sides send first, and neither may wait for the
  // other's read before reading.
  const sentHello = channel.send({
    type: MessageType.HELLO,
    requestId: 0,
    protocolVersion: ourVersion,
    nodeId: me.nodeId,
    publicKey: me.publicKey,
    nonce,
    listenAddress: params.listenAddress,
    capabilities: params.capabilities ?? DEFAULT_CAPABILITIES,
  });
  sentHello.catch(() => {});

  const hello = await expect(channel, MessageType.HELLO) as HelloMessage;
  if (
    !(hello.nodeId instanceof Uint8Array) || hello.nodeId.length !== 32 ||
    !(hello.publicKey instanceof Uint8Array) || hello.publicKey.length !== 32 ||
    !(hello.nonce instanceof Uint8Array) || hello.nonce.length !== 32 ||
    typeof hello.listenAddress !== "string" || !Array.isArray(hello.capabilities) ||
    !Number.isInteger(hello.protocolVersion)
  ) {
    throw new HandshakeError(
      "MALFORMED_HELLO",
      "HELLO needs a 32-byte node id, public key and nonce",
    );
  }
  const version = Math.min(ourVersion, hello.protocolVersion);
  if (version < MIN_PROTOCOL_VERSION || version > PROTOCOL_VERSION) {
    throw new HandshakeError(
      "VERSION_MISMATCH",
      `peer speaks protocol version ${hello.protocolVersion}, this node ${MIN_PROTOCOL_VERSION}..${ourVersion}`,
    );
  }
  if (!bytesEqual(await nodeIdOf(hello.publicKey), hello.nodeId)) {
    throw new HandshakeError("NODE_ID_MISMATCH", "node id is not SHA-256 of the public key");
  }
  if (bytesEqual(hello.nodeId, me.nodeId)) {
    throw new HandshakeError("SELF", "connected to our own node id");
  }
  if (params.expectedNodeId && !bytesEqual(hello.nodeId, params.expectedNodeId)) {
    throw new HandshakeError(
      "UNEXPECTED_PEER",
      `expected node ${toHex(params.expectedNodeId)}, got ${toHex(hello.nodeId)}`,
    );
  }

  const signature = await me.sign(
    await authMessage(handshakeTranscript(hello.nonce, nonce, me.nodeId, hello.nodeId), hmacKey),
  );
  const sentAuth = channel.send({ type: MessageType.AUTH, requestId: 0, signature });
  sentAuth.catch(() => {});

  const auth = await expect(channel, MessageType.AUTH);
  if (auth.type !== MessageType.AUTH || !(auth.signature instanceof Uint8Array)) {
    throw new HandshakeError("MALFORMED_HELLO", "AUTH without a signature");
  }
  const theirs = await authMessage(
    handshakeTranscript(nonce, hello.nonce, hello.nodeId, me.nodeId),
    hmacKey,
  );
  if (!(await verifySignature(hello.publicKey, auth.signature, theirs))) {
    throw new HandshakeError(
      "BAD_SIGNATURE",
      hmacKey ? CLUSTER_BAD_SIGNATURE_TEXT : "AUTH signature does not verify",
    );
  }
  await sentHello;
  await sentAuth;
  return {
    nodeId: hello.nodeId,
    nodeIdHex: toHex(hello.nodeId),
    publicKey: hello.publicKey,
    listenAddress: hello.listenAddress,
    capabilities: [...hello.capabilities],
    protocolVersion: version,
  };
}

async function expect(channel: MessageChannel, type: number): Promise<Message> {
  let msg: Message | null;
  try {
    msg = await channel.receive();
  } catch (cause) {
    const code = cause instanceof DfsError ? cause.code : "";
    if (code === "UNSUPPORTED_VERSION") {
      throw new HandshakeError("VERSION_MISMATCH", errorText(cause), { cause });
    }
    if (code === "" || code === "IO") {
      throw new HandshakeError("CLOSED", errorText(cause), { cause });
    }
    throw new HandshakeError("MALFORMED_HELLO", errorText(cause), { cause });
  }
  if (msg === null) throw new HandshakeError("CLOSED", "connection closed during the handshake");
  if (msg.type === MessageType.ERROR) {
    throw new HandshakeError("REJECTED", `peer refused: ${msg.message}`, { wireCode: msg.code });
  }
  if (msg.type !== type) {
    throw new HandshakeError(
      "MALFORMED_HELLO",
      `expected message type 0x${type.toString(16)}, got 0x${msg.type.toString(16)}`,
    );
  }
  return msg;
}

async function sendQuietly(channel: MessageChannel, msg: Message): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      channel.send(msg),
      new Promise<void>((resolve) => timer = setTimeout(resolve, 500)),
    ]);
  } catch {
    // Best effort: the connection may already be gone.
  } finally {
    clearTimeout(timer);
  }
}
