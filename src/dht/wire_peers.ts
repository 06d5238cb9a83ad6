/**
 * Contacts to and from their wire form (`WirePeer`: 32-byte node id, "host:port"). What a peer
 * sends is checked: entries whose id is not 32 bytes or whose address does not parse are
 * dropped, duplicates are kept once, and at most `max` are taken.
 *
 * @module
 */

import { parseAddress } from "../peer/address.ts";
import type { WirePeer } from "../wire/messages.ts";
import { type Contact, contactOf } from "./contact.ts";
import { KEY_BYTES } from "./key.ts";

/** The wire form of contacts. */
export function toWirePeers(contacts: readonly Contact[]): WirePeer[] {
  return contacts.map((c) => ({ nodeId: c.id, address: c.address }));
}

/**
 * The usable contacts of a peer list received from the network (at most `max`).
 *
 * @example
 * ```ts
 * import { fromWirePeers } from "./wire_peers.ts";
 * const good = { nodeId: new Uint8Array(32), address: "127.0.0.1:4000" };
 * const bad = { nodeId: new Uint8Array(3), address: "127.0.0.1:4000" };
 * console.log(fromWirePeers([good, bad, good], 20).length); // 1
 * ```
 */
export function fromWirePeers(peers: readonly WirePeer[], max: number): Contact[] {
  const out: Contact[] = [];
  const seen = new Set<string>();
  for (const p of peers) {
    if (out.length >= max) break;
    if (!(p?.nodeId instanceof Uint8Array) || p.nodeId.length !== KEY_BYTES) continue;
    if (typeof p.address !== "string") continue;
    try {
      parseAddress(p.address);
    } catch {
      continue;
    }
    const c = contactOf(p.nodeId.slice(), p.address);
    if (seen.has(c.idHex)) continue;
    seen.add(c.idHex);
    out.push(c);
  }
  return out;
}
