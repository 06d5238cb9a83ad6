/**
 * The default peer layer: the peer manager over the runtime's network, its connections adapted
 * to {@linkcode RemotePeer}, and the node's DHT on top of it.
 *
 * The DHT's requests (FIND_NODE, GET_PROVIDERS, ADD_PROVIDER, GET_VALUE, PUT_VALUE; see
 * `docs/protocol.md`) are served on every connection; its own requests go over the open
 * connection to a node or one dialled on demand (`dht_network.ts`). A node announces
 * {@linkcode DHT_CAPABILITY}, and `files/1` (FILE_PROBE, TOMBSTONE) when its block service
 * serves them (the peer manager sees to that). Peer exchange is off: the DHT finds nodes, and connections other
 * than the bootstrap ones are made on demand and closed when idle, within `maxConnections`.
 *
 * @module
 */

import { errorFields, withCategory } from "../util/log.ts";
import { type Contact, contactOf } from "../dht/contact.ts";
import { Dht } from "../dht/dht.ts";
import { DHT_REQUEST_TYPES } from "../dht/handlers/mod.ts";
import { PeerRemoteError } from "../peer/errors.ts";
import { PeerManager } from "../peer/peer_manager.ts";
import { WireErrorCode } from "../wire/messages.ts";
import type { PeerConnection } from "../peer/peer_connection.ts";
import { contactOfConnection, peerDhtNetwork, withConnection } from "./dht_network.ts";
import { formatAddress } from "./options.ts";
import type { PeerLayer, PeerLayerInit } from "./peer_layer.ts";
import type { RemoteCallOptions, RemotePeer } from "./remote.ts";
import type { PeerSummary } from "./types.ts";

/** HELLO capability of a node that serves the DHT's requests. */
export const DHT_CAPABILITY = "dht/1";

/**
 * Starts the peer manager (listen + bootstrap), then the DHT: it joins through the bootstrap
 * addresses (looking itself up) and keeps its table fresh and its records published.
 *
 * @example
 * ```ts ignore
 * const layer = await startPeerLayer({ runtime, identity, listen, bootstrap: [], blocks, peer: {}, log });
 * layer.remotes().length; // connected peers
 * await layer.dht?.findNode(key);
 * ```
 */
