/**
 * docs/protocol.md's test vectors against the codec: every `vector: NAME` block decodes to its
 * expected message and re-encodes to the same bytes; every `invalid: NAME CODE` block fails
 * with CODE. The expected messages are spelled out here, not derived from the codec.
 */

import assert from "node:assert/strict";
import { DfsError } from "../../src/errors.ts";
import { fromHex } from "../../src/util/hex.ts";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  MessageType,
  readMessages,
  WireErrorCode,
} from "../../src/wire/mod.ts";
import { seq, sha1Id, sha256Id, TOMBSTONE } from "./samples.ts";

const DOC = new URL("../../docs/protocol.md", import.meta.url);

const EXPECTED: Record<string, Message> = {
  HELLO: {
    type: MessageType.HELLO,
    requestId: 0,
    protocolVersion: 2,
    nodeId: seq(32, 0x00),
    publicKey: seq(32, 0x20),
    nonce: seq(32, 0x40),
    listenAddress: "127.0.0.1:3000",
    capabilities: ["blocks/1", "dht/1"],
  },
  AUTH: { type: MessageType.AUTH, requestId: 0, signature: seq(64, 0x80) },
  PING: { type: MessageType.PING, requestId: 1, timestamp: 1_790_000_000_000 },
  PONG: { type: MessageType.PONG, requestId: 1, timestamp: 1_790_000_000_000 },
  GOODBYE: { type: MessageType.GOODBYE, requestId: 0, reason: "shutting down" },
  GET_PEERS: { type: MessageType.GET_PEERS, requestId: 8 },
  PEERS: { type: MessageType.PEERS, requestId: 8, addresses: ["10.0.0.2:4000", "[::1]:4001"] },
  HAS: { type: MessageType.HAS, requestId: 2, ids: [sha256Id(0xa0), sha1Id(0xc0)] },
  HAS_RESULT: { type: MessageType.HAS_RESULT, requestId: 2, present: [true, false] },
  GET_BLOCK: { type: MessageType.GET_BLOCK, requestId: 3, id: sha256Id(0xa0) },
  "GET_BLOCK+RANGE": {
    type: MessageType.GET_BLOCK,
    requestId: 4,
    id: sha256Id(0xa0),
    range: { offset: 4096, length: 1024 },
  },
  BLOCK: { type: MessageType.BLOCK, requestId: 3, id: sha256Id(0xa0), size: 262144 },
  PUT_BLOCK: { type: MessageType.PUT_BLOCK, requestId: 5, id: sha1Id(0xc0), size: 5 },
  DELETE: { type: MessageType.DELETE, requestId: 6, id: sha256Id(0xa0) },
  BAD_BLOCK: { type: MessageType.BAD_BLOCK, requestId: 9, id: sha256Id(0xa0) },
  DATA: { type: MessageType.DATA, requestId: 5, chunk: seq(5, 0x61), end: false },
  "DATA+END": { type: MessageType.DATA, requestId: 5, chunk: new Uint8Array(0), end: true },
  CANCEL: { type: MessageType.CANCEL, requestId: 7 },
  FIND_NODE: { type: MessageType.FIND_NODE, requestId: 11, key: seq(32, 0xa0) },
  NODES: {
    type: MessageType.NODES,
    requestId: 11,
    peers: [
      { nodeId: seq(32, 0x00), address: "10.0.0.2:4000" },
      { nodeId: seq(32, 0x60), address: "[::1]:4001" },
    ],
  },
  GET_PROVIDERS: { type: MessageType.GET_PROVIDERS, requestId: 12, key: seq(32, 0xa0) },
  PROVIDERS: {
    type: MessageType.PROVIDERS,
    requestId: 12,
    providers: [{ nodeId: seq(32, 0x00), address: "10.0.0.2:4000" }],
    closer: [{ nodeId: seq(32, 0x60), address: "[::1]:4001" }],
  },
  ADD_PROVIDER: { type: MessageType.ADD_PROVIDER, requestId: 13, key: seq(32, 0xa0) },
  GET_VALUE: { type: MessageType.GET_VALUE, requestId: 14, key: seq(32, 0xa0) },
  VALUE: {
    type: MessageType.VALUE,
    requestId: 14,
    record: {
      name: "doc",
      value: sha256Id(0xa0),
      seq: 3,
      expires: 1_790_086_400_000,
      publicKey: seq(32, 0x20),
      signature: seq(64, 0x80),
    },
    closer: [],
  },
  "VALUE+MISSING": {
    type: MessageType.VALUE,
    requestId: 14,
    closer: [{ nodeId: seq(32, 0x60), address: "[::1]:4001" }],
  },
  PUT_VALUE: {
    type: MessageType.PUT_VALUE,
    requestId: 15,
    record: {
      name: "doc",
      value: sha256Id(0xa0),
      seq: 3,
      expires: 1_790_086_400_000,
      publicKey: seq(32, 0x20),
      signature: seq(64, 0x80),
    },
  },
  FILE_PROBE: {
    type: MessageType.FILE_PROBE,
    requestId: 16,
    fileId: sha256Id(0xa0),
    ids: [sha256Id(0xa0), sha1Id(0xc0)],
  },
  FILE_STATE: { type: MessageType.FILE_STATE, requestId: 16, has: [true, false] },
  "FILE_STATE+TOMBSTONE": {
    type: MessageType.FILE_STATE,
    requestId: 16,
    tombstone: {
      fileId: sha256Id(0xa0),
      issuer: seq(32, 0x20),
      deletedAt: 1_790_000_000_000,
      expiresAt: 1_792_592_000_000,
      signature: seq(64, 0x80),
    },
    has: [false, false],
  },
  "FILE_STATE+AGES": {
    type: MessageType.FILE_STATE,
    requestId: 16,
    has: [true, false],
    ages: [{ unit: 3, ageSeconds: 600 }, { unit: 0x8001, ageSeconds: 86_400 }],
  },
  TOMBSTONE: { type: MessageType.TOMBSTONE, requestId: 17, tombstone: TOMBSTONE },
  "TOMBSTONE+REVIVAL": {
    type: MessageType.TOMBSTONE,
    requestId: 18,
    tombstone: { ...TOMBSTONE, revival: true },
  },
  OK: { type: MessageType.OK, requestId: 5 },
  ERROR: {
    type: MessageType.ERROR,
    requestId: 3,
    code: WireErrorCode.NOT_FOUND,
    message: "no block",
  },
};

