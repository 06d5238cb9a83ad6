/**
 * The node layer — orchestration of the block store, the peers and the file layer behind the
 * {@linkcode DfsNode} contract. See `docs/node.md`.
 *
 * @example
 * ```ts ignore
 * import { Node } from "./mod.ts";
 * const node = await Node.start({ runtime, dataDir: ".dfs", listen: "127.0.0.1:4000" });
 * ```
 *
 * @module
 */

export type * from "./types.ts";
export { DFS_VERSION, Node, type NodeStartOptions } from "./node.ts";
export {
  formatAddress,
  NODE_DEFAULTS,
  type NodeLogger,
  type NodeOptions,
  type NodeTimeouts,
  parseAddress,
  type ResolvedNodeOptions,
  resolveNodeOptions,
} from "./options.ts";
export { BlockUnavailableError, NodeClosedError, PushSourceCorruptError } from "./errors.ts";
export {
  closestPeers,
  compareDistance,
  type PlacementCandidate,
  xorDistance,
} from "./placement.ts";
export { MAX_NAME_BYTES, validateName } from "./names.ts";
export type { PeerLayer, PeerLayerFactory, PeerLayerInit } from "./peer_layer.ts";
export type { PushOptions, RemoteCallOptions, RemotePeer } from "./remote.ts";
