/**
 * The default peer layer: the peer manager over the runtime's network. (Placeholder until the
 * peer manager lands.)
 *
 * @module
 */

import { DfsError } from "../errors.ts";
import type { PeerLayer, PeerLayerInit } from "./peer_layer.ts";

/** Starts the peer manager and adapts its connections to {@linkcode RemotePeer}s. */
export function startPeerLayer(_init: PeerLayerInit): Promise<PeerLayer> {
  return Promise.reject(new DfsError("UNSUPPORTED", "peer manager not available yet"));
}
