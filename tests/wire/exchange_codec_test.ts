/**
 * The peer-exchange (GET_PEERS/PEERS) and name (NAME_GET/NAME_RECORD/NAME_PUT) messages: the
 * encoder refuses what the decoder would refuse, so a node never sends what its peer rejects.
 */

import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  MalformedMessageError,
  MAX_ADDRESS_BYTES,
  MAX_NAME_BYTES,
  MAX_PEER_ADDRESSES,
  type Message,
  MessageType,
} from "../../src/wire/mod.ts";
import { seq, sha256Id } from "./samples.ts";

const record = { name: "doc", fileId: sha256Id(0xa0), version: 1, nodeId: seq(32) };

Deno.test("encoder_refuses_out_of_bound_peer_and_name_fields", () => {
  const bad = [
    {
      type: MessageType.PEERS,
      requestId: 1,
      addresses: new Array(MAX_PEER_ADDRESSES + 1).fill("a:1"),
    },
    { type: MessageType.PEERS, requestId: 1, addresses: ["a".repeat(MAX_ADDRESS_BYTES + 1)] },
    { type: MessageType.NAME_GET, requestId: 1, name: "é".repeat(MAX_NAME_BYTES / 2 + 1) },
    { type: MessageType.NAME_GET, requestId: 1, name: "\ud800" },
    { type: MessageType.NAME_PUT, requestId: 1, record: { ...record, nodeId: seq(31) } },
    { type: MessageType.NAME_PUT, requestId: 1, record: { ...record, version: 2 ** 53 } },
    { type: MessageType.NAME_PUT, requestId: 1, record: null },
    { type: MessageType.NAME_RECORD, requestId: 1, found: true, name: "doc" },
    { type: MessageType.NAME_RECORD, requestId: 1, found: 1, name: "doc" },
  ];
  for (const msg of bad) {
    assert.throws(() => encodeMessage(msg as unknown as Message), MalformedMessageError);
  }
});

Deno.test("peer_and_name_fields_at_their_bounds_round_trip", () => {
  const good: Message[] = [
    {
      type: MessageType.PEERS,
      requestId: 2,
      addresses: new Array(MAX_PEER_ADDRESSES).fill("x".repeat(MAX_ADDRESS_BYTES)),
    },
    { type: MessageType.NAME_GET, requestId: 2, name: "n".repeat(MAX_NAME_BYTES) },
    {
      type: MessageType.NAME_RECORD,
      requestId: 2,
      found: true,
      ...record,
      version: Number.MAX_SAFE_INTEGER,
    },
  ];
  for (const msg of good) {
    assert.deepEqual(decodeMessage(encodeMessage(msg).subarray(4)), msg);
  }
});
