/**
 * The message catalogue of the dfs wire protocol, as TypeScript types. The byte layout of each
 * message lives in `docs/protocol.md` and in the codec (`codec.ts`); this file is the shared
 * vocabulary of `wire/` and `peer/`.
 *
 * Every message has a `type` (one byte on the wire) and a `requestId` (u32): a request and
 * its response(s) carry the same id; the side that opened the request chose it. Id 0 is for
 * messages that belong to no request (GOODBYE).
 *
 * Type ranges: 0x01-0x0f connection control (0x06-0x07 peer exchange), 0x10-0x2f blocks and
 * data, 0x30-0x4f the DHT (0x30-0x37 used), 0x50-0x6f files and names (0x53-0x55 used: file
 * probes and tombstones, sent only to peers that announced the `files/1` capability; 0x50-0x52
 * are version 1's retired name messages, never reused), 0x70-0x7f errors and acknowledgements.
 * BAD_BLOCK (0x15) is sent only to peers that announced the `blocks/2` capability.
 *
 * @module
 */

/** Wire protocol version carried in every frame header and in HELLO. */
export const PROTOCOL_VERSION = 2;

/** Numeric message types. */
export const MessageType = {
  HELLO: 0x01,
  AUTH: 0x02,
  PING: 0x03,
  PONG: 0x04,
  GOODBYE: 0x05,
  GET_PEERS: 0x06,
  PEERS: 0x07,
  HAS: 0x10,
  HAS_RESULT: 0x11,
  GET_BLOCK: 0x12,
  BLOCK: 0x13,
  PUT_BLOCK: 0x14,
  BAD_BLOCK: 0x15,
  DELETE: 0x16,
  DATA: 0x20,
  CANCEL: 0x21,
  FIND_NODE: 0x30,
  NODES: 0x31,
  GET_PROVIDERS: 0x32,
  PROVIDERS: 0x33,
  ADD_PROVIDER: 0x34,
  GET_VALUE: 0x35,
  VALUE: 0x36,
  PUT_VALUE: 0x37,
  FILE_PROBE: 0x53,
  FILE_STATE: 0x54,
  TOMBSTONE: 0x55,
  OK: 0x70,
  ERROR: 0x7f,
} as const;

/** One of the numeric {@linkcode MessageType} values. */
export type MessageTypeCode = typeof MessageType[keyof typeof MessageType];

/** Error codes carried by {@linkcode ErrorMessage}. */
export const WireErrorCode = {
  /** Unspecified failure. */
  INTERNAL: 1,
  /** The block/file is not here. */
  NOT_FOUND: 2,
  /** The request was malformed or violated the protocol. */
  BAD_REQUEST: 3,
  /** Received bytes did not match their content id. */
  CORRUPT: 4,
  /** Too many requests in flight, or a size limit was exceeded. */
  LIMIT: 5,
  /** The request was cancelled. */
  CANCELLED: 6,
  /** The peer is shutting down. */
  SHUTTING_DOWN: 7,
  /** Unsupported protocol version or message type. */
  UNSUPPORTED: 8,
} as const;

/**
 * First message on a connection, sent by both sides at once. `nonce` is 32 fresh random bytes
 * the other side must sign in its {@linkcode AuthMessage}.
 */
export interface HelloMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.HELLO;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Highest protocol version the sender speaks. */
  readonly protocolVersion: number;
  /** SHA-256 of `publicKey` (32 bytes). */
  readonly nodeId: Uint8Array;
  /** Raw Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** 32 fresh random bytes. */
  readonly nonce: Uint8Array;
  /** Where the sender accepts connections ("host:port"), or "" when it does not listen. */
  readonly listenAddress: string;
  /** Feature names, e.g. "blocks/1". Unknown names are ignored. */
  readonly capabilities: readonly string[];
}

/** Second handshake message: the sender's Ed25519 signature over the transcript. */
export interface AuthMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.AUTH;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
}

/** Liveness probe; answered by a PONG with the same request id and payload. */
export interface PingMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.PING;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Sender's clock in milliseconds, echoed back. */
  readonly timestamp: number;
}

/** Answer to {@linkcode PingMessage}. */
export interface PongMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.PONG;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The timestamp of the PING being answered. */
  readonly timestamp: number;
}

/** The sender is closing the connection on purpose. */
export interface GoodbyeMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.GOODBYE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Human-readable reason. */
  readonly reason: string;
}

/** Asks for the listen addresses of the receiver's connected peers. Answered by PEERS. */
export interface GetPeersMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.GET_PEERS;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
}

/** Answer to {@linkcode GetPeersMessage}: where the sender's connected peers listen. */
export interface PeersMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.PEERS;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /**
   * Listen addresses ("host:port"), at most `MAX_PEER_ADDRESSES` (32), each at most
   * `MAX_ADDRESS_BYTES` (300) UTF-8 bytes. Receivers check each one before dialling it.
   */
  readonly addresses: readonly string[];
}

