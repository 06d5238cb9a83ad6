import assert from "node:assert/strict";
import { type Contact, contactOf } from "../../src/dht/contact.ts";
import { Dht } from "../../src/dht/dht.ts";
import { compareDistance, keyInBucket, keyOfName } from "../../src/dht/key.ts";
import { type SignedNameRecord, signNameRecord } from "../../src/dht/name_record.ts";
import type { DhtNetwork } from "../../src/dht/network.ts";
import type { DhtTuning } from "../../src/dht/options.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { type Message, MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { Rng, testSeed } from "../util/prng.ts";
import { hexes, loopback } from "./helpers.ts";

const SEED = testSeed(0x5eed_0e01);
const START = 1_790_000_000_000;
const HOUR = 3600_000;

const alice = await NodeIdentity.generate();
const bob = await NodeIdentity.generate();

/**
 * A network where every node answers PING with PONG, FIND_NODE with no peers and ADD_PROVIDER /
 * PUT_VALUE with OK, at once: enough for this node's own lookups to end, and for the heads of
 * its full buckets to stay.
 */
const agreeable: DhtNetwork = {
  request: (target, request) => {
    const requestId = 1;
    const message: Message = request.type === MessageType.FIND_NODE
      ? { type: MessageType.NODES, requestId, peers: [] }
      : request.type === MessageType.PING
      ? { type: MessageType.PONG, requestId, timestamp: request.timestamp }
      : { type: MessageType.OK, requestId };
    return Promise.resolve({ from: target as Contact, message });
  },
};

interface Setup {
  readonly dht: Dht;
  readonly clock: VirtualClock;
  readonly rng: Rng;
  /** Contacts in the table. */
  readonly known: Contact[];
}

/** A Dht (k = 5) whose table holds 30 contacts. */
function setup(tuning: DhtTuning = {}): Setup {
  const rng = new Rng(SEED);
  const clock = new VirtualClock(START);
  const self = contactOf(rng.bytes(32), "127.0.0.1:4000");
  const dht = new Dht({ self, network: agreeable, clock, k: 5, ...tuning });
  const known: Contact[] = [];
  for (let i = 1; i <= 30; i++) {
    const c = contactOf(rng.bytes(32), loopback(i));
    if (dht.table.seen(c) === "added") known.push(c);
  }
  return { dht, clock, rng, known };
}

/** Asserts that `answer` is an ERROR with `code` and returns its message. */
function errorOf(answer: Message, code: number): string {
  assert.equal(answer.type, MessageType.ERROR, `expected ERROR, got 0x${answer.type.toString(16)}`);
  if (answer.type !== MessageType.ERROR) throw new Error("unreachable");
  assert.equal(answer.code, code);
  return answer.message;
}

function record(
  who: NodeIdentity,
  name: string,
  seq: number,
  expires = START + HOUR,
  value = "v",
): Promise<SignedNameRecord> {
  return signNameRecord(who, { name, value: new TextEncoder().encode(value), seq, expires });
}

Deno.test("find_node_answers_the_k_closest_without_the_asker", async () => {
  const { dht, rng, known } = setup();
  for (let i = 0; i < 20; i++) {
    const asker = rng.pick(known);
    const key = i % 2 === 0 ? asker.id : rng.bytes(32); // the asker is the closest to its id
    const answer = await dht.handle(asker, { type: MessageType.FIND_NODE, requestId: 40 + i, key });
    assert.equal(answer.type, MessageType.NODES);
    if (answer.type !== MessageType.NODES) return;
    assert.equal(answer.requestId, 40 + i);
    assert.equal(answer.peers.length, 5);
    const ids = answer.peers.map((p) => toHexId(p.nodeId));
    assert.ok(!ids.includes(asker.idHex), "never the asker");
    assert.ok(!ids.includes(dht.self.idHex), "never itself");
    assert.deepEqual(ids, hexes(dht.table.closest(key, 5, new Set([asker.idHex]))));
  }
});

Deno.test("find_node_from_an_unreachable_sender_answers_the_k_closest", async () => {
  const { dht, rng } = setup();
  const key = rng.bytes(32);
  const answer = await dht.handle(null, { type: MessageType.FIND_NODE, requestId: 1, key });
  assert.equal(answer.type, MessageType.NODES);
  if (answer.type !== MessageType.NODES) return;
  assert.deepEqual(answer.peers.map((p) => toHexId(p.nodeId)), hexes(dht.table.closest(key, 5)));
});

Deno.test("a_request_puts_its_sender_in_the_table", async () => {
  const { dht, rng } = setup({ k: 20 });
  const stranger = contactOf(keyInBucket(dht.self.id, 12, rng.bytes(32)), "127.1.1.1:4000");
  const before = dht.table.size;
  await dht.handle(stranger, { type: MessageType.FIND_NODE, requestId: 1, key: rng.bytes(32) });
  assert.equal(dht.table.size, before + 1);
  assert.ok(dht.table.get(stranger.idHex, stranger.id));
  // Itself as the sender (a loop) is not added.
  await dht.handle(dht.self, { type: MessageType.FIND_NODE, requestId: 2, key: rng.bytes(32) });
  assert.equal(dht.table.size, before + 1);
  assert.equal(dht.stats().requestsServed, 2);
});

