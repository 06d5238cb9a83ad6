/**
 * The DHT's network over the peer layer: a request goes over the open connection to the target
 * node, or over one dialled on demand (the peer manager bounds how many are open and closes
 * idle ones). The answering contact is the connection's proven node id and the address it
 * listens on; an ERROR answer comes back as a message, so the DHT can tell a refusal from a
 * dead node.
 *
 * @module
 */

import { type Contact, contactOf } from "../dht/contact.ts";
import type { DhtNetwork, DhtReply, DhtRequest } from "../dht/network.ts";
import { PeerRemoteError } from "../peer/errors.ts";
import type { OutgoingMessage, PeerConnection } from "../peer/peer_connection.ts";
import type { PeerManager } from "../peer/peer_manager.ts";
import { MessageType } from "../wire/messages.ts";

/** The contact of a connected peer, or null when it does not listen (it cannot be dialled). */
export function contactOfConnection(conn: PeerConnection): Contact | null {
  const address = conn.remote.listenAddress;
  if (!address) return null;
  try {
    return contactOf(conn.remote.nodeId, address);
  } catch {
    return null;
  }
}

/**
 * A {@linkcode DhtNetwork} over `manager`'s connections.
 *
 * @example
 * ```ts ignore
 * const dht = new Dht({ self, network: peerDhtNetwork(manager), signer: identity });
 * ```
 */
export function peerDhtNetwork(manager: PeerManager): DhtNetwork {
  return {
    async request(target, request, options): Promise<DhtReply> {
      const conn = (target.id ? manager.peer(target.idHex) : undefined) ??
        await manager.connect(target.address, {
          expectedNodeId: target.id,
          signal: options.signal,
        });
      const from = contactOfConnection(conn) ??
        contactOf(conn.remote.nodeId, target.address);
      try {
        const message = await conn.request(request as DhtRequest as OutgoingMessage, {
          signal: options.signal,
          timeoutMs: options.timeoutMs,
        });
        return { from, message };
      } catch (err) {
        if (err instanceof PeerRemoteError) {
          const message = {
            type: MessageType.ERROR,
            requestId: 0,
            code: err.wireCode,
            message: err.message,
          } as const;
          return { from, message };
        }
        throw err;
      }
    },
  };
}
