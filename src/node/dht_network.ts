/**
 * The DHT's network over the peer layer: a request goes over the open connection to the target
 * node, or over one dialled on demand (the peer manager bounds how many are open and closes
 * idle ones). The answering contact is the connection's proven node id and the address it
 * listens on; an ERROR answer comes back as a message, so the DHT can tell a refusal from a
 * dead node, and a node that has no connection slot for us (or we for it) is reported as busy
 * (`PeerBusyError`), not dead. A request whose connection closed before it was sent (the peer,
 * or this node, closed it to make room) is tried again over a new connection (up to 3 tries).
 *
 * @module
 */

import { type Contact, contactOf } from "../dht/contact.ts";
import { PeerBusyError } from "../dht/errors.ts";
import type { DhtNetwork, DhtReply, DhtRequest, DhtTarget } from "../dht/network.ts";
import {
  HandshakeError,
  PeerClosedError,
  PeerLimitError,
  PeerRemoteError,
} from "../peer/errors.ts";
import type { OutgoingMessage } from "../peer/connection_types.ts";
import type { PeerConnection } from "../peer/peer_connection.ts";
import type { PeerManager } from "../peer/peer_manager.ts";
import { MessageType, WireErrorCode } from "../wire/messages.ts";
import { sleep } from "../util/sleep.ts";

/** Contacts of connections, made once per connection (records and tables share them). */
const contacts = new WeakMap<PeerConnection, Contact | null>();

/** The contact of a connected peer, or null when it does not listen (it cannot be dialled). */
export function contactOfConnection(conn: PeerConnection): Contact | null {
  let c = contacts.get(conn);
  if (c === undefined) {
    const address = conn.remote.listenAddress;
    try {
      c = address ? contactOf(conn.remote.nodeId, address, conn.remote.observedHost) : null;
    } catch {
      c = null;
    }
    contacts.set(conn, c);
  }
  return c;
}

/**
 * Runs `call` over the connection to `target` (the open one, or one dialled now, checked to be
 * that node), again over a new connection (up to 3 tries) when one closed under it. A refusal
 * for want of a connection slot, ours or the peer's (in or right after the handshake), is
 * retried after a short backoff and then becomes `PeerBusyError`. Retries stop once `budgetMs`
 * (the caller's timeout) has passed since the call began.
 *
 * @example
 * ```ts ignore
 * const pong = await withConnection(manager, contact, undefined, (conn) => conn.ping());
 * ```
 */
export async function withConnection<T>(
  manager: PeerManager,
  target: DhtTarget,
  signal: AbortSignal | undefined,
  call: (conn: PeerConnection) => Promise<T>,
  budgetMs: number = DEFAULT_BUDGET_MS,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let busyTries = 0;
  let closedTries = 0;
  /** Waits before the next try after a refusal for want of a slot, or gives up. */
  const backOff = async (err: unknown) => {
    const wait = BUSY_BACKOFF_MS << busyTries;
    if (busyTries >= BUSY_RETRIES || signal?.aborted || Date.now() + wait > deadline) {
      throw new PeerBusyError(String(err), { cause: err });
    }
    busyTries++;
    await sleep(wait, signal);
  };
  for (;;) {
    let conn: PeerConnection;
    try {
      conn = (target.id ? manager.peer(target.idHex) : undefined) ??
        await manager.connect(target.address, { expectedNodeId: target.id, signal });
    } catch (err) {
      if (!isNoRoom(err)) throw err;
      await backOff(err);
      continue;
    }
    try {
      return await call(conn);
    } catch (err) {
      if (signal?.aborted) throw err;
      if (isNoRoom(err)) {
        await backOff(err);
        continue;
      }
      // Closed under it (idle, or to make room, on either side): again on a new connection.
      if (
        err instanceof PeerClosedError && ++closedTries < CLOSED_RETRIES && Date.now() < deadline
      ) continue;
      throw err;
    }
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
    request(target, request, options): Promise<DhtReply> {
      return withConnection(manager, target, options.signal, async (conn) => {
        const from = contactOfConnection(conn) ?? contactOf(conn.remote.nodeId, target.address);
        try {
          const message = await conn.request(request as DhtRequest as OutgoingMessage, {
            signal: options.signal,
            timeoutMs: options.timeoutMs,
          });
          return { from, message };
        } catch (err) {
          if (!(err instanceof PeerRemoteError)) throw err;
          const message = {
            type: MessageType.ERROR,
            requestId: 0,
            code: err.wireCode,
            message: err.message,
          } as const;
          return { from, message };
        }
      }, options.timeoutMs);
    },
  };
}

/** How long `withConnection` retries when the caller gives no timeout (ms). */
const DEFAULT_BUDGET_MS = 30_000;

/** Tries of a call whose connection closed under it. */
const CLOSED_RETRIES = 3;

/** Dials retried after a refusal for want of a slot, and the first pause (doubling, ms). */
const BUSY_RETRIES = 3;
const BUSY_BACKOFF_MS = 100;

/**
 * A dial, or a connection just made, that failed for want of a connection slot: ours
 * (PeerLimitError), or the peer's (refused in the handshake, or right after it).
 */
function isNoRoom(err: unknown): boolean {
  return err instanceof PeerLimitError ||
    (err instanceof HandshakeError && err.reason === "REJECTED" &&
      err.wireCode === WireErrorCode.LIMIT) ||
    (err instanceof PeerClosedError && err.wireCode === WireErrorCode.LIMIT);
}