Deno.test("get_providers_answers_the_providers_held_and_closer_contacts", async () => {
  const { dht, rng, known } = setup();
  const key = rng.bytes(32);
  const [p1, p2, asker] = known;
  for (const p of [p1, p2]) {
    const ok = await dht.handle(p, { type: MessageType.ADD_PROVIDER, requestId: 3, key });
    assert.deepEqual(ok, { type: MessageType.OK, requestId: 3 });
  }
  const answer = await dht.handle(asker, { type: MessageType.GET_PROVIDERS, requestId: 4, key });
  assert.equal(answer.type, MessageType.PROVIDERS);
  if (answer.type !== MessageType.PROVIDERS) return;
  assert.equal(answer.requestId, 4);
  assert.deepEqual(answer.providers.map((p) => toHexId(p.nodeId)), hexes([p2, p1]));
  assert.deepEqual(answer.providers.map((p) => p.address), [p2.address, p1.address]);
  assert.ok(answer.closer.length <= 5);
  assert.ok(!answer.closer.some((p) => toHexId(p.nodeId) === asker.idHex));
  const none = await dht.handle(asker, {
    type: MessageType.GET_PROVIDERS,
    requestId: 5,
    key: rng.bytes(32),
  });
  assert.equal(none.type === MessageType.PROVIDERS && none.providers.length, 0);
});

Deno.test("get_providers_includes_this_node_when_it_provides_the_key", async () => {
  const { dht, clock, rng, known } = setup();
  const key = rng.bytes(32);
  const result = await clock.runUntil(dht.provide(key));
  assert.equal(result.asked, 5);
  assert.equal(result.stored, 5);
  const answer = await dht.handle(known[0], { type: MessageType.GET_PROVIDERS, requestId: 6, key });
  assert.equal(answer.type, MessageType.PROVIDERS);
  if (answer.type !== MessageType.PROVIDERS) return;
  assert.equal(toHexId(answer.providers[0].nodeId), dht.self.idHex);
  assert.equal(answer.providers[0].address, dht.self.address);
  // With a full list of providers held, itself still comes first and the list stays at 20.
  const many = setup({ k: 20, maxProvidersPerKey: 64 });
  await many.clock.runUntil(many.dht.provide(key));
  for (let i = 0; i < 25; i++) {
    const p = contactOf(many.rng.bytes(32), loopback(100 + i));
    await many.dht.handle(p, { type: MessageType.ADD_PROVIDER, requestId: 7, key });
  }
  const full = await many.dht.handle(null, { type: MessageType.GET_PROVIDERS, requestId: 8, key });
  assert.equal(full.type, MessageType.PROVIDERS);
  if (full.type !== MessageType.PROVIDERS) return;
  assert.equal(full.providers.length, 20);
  assert.equal(toHexId(full.providers[0].nodeId), many.dht.self.idHex);
  // Once it stops providing, it is no longer listed.
  dht.unprovide(key);
  const after = await dht.handle(known[0], { type: MessageType.GET_PROVIDERS, requestId: 9, key });
  assert.ok(
    after.type === MessageType.PROVIDERS &&
      !after.providers.some((p) => toHexId(p.nodeId) === dht.self.idHex),
  );
});

Deno.test("add_provider_from_a_sender_without_an_address_is_a_bad_request", async () => {
  const { dht, rng } = setup();
  const key = rng.bytes(32);
  const answer = await dht.handle(null, { type: MessageType.ADD_PROVIDER, requestId: 10, key });
  errorOf(answer, WireErrorCode.BAD_REQUEST);
  assert.equal(answer.requestId, 10);
  assert.equal(dht.stats().providerRecords, 0);
});

Deno.test("a_peer_announcing_more_than_max_keys_per_provider_gets_limit", async () => {
  const { dht, rng, known } = setup({ maxKeysPerProvider: 10 });
  const spammer = known[0];
  for (let i = 0; i < 10; i++) {
    const answer = await dht.handle(spammer, {
      type: MessageType.ADD_PROVIDER,
      requestId: i + 1,
      key: rng.bytes(32),
    });
    assert.equal(answer.type, MessageType.OK, `key ${i}`);
  }
  for (let i = 0; i < 5; i++) {
    const answer = await dht.handle(spammer, {
      type: MessageType.ADD_PROVIDER,
      requestId: 100 + i,
      key: rng.bytes(32),
    });
    errorOf(answer, WireErrorCode.LIMIT);
  }
  assert.equal(dht.stats().providerRecords, 10);
  // Another peer is not held to the spammer's quota.
  const other = await dht.handle(known[1], {
    type: MessageType.ADD_PROVIDER,
    requestId: 200,
    key: rng.bytes(32),
  });
  assert.equal(other.type, MessageType.OK);
});

