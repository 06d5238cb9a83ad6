/**
 * The seam between the node and the peer layer: what the node hands to it (the service that
 * answers incoming block requests, the DHT's tuning) and what it gets back (the connected peers
 * as {@linkcode RemotePeer}s, the DHT, connections on demand). `peers.ts` builds one over the
 * peer manager; tests may pass another.
 *
 * @module
 */

import type { BlockService } from "../peer/block_service.ts";
import type { NodeIdentity } from "../peer/identity.ts";
import type { PeerOptions } from "../peer/options.ts";
import type { NetAddress, Runtime } from "../runtime/types.ts";
import type { NodeLogger } from "./options.ts";
import type { RemotePeer } from "./remote.ts";
import type { Contact } from "../dht/contact.ts";
import type { Dht } from "../dht/dht.ts";
import type { DhtTuning } from "../dht/options.ts";
import type { SignedNameRecord } from "../dht/name_record.ts";
import type { PeerSummary } from "./types.ts";

/** What a peer layer needs to start. */
export interface PeerLayerInit {
  /** Runtime (for TCP). */
  readonly runtime: Runtime;
  /** This node's identity. */
  readonly identity: NodeIdentity;
  /** Listen address. */
  readonly listen: NetAddress;
  /** Addresses to dial (and redial). */
  readonly bootstrap: readonly NetAddress[];
  /** Serves incoming block requests. */
  readonly blocks: BlockService;
  /** DHT tuning (the peer layer runs the node's DHT). */
  readonly dht?: DhtTuning;
  /** Called with each name record the node's DHT signs (to keep it on disk). */
  readonly onNamePublished?: (record: SignedNameRecord) => Promise<void>;
  /** Peer layer knobs. */
  readonly peer: Partial<PeerOptions>;
  /** Log sink. */
  readonly log: NodeLogger;
  /** The cluster key: only peers holding it complete a handshake (undefined: open cluster). */
  readonly clusterKey?: Uint8Array;
  /** `noise` (default) or `plaintext`. */
  readonly encryption?: "noise" | "plaintext";
}

/** A running peer layer as the node sees it. */
export interface PeerLayer {
  /** The address it listens on, "host:port". */
  readonly address: string;
  /** Connected (established) peers. */
  remotes(): RemotePeer[];
  /** Bytes of peer message frames sent and received since start (absent in test layers). */
  readonly traffic?: { readonly sent: number; readonly received: number };
  /** Every known peer, for `DfsNode.peers()`. */
  summaries(): PeerSummary[];
  /** The node's DHT (absent in test layers that have none: names stay local there). */
  readonly dht?: Dht;
  /**
   * The node `contact` as a {@linkcode RemotePeer}: each call goes over its open connection or
   * one dialled then (checked to be that node), so naming many nodes costs nothing until they
   * are used. Absent in layers without a DHT.
   */
  connect?(contact: Contact, signal?: AbortSignal): Promise<RemotePeer>;
  /** Closes every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Starts a peer layer. */
export type PeerLayerFactory = (init: PeerLayerInit) => Promise<PeerLayer>;
