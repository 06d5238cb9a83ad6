import assert from "node:assert/strict";
import { type Contact, contactOf } from "../../src/dht/contact.ts";
import { ProviderLimitError } from "../../src/dht/errors.ts";
import {
  DEFAULT_PROVIDER_TTL_MS,
  ProviderStore,
  type ProviderStoreOptions,
} from "../../src/dht/providers.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { advance, hexes, loopback } from "./helpers.ts";

const TTL = 10_000;

function store(options: Partial<ProviderStoreOptions> = {}) {
  const clock = new VirtualClock(1_000_000);
  return { clock, store: new ProviderStore({ clock, ttlMs: TTL, ...options }) };
}

/** Key number `i`. */
function key(i: number): Uint8Array {
  const k = new Uint8Array(32);
  new DataView(k.buffer).setUint32(0, i);
  return k;
}

/** Provider number `i`. */
function peer(i: number): Contact {
  const id = new Uint8Array(32).fill(0xee);
  new DataView(id.buffer).setUint32(28, i);
  return contactOf(id, loopback(i));
}

Deno.test("a_provider_record_lives_ttl_ms_from_its_announce", async () => {
  const { clock, store: s } = store();
  s.add(key(1), peer(1));
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(1)]));
  assert.equal(s.size, 1);
  assert.equal(s.keys, 1);
  await advance(clock, TTL - 1);
  assert.equal(s.get(key(1)).length, 1, "still live 1 ms before expiry");
  await advance(clock, 1);
  assert.deepEqual(s.get(key(1)), [], "gone at expiry");
  assert.equal(s.size, 0);
  assert.equal(s.keys, 0);
});

Deno.test("the_default_provider_ttl_is_48_hours", async () => {
  const clock = new VirtualClock();
  const s = new ProviderStore({ clock });
  assert.equal(DEFAULT_PROVIDER_TTL_MS, 48 * 3600_000);
  s.add(key(1), peer(1));
  await advance(clock, DEFAULT_PROVIDER_TTL_MS - 1);
  assert.equal(s.get(key(1)).length, 1);
  await advance(clock, 1);
  assert.equal(s.get(key(1)).length, 0);
});

Deno.test("a_renewed_announce_extends_the_record_and_makes_it_the_newest", async () => {
  const { clock, store: s } = store();
  s.add(key(1), peer(1));
  s.add(key(1), peer(2));
  s.add(key(1), peer(3));
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(3), peer(2), peer(1)]), "newest first");
  await advance(clock, TTL / 2);
  s.add(key(1), peer(1)); // renew
  assert.equal(s.size, 3, "a renewal adds no record");
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(1), peer(3), peer(2)]));
  await advance(clock, TTL / 2);
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(1)]), "only the renewed one lives on");
  await advance(clock, TTL / 2);
  assert.deepEqual(s.get(key(1)), []);
});

Deno.test("get_returns_at_most_max_providers", () => {
  const { store: s } = store();
  for (let i = 0; i < 30; i++) s.add(key(1), peer(i));
  assert.equal(s.get(key(1)).length, 20, "default 20");
  assert.deepEqual(hexes(s.get(key(1), 2)), hexes([peer(29), peer(28)]));
  assert.deepEqual(s.get(key(2)), [], "unknown key");
});

Deno.test("a_full_key_drops_its_oldest_announce", () => {
  const { store: s } = store({ maxPerKey: 3 });
  for (let i = 1; i <= 3; i++) s.add(key(1), peer(i));
  s.add(key(1), peer(1)); // renewed: now the newest, peer 2 is the oldest
  s.add(key(1), peer(4));
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(4), peer(1), peer(3)]));
  assert.equal(s.size, 3);
  // The dropped provider's count went down: it may announce other keys as before.
  const limited = store({ maxPerKey: 2, maxPerProvider: 1 }).store;
  limited.add(key(1), peer(2));
  limited.add(key(1), peer(3));
  limited.add(key(1), peer(4)); // drops peer 2 from key 1
  limited.add(key(2), peer(2)); // so peer 2 provides 0 keys and may take this one
  assert.equal(limited.size, 3);
  assert.deepEqual(hexes(limited.get(key(2))), hexes([peer(2)]));
});

