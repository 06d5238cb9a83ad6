/**
 * The default peer layer: the peer manager over the runtime's network, its connections adapted
 * to {@linkcode RemotePeer}.
 *
 * Names travel inside blocks until the wire catalogue has name messages: a name record is sent
 * as a PUT_BLOCK whose bytes are `"DFSN" 0x01` followed by the record's JSON (a content-addressed
 * block like any other, verified by the connection). A receiver stores it like any block and, when
 * the bytes parse as a record, also offers the record to its names. Each node pushes every record it
 * holds to a peer when they connect, and a new binding to every connected peer, so a node's local
 * records are the latest among the peers it has been connected to; resolving reads them.
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import type { BlockService } from "../peer/block_service.ts";
import { PeerManager } from "../peer/peer_manager.ts";
import type { PeerConnection } from "../peer/peer_connection.ts";
import { formatAddress } from "./options.ts";
import { decodeNameRecord, encodeNameRecord } from "./names.ts";
import type { NameService, PeerLayer, PeerLayerInit } from "./peer_layer.ts";
import type { RemoteCallOptions, RemotePeer } from "./remote.ts";
import type { NameRecord, PeerSummary } from "./types.ts";

const NAME_MAGIC = new Uint8Array([0x44, 0x46, 0x53, 0x4e, 0x01]); // "DFSN" v1

/** Encodes a name record as the bytes of a name block. */
export function encodeNameBlock(record: NameRecord): Uint8Array {
  const body = encodeNameRecord(record);
  const out = new Uint8Array(NAME_MAGIC.length + body.length);
  out.set(NAME_MAGIC);
  out.set(body, NAME_MAGIC.length);
  return out;
}

/** Decodes a name block, or returns `null` when `bytes` is not one. */
export function decodeNameBlock(bytes: Uint8Array): NameRecord | null {
  if (bytes.length <= NAME_MAGIC.length || bytes.length > 4096) return null;
  for (let i = 0; i < NAME_MAGIC.length; i++) if (bytes[i] !== NAME_MAGIC[i]) return null;
  return decodeNameRecord(bytes.subarray(NAME_MAGIC.length));
}

/**
 * Starts the peer manager (listen + bootstrap) and returns the node's view of it.
 *
 * @example
 * ```ts ignore
 * const layer = await startPeerLayer({ runtime, identity, listen, bootstrap: [], blocks, names, peer: {}, log });
 * layer.remotes().length; // connected peers
 * ```
 */
export async function startPeerLayer(init: PeerLayerInit): Promise<PeerLayer> {
  const service = withNames(init.blocks, init.names, init.log);
  const manager = new PeerManager({
    identity: init.identity,
    network: init.runtime.net,
    listen: init.listen,
    bootstrap: init.bootstrap,
    service,
    options: init.peer,
    log: init.log,
  });
  const unsubscribe = manager.onPeerConnected((conn) => void pushAllNames(conn, init));
  await manager.start();
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

/** Wraps a block service so received name blocks also update the names. */
function withNames(
  blocks: BlockService,
  names: NameService,
  log: PeerLayerInit["log"],
): BlockService {
  return {
    has: (ids) => blocks.has(ids),
    get: (id) => blocks.get(id),
    delete: (id) => blocks.delete(id),
    put: async (id, bytes) => {
      const record = decodeNameBlock(bytes);
      if (record) {
        try {
          await names.put(record);
        } catch (err) {
          log("debug", "ignored a name block", { error: String(err) });
        }
      }
      // Stored even when it is a name block: a file's data block may look like one, and a
      // replica must never silently lack a block it confirmed. A name block costs ~200 bytes.
      await blocks.put(id, bytes);
    },
  };
}

async function pushAllNames(conn: PeerConnection, init: PeerLayerInit): Promise<void> {
  try {
    for (const record of await init.names.all()) {
      if (!conn.isOpen) return;
      await sendName(conn, record, {});
    }
  } catch (err) {
    init.log("debug", "name sync failed", { peer: conn.nodeIdHex, error: String(err) });
  }
}

async function sendName(
  conn: PeerConnection,
  record: NameRecord,
  options: RemoteCallOptions,
): Promise<void> {
  const bytes = encodeNameBlock(record);
  await conn.putBlock(await ContentId.of(bytes), bytes, { signal: options.signal });
}

const adapted = new WeakMap<PeerConnection, RemotePeer>();

function adapt(conn: PeerConnection): RemotePeer {
  let r = adapted.get(conn);
  if (!r) {
    r = {
      nodeId: conn.nodeIdHex,
      has: (ids, o) => conn.has(ids, { signal: o?.signal }),
      getBlock: (id, o) => conn.getBlock(id, { signal: o?.signal }),
      putBlock: (id, bytes, o) => conn.putBlock(id, bytes, { signal: o?.signal }),
      deleteBlock: (id, o) => conn.deleteBlock(id, { signal: o?.signal }),
      putName: (record, o) => sendName(conn, record, o ?? {}),
    };
    adapted.set(conn, r);
  }
  return r;
}
