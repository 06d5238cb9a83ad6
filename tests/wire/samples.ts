/**
 * One sample of every message type, shared by the wire tests.
 *
 * @module
 */

import {
  type Message,
  MessageType,
  WireErrorCode,
  type WireSignedRecord,
  type WireTombstone,
} from "../../src/wire/mod.ts";

/** Bytes 0, 1, 2... of length `n`, offset by `start`. */
export function seq(n: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

/** A SHA-256 content id with digest bytes start, start+1, ... */
export function sha256Id(start: number): Uint8Array {
  const id = new Uint8Array(34);
  id[0] = 0x12;
  id[1] = 0x20;
  id.set(seq(32, start), 2);
  return id;
}

/** A SHA-1 content id with digest bytes start, start+1, ... */
export function sha1Id(start: number): Uint8Array {
  const id = new Uint8Array(22);
  id[0] = 0x11;
  id[1] = 0x14;
  id.set(seq(20, start), 2);
  return id;
}

/** A signed record with the shared values: a content id as value, key 20.., signature 80... */
export const SIGNED_RECORD: WireSignedRecord = {
  name: "doc",
  value: sha256Id(0xa0),
  seq: 3,
  expires: 1_790_086_400_000,
  publicKey: seq(32, 0x20),
  signature: seq(64, 0x80),
};

/**
 * A tombstone with the shared values: file id a0.., issuer key 20.., deleted at
 * 1,790,000,000,000 ms, expiring 30 days later, signature 80...
 */
export const TOMBSTONE: WireTombstone = {
  fileId: sha256Id(0xa0),
  issuer: seq(32, 0x20),
  deletedAt: 1_790_000_000_000,
  expiresAt: 1_792_592_000_000,
  signature: seq(64, 0x80),
};

/** One (or two) messages of every type. */
export const SAMPLES: readonly Message[] = [
  {
    type: MessageType.HELLO,
    requestId: 0,
    protocolVersion: 2,
    nodeId: seq(32, 0x00),
    publicKey: seq(32, 0x20),
    nonce: seq(32, 0x40),
    listenAddress: "127.0.0.1:3000",
    capabilities: ["blocks/1", "dht/1"],
  },
  { type: MessageType.AUTH, requestId: 0, signature: seq(64, 0x80) },
  { type: MessageType.PING, requestId: 1, timestamp: 1_790_000_000_000 },
  { type: MessageType.PONG, requestId: 1, timestamp: 1_790_000_000_000 },
  { type: MessageType.GOODBYE, requestId: 0, reason: "shutting down" },
  { type: MessageType.GET_PEERS, requestId: 8 },
  { type: MessageType.PEERS, requestId: 8, addresses: ["10.0.0.2:4000", "[::1]:4001"] },
  { type: MessageType.HAS, requestId: 2, ids: [sha256Id(0xa0), sha1Id(0xc0)] },
  { type: MessageType.HAS_RESULT, requestId: 2, present: [true, false] },
  { type: MessageType.GET_BLOCK, requestId: 3, id: sha256Id(0xa0) },
  {
    type: MessageType.GET_BLOCK,
    requestId: 4,
    id: sha256Id(0xa0),
    range: { offset: 4096, length: 1024 },
  },
  { type: MessageType.BLOCK, requestId: 3, id: sha256Id(0xa0), size: 262144 },
  { type: MessageType.PUT_BLOCK, requestId: 5, id: sha1Id(0xc0), size: 5 },
  { type: MessageType.DELETE, requestId: 6, id: sha256Id(0xa0) },
  { type: MessageType.BAD_BLOCK, requestId: 9, id: sha256Id(0xa0) },
  { type: MessageType.DATA, requestId: 5, chunk: seq(5, 0x61), end: false },
  { type: MessageType.DATA, requestId: 5, chunk: new Uint8Array(0), end: true },
  { type: MessageType.CANCEL, requestId: 7 },
  { type: MessageType.FIND_NODE, requestId: 11, key: seq(32, 0xa0) },
  {
    type: MessageType.NODES,
    requestId: 11,
    peers: [
      { nodeId: seq(32, 0x00), address: "10.0.0.2:4000" },
      { nodeId: seq(32, 0x60), address: "[::1]:4001" },
    ],
  },
  { type: MessageType.GET_PROVIDERS, requestId: 12, key: seq(32, 0xa0) },
  {
    type: MessageType.PROVIDERS,
    requestId: 12,
    providers: [{ nodeId: seq(32, 0x00), address: "10.0.0.2:4000" }],
    closer: [{ nodeId: seq(32, 0x60), address: "[::1]:4001" }],
  },
  { type: MessageType.ADD_PROVIDER, requestId: 13, key: seq(32, 0xa0) },
  { type: MessageType.GET_VALUE, requestId: 14, key: seq(32, 0xa0) },
  { type: MessageType.VALUE, requestId: 14, record: SIGNED_RECORD, closer: [] },
  {
    type: MessageType.VALUE,
    requestId: 14,
    closer: [{ nodeId: seq(32, 0x60), address: "[::1]:4001" }],
  },
  { type: MessageType.PUT_VALUE, requestId: 15, record: SIGNED_RECORD },
  {
    type: MessageType.FILE_PROBE,
    requestId: 16,
    fileId: sha256Id(0xa0),
    ids: [sha256Id(0xa0), sha1Id(0xc0)],
  },
  { type: MessageType.FILE_STATE, requestId: 16, has: [true, false] },
  { type: MessageType.FILE_STATE, requestId: 16, has: [false, false], tombstone: TOMBSTONE },
  { type: MessageType.TOMBSTONE, requestId: 17, tombstone: TOMBSTONE },
  { type: MessageType.OK, requestId: 5 },
  { type: MessageType.ERROR, requestId: 3, code: WireErrorCode.NOT_FOUND, message: "no block" },
];
