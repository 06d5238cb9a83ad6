/**
 * The peer-exchange messages (GET_PEERS/PEERS): the encoder refuses what the decoder would
 * refuse, so a node never sends what its peer rejects.
 */

import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  MalformedMessageError,
  MAX_ADDRESS_BYTES,
  MAX_PEER_ADDRESSES,
  type Message,
  MessageType,
} from "../../src/wire/mod.ts";

Deno.test("encoder_refuses_out_of_bound_peer_fields", () => {
  const bad = [
    {
      type: MessageType.PEERS,
      requestId: 1,
      addresses: new Array(MAX_PEER_ADDRESSES + 1).fill("a:1"),
    },
    { type: MessageType.PEERS, requestId: 1, addresses: ["a".repeat(MAX_ADDRESS_BYTES + 1)] },
    { type: MessageType.PEERS, requestId: 1, addresses: ["\ud800"] },
    { type: MessageType.PEERS, requestId: 1, addresses: null },
  ];
  for (const msg of bad) {
    assert.throws(() => encodeMessage(msg as unknown as Message), MalformedMessageError);
  }
});

Deno.test("peer_fields_at_their_bounds_round_trip", () => {
  const good: Message[] = [
    {
      type: MessageType.PEERS,
      requestId: 2,
      addresses: new Array(MAX_PEER_ADDRESSES).fill("x".repeat(MAX_ADDRESS_BYTES)),
    },
    { type: MessageType.PEERS, requestId: 2, addresses: [] },
    { type: MessageType.GET_PEERS, requestId: 2 },
  ];
  for (const msg of good) {
    assert.deepEqual(decodeMessage(encodeMessage(msg).subarray(4)), msg);
  }
});
