import assert from "node:assert/strict";
import { type Contact, contactOf } from "../../src/dht/contact.ts";
import { compareDistance, keyInBucket } from "../../src/dht/key.ts";
import { RoutingTable, type RoutingTableOptions } from "../../src/dht/routing_table.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";
import {
  advance,
  contactInBucket,
  type Deferred,
  deferred,
  hexes,
  loopback,
  settle,
} from "./helpers.ts";

const SEED = testSeed(0x5eed_0a01);

interface Harness {
  readonly table: RoutingTable;
  readonly clock: VirtualClock;
  readonly self: Uint8Array;
  readonly rng: Rng;
  /** Contacts pinged, in order, with the answer each is waiting for. */
  readonly pings: { contact: Contact; answer: Deferred<boolean> }[];
}

/** A table whose pings wait for the test to answer them. */
function harness(seed: number, options: Partial<RoutingTableOptions> = {}): Harness {
  const rng = new Rng(seed);
  const clock = new VirtualClock();
  const self = rng.bytes(32);
  const pings: Harness["pings"] = [];
  const table = new RoutingTable({
    self,
    clock,
    ping: (contact) => {
      const answer = deferred<boolean>();
      pings.push({ contact, answer });
      return answer.promise;
    },
    ...options,
  });
  return { table, clock, self, rng, pings };
}

/** Ids of bucket `bucket`'s contacts as the table lists them. */
function inBucket(h: Harness, bucket: number): string[] {
  return hexes(h.table.contacts().filter((c) => h.table.bucketOf(c.id) === bucket));
}

Deno.test("closest_equals_a_brute_force_sort_of_the_table", async () => {
  await withSeed(SEED, () => {
    const h = harness(SEED, { ping: () => Promise.resolve(true) });
    // Several hundred contacts spread over the first 30 buckets, plus plain random ids.
    let n = 0;
    for (let b = 0; b < 30; b++) {
      for (let j = 0; j < 22; j++) h.table.seen(contactInBucket(h.self, b, h.rng, loopback(n++)));
    }
    for (let j = 0; j < 200; j++) h.table.seen(contactOf(h.rng.bytes(32), loopback(n++)));
    const all = h.table.contacts();
    assert.ok(all.length >= 400, `table holds ${all.length}`);
    assert.equal(h.table.size, all.length);

    const keys: Uint8Array[] = [h.self, all[0].id, all[all.length - 1].id];
    for (let i = 0; i < 60; i++) keys.push(h.rng.bytes(32));
    for (let b = 0; b < 40; b++) keys.push(keyInBucket(h.self, b, h.rng.bytes(32)));
    for (const key of keys) {
      for (const count of [1, 3, 20, 57, 1000]) {
        const exclude = new Set([all[h.rng.int(all.length)].idHex, all[0].idHex]);
        const expected = all
          .filter((c) => !exclude.has(c.idHex))
          .sort((x, y) => compareDistance(key, x.id, y.id))
          .slice(0, count);
        assert.deepEqual(hexes(h.table.closest(key, count, exclude)), hexes(expected));
        const unfiltered = [...all].sort((x, y) => compareDistance(key, x.id, y.id));
        assert.deepEqual(hexes(h.table.closest(key, count)), hexes(unfiltered.slice(0, count)));
      }
    }
  });
});

Deno.test("closest_of_an_empty_table_is_empty", () => {
  const h = harness(SEED);
  assert.deepEqual(h.table.closest(h.rng.bytes(32), 20), []);
  assert.deepEqual(h.table.closest(h.self, 20), []);
});

