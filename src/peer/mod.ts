/**
 * The peer layer: node identity, the authenticated handshake, request/response connections
 * with heartbeats and limits, and the peer manager that listens, dials and keeps the table.
 *
 * @example Serve blocks and fetch one from a peer
 * ```ts ignore
 * import { MemoryBlockService, NodeIdentity, PeerManager } from "./mod.ts";
 * const manager = new PeerManager({
 *   identity: await NodeIdentity.loadOrCreate(runtime.fs, dataDir),
 *   network: runtime.net,
 *   listen: { hostname: "0.0.0.0", port: 4000 },
 *   bootstrap: ["10.0.0.2:4000"],
 *   service: new MemoryBlockService(),
 * });
 * await manager.start();
 * const peer = await manager.connect("10.0.0.3:4000");
 * const bytes = await peer.getBlock(id);
 * await manager.shutdown();
 * ```
 *
 * @module
 */

export { formatAddress, parseAddress } from "./address.ts";
export { backoffDelay } from "./backoff.ts";
export {
  BLOCKS_VERIFY_CAPABILITY,
  FILES_AGES_CAPABILITY,
  FILES_CAPABILITY,
  FILES_REVIVAL_CAPABILITY,
  MemoryBlockService,
} from "./block_service.ts";
export type { BlockService, FileProbeResult, LeaseOptions } from "./block_service.ts";
export { framedChannel } from "./channel.ts";
export type { FramedChannelOptions, MessageChannel } from "./channel.ts";
export {
  HandshakeError,
  PeerClosedError,
  PeerCorruptDataError,
  PeerLimitError,
  PeerProtocolError,
  PeerPushCorruptError,
  PeerRemoteError,
} from "./errors.ts";
export type { HandshakeFailureReason } from "./errors.ts";
export {
  DEFAULT_CAPABILITIES,
  HANDSHAKE_DOMAIN,
  handshakeTranscript,
  MIN_PROTOCOL_VERSION,
  performHandshake,
} from "./handshake.ts";
export type { HandshakeParams, HandshakeResult } from "./handshake.ts";
export {
  IDENTITY_FILE,
  IdentityError,
  NodeIdentity,
  nodeIdOf,
  verifySignature,
} from "./identity.ts";
export { DEFAULT_PEER_OPTIONS, resolvePeerOptions } from "./options.ts";
export type { PeerOptions } from "./options.ts";
export { PeerConnection } from "./peer_connection.ts";
export {
  hostAtLimit,
  isLoopbackHost,
  overRateAnswer,
  requestBucket,
  TokenBucket,
} from "./peer_limits.ts";
export type { HostedConnection, MillisClock } from "./peer_limits.ts";
export type {
  CloseInfo,
  CloseReason,
  OutgoingMessage,
  PeerConnectionInit,
  PeerConnectionStats,
  PeerLogger,
  PeerRole,
  PutBlockOptions,
  RequestContext,
  RequestHandler,
  RequestOptions,
  StreamRequestOptions,
} from "./connection_types.ts";
export { MAX_LEARNED_FAILURES, PeerManager, PEERS_CAPABILITY } from "./peer_manager.ts";
export type { ConnectPeerOptions, PeerInfo, PeerManagerInit, PeerState } from "./peer_manager.ts";
