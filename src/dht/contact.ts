/**
 * A contact: a node as the DHT knows it — its 32-byte node id and the address it accepts
 * connections on.
 *
 * @module
 */

import { toHex } from "../util/hex.ts";
import { InvalidArgumentError } from "../errors.ts";
import { KEY_BYTES } from "./key.ts";

/** A node the DHT can send requests to. */
export interface Contact {
  /** Node id (32 bytes). */
  readonly id: Uint8Array;
  /** The same id, hex (map keys, logs). */
  readonly idHex: string;
  /** Where it listens, "host:port". */
  readonly address: string;
  /**
   * The host its connection to this node came from, when it reached us over one: what the
   * subnet rule counts (an address a peer claims is its own choice; this one is not).
   */
  readonly observedHost?: string;
}

/**
 * A contact from an id and an address. Throws {@linkcode InvalidArgumentError} when the id is
 * not {@linkcode KEY_BYTES} bytes or the address is empty.
 *
 * @example
 * ```ts
 * import { contactOf } from "./contact.ts";
 * const c = contactOf(new Uint8Array(32), "127.0.0.1:3000");
 * console.log(c.idHex.length); // 64
 * ```
 */
export function contactOf(id: Uint8Array, address: string, observedHost?: string): Contact {
  if (!(id instanceof Uint8Array) || id.length !== KEY_BYTES) {
    throw new InvalidArgumentError(`a node id has ${KEY_BYTES} bytes, got ${id?.length}`);
  }
  if (typeof address !== "string" || address === "") {
    throw new InvalidArgumentError("a contact needs an address");
  }
  return observedHost === undefined
    ? { id, idHex: toHex(id), address }
    : { id, idHex: toHex(id), address, observedHost };
}