Deno.test("full_bucket_keeps_a_live_head_and_caches_the_newcomer", async () => {
  const h = harness(SEED, { k: 3 });
  const [a, b, c, d] = [0, 1, 2, 3].map((i) => contactInBucket(h.self, 0, h.rng, loopback(i)));
  assert.deepEqual([a, b, c].map((x) => h.table.seen(x)), ["added", "added", "added"]);
  assert.equal(h.table.seen(d), "pinging");
  assert.equal(h.pings.length, 1);
  assert.equal(h.pings[0].contact.idHex, a.idHex, "the least recently seen entry is pinged");
  h.pings[0].answer.resolve(true);
  await settle();
  assert.deepEqual(inBucket(h, 0), hexes([b, c, a]), "the head answered: it moves to the tail");
  assert.equal(h.table.get(d.idHex, d.id), undefined, "the newcomer is not in the table");
  assert.deepEqual(h.table.bucketCounts(), [{ index: 0, size: 3, replacements: 1 }]);
  assert.equal(h.table.size, 3);
});

Deno.test("full_bucket_replaces_a_head_that_does_not_answer", async () => {
  const h = harness(SEED, { k: 3 });
  const [a, b, c, d] = [0, 1, 2, 3].map((i) => contactInBucket(h.self, 0, h.rng, loopback(i)));
  for (const x of [a, b, c]) h.table.seen(x);
  assert.equal(h.table.seen(d), "pinging");
  h.pings[0].answer.resolve(false);
  await settle();
  assert.equal(h.table.get(a.idHex, a.id), undefined, "the silent head is dropped");
  assert.deepEqual(inBucket(h, 0), hexes([b, c, d]), "the newcomer takes its place");
  assert.equal(h.table.size, 3);
});

Deno.test("a_full_bucket_pings_one_entry_at_a_time", async () => {
  const h = harness(SEED, { k: 2 });
  const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) =>
    contactInBucket(h.self, 0, h.rng, loopback(i))
  );
  h.table.seen(a);
  h.table.seen(b);
  assert.equal(h.table.seen(c), "pinging");
  assert.equal(h.table.seen(d), "cached");
  assert.equal(h.table.seen(e), "cached");
  assert.equal(h.pings.length, 1, "one ping in flight for the bucket");

  // Another bucket has its own ping.
  const x = [5, 6, 7].map((i) => contactInBucket(h.self, 4, h.rng, loopback(i)));
  for (const y of x) h.table.seen(y);
  assert.equal(h.pings.length, 2);
  assert.equal(h.pings[1].contact.idHex, x[0].idHex);

  h.pings[0].answer.resolve(false);
  await settle();
  assert.deepEqual(inBucket(h, 0), hexes([b, e]), "the freshest replacement comes in");
  // The bucket may ping again now.
  assert.equal(h.table.seen(contactInBucket(h.self, 0, h.rng, loopback(8))), "pinging");
  assert.equal(h.pings.length, 3);
  assert.equal(h.pings[2].contact.idHex, b.idHex);
  h.pings[1].answer.resolve(true);
  h.pings[2].answer.resolve(true);
  await settle();
});

Deno.test("a_bucket_takes_at_most_two_contacts_from_one_slash_24", () => {
  const h = harness(SEED);
  const pub = (i: number) => contactInBucket(h.self, 0, h.rng, `203.0.113.${i}:4000`);
  assert.equal(h.table.seen(pub(1)), "added");
  assert.equal(h.table.seen(pub(2)), "added");
  assert.equal(h.table.seen(pub(3)), "subnet-full");
  assert.equal(h.table.seen(pub(4)), "subnet-full");
  assert.equal(
    h.table.seen(contactInBucket(h.self, 0, h.rng, "203.0.114.1:4000")),
    "added",
    "another /24",
  );
  assert.equal(
    h.table.seen(contactInBucket(h.self, 1, h.rng, "203.0.113.9:4000")),
    "added",
    "the rule is per bucket",
  );
  for (let i = 0; i < 10; i++) {
    assert.equal(h.table.seen(contactInBucket(h.self, 0, h.rng, loopback(i))), "added");
  }
  for (let i = 0; i < 5; i++) {
    assert.equal(h.table.seen(contactInBucket(h.self, 0, h.rng, `10.0.0.${i}:4000`)), "added");
  }
  assert.equal(h.table.size, 3 + 1 + 10 + 5);
  assert.equal(h.pings.length, 0);
});

