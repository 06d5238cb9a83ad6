/**
 * The Kademlia DHT: {@linkcode Dht} and the types it takes and gives.
 *
 * @module
 */

export {
  Dht,
  type DhtCallOptions,
  type DhtInit,
  type DhtLogger,
  type DhtStats,
  type ProvidersResult,
  type ResolveResult,
  type StoreResult,
} from "./dht.ts";
export { type Clock, systemClock, type TimerHandle } from "./clock.ts";
export { type Contact, contactOf } from "./contact.ts";
export {
  DhtProtocolError,
  NoPeersError,
  PeerBusyError,
  ProviderLimitError,
  RecordRejectedError,
  type RecordRejection,
} from "./errors.ts";
export { KEY_BYTES, keyOfContentId, keyOfName } from "./key.ts";
export type { LookupResult } from "./lookup.ts";
export {
  type RecordSigner,
  type SignedNameRecord,
  signNameRecord,
  type UnsignedNameRecord,
  verifyNameRecord,
} from "./name_record.ts";
export type { DhtNetwork, DhtReply, DhtRequest, DhtRequestOptions, DhtTarget } from "./network.ts";
export { type DhtTuning, type ResolvedDhtTuning, resolveDhtTuning } from "./options.ts";
export {
  type BucketCount,
  RoutingTable,
  type RoutingTableOptions,
  type SeenOutcome,
} from "./routing_table.ts";
