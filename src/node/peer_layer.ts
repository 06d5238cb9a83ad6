/**
 * The seam between the node and the peer layer: what the node hands to it (the services that
 * answer incoming requests) and what it gets back (the connected peers as
 * {@linkcode RemotePeer}s). `peers.ts` builds one over the peer manager; tests may pass another.
 *
 * @module
 */

import type { BlockService } from "../peer/block_service.ts";
import type { NodeIdentity } from "../peer/identity.ts";
import type { PeerOptions } from "../peer/options.ts";
import type { NetAddress, Runtime } from "../runtime/types.ts";
import type { NodeLogger } from "./options.ts";
import type { RemotePeer } from "./remote.ts";
import type { NameRecord, PeerSummary } from "./types.ts";

/** Answers name requests from peers. */
export interface NameService {
  /** The local record of `name`, or `null`. */
  get(name: string): Promise<NameRecord | null>;
  /** Keeps `record` when it wins over the local one. */
  put(record: NameRecord): Promise<void>;
  /** Every record held locally (pushed to a peer when it connects). */
  all(): Promise<NameRecord[]>;
}

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
  /** Serves incoming name requests. */
  readonly names: NameService;
  /** Peer layer knobs. */
  readonly peer: Partial<PeerOptions>;
  /** Log sink. */
  readonly log: NodeLogger;
  /** The cluster key: only peers holding it complete a handshake (undefined: open cluster). */
  readonly clusterKey?: Uint8Array;
}

/** A running peer layer as the node sees it. */
export interface PeerLayer {
  /** The address it listens on, "host:port". */
  readonly address: string;
  /** Connected (established) peers. */
  remotes(): RemotePeer[];
  /** Every known peer, for `DfsNode.peers()`. */
  summaries(): PeerSummary[];
  /** Closes every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Starts a peer layer. */
export type PeerLayerFactory = (init: PeerLayerInit) => Promise<PeerLayer>;
