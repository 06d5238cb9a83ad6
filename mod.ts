/**
 * dfs: a peer-to-peer, content-addressed distributed file store. Deno first; the same module
 * runs on Bun and Node 24.
 *
 * As a library: start a {@linkcode Node}, put and get files. As a program
 * (`deno run -A mod.ts --listen :3000`): the `dfs` command line (see `docs/cli.md`).
 *
 * @example Two nodes on the in-memory network: put on one, get from the other
 * ```ts
 * import { memoryRuntime, MemoryNetwork, Node } from "./mod.ts";
 *
 * const network = new MemoryNetwork();
 * const a = await Node.start({
 *   runtime: memoryRuntime({ network }),
 *   dataDir: "/a",
 *   listen: "10.0.0.1:4000",
 * });
 * const b = await Node.start({
 *   runtime: memoryRuntime({ network }),
 *   dataDir: "/b",
 *   listen: "10.0.0.2:4000",
 *   bootstrap: ["10.0.0.1:4000"],
 * });
 * // Encrypted by default: reading takes the capability (id + key) that put returns.
 * const put = await a.put(new TextEncoder().encode("hello, dfs"), { copies: 1 });
 * const got = await b.get(put.capability!);
 * console.log(await new Response(got.stream).text()); // "hello, dfs"
 * await b.close();
 * await a.close();
 * ```
 *
 * @module
 */

export { DFS_VERSION, Node, type NodeStartOptions } from "./src/node/node.ts";
export type {
  NodeLogger,
  NodeOptions,
  NodeTimeouts,
  ResolvedNodeOptions,
} from "./src/node/options.ts";
export type { PeerLayer, PeerLayerFactory, PeerLayerInit } from "./src/node/peer_layer.ts";
export type { PushOptions, RemoteCallOptions, RemotePeer } from "./src/node/remote.ts";
export type { PeerOptions } from "./src/peer/options.ts";
export type {
  BlockLease,
  BlockService,
  FileProbeResult,
  LeaseOptions,
} from "./src/peer/block_service.ts";
export { NodeIdentity } from "./src/peer/identity.ts";
export * from "./src/dht/mod.ts";
export { MessageType, PROTOCOL_VERSION, WireErrorCode } from "./src/wire/messages.ts";
export type {
  AddProviderMessage,
  AuthMessage,
  BadBlockMessage,
  BlockMessage,
  ByteRange as WireByteRange,
  CancelMessage,
  DataMessage,
  DeleteMessage,
  ErrorMessage,
  FileProbeMessage,
  FileStateMessage,
  FindNodeMessage,
  GetBlockMessage,
  GetPeersMessage,
  GetProvidersMessage,
  GetValueMessage,
  GoodbyeMessage,
  HasMessage,
  HasResultMessage,
  HelloMessage,
  Message,
  MessageTypeCode,
  NodesMessage,
  OkMessage,
  PeersMessage,
  PingMessage,
  PongMessage,
  ProvidersMessage,
  PutBlockMessage,
  PutValueMessage,
  TombstoneMessage,
  ValueMessage,
  WireMissingAge,
  WirePeer,
  WireSignedRecord,
  WireTombstone,
} from "./src/wire/messages.ts";
export type * from "./src/node/types.ts";
export {
  BlockUnavailableError,
  DataDirLockedError,
  IncompleteIndexError,
  NodeClosedError,
  PushSourceCorruptError,
} from "./src/node/errors.ts";
export { UPKEEP_DEFAULTS, type UpkeepOptions } from "./src/node/durability/options.ts";
export { InvalidTombstoneError, type TombstoneProblem } from "./src/node/durability/tombstone.ts";

export {
  AbortedError,
  AlreadyExistsError,
  ConnectError,
  DfsError,
  FileTooLargeError,
  InvalidArgumentError,
  IoError,
  NotFoundError,
  TimeoutError,
} from "./src/errors.ts";
export { ContentId, type HashAlgorithm, InvalidIdError } from "./src/id/content_id.ts";

export { type Durability, FsBlockStore, type StoreOptions } from "./src/store/block_store.ts";
export { casPathTransform, defaultPathTransform, type PathTransform } from "./src/store/mod.ts";
export {
  CorruptBlockError,
  EntryTooLargeError,
  InvalidKeyError,
  StoreFullError,
} from "./src/store/errors.ts";
export type * from "./src/store/types.ts";

export {
  BadCapabilityError,
  CapabilityRequiredError,
  checkRedundancy,
  convergentKey,
  ConvergentKeyMismatchError,
  CorruptFileError,
  DEFAULT_REDUNDANCY,
  type ErasurePolicy,
  formatCapability,
  formatRedundancy,
  InvalidManifestError,
  parseCapability,
  parseRedundancy,
  RangeNotSatisfiableError,
  type ReadCapability,
  type Redundancy,
  type ReplicasPolicy,
  UnrecoverableStripeError,
  WrongKeyError,
} from "./src/file/mod.ts";
export {
  type GfKernel,
  type ReconstructOptions,
  ReedSolomon,
  type ReedSolomonOptions,
  TooFewShardsError,
} from "./src/file/erasure/mod.ts";

export { FrameTooLargeError, MalformedMessageError } from "./src/wire/errors.ts";
export { HandshakeError, type HandshakeFailureReason } from "./src/peer/errors.ts";

export { type ApiHandler, type ApiHandlerOptions, createApiHandler } from "./src/api/handler.ts";
export { type BearerTokenOptions, requireBearerToken } from "./src/api/auth.ts";
export { type ApiRefusal, ApiRefusals } from "./src/api/metrics/api_refusals.ts";
export {
  type BrowserGuardOptions,
  guardBrowserRequests,
  normalizeAllowedHost,
} from "./src/api/browser_guard.ts";
export { HostNotAllowedError, OriginNotAllowedError } from "./src/api/errors.ts";
export { DASHBOARD_CSP, withDashboard } from "./src/api/dashboard/with_dashboard.ts";

export { detectRuntime } from "./src/runtime/detect.ts";
export {
  type MemoryRuntime,
  memoryRuntime,
  type MemoryRuntimeOptions,
} from "./src/runtime/memory.ts";
export { MemoryFileSystem } from "./src/runtime/memory/fs.ts";
export { MemoryHttp } from "./src/runtime/memory/http.ts";
export {
  type MemoryConnectionInfo,
  MemoryNetwork,
  type MemoryNetworkOptions,
} from "./src/runtime/memory/net.ts";
export type * from "./src/runtime/types.ts";

if (import.meta.main) {
  const { detectRuntime } = await import("./src/runtime/detect.ts");
  const { main } = await import("./src/cli/main.ts");
  const runtime = await detectRuntime();
  runtime.process!.exit(await main(runtime));
}