Deno.test("a_provider_announcing_more_than_max_per_provider_keys_is_refused", async () => {
  const { clock, store: s } = store({ maxPerProvider: 3 });
  for (let i = 0; i < 3; i++) s.add(key(i), peer(1));
  assert.throws(() => s.add(key(3), peer(1)), ProviderLimitError);
  assert.throws(
    () => s.add(key(4), peer(1)),
    (err) => (err as ProviderLimitError).code === "PROVIDER_LIMIT",
  );
  s.add(key(0), peer(1)); // renewing a key it already provides is fine
  s.add(key(3), peer(2)); // another provider is not concerned
  assert.equal(s.size, 4);
  // Once its records expire it may announce again.
  await advance(clock, TTL);
  s.add(key(5), peer(1));
  assert.deepEqual(hexes(s.get(key(5))), hexes([peer(1)]));
  assert.equal(s.size, 1);
});

Deno.test("a_store_holding_max_records_refuses_more", async () => {
  const { clock, store: s } = store({ maxRecords: 4 });
  for (let i = 0; i < 4; i++) s.add(key(i), peer(i));
  assert.throws(() => s.add(key(9), peer(9)), ProviderLimitError);
  assert.throws(() => s.add(key(0), peer(9)), ProviderLimitError, "a known key too");
  s.add(key(0), peer(0)); // a renewal adds nothing: allowed
  assert.equal(s.size, 4);
  await advance(clock, TTL / 2);
  s.add(key(0), peer(0));
  await advance(clock, TTL / 2);
  // Three records expired: adding sweeps them first.
  s.add(key(9), peer(9));
  assert.equal(s.size, 2);
});

Deno.test("sweep_drops_every_expired_record", async () => {
  const { clock, store: s } = store();
  for (let i = 0; i < 5; i++) s.add(key(i), peer(i));
  await advance(clock, TTL / 2);
  for (let i = 5; i < 8; i++) s.add(key(i % 2), peer(i));
  assert.equal(s.sweep(), 0);
  await advance(clock, TTL / 2);
  assert.equal(s.sweep(), 5);
  assert.equal(s.size, 3);
  assert.equal(s.keys, 2);
  assert.deepEqual(hexes(s.get(key(0))), hexes([peer(6)]));
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(7), peer(5)]));
  await advance(clock, TTL);
  assert.equal(s.sweep(), 3);
  assert.equal(s.size, 0);
  assert.equal(s.keys, 0);
});

// BUG (src/dht/providers.ts, add(), lines 116-120): when a key holds one record and
// maxPerKey is 1, #drop() of the oldest empties the key's map and deletes it from #byKey; the
// new record is then set in the orphaned map. get() finds nothing, while size counts a record
// that no sweep can reach. Fails until fixed.
Deno.test("a_key_with_max_per_key_1_keeps_the_latest_provider", () => {
  const { store: s } = store({ maxPerKey: 1 });
  s.add(key(1), peer(1));
  s.add(key(1), peer(2));
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(2)]));
  assert.equal(s.size, 1);
  assert.equal(s.keys, 1);
});

// BUG (src/dht/providers.ts, add(), lines 90 and 99/107): `records` is read before the limit
// checks; when the sweep they run drops every record of this key, #drop() deletes the key's
// map from #byKey and the new record goes into the orphaned map: lost, yet counted in size (and
// against the provider's quota) forever. Fails until fixed.
Deno.test("a_record_added_after_a_sweep_emptied_its_key_is_kept", async () => {
  const { clock, store: s } = store({ maxRecords: 1 });
  s.add(key(1), peer(1));
  await advance(clock, TTL); // peer 1's record expired, not yet swept
  s.add(key(1), peer(2)); // the store is full: add() sweeps, which empties key 1
  assert.deepEqual(hexes(s.get(key(1))), hexes([peer(2)]));
  assert.equal(s.size, 1);
  await advance(clock, TTL);
  assert.equal(s.sweep(), 1, "the record expires like any other");
  assert.equal(s.size, 0);
});

// Same bug as above, through the per-provider bound: the sweep run because peer 1 is at its
// quota empties key 2, whose new record is then lost. Fails until fixed.
Deno.test("a_record_added_after_a_quota_sweep_emptied_its_key_is_kept", async () => {
  const { clock, store: s } = store({ maxPerProvider: 1 });
  s.add(key(2), peer(2));
  s.add(key(1), peer(1));
  await advance(clock, TTL); // both expired, not yet swept
  s.add(key(2), peer(1)); // peer 1 is at its quota: add() sweeps, which empties key 2
  assert.deepEqual(hexes(s.get(key(2))), hexes([peer(1)]));
});
