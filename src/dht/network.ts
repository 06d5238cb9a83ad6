/**
 * How the DHT reaches other nodes: a {@linkcode DhtNetwork} sends one request message and
 * returns the answer together with who answered. Nodes use the peer layer's connections
 * (`peer_network.ts`); the simulation uses an in-memory network on a virtual clock.
 *
 * @module
 */

import type { Message } from "../wire/messages.ts";
import type { Contact } from "./contact.ts";

/** Where to send a request: a known contact, or only an address (a bootstrap node). */
export type DhtTarget = Contact | { readonly address: string; readonly id?: undefined };

/** A DHT request as the network carries it (the wire message without its request id). */
export type DhtRequest = Message extends infer M ? M extends Message ? Omit<M, "requestId">
  : never
  : never;

/** Options of {@linkcode DhtNetwork.request}. */
export interface DhtRequestOptions {
  /** Gives up after this many milliseconds (of the DHT's clock). */
  readonly timeoutMs: number;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
}

/** An answer and the node that gave it (its id proven by the transport). */
export interface DhtReply {
  /** Who answered. For a target given by address only, this is how its id is learned. */
  readonly from: Contact;
  /** The answer message. */
  readonly message: Message;
}

/** Sends DHT requests. Implementations reject with a `DfsError` on timeout or failure. */
export interface DhtNetwork {
  /** Sends `request` to `target` and resolves with its answer. */
  request(target: DhtTarget, request: DhtRequest, options: DhtRequestOptions): Promise<DhtReply>;
}
