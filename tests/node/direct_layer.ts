/**
 * A peer layer for node tests that connects nodes in one process by direct calls (no wire),
 * verifying blocks like a real connection. Lets node logic be tested apart from the peer layer.
 *
 * @module
 */

import { DfsError, NotFoundError } from "../../src/errors.ts";
import type { ContentId } from "../../src/id/content_id.ts";
import type { PeerLayer, PeerLayerFactory } from "../../src/node/peer_layer.ts";
import type { RemotePeer } from "../../src/node/remote.ts";
import type { BlockService } from "../../src/peer/block_service.ts";
import { PeerPushCorruptError, PeerRemoteError } from "../../src/peer/errors.ts";
import { WireErrorCode } from "../../src/wire/messages.ts";

interface Member {
  nodeId: string;
  address: string;
  blocks: BlockService;
  open: boolean;
  links: Set<Member>;
}

/** A set of nodes; a node sees those it bootstrapped from and those that bootstrapped from it. */
export class DirectHub {
  readonly members = new Map<string, Member>();
  #port = 1;

  /** The factory to pass as `peerLayer`. */
  readonly factory: PeerLayerFactory = (init) => {
    const me: Member = {
      nodeId: init.identity.nodeIdHex,
      address: `direct:${this.#port++}`,
      blocks: init.blocks,
      open: true,
      links: new Set(),
    };
    this.members.set(me.nodeId, me);
    for (const b of init.bootstrap) {
      const other = [...this.members.values()].find((m) => m.address === `${b.hostname}:${b.port}`);
      if (other && other !== me) {
        other.links.add(me);
        me.links.add(other);
      }
    }
    const layer: PeerLayer = {
      address: me.address,
      remotes: () => me.open ? [...me.links].filter((m) => m.open).map((m) => remoteOf(m)) : [],
      summaries: () =>
        [...me.links].filter((m) => m.open && me.open).map((m) => ({
          nodeId: m.nodeId,
          address: m.address,
          state: "connected",
          lastSeen: Date.now(),
        })),
      close: () => {
        me.open = false;
        return Promise.resolve();
      },
    };
    return Promise.resolve(layer);
  };
}

function remoteOf(m: Member): RemotePeer {
  const check = () => {
    if (!m.open) throw new DfsError("PEER_CLOSED", `peer ${m.nodeId} is gone`);
  };
  return {
    nodeId: m.nodeId,
    has: (ids) => (check(), m.blocks.has([...ids])),
    getBlock: async (id: ContentId) => {
      check();
      const bytes = await m.blocks.get(id);
      if (!bytes) throw new NotFoundError(`peer has no block ${id}`);
      if (!(await id.matches(bytes))) {
        throw new DfsError("PEER_CORRUPT_DATA", `block ${id} from ${m.nodeId} is corrupt`);
      }
      return bytes.slice();
    },
    putBlock: async (id, bytes, o) => {
      check();
      if (!(await id.matches(bytes))) {
        // As a connection to a `blocks/2` peer: an unverified push refused as corrupt.
        if (o?.unverified) throw new PeerPushCorruptError(`peer refused ${id}`, true);
        throw new DfsError("CORRUPT_BLOCK", "bad put");
      }
      await m.blocks.put(id, bytes.slice());
    },
    deleteBlock: async (id) => {
      check();
      await m.blocks.delete(id);
    },
    // As a connection: a service without the handler answers ERROR UNSUPPORTED.
    probe: async (fileId, ids) => {
      check();
      if (!m.blocks.probe) throw new PeerRemoteError(WireErrorCode.UNSUPPORTED, "no probes");
      return await m.blocks.probe(fileId, [...ids]);
    },
    sendTombstone: async (t) => {
      check();
      if (!m.blocks.tombstone) {
        throw new PeerRemoteError(WireErrorCode.UNSUPPORTED, "no tombstones");
      }
      try {
        await m.blocks.tombstone(t);
      } catch (err) {
        // A connection answers a refused tombstone ERROR BAD_REQUEST.
        if (!(err instanceof DfsError) || err.code !== "INVALID_TOMBSTONE") throw err;
        throw new PeerRemoteError(WireErrorCode.BAD_REQUEST, err.message);
      }
    },
  };
}
