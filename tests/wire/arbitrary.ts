/**
 * Random valid messages for property and fuzz tests.
 *
 * @module
 */

import {
  MAX_ADDRESS_BYTES,
  MAX_DHT_PEERS,
  MAX_FILE_AGES,
  MAX_NAME_BYTES,
  MAX_PEER_ADDRESSES,
  MAX_PROBE_IDS,
  MAX_RECORD_VALUE_BYTES,
  type Message,
  MessageType,
  type WirePeer,
  type WireSignedRecord,
  type WireTombstone,
} from "../../src/wire/mod.ts";
import type { Rng } from "../util/prng.ts";

const ALPHABET = ["a", "Z", "0", ":", "/", ".", " ", "é", "€", "😀", "\u0000", "\u07ff"];

/** A random well-formed string of at most `maxBytes` UTF-8 bytes. */
export function randomString(rng: Rng, maxBytes: number): string {
  let out = "";
  let bytes = 0;
  const target = rng.int(4) === 0 ? maxBytes : rng.int(maxBytes + 1);
  for (;;) {
    const c = rng.pick(ALPHABET);
    const n = new TextEncoder().encode(c).length;
    if (bytes + n > target) return out;
    out += c;
    bytes += n;
  }
}

/** A random valid binary content id (SHA-256 or SHA-1). */
export function randomId(rng: Rng): Uint8Array {
  const sha1 = rng.int(3) === 0;
  const id = new Uint8Array(sha1 ? 22 : 34);
  id[0] = sha1 ? 0x11 : 0x12;
  id[1] = sha1 ? 20 : 32;
  id.set(rng.bytes(id.length - 2), 2);
  return id;
}

function randomU32(rng: Rng): number {
  return rng.pick([0, 1, 0xffffffff, rng.int(0x100000000)]);
}

function smallCount(rng: Rng, max: number): number {
  return rng.int(8) === 0 ? max : rng.int(Math.min(max, 16) + 1);
}

/** A random valid DHT contact. */
export function randomPeer(rng: Rng): WirePeer {
  return { nodeId: rng.bytes(32), address: randomString(rng, MAX_ADDRESS_BYTES) };
}

function randomPeers(rng: Rng): WirePeer[] {
  return Array.from({ length: smallCount(rng, MAX_DHT_PEERS) }, () => randomPeer(rng));
}

function randomU64(rng: Rng): number {
  return rng.pick([0, 1, Number.MAX_SAFE_INTEGER, rng.int(2 ** 48)]);
}

/** A random valid wire signed record (the codec bounds its fields; nothing is signed). */
export function randomSignedRecord(rng: Rng): WireSignedRecord {
  const valueLength = rng.int(4) === 0
    ? rng.pick([0, MAX_RECORD_VALUE_BYTES])
    : rng.int(MAX_RECORD_VALUE_BYTES + 1);
  return {
    name: randomString(rng, MAX_NAME_BYTES),
    value: rng.bytes(valueLength),
    seq: randomU64(rng),
    expires: randomU64(rng),
    publicKey: rng.bytes(32),
    signature: rng.bytes(64),
  };
}

/** A random valid message of the DHT types (0x30-0x37). */
function randomDhtMessage(rng: Rng, requestId: number): Message {
  switch (rng.int(8)) {
    case 0:
      return { type: MessageType.FIND_NODE, requestId, key: rng.bytes(32) };
    case 1:
      return { type: MessageType.NODES, requestId, peers: randomPeers(rng) };
    case 2:
      return { type: MessageType.GET_PROVIDERS, requestId, key: rng.bytes(32) };
    case 3:
      return {
        type: MessageType.PROVIDERS,
        requestId,
        providers: randomPeers(rng),
        closer: randomPeers(rng),
      };
    case 4:
      return { type: MessageType.ADD_PROVIDER, requestId, key: rng.bytes(32) };
    case 5:
      return { type: MessageType.GET_VALUE, requestId, key: rng.bytes(32) };
    case 6:
      return rng.int(2) === 0
        ? {
          type: MessageType.VALUE,
          requestId,
          record: randomSignedRecord(rng),
          closer: randomPeers(rng),
        }
        : { type: MessageType.VALUE, requestId, closer: randomPeers(rng) };
    default:
      return { type: MessageType.PUT_VALUE, requestId, record: randomSignedRecord(rng) };
  }
}

/** A random valid wire tombstone (the codec bounds its fields; nothing is signed). */
export function randomTombstone(rng: Rng): WireTombstone {
  return {
    fileId: randomId(rng),
    issuer: rng.bytes(32),
    deletedAt: randomU64(rng),
    expiresAt: randomU64(rng),
    signature: rng.bytes(64),
  };
}