/** A DHT contact on the wire: a node id and where that node accepts connections. */
export interface WirePeer {
  /** The node's id (32 bytes). */
  readonly nodeId: Uint8Array;
  /** Where the node listens ("host:port"), at most `MAX_ADDRESS_BYTES` (300) UTF-8 bytes. */
  readonly address: string;
}

/**
 * A signed name record on the wire (inside VALUE and PUT_VALUE). The codec only bounds its
 * fields; what the signature covers and how a record is checked is the DHT's business.
 */
export interface WireSignedRecord {
  /** The name: UTF-8, at most `MAX_NAME_BYTES` (200) bytes. */
  readonly name: string;
  /** The value: at most `MAX_RECORD_VALUE_BYTES` (256) bytes. */
  readonly value: Uint8Array;
  /** Sequence number (u64, at most 2^53 - 1). */
  readonly seq: number;
  /** Expiry time (u64): milliseconds since the Unix epoch. */
  readonly expires: number;
  /** Raw Ed25519 public key of the signer (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature (64 bytes). */
  readonly signature: Uint8Array;
}

/** Asks for the peers the receiver knows closest to `key`. Answered by NODES. */
export interface FindNodeMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.FIND_NODE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The key looked up (32 bytes). */
  readonly key: Uint8Array;
}

/** Answer to {@linkcode FindNodeMessage}: the closest peers the sender knows. */
export interface NodesMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.NODES;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** At most `MAX_DHT_PEERS` (20) peers. */
  readonly peers: readonly WirePeer[];
}

/** Asks for the providers of the content under `key`. Answered by PROVIDERS. */
export interface GetProvidersMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.GET_PROVIDERS;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The key of the content (32 bytes). */
  readonly key: Uint8Array;
}

/** Answer to {@linkcode GetProvidersMessage}: the providers the sender knows, and closer peers. */
export interface ProvidersMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.PROVIDERS;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Peers that hold the content, at most `MAX_DHT_PEERS` (20). */
  readonly providers: readonly WirePeer[];
  /** Peers closer to the key than the sender, at most `MAX_DHT_PEERS` (20). */
  readonly closer: readonly WirePeer[];
}

/**
 * The sender holds the content under `key`. The provider recorded is always the authenticated
 * sender (its node id from the handshake, its listen address from HELLO). Answered by OK or
 * ERROR.
 */
export interface AddProviderMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.ADD_PROVIDER;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The key of the content (32 bytes). */
  readonly key: Uint8Array;
}

/** Asks for the signed record stored under `key`. Answered by VALUE. */
export interface GetValueMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.GET_VALUE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The key of the record (32 bytes). */
  readonly key: Uint8Array;
}

/**
 * Answer to {@linkcode GetValueMessage}: the record the sender holds under the key, if any
 * (sent with flag FOUND, 0x01), and peers closer to the key.
 */
export interface ValueMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.VALUE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The record held under the key (absent: the sender has none). */
  readonly record?: WireSignedRecord;
  /** Peers closer to the key than the sender, at most `MAX_DHT_PEERS` (20). */
  readonly closer: readonly WirePeer[];
}

/** Offers a signed record for the receiver to store. Answered by OK or ERROR. */
export interface PutValueMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.PUT_VALUE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The record offered. */
  readonly record: WireSignedRecord;
}

/**
 * A signed tombstone on the wire (inside FILE_STATE and TOMBSTONE): file `fileId` was deleted
 * by the node whose Ed25519 key is `issuer`. The codec only bounds its fields; what the
 * signature covers and how a tombstone is checked is the node's business
 * (`src/node/durability/tombstone.ts`).
 */
export interface WireTombstone {
  /** The deleted file's id (binary content id, SHA-256 or SHA-1 multihash). */
  readonly fileId: Uint8Array;
  /** Raw Ed25519 public key of the issuing node (32 bytes). */
  readonly issuer: Uint8Array;
  /** When the file was deleted (u64): milliseconds since the Unix epoch. */
  readonly deletedAt: number;
  /** When the tombstone may be forgotten (u64): milliseconds since the Unix epoch. */
  readonly expiresAt: number;
  /** Ed25519 signature by `issuer` (64 bytes). */
  readonly signature: Uint8Array;
  /**
   * A revival, not a tombstone: the file's owner put it again at `deletedAt` (flag REVIVAL on
   * the message; sent only to peers that announced `files/3`).
   */
  readonly revival?: boolean;
}

/**
 * Asks which of a file's blocks the receiver holds, and whether it holds a tombstone for the
 * file: the cheap check of repair. Answered by FILE_STATE.
 */
export interface FileProbeMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.FILE_PROBE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The file's id (binary content id). */
  readonly fileId: Uint8Array;
  /** Binary content ids of the blocks asked about, at most `MAX_PROBE_IDS` (1024). */
  readonly ids: readonly Uint8Array[];
}

/**
 * A copy or column of a file that the sender of a FILE_STATE sees missing, and how long ago it
 * first saw it missing (what its repair loop's grace clock says), relative so clock skew does
 * not matter.
 */
export interface WireMissingAge {
  /**
   * Which one (u16): a Reed-Solomon column `c` as `c` (below 0x8000); the `i`-th missing copy
   * of a replicated file as `0x8000 | i`.
   */
  readonly unit: number;
  /** Whole seconds since the sender first saw it missing (u32). */
  readonly ageSeconds: number;
}