export async function startPeerLayer(init: PeerLayerInit): Promise<PeerLayer> {
  const manager = new PeerManager({
    identity: init.identity,
    network: init.runtime.net,
    listen: init.listen,
    bootstrap: init.bootstrap,
    service: init.blocks,
    options: init.peer,
    log: withCategory(init.log, "dfs.peer"),
    capabilities: [DHT_CAPABILITY],
    clusterKey: init.clusterKey,
    encryption: init.encryption,
    aeads: init.runtime.aeads,
    peerExchange: false,
  });
  // Set once listening (the DHT's own contact needs the bound address).
  const started: { dht?: Dht } = {};
  for (const type of DHT_REQUEST_TYPES) {
    manager.handle(type, async (msg, ctx) => {
      if (!started.dht) throw new PeerRemoteError(WireErrorCode.SHUTTING_DOWN, "DHT not started");
      return await started.dht.handle(contactOfConnection(ctx.peer), msg);
    });
  }
  // Every peer that connects (either way) and listens is a candidate for the routing table.
  const unsubscribe = manager.onPeerConnected((conn) => {
    const c = contactOfConnection(conn);
    const d = started.dht;
    if (!c || !d) return;
    const alone = d.table.size === 0;
    d.table.seen(c);
    // A node that had no contact (its bootstrap was down at start) joins now.
    if (alone) void d.findNode(d.self.id).catch(() => {});
  });
  await manager.start();
  const address = manager.advertisedAddress ||
    (manager.address ? formatAddress(manager.address) : "");
  const dht = new Dht({
    ...init.dht,
    self: contactOf(init.identity.nodeId, address || "0.0.0.0:0"),
    network: peerDhtNetwork(manager),
    signer: init.identity,
    anyKeyMayUpdate: init.dht?.anyKeyMayUpdate ?? init.clusterKey !== undefined,
    log: withCategory(init.log, "dfs.dht"),
    onPublished: init.onNamePublished,
  });
  started.dht = dht;
  // A node is started once it tried to join: a get right after `Node.start` sees the bootstrap
  // peers that answered (bounded by the connect and handshake timeouts; failures are redialled).
  await manager.bootstrapAttempted();
  for (const conn of manager.connections()) {
    const c = contactOfConnection(conn);
    if (c) dht.table.seen(c);
  }
  if (init.bootstrap.length > 0) {
    await dht.join(init.bootstrap.map((a) => ({ address: formatAddress(a) }))).catch((err) => {
      init.log("warn", "could not join the DHT yet (it retries on refresh)", {
        ...errorFields(err),
      }, "dfs.dht");
    });
  }
  dht.start();
  let closing: Promise<void> | undefined;
  return {
    get address() {
      return manager.advertisedAddress || (manager.address ? formatAddress(manager.address) : "");
    },
    dht,
    traffic: manager.traffic,
    remotes: () =>
      manager.connections().map((conn) => {
        const c = contactOfConnection(conn);
        return c ? remoteOfConnected(manager, c) : adapt(conn);
      }),
    connect: (contact) => Promise.resolve(remoteOf(manager, contact)),
    summaries: () =>
      manager.peers().filter((p) => p.nodeId !== "").map((p): PeerSummary => ({
        nodeId: p.nodeId,
        address: p.address,
        state: p.state,
        lastSeen: p.lastSeen,
        ...(p.rttMs !== undefined ? { rttMs: p.rttMs } : {}),
      })),
    close: () => {
      closing ??= (async () => {
        unsubscribe();
        dht.stop();
        await manager.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * The node `contact` as a {@linkcode RemotePeer} that finds its connection on every call (the
 * open one, or one dialled then), so a connection closed between two calls — idle, or to make
 * room — costs a redial, not a failure; a call whose connection closed under it is tried again
 * on a new one, up to 3 tries (every block request is idempotent).
 */
/**
 * {@linkcode remoteOf} for the contact of an open connection, made once per connection (its
 * contact is): `remotes()` runs on every block a read fetches.
 */
function remoteOfConnected(manager: PeerManager, contact: Contact): RemotePeer {
  let r = byContact.get(contact);
  if (!r) {
    r = remoteOf(manager, contact);
    byContact.set(contact, r);
  }
  return r;
}

const byContact = new WeakMap<Contact, RemotePeer>();

function remoteOf(manager: PeerManager, contact: Contact): RemotePeer {
  const on = <T>(o: RemoteCallOptions | undefined, call: (conn: PeerConnection) => Promise<T>) =>
    withConnection(manager, contact, o?.signal, call, o?.timeoutMs);
  return {
    nodeId: contact.idHex,
    has: (ids, o) => on(o, (conn) => conn.has(ids, { signal: o?.signal, timeoutMs: o?.timeoutMs })),
    getBlock: (id, o) =>
      on(o, (conn) => conn.getBlock(id, { signal: o?.signal, timeoutMs: o?.timeoutMs })),
    putBlock: (id, bytes, o) =>
      on(
        o,
        (conn) =>
          conn.putBlock(id, bytes, {
            signal: o?.signal,
            timeoutMs: o?.timeoutMs,
            unverified: o?.unverified,
          }),
      ),
    deleteBlock: (id, o) =>
      on(o, (conn) => conn.deleteBlock(id, { signal: o?.signal, timeoutMs: o?.timeoutMs })),
    probe: (fileId, ids, o) =>
      on(o, (conn) => conn.probe(fileId, ids, { signal: o?.signal, timeoutMs: o?.timeoutMs })),
    sendTombstone: (t, o) =>
      on(o, (conn) => conn.sendTombstone(t, { signal: o?.signal, timeoutMs: o?.timeoutMs })),
  };
}

/** A peer that does not listen (it cannot be redialled): bound to its one connection. */
const adapted = new WeakMap<PeerConnection, RemotePeer>();

function adapt(conn: PeerConnection): RemotePeer {
  let r = adapted.get(conn);
  if (!r) {
    r = {
      nodeId: conn.nodeIdHex,
      has: (ids, o) => conn.has(ids, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      getBlock: (id, o) => conn.getBlock(id, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      putBlock: (id, bytes, o) =>
        conn.putBlock(id, bytes, {
          signal: o?.signal,
          timeoutMs: o?.timeoutMs,
          unverified: o?.unverified,
        }),
      deleteBlock: (id, o) => conn.deleteBlock(id, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      probe: (fileId, ids, o) =>
        conn.probe(fileId, ids, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      sendTombstone: (t, o) =>
        conn.sendTombstone(t, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
    };
    adapted.set(conn, r);
  }
  return r;
}