Deno.test("the_subnet_bound_follows_max_per_subnet", () => {
  const h = harness(SEED, { maxPerSubnet: 1 });
  const pub = (i: number) => contactInBucket(h.self, 0, h.rng, `[2001:db8:7::${i}]:4000`);
  assert.equal(h.table.seen(pub(1)), "added");
  assert.equal(h.table.seen(pub(2)), "subnet-full", "one per /48");
});

// BUG (src/dht/routing_table.ts, seen(), the "known contact" branch: `entry.contact = contact`
// with `entry.subnet` left as computed from the first address): a contact first seen at an
// exempt address (private, loopback) and then at a public one keeps the exempt group, so a
// bucket ends up with any number of contacts from one /24. Fails until fixed.
Deno.test("an_address_change_is_held_to_the_subnet_rule", () => {
  const h = harness(SEED);
  const ids = [1, 2, 3, 4].map(() => keyInBucket(h.self, 0, h.rng.bytes(32)));
  for (const [i, id] of ids.entries()) h.table.seen(contactOf(id, `10.0.0.${i + 1}:4000`));
  for (const [i, id] of ids.entries()) h.table.seen(contactOf(id, `203.0.113.${i + 1}:4000`));
  const fromOneSlash24 = h.table.contacts().filter((c) => c.address.startsWith("203.0.113."));
  assert.ok(
    fromOneSlash24.length <= 2,
    `${fromOneSlash24.length} contacts of bucket 0 are in 203.0.113.0/24`,
  );
});

Deno.test("failed_twice_in_a_row_evicts_a_contact", () => {
  const h = harness(SEED);
  const [a, b] = [0, 1].map((i) => contactInBucket(h.self, 2, h.rng, loopback(i)));
  h.table.seen(a);
  h.table.seen(b);
  h.table.failed(a);
  assert.ok(h.table.get(a.idHex, a.id), "one failure is forgiven");
  h.table.seen(a); // it answered: the count starts again
  h.table.failed(a);
  assert.ok(h.table.get(a.idHex, a.id), "failures must be in a row");
  h.table.failed(a);
  assert.equal(h.table.get(a.idHex, a.id), undefined, "second failure in a row: evicted");
  assert.equal(h.table.size, 1);
  h.table.failed(a); // unknown now: ignored
  h.table.failed(contactInBucket(h.self, 9, h.rng, loopback(7))); // empty bucket: ignored
  assert.equal(h.table.size, 1);
});

Deno.test("an_evicted_contact_makes_room_for_its_freshest_replacement", async () => {
  const h = harness(SEED, { k: 2 });
  const [a, b, c, d] = [0, 1, 2, 3].map((i) => contactInBucket(h.self, 0, h.rng, loopback(i)));
  h.table.seen(a);
  h.table.seen(b);
  h.table.seen(c); // pings a
  h.table.seen(d); // cached while the ping is in flight
  h.pings[0].answer.resolve(true);
  await settle();
  assert.deepEqual(inBucket(h, 0), hexes([b, a]));
  assert.deepEqual(h.table.bucketCounts(), [{ index: 0, size: 2, replacements: 2 }]);
  // With a replacement waiting, one failure is enough.
  h.table.failed(b);
  assert.deepEqual(inBucket(h, 0), hexes([a, d]), "b out, the freshest replacement d in");
  h.table.failed(a);
  h.table.failed(a);
  assert.deepEqual(inBucket(h, 0), hexes([d, c]), "then c");
  assert.equal(h.table.size, 2);
  assert.deepEqual(h.table.bucketCounts(), [{ index: 0, size: 2, replacements: 0 }]);
});

