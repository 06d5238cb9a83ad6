/**
 * A {@linkcode RemotePeer} for a DHT contact that connects only when first used: placement and
 * provider lists name many nodes, and most of them are never called.
 *
 * @module
 */

import type { Contact } from "../dht/contact.ts";
import type { RemotePeer } from "./remote.ts";

/**
 * A remote peer that dials `contact` (through `connect`) on its first call, and reuses the
 * connection after; a failed dial fails that call and the next call dials again.
 *
 * @example
 * ```ts ignore
 * const peer = lazyRemote(contact, (c, signal) => layer.connect!(c, signal));
 * await peer.has([id]); // connects now
 * ```
 */
export function lazyRemote(
  contact: Contact,
  connect: (contact: Contact, signal?: AbortSignal) => Promise<RemotePeer>,
): RemotePeer {
  const peer = (signal?: AbortSignal) => connect(contact, signal);
  return {
    nodeId: contact.idHex,
    has: async (ids, o) => (await peer(o?.signal)).has(ids, o),
    getBlock: async (id, o) => (await peer(o?.signal)).getBlock(id, o),
    putBlock: async (id, bytes, o) => (await peer(o?.signal)).putBlock(id, bytes, o),
    deleteBlock: async (id, o) => (await peer(o?.signal)).deleteBlock(id, o),
  };
}