Deno.test("put_value_stores_a_valid_record_and_get_value_returns_it", async () => {
  const { dht, known } = setup();
  const r = await record(alice, "docs", 1);
  const ok = await dht.handle(known[0], { type: MessageType.PUT_VALUE, requestId: 11, record: r });
  assert.deepEqual(ok, { type: MessageType.OK, requestId: 11 });
  const key = await keyOfName("docs");
  const answer = await dht.handle(known[1], { type: MessageType.GET_VALUE, requestId: 12, key });
  assert.equal(answer.type, MessageType.VALUE);
  if (answer.type !== MessageType.VALUE) return;
  assert.equal(answer.requestId, 12);
  assert.deepEqual(answer.record, r);
  assert.ok(answer.closer.length <= 5);
  assert.ok(!answer.closer.some((p) => toHexId(p.nodeId) === known[1].idHex));
  const other = await dht.handle(known[1], {
    type: MessageType.GET_VALUE,
    requestId: 13,
    key: await keyOfName("nothing"),
  });
  assert.equal(other.type, MessageType.VALUE);
  assert.equal(other.type === MessageType.VALUE && other.record, undefined);
  assert.equal(dht.stats().nameRecords, 1);
});

Deno.test("put_value_refusals_are_errors_with_the_reason", async () => {
  const { dht, known } = setup();
  const from = known[0];
  const put = (r: SignedNameRecord, requestId = 20) =>
    dht.handle(from, { type: MessageType.PUT_VALUE, requestId, record: r });
  await put(await record(alice, "docs", 5));

  const good = await record(alice, "docs", 6);
  const bad = { ...good, value: new Uint8Array([1, 2, 3]) };
  assert.match(errorOf(await put(bad), WireErrorCode.BAD_REQUEST), /^BAD_SIGNATURE: /);
  assert.match(
    errorOf(await put(await record(alice, "docs", 6, START)), WireErrorCode.BAD_REQUEST),
    /^EXPIRED: /,
  );
  assert.match(
    errorOf(await put(await record(alice, "docs", 6, START + 30 * 24 * HOUR)), 3),
    /^TOO_FAR_IN_FUTURE: /,
  );
  assert.match(
    errorOf(await put(await record(alice, "docs", 4)), WireErrorCode.BAD_REQUEST),
    /^STALE_SEQUENCE: /,
  );
  assert.match(
    errorOf(await put(await record(alice, "docs", 5, START + HOUR, "w")), 3),
    /^CONFLICT: /,
  );
  assert.match(
    errorOf(await put(await record(bob, "docs", 9)), WireErrorCode.BAD_REQUEST),
    /^NOT_OWNER: /,
  );
  const answer = await put(good, 77);
  assert.deepEqual(answer, { type: MessageType.OK, requestId: 77 }, "the good one still goes in");
});

Deno.test("put_value_to_a_full_store_is_limit", async () => {
  const { dht, known } = setup({ maxNameRecords: 1 });
  const put = (r: SignedNameRecord) =>
    dht.handle(known[0], { type: MessageType.PUT_VALUE, requestId: 1, record: r });
  // A full store makes room only for a name closer to this node than one it holds: hold the
  // closer of two names, then offer the farther.
  const [near, far] = await namesByDistance(dht.self.id, ["a", "b"]);
  assert.equal((await put(await record(alice, near, 1))).type, MessageType.OK);
  assert.match(errorOf(await put(await record(alice, far, 1)), WireErrorCode.LIMIT), /^FULL: /);
});

/** `names` sorted by the distance of their keys to `self`, closest first. */
async function namesByDistance(self: Uint8Array, names: string[]): Promise<string[]> {
  const keyed = await Promise.all(names.map(async (n) => ({ n, key: await keyOfName(n) })));
  return keyed.sort((x, y) => compareDistance(self, x.key, y.key)).map((x) => x.n);
}

Deno.test("an_unknown_request_type_is_a_bad_request", async () => {
  const { dht, known } = setup();
  const requests: Message[] = [
    { type: MessageType.OK, requestId: 31 },
    { type: MessageType.PONG, requestId: 32, timestamp: 5 },
    { type: MessageType.GET_PEERS, requestId: 33 } as Message,
    { type: MessageType.NODES, requestId: 34, peers: [] },
  ];
  for (const request of requests) {
    const answer = await dht.handle(known[0], request);
    errorOf(answer, WireErrorCode.BAD_REQUEST);
    assert.equal(answer.requestId, request.requestId);
  }
  assert.equal(dht.stats().requestsServed, 0, "none of them served");
});

Deno.test("ping_is_answered_with_pong_and_the_same_timestamp", async () => {
  const { dht } = setup();
  const answer = await dht.handle(null, { type: MessageType.PING, requestId: 41, timestamp: 99 });
  assert.deepEqual(answer, { type: MessageType.PONG, requestId: 41, timestamp: 99 });
});

function toHexId(id: Uint8Array): string {
  return [...id].map((b) => b.toString(16).padStart(2, "0")).join("");
}
