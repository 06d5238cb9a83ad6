/**
 * The DHT messages (FIND_NODE ... PUT_VALUE): the encoder refuses what the decoder would
 * refuse, so a node never sends what its peer rejects; fields at their bounds round-trip.
 */

import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  FLAG_FOUND,
  MalformedMessageError,
  MAX_ADDRESS_BYTES,
  MAX_DHT_PEERS,
  MAX_NAME_BYTES,
  MAX_RECORD_VALUE_BYTES,
  type Message,
  MessageType,
  type WirePeer,
} from "../../src/wire/mod.ts";
import { seq, SIGNED_RECORD } from "./samples.ts";

const peer: WirePeer = { nodeId: seq(32), address: "10.0.0.2:4000" };
const peers = (n: number): WirePeer[] => new Array(n).fill(peer);

Deno.test("encoder_refuses_out_of_bound_dht_fields", () => {
  const bad = [
    { type: MessageType.FIND_NODE, requestId: 1, key: seq(31) },
    { type: MessageType.FIND_NODE, requestId: 1, key: seq(33) },
    { type: MessageType.GET_PROVIDERS, requestId: 1, key: "a0" },
    { type: MessageType.ADD_PROVIDER, requestId: 1 },
    { type: MessageType.GET_VALUE, requestId: 1, key: null },
    { type: MessageType.NODES, requestId: 1, peers: peers(MAX_DHT_PEERS + 1) },
    { type: MessageType.NODES, requestId: 1, peers: [{ ...peer, nodeId: seq(31) }] },
    {
      type: MessageType.NODES,
      requestId: 1,
      peers: [{ ...peer, address: "a".repeat(MAX_ADDRESS_BYTES + 1) }],
    },
    { type: MessageType.NODES, requestId: 1, peers: [null] },
    { type: MessageType.PROVIDERS, requestId: 1, providers: peers(MAX_DHT_PEERS + 1), closer: [] },
    { type: MessageType.PROVIDERS, requestId: 1, providers: [], closer: peers(MAX_DHT_PEERS + 1) },
    { type: MessageType.VALUE, requestId: 1, closer: peers(MAX_DHT_PEERS + 1) },
    { type: MessageType.VALUE, requestId: 1, record: null, closer: [] },
    { type: MessageType.VALUE, requestId: 1, record: SIGNED_RECORD },
    {
      type: MessageType.PUT_VALUE,
      requestId: 1,
      record: { ...SIGNED_RECORD, value: seq(MAX_RECORD_VALUE_BYTES + 1) },
    },
    {
      type: MessageType.PUT_VALUE,
      requestId: 1,
      record: { ...SIGNED_RECORD, name: "é".repeat(MAX_NAME_BYTES / 2 + 1) },
    },
    { type: MessageType.PUT_VALUE, requestId: 1, record: { ...SIGNED_RECORD, name: "\ud800" } },
    { type: MessageType.PUT_VALUE, requestId: 1, record: null },
    { type: MessageType.VALUE, requestId: 1, record: { name: "doc" }, closer: [] },
    { type: MessageType.PUT_VALUE, requestId: 1, record: { ...SIGNED_RECORD, seq: 2 ** 53 } },
    { type: MessageType.PUT_VALUE, requestId: 1, record: { ...SIGNED_RECORD, expires: -1 } },
    {
      type: MessageType.PUT_VALUE,
      requestId: 1,
      record: { ...SIGNED_RECORD, publicKey: seq(31) },
    },
    {
      type: MessageType.PUT_VALUE,
      requestId: 1,
      record: { ...SIGNED_RECORD, signature: seq(63) },
    },
    { type: MessageType.PUT_VALUE, requestId: 1, record: { ...SIGNED_RECORD, value: "x" } },
    { type: MessageType.PUT_VALUE, requestId: 1, record: undefined },
  ];
  for (const msg of bad) {
    assert.throws(
      () => encodeMessage(msg as unknown as Message),
      MalformedMessageError,
      JSON.stringify(msg),
    );
  }
});

Deno.test("dht_fields_at_their_bounds_round_trip", () => {
  const longPeer = { nodeId: seq(32, 0x60), address: "x".repeat(MAX_ADDRESS_BYTES) };
  const bigRecord = {
    ...SIGNED_RECORD,
    name: "n".repeat(MAX_NAME_BYTES),
    value: seq(MAX_RECORD_VALUE_BYTES),
    seq: Number.MAX_SAFE_INTEGER,
    expires: Number.MAX_SAFE_INTEGER,
  };
  const good: Message[] = [
    { type: MessageType.NODES, requestId: 2, peers: new Array(MAX_DHT_PEERS).fill(longPeer) },
    { type: MessageType.NODES, requestId: 2, peers: [] },
    {
      type: MessageType.PROVIDERS,
      requestId: 2,
      providers: new Array(MAX_DHT_PEERS).fill(longPeer),
      closer: new Array(MAX_DHT_PEERS).fill(longPeer),
    },
    { type: MessageType.PROVIDERS, requestId: 2, providers: [], closer: [] },
    { type: MessageType.VALUE, requestId: 2, record: bigRecord, closer: peers(MAX_DHT_PEERS) },
    { type: MessageType.VALUE, requestId: 2, closer: [] },
    { type: MessageType.PUT_VALUE, requestId: 2, record: bigRecord },
    { type: MessageType.PUT_VALUE, requestId: 2, record: { ...SIGNED_RECORD, value: seq(0) } },
    {
      type: MessageType.VALUE,
      requestId: 2,
      record: { ...SIGNED_RECORD, name: "é".repeat(MAX_NAME_BYTES / 2) },
      closer: [],
    },
  ];
  for (const msg of good) {
    assert.deepEqual(decodeMessage(encodeMessage(msg).subarray(4)), msg);
  }
});

Deno.test("value_sets_flag_found_exactly_when_a_record_is_present", () => {
  const found = encodeMessage({
    type: MessageType.VALUE,
    requestId: 3,
    record: SIGNED_RECORD,
    closer: [],
  });
  assert.equal(found[6], FLAG_FOUND);
  const missing = encodeMessage({ type: MessageType.VALUE, requestId: 3, closer: [] });
  assert.equal(missing[6], 0);
  const decoded = decodeMessage(missing.subarray(4));
  assert.ok(!("record" in decoded), "no record key without FOUND");
});

Deno.test("decoded_dht_fields_do_not_alias_the_body", () => {
  const body = encodeMessage({ type: MessageType.PUT_VALUE, requestId: 4, record: SIGNED_RECORD })
    .subarray(4).slice();
  const msg = decodeMessage(body);
  body.fill(0);
  assert.deepEqual(msg, { type: MessageType.PUT_VALUE, requestId: 4, record: SIGNED_RECORD });
});

Deno.test("decoder_checks_the_value_length_before_reading_the_value", () => {
  // PUT_VALUE: name "doc", then a value declaring 0xffff bytes with none present.
  const head = encodeMessage({ type: MessageType.PUT_VALUE, requestId: 5, record: SIGNED_RECORD })
    .subarray(4, 4 + 7 + 5);
  const body = new Uint8Array([...head, 0xff, 0xff]);
  assert.throws(() => decodeMessage(body), (e) => {
    assert.ok(e instanceof MalformedMessageError);
    assert.match(e.message, /exceeds 256/);
    return true;
  });
});
