/**
 * The default peer layer: the peer manager over the runtime's network, its connections adapted
 * to {@linkcode RemotePeer}, and the name messages served.
 *
 * Names travel as wire messages (`docs/protocol.md`): NAME_GET asks a peer for its record of a
 * name (answered NAME_RECORD), NAME_PUT offers a record (the receiver keeps it only when it wins,
 * last write wins; answered OK). A node announces {@linkcode NAMES_CAPABILITY} and only sends them
 * to peers that announced it too. Each node pushes every record it holds to a peer when they
 * connect, so records converge after offline periods; resolving a name asks every connected peer
 * (see `names.ts`).
 *
 * @module
 */

import { PeerProtocolError, PeerRemoteError } from "../peer/errors.ts";
import { PeerManager } from "../peer/peer_manager.ts";
import type { PeerConnection, RequestHandler } from "../peer/peer_connection.ts";
import { MessageType, WireErrorCode } from "../wire/messages.ts";
import { fromWireNameRecord, toWireNameRecord } from "./name_wire.ts";
import { validateName } from "./names.ts";
import { formatAddress } from "./options.ts";
import type { NameService, PeerLayer, PeerLayerInit } from "./peer_layer.ts";
import type { RemoteCallOptions, RemotePeer } from "./remote.ts";
import type { NameRecord, PeerSummary } from "./types.ts";

/** HELLO capability of a node that serves NAME_GET and NAME_PUT. */
export const NAMES_CAPABILITY = "names/1";

/**
 * Starts the peer manager (listen + bootstrap + peer exchange) and returns the node's view of
 * it.
 *
 * @example
 * ```ts ignore
 * const layer = await startPeerLayer({ runtime, identity, listen, bootstrap: [], blocks, names, peer: {}, log });
 * layer.remotes().length; // connected peers
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
    log: init.log,
    capabilities: [NAMES_CAPABILITY],
    clusterKey: init.clusterKey,
  });
  manager.handle(MessageType.NAME_GET, serveNameGet(init.names));
  manager.handle(MessageType.NAME_PUT, serveNamePut(init.names));
  const unsubscribe = manager.onPeerConnected((conn) => void pushAllNames(conn, init));
  await manager.start();
  // A node is started once it tried to join: a get right after `Node.start` sees the bootstrap
  // peers that answered (bounded by the connect and handshake timeouts; failures are redialled).
  await manager.bootstrapAttempted();
  let closing: Promise<void> | undefined;
  return {
    get address() {
      return manager.advertisedAddress || (manager.address ? formatAddress(manager.address) : "");
    },
    remotes: () => manager.connections().map(adapt),
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
        await manager.shutdown();
      })();
      return closing;
    },
  };
}

/** Answers NAME_GET from the local records; a bad name is ERROR BAD_REQUEST. */
function serveNameGet(names: NameService): RequestHandler {
  return async (msg) => {
    if (msg.type !== MessageType.NAME_GET) throw badRequest("expected NAME_GET");
    try {
      validateName(msg.name);
    } catch (err) {
      throw badRequest(err instanceof Error ? err.message : "invalid name");
    }
    const record = await names.get(msg.name);
    if (record && record.name === msg.name) {
      try {
        return { type: MessageType.NAME_RECORD, found: true, ...toWireNameRecord(record) };
      } catch {
        // A local record the wire cannot carry (not written by a real node): as if absent.
      }
    }
    return { type: MessageType.NAME_RECORD, found: false, name: msg.name };
  };
}

/** Offers a pushed record to the local names (kept only if it wins); a bad one is BAD_REQUEST. */
function serveNamePut(names: NameService): RequestHandler {
  return async (msg) => {
    if (msg.type !== MessageType.NAME_PUT) throw badRequest("expected NAME_PUT");
    const record = fromWireNameRecord(msg.record);
    if (!record) throw badRequest("malformed name record");
    await names.put(record);
    return { type: MessageType.OK };
  };
}

function badRequest(message: string): PeerRemoteError {
  return new PeerRemoteError(WireErrorCode.BAD_REQUEST, message);
}

async function pushAllNames(conn: PeerConnection, init: PeerLayerInit): Promise<void> {
  if (!servesNames(conn)) return;
  try {
    for (const record of await init.names.all()) {
      if (!conn.isOpen) return;
      await putName(conn, record, {});
    }
  } catch (err) {
    init.log("debug", "name sync failed", { peer: conn.nodeIdHex, error: String(err) });
  }
}

function servesNames(conn: PeerConnection): boolean {
  return conn.remote.capabilities.includes(NAMES_CAPABILITY);
}

async function getName(
  conn: PeerConnection,
  name: string,
  options: RemoteCallOptions,
): Promise<NameRecord | null> {
  const answer = await conn.request({ type: MessageType.NAME_GET, name }, {
    signal: options.signal,
  });
  if (answer.type !== MessageType.NAME_RECORD || answer.name !== name) {
    throw new PeerProtocolError(`peer answered NAME_GET ${JSON.stringify(name)} with another name`);
  }
  if (!answer.found) return null;
  const record = fromWireNameRecord(answer);
  if (!record) throw new PeerProtocolError(`peer sent a malformed record for ${name}`);
  return record;
}

async function putName(
  conn: PeerConnection,
  record: NameRecord,
  options: RemoteCallOptions,
): Promise<void> {
  const answer = await conn.request(
    { type: MessageType.NAME_PUT, record: toWireNameRecord(record) },
    { signal: options.signal },
  );
  if (answer.type !== MessageType.OK) {
    throw new PeerProtocolError(`peer answered NAME_PUT with type 0x${answer.type.toString(16)}`);
  }
}

const adapted = new WeakMap<PeerConnection, RemotePeer>();

function adapt(conn: PeerConnection): RemotePeer {
  let r = adapted.get(conn);
  if (!r) {
    r = {
      nodeId: conn.nodeIdHex,
      has: (ids, o) => conn.has(ids, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      getBlock: (id, o) => conn.getBlock(id, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      putBlock: (id, bytes, o) =>
        conn.putBlock(id, bytes, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      deleteBlock: (id, o) => conn.deleteBlock(id, { signal: o?.signal, timeoutMs: o?.timeoutMs }),
      ...(servesNames(conn)
        ? {
          getName: (name: string, o?: RemoteCallOptions) => getName(conn, name, o ?? {}),
          putName: (record: NameRecord, o?: RemoteCallOptions) => putName(conn, record, o ?? {}),
        }
        : {}),
    };
    adapted.set(conn, r);
  }
  return r;
}