Deno.test("a_replacement_that_would_overfill_its_subnet_is_not_promoted", async () => {
  const h = harness(SEED, { k: 2, maxPerSubnet: 1 });
  const [a, b] = [0, 1].map((i) => contactInBucket(h.self, 0, h.rng, loopback(i)));
  const c = contactInBucket(h.self, 0, h.rng, "198.51.100.1:4000");
  const d = contactInBucket(h.self, 0, h.rng, "198.51.100.2:4000");
  h.table.seen(a);
  h.table.seen(b);
  h.table.seen(c); // pings a
  h.table.seen(d); // cached: the /24 has no entry yet
  h.pings[0].answer.resolve(true);
  await settle();
  h.table.remove(b.id, b.idHex);
  assert.deepEqual(inBucket(h, 0), hexes([a, d]), "d, the freshest, comes in");
  h.table.remove(a.id, a.idHex);
  assert.deepEqual(inBucket(h, 0), hexes([d]), "c is skipped: its /24 already has d");
});

Deno.test("seen_of_a_known_contact_moves_it_to_the_tail_and_updates_its_address", async () => {
  const h = harness(SEED, { k: 3 });
  const [a, b, c] = [0, 1, 2].map((i) => contactInBucket(h.self, 0, h.rng, loopback(i)));
  for (const x of [a, b, c]) h.table.seen(x);
  const moved = contactOf(a.id, "127.9.9.9:5000");
  assert.equal(h.table.seen(moved), "updated");
  assert.deepEqual(inBucket(h, 0), hexes([b, c, a]));
  assert.equal(h.table.get(a.idHex, a.id)?.address, "127.9.9.9:5000");
  assert.equal(h.table.size, 3);
  // b is now the least recently seen: a newcomer makes the table ping b.
  h.table.seen(contactInBucket(h.self, 0, h.rng, loopback(3)));
  assert.equal(h.pings[0].contact.idHex, b.idHex);
  h.pings[0].answer.resolve(true);
  await settle();
});

Deno.test("self_is_never_added", () => {
  const h = harness(SEED);
  assert.equal(h.table.seen(contactOf(h.self.slice(), "127.0.0.1:4000")), "self");
  assert.equal(h.table.size, 0);
  assert.deepEqual(h.table.contacts(), []);
  assert.deepEqual(h.table.closest(h.self, 20), []);
  assert.equal(h.table.bucketOf(h.self), 256);
});

Deno.test("remove_drops_a_contact", () => {
  const h = harness(SEED);
  const a = contactInBucket(h.self, 3, h.rng, loopback(1));
  h.table.seen(a);
  assert.equal(h.table.remove(a.id, a.idHex), true);
  assert.equal(h.table.remove(a.id, a.idHex), false);
  assert.equal(h.table.size, 0);
});

Deno.test("stale_buckets_are_those_not_used_for_refresh_ms", async () => {
  const h = harness(SEED);
  for (const b of [0, 1, 3]) h.table.seen(contactInBucket(h.self, b, h.rng, loopback(b)));
  assert.deepEqual(h.table.staleBuckets(1000), [], "all fresh at first");
  await advance(h.clock, 999);
  assert.deepEqual(h.table.staleBuckets(1000), []);
  h.table.used(keyInBucket(h.self, 2, h.rng.bytes(32)));
  await advance(h.clock, 1);
  // Buckets 0 up to one past the deepest non-empty one (3), but not 2, used at t=999.
  assert.deepEqual(h.table.staleBuckets(1000), [0, 1, 3, 4]);
  await advance(h.clock, 999);
  assert.deepEqual(h.table.staleBuckets(1000), [0, 1, 2, 3, 4]);
  h.table.used(h.self); // a lookup of our own id targets no bucket
  assert.deepEqual(h.table.staleBuckets(1000), [0, 1, 2, 3, 4]);
});

Deno.test("stale_buckets_of_an_empty_table_is_bucket_0", async () => {
  const h = harness(SEED);
  await advance(h.clock, 5000);
  assert.deepEqual(h.table.staleBuckets(1000), [0]);
});