/**
 * Answer to {@linkcode FileProbeMessage}: one boolean per asked id, in order, the tombstone
 * the sender holds for the file, if any (sent with flag TOMBSTONE, 0x01), and the ages of the
 * copies or columns it sees missing (flag AGES, 0x02; only to peers that announced `files/2`).
 */
export interface FileStateMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.FILE_STATE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** One answer per asked id, in order: true when the sender holds the block. */
  readonly has: readonly boolean[];
  /** The tombstone the sender holds for the file (absent: it holds none). */
  readonly tombstone?: WireTombstone;
  /** The units the sender sees missing, with their ages (at most `MAX_FILE_AGES`, 64). */
  readonly ages?: readonly WireMissingAge[];
}

/** Offers a tombstone for the receiver to keep. Answered by OK or ERROR. */
export interface TombstoneMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.TOMBSTONE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The tombstone offered. */
  readonly tombstone: WireTombstone;
}

/** Asks which of `ids` (binary content ids) the receiver holds. */
export interface HasMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.HAS;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Binary content ids (multihash bytes). */
  readonly ids: readonly Uint8Array[];
}

/** Answer to {@linkcode HasMessage}: one boolean per asked id, in order. */
export interface HasResultMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.HAS_RESULT;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** One answer per asked id, in order: true when the receiver holds it. */
  readonly present: readonly boolean[];
}

/** A byte range of a block: `length` bytes from `offset`. */
export interface ByteRange {
  /** First byte (u32). */
  readonly offset: number;
  /** Number of bytes (u32); a range past the end of the block is cut at the end. */
  readonly length: number;
}

/** Asks for a block (optionally a byte range of it). Answered by BLOCK + DATA... or ERROR. */
export interface GetBlockMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.GET_BLOCK;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Binary content id. */
  readonly id: Uint8Array;
  /** Only these bytes of the block (absent: the whole block). Sent with flag RANGE (0x01). */
  readonly range?: ByteRange;
}

/** Start of a block being sent; its bytes follow in DATA messages with the same request id. */
export interface BlockMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.BLOCK;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Binary content id. */
  readonly id: Uint8Array;
  /** Bytes that follow in DATA: the block's size, or the served range's size for a ranged GET. */
  readonly size: number;
}

/**
 * Offers a block; its bytes follow in DATA messages with the same request id. Answered by OK
 * once stored (and verified), or ERROR.
 */
export interface PutBlockMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.PUT_BLOCK;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Binary content id. */
  readonly id: Uint8Array;
  /** Total size of the block in bytes. */
  readonly size: number;
}

/**
 * Reports that the bytes the receiver sent for block `id` (a whole-block GET_BLOCK answered
 * without its own verification, to a `blocks/2` peer) did not match the id. The receiver
 * verifies its own copy and answers OK when that copy was bad and is now out of service (or it
 * no longer holds one), ERROR BAD_REQUEST when its copy verifies, ERROR LIMIT when it is asked
 * too often (it then checks nothing). Sent only to peers that announced `blocks/2`.
 */
export interface BadBlockMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.BAD_BLOCK;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Binary content id of the block whose bytes did not match. */
  readonly id: Uint8Array;
}

/** Asks the receiver to delete a block. Answered by OK (also when it was absent) or ERROR. */
export interface DeleteMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.DELETE;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** Binary content id. */
  readonly id: Uint8Array;
}

/** A piece of a streamed body. `end` marks the last piece. */
export interface DataMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.DATA;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** The bytes. */
  readonly chunk: Uint8Array;
  /** True on the last piece of the body. */
  readonly end: boolean;
}

/** The sender gives up on request `requestId` (its own, or one it is answering). */
export interface CancelMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.CANCEL;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
}

/** Generic success answer. */
export interface OkMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.OK;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
}

/** Failure answer to a request (or, with request id 0, a connection-level error before close). */
export interface ErrorMessage {
  /** Message type (the header\'s type byte). */
  readonly type: typeof MessageType.ERROR;
  /** Request id (u32): a request and its answers share it. */
  readonly requestId: number;
  /** One of {@linkcode WireErrorCode}. */
  readonly code: number;
  /** Human-readable detail. */
  readonly message: string;
}

/** Any message of the catalogue. */
export type Message =
  | HelloMessage
  | AuthMessage
  | PingMessage
  | PongMessage
  | GoodbyeMessage
  | GetPeersMessage
  | PeersMessage
  | HasMessage
  | HasResultMessage
  | GetBlockMessage
  | BlockMessage
  | PutBlockMessage
  | BadBlockMessage
  | DeleteMessage
  | DataMessage
  | CancelMessage
  | FindNodeMessage
  | NodesMessage
  | GetProvidersMessage
  | ProvidersMessage
  | AddProviderMessage
  | GetValueMessage
  | ValueMessage
  | PutValueMessage
  | FileProbeMessage
  | FileStateMessage
  | TombstoneMessage
  | OkMessage
  | ErrorMessage;