/** A random valid message of the file types (0x53-0x55). */
function randomFileMessage(rng: Rng, requestId: number): Message {
  switch (rng.int(3)) {
    case 0:
      return {
        type: MessageType.FILE_PROBE,
        requestId,
        fileId: randomId(rng),
        ids: Array.from({ length: smallCount(rng, MAX_PROBE_IDS) }, () => randomId(rng)),
      };
    case 1: {
      const has = Array.from({ length: smallCount(rng, MAX_PROBE_IDS) }, () => rng.int(2) === 1);
      const state = rng.int(2) === 0
        ? { type: MessageType.FILE_STATE, requestId, has }
        : { type: MessageType.FILE_STATE, requestId, has, tombstone: randomTombstone(rng) };
      if (rng.int(2) === 0) return state;
      const ages = Array.from({ length: smallCount(rng, MAX_FILE_AGES) }, () => ({
        unit: rng.int(0x10000),
        ageSeconds: rng.int(0x100000000),
      }));
      return { ...state, ages };
    }
    default:
      return { type: MessageType.TOMBSTONE, requestId, tombstone: randomTombstone(rng) };
  }
}

/** A random valid message of the peer-exchange types (0x06-0x07). */
function randomExchangeMessage(rng: Rng, requestId: number): Message {
  if (rng.int(2) === 0) return { type: MessageType.GET_PEERS, requestId };
  return {
    type: MessageType.PEERS,
    requestId,
    addresses: Array.from(
      { length: smallCount(rng, MAX_PEER_ADDRESSES) },
      () => randomString(rng, MAX_ADDRESS_BYTES),
    ),
  };
}

/** A random valid message of any type; `maxData` bounds DATA chunks. */
export function randomMessage(rng: Rng, maxData = 4096): Message {
  const requestId = randomU32(rng);
  switch (rng.int(20)) {
    case 0:
      return {
        type: MessageType.HELLO,
        requestId,
        protocolVersion: rng.int(256),
        nodeId: rng.bytes(32),
        publicKey: rng.bytes(32),
        nonce: rng.bytes(32),
        listenAddress: randomString(rng, 1024),
        capabilities: Array.from({ length: smallCount(rng, 32) }, () => randomString(rng, 40)),
      };
    case 1:
      return { type: MessageType.AUTH, requestId, signature: rng.bytes(64) };
    case 2:
    case 3: {
      const timestamp = rng.pick([0, Number.MAX_SAFE_INTEGER, rng.int(2 ** 48), 0xffffffff]);
      return rng.int(2) === 0
        ? { type: MessageType.PING, requestId, timestamp }
        : { type: MessageType.PONG, requestId, timestamp };
    }
    case 4:
      return { type: MessageType.GOODBYE, requestId, reason: randomString(rng, 1024) };
    case 5:
      return {
        type: MessageType.HAS,
        requestId,
        ids: Array.from({ length: smallCount(rng, 1024) }, () => randomId(rng)),
      };
    case 6:
      return {
        type: MessageType.HAS_RESULT,
        requestId,
        present: Array.from({ length: smallCount(rng, 1024) }, () => rng.int(2) === 1),
      };
    case 7:
      return rng.int(2) === 0 ? { type: MessageType.GET_BLOCK, requestId, id: randomId(rng) } : {
        type: MessageType.GET_BLOCK,
        requestId,
        id: randomId(rng),
        range: { offset: randomU32(rng), length: randomU32(rng) },
      };
    case 8:
      return { type: MessageType.BLOCK, requestId, id: randomId(rng), size: randomU32(rng) };
    case 9:
      return { type: MessageType.PUT_BLOCK, requestId, id: randomId(rng), size: randomU32(rng) };
    case 10:
      return rng.int(2) === 0
        ? { type: MessageType.DELETE, requestId, id: randomId(rng) }
        : { type: MessageType.BAD_BLOCK, requestId, id: randomId(rng) };
    case 11:
      return {
        type: MessageType.DATA,
        requestId,
        chunk: rng.bytes(rng.int(maxData + 1)),
        end: rng.int(2) === 1,
      };
    case 12:
      return { type: MessageType.CANCEL, requestId };
    case 13:
      return { type: MessageType.OK, requestId };
    case 14:
      return randomExchangeMessage(rng, requestId);
    case 15:
    case 16:
    case 17:
      return randomDhtMessage(rng, requestId);
    case 18:
      return randomFileMessage(rng, requestId);
    default:
      return {
        type: MessageType.ERROR,
        requestId,
        code: rng.int(0x10000),
        message: randomString(rng, 1024),
      };
  }
}