interface Vector {
  readonly kind: "vector" | "invalid";
  readonly name: string;
  readonly code?: string;
  readonly bytes: Uint8Array;
}

/** Finds `vector: NAME` / `invalid: NAME CODE` lines and the ```hex block after each. */
function parseVectors(markdown: string): Vector[] {
  const re = /^(vector|invalid): (\S+)(?: (\S+))?\s*\n\s*```hex\n([\s\S]*?)```/gm;
  const out: Vector[] = [];
  for (const m of markdown.matchAll(re)) {
    const hex = m[4].replace(/#.*$/gm, "").replace(/\s+/g, "");
    const bytes = fromHex(hex);
    if (bytes === null) throw new Error(`vector ${m[2]}: not hex`);
    out.push({ kind: m[1] as Vector["kind"], name: m[2], code: m[3], bytes });
  }
  return out;
}

const VECTORS = parseVectors(await Deno.readTextFile(DOC));

function bodyOf(frame: Uint8Array): Uint8Array {
  const declared = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
  assert.equal(declared, frame.length - 4, "length prefix matches the body");
  return frame.subarray(4);
}

Deno.test("protocol_doc_has_a_vector_for_every_expected_message", () => {
  const names = VECTORS.filter((v) => v.kind === "vector").map((v) => v.name);
  assert.deepEqual(names.toSorted(), Object.keys(EXPECTED).toSorted());
  assert.equal(new Set(names).size, names.length, "vector names are unique");
  const types = new Set(Object.values(EXPECTED).map((m) => m.type));
  assert.deepEqual([...types].toSorted(), Object.values(MessageType).toSorted());
});

Deno.test("protocol_doc_vectors_decode_to_the_expected_messages", () => {
  for (const v of VECTORS.filter((v) => v.kind === "vector")) {
    assert.deepEqual(decodeMessage(bodyOf(v.bytes)), EXPECTED[v.name], v.name);
  }
});

Deno.test("protocol_doc_vectors_are_what_the_encoder_writes", () => {
  for (const v of VECTORS.filter((v) => v.kind === "vector")) {
    assert.deepEqual(encodeMessage(EXPECTED[v.name]), v.bytes, v.name);
  }
});

Deno.test("protocol_doc_invalid_vectors_fail_with_their_code", async () => {
  const invalid = VECTORS.filter((v) => v.kind === "invalid");
  assert.ok(invalid.length >= 10, "the doc lists invalid inputs");
  for (const v of invalid) {
    await assert.rejects(
      async () => {
        for await (const _ of readMessages(ReadableStream.from([v.bytes]))) {
          // draining; a vector that decodes fails below
        }
      },
      (e) => {
        assert.ok(e instanceof DfsError, `${v.name}: not a DfsError`);
        assert.equal(e.code, v.code, v.name);
        return true;
      },
      v.name,
    );
  }
});
