/**
 * How a peer connection is opened: encrypted with Noise (the default) or, only when asked,
 * in plaintext. {@linkcode ChannelSecurity.open} turns a fresh runtime {@linkcode Connection}
 * into the {@linkcode MessageChannel} the identity handshake (HELLO, AUTH) and the requests
 * run over.
 *
 * - `noise`: the Noise XX handshake (XXpsk3 with a cluster key) runs first
 *   (`noise/secure_connection.ts`); it proves the peer's node id (its identity key signs its
 *   Noise static key) and every later byte travels encrypted and authenticated. The identity
 *   handshake then runs inside, and must name the node id Noise proved. Membership of a private
 *   cluster is the psk: a peer with another key, or none, completes no Noise handshake.
 * - `plaintext`: frames travel in clear, as before Noise (tests and benches only, behind
 *   `--insecure-plaintext`); a cluster key is then checked by the identity handshake's HMAC.
 *
 * The two modes do not talk to each other: each side fails with a typed error that says so.
 *
 * @module
 */

import type { AeadName, AeadProviders, Connection } from "../runtime/types.ts";
import { framedChannel, type MessageChannel, type TrafficTally } from "./channel.ts";
import type { NodeIdentity } from "./identity.ts";
import { createNoiseCredentials, type NoiseCredentials } from "./noise/payload.ts";
import { secureConnection } from "./noise/secure_connection.ts";

/** How peer connections are protected. */
export type EncryptionMode = "noise" | "plaintext";

/** A channel ready for the identity handshake. */
export interface OpenedChannel {
  /** The message channel (over the encrypted view in `noise` mode). */
  readonly channel: MessageChannel;
  /** The node id the Noise handshake proved (`noise` mode only). */
  readonly provenNodeId?: Uint8Array;
  /** The cipher the Noise handshake picked (`noise` mode only). */
  readonly cipher?: AeadName;
}

/** Inputs of {@linkcode ChannelSecurity}. */
export interface ChannelSecurityInit {
  /** `noise` (default) or `plaintext`. */
  readonly mode?: EncryptionMode;
  /** This node's identity (signs its Noise static key). */
  readonly identity: NodeIdentity;
  /** The private cluster's key (checked already), selecting XXpsk3. */
  readonly clusterKey?: Uint8Array;
  /** The AEADs the runtime offers besides Web Crypto AES-GCM (`Runtime.aeads`). */
  readonly aeads?: AeadProviders;
  /** Counts the bytes of the frames of every channel opened. */
  readonly tally?: TrafficTally;
}

/**
 * Opens peer channels in one mode (see the module doc). The node's Noise static key is made
 * once, on first use, and signed by its identity.
 *
 * @example
 * ```ts ignore
 * const security = new ChannelSecurity({ identity });
 * const { channel, provenNodeId } = await security.open(conn, "initiator", { timeoutMs: 5000 });
 * ```
 */
export class ChannelSecurity {
  /** The mode. */
  readonly mode: EncryptionMode;
  readonly #init: ChannelSecurityInit;
  #credentials: Promise<NoiseCredentials> | undefined;

  /** Creates the opener; no key is made before the first {@linkcode ChannelSecurity.open}. */
  constructor(init: ChannelSecurityInit) {
    this.#init = init;
    this.mode = init.mode ?? "noise";
  }

  /**
   * Opens `conn` as `role`. In `noise` mode, runs the Noise handshake (bounded by `timeoutMs`
   * and `signal`; `expectedNodeId` makes any other peer fail) and closes `conn` on failure.
   */
  async open(
    conn: Connection,
    role: "initiator" | "responder",
    options: {
      readonly timeoutMs: number;
      readonly signal?: AbortSignal;
      readonly expectedNodeId?: Uint8Array;
    },
  ): Promise<OpenedChannel> {
    const tally = this.#init.tally;
    if (this.mode === "plaintext") return { channel: framedChannel(conn, { tally }) };
    this.#credentials ??= createNoiseCredentials(this.#init.identity);
    const secured = await secureConnection(conn, {
      role,
      credentials: await this.#credentials,
      clusterKey: this.#init.clusterKey,
      expectedNodeId: options.expectedNodeId,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      aeads: this.#init.aeads,
    });
    return {
      channel: framedChannel(secured.connection, { tally }),
      provenNodeId: secured.remoteNodeId,
      cipher: secured.cipher,
    };
  }

  /** The cluster key the identity handshake checks: only in `plaintext` mode (Noise has the psk). */
  get handshakeClusterKey(): Uint8Array | undefined {
    return this.mode === "plaintext" ? this.#init.clusterKey : undefined;
  }
}
