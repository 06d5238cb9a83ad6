import assert from "node:assert/strict";
import { RecordRejectedError, type RecordRejection } from "../../src/dht/errors.ts";
import { keyOfName } from "../../src/dht/key.ts";
import { type SignedNameRecord, signNameRecord } from "../../src/dht/name_record.ts";
import {
  checkNameRecord,
  DEFAULT_MAX_RECORD_TTL_MS,
  NameRecordStore,
  type NameRecordStoreOptions,
  selectRecord,
} from "../../src/dht/record_store.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { advance } from "./helpers.ts";

const START = 1_790_000_000_000;
const HOUR = 3600_000;

const alice = await NodeIdentity.generate();
const bob = await NodeIdentity.generate();

function setup(options: Partial<NameRecordStoreOptions> = {}) {
  const clock = new VirtualClock(START);
  return { clock, store: new NameRecordStore({ clock, ...options }) };
}

/** A record of `name` signed by `who`, expiring `ttl` ms after START (+ `at`). */
function rec(
  who: NodeIdentity,
  name: string,
  seq: number,
  value = "v1",
  expires = START + HOUR,
): Promise<SignedNameRecord> {
  return signNameRecord(who, { name, value: new TextEncoder().encode(value), seq, expires });
}

/** Asserts that `promise` rejects with a RecordRejectedError of `reason`. */
async function refused(promise: Promise<unknown>, reason: RecordRejection): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof RecordRejectedError, String(err));
    assert.equal(err.code, "RECORD_REJECTED");
    assert.equal(err.reason, reason);
    return true;
  });
}

Deno.test("a_valid_record_is_stored_and_found_by_its_name_key", async () => {
  const { store } = setup();
  const r = await rec(alice, "docs", 1);
  assert.equal(await store.put(r), "stored");
  assert.equal(store.get(await keyOfName("docs")), r);
  assert.equal(store.get(await keyOfName("other")), null);
  assert.equal(store.size, 1);
});

Deno.test("a_record_with_a_bad_signature_is_refused", async () => {
  const { store } = setup();
  const r = await rec(alice, "docs", 1);
  await refused(store.put({ ...r, value: new Uint8Array([9]) }), "BAD_SIGNATURE");
  await refused(store.put({ ...r, publicKey: bob.publicKey }), "BAD_SIGNATURE");
  await refused(store.put({ ...r, signature: new Uint8Array(64) }), "BAD_SIGNATURE");
  assert.equal(store.size, 0);
});

Deno.test("an_expired_record_is_refused", async () => {
  const { store } = setup();
  await refused(store.put(await rec(alice, "docs", 1, "v", START)), "EXPIRED");
  await refused(store.put(await rec(alice, "docs", 1, "v", START - 1)), "EXPIRED");
  assert.equal(await store.put(await rec(alice, "docs", 1, "v", START + 1)), "stored");
});

Deno.test("a_record_claiming_to_live_past_max_ttl_is_refused", async () => {
  const { store } = setup({ maxTtlMs: 10 * HOUR });
  await refused(
    store.put(await rec(alice, "docs", 1, "v", START + 10 * HOUR + 1)),
    "TOO_FAR_IN_FUTURE",
  );
  assert.equal(await store.put(await rec(alice, "docs", 1, "v", START + 10 * HOUR)), "stored");
  // The default bound is 7 days.
  assert.equal(DEFAULT_MAX_RECORD_TTL_MS, 7 * 24 * HOUR);
  const other = setup().store;
  await refused(
    other.put(await rec(alice, "x", 1, "v", START + DEFAULT_MAX_RECORD_TTL_MS + 1)),
    "TOO_FAR_IN_FUTURE",
  );
});

Deno.test("a_lower_sequence_is_refused_as_stale", async () => {
  const { store } = setup();
  await store.put(await rec(alice, "docs", 5));
  await refused(store.put(await rec(alice, "docs", 4, "v2")), "STALE_SEQUENCE");
  await refused(store.put(await rec(alice, "docs", 0, "v2")), "STALE_SEQUENCE");
  assert.equal(store.get(await keyOfName("docs"))?.seq, 5);
});

Deno.test("a_higher_sequence_of_the_owner_replaces_the_record", async () => {
  const { store } = setup();
  await store.put(await rec(alice, "docs", 1));
  const next = await rec(alice, "docs", 2, "v2");
  assert.equal(await store.put(next), "stored");
  assert.equal(store.get(await keyOfName("docs")), next);
  assert.equal(store.size, 1);
});

Deno.test("the_same_sequence_with_another_value_is_a_conflict", async () => {
  const { store } = setup();
  await store.put(await rec(alice, "docs", 3, "v1"));
  await refused(store.put(await rec(alice, "docs", 3, "v2")), "CONFLICT");
  // Same value but an earlier expiry is no renewal either.
  await refused(store.put(await rec(alice, "docs", 3, "v1", START + HOUR - 1)), "CONFLICT");
});

Deno.test("another_key_may_not_update_a_name_in_an_open_network", async () => {
  const { store } = setup();
  const first = await rec(alice, "docs", 1);
  await store.put(first);
  await refused(store.put(await rec(bob, "docs", 2, "mine")), "NOT_OWNER");
  await refused(store.put(await rec(bob, "docs", 1000, "mine")), "NOT_OWNER");
  assert.equal(store.get(await keyOfName("docs")), first);
});

Deno.test("any_key_may_update_a_name_with_a_higher_sequence_in_a_private_cluster", async () => {
  const { store } = setup({ anyKeyMayUpdate: true });
  await store.put(await rec(alice, "docs", 1));
  const bobs = await rec(bob, "docs", 2, "bob's");
  assert.equal(await store.put(bobs), "stored");
  assert.equal(store.get(await keyOfName("docs")), bobs);
  await refused(store.put(await rec(alice, "docs", 1, "again")), "STALE_SEQUENCE");
  await refused(store.put(await rec(alice, "docs", 2, "bob's")), "CONFLICT");
  assert.equal(await store.put(await rec(alice, "docs", 3, "back")), "stored");
});

Deno.test("the_same_record_with_a_later_expiry_is_a_renewal", async () => {
  const { store } = setup();
  await store.put(await rec(alice, "docs", 4, "v1", START + HOUR));
  const renewed = await rec(alice, "docs", 4, "v1", START + 2 * HOUR);
  assert.equal(await store.put(renewed), "renewed");
  assert.equal(store.get(await keyOfName("docs")), renewed);
  assert.equal(await store.put(renewed), "unchanged", "the identical record again");
  assert.equal(
    await store.put({ ...renewed, value: renewed.value.slice() }),
    "unchanged",
    "equal bytes, other arrays",
  );
});

Deno.test("select_record_decides_without_a_store", async () => {
  const a1 = await rec(alice, "n", 1);
  const a2 = await rec(alice, "n", 2);
  const b2 = await rec(bob, "n", 2);
  assert.equal(selectRecord(undefined, a1, false), "stored");
  assert.equal(selectRecord(a1, a1, false), "unchanged");
  assert.equal(selectRecord(a1, a2, false), "stored");
  assert.throws(() => selectRecord(a1, b2, false), RecordRejectedError);
  assert.equal(selectRecord(a1, b2, true), "stored");
  assert.throws(() => selectRecord(a2, a1, true), RecordRejectedError);
});

Deno.test("check_name_record_checks_expiry_bounds_and_signature", async () => {
  const r = await rec(alice, "n", 1, "v", START + 100);
  await checkNameRecord(r, START, 100);
  await assert.rejects(checkNameRecord(r, START + 100, 100), RecordRejectedError);
  await assert.rejects(checkNameRecord(r, START - 1, 100), RecordRejectedError);
  await assert.rejects(checkNameRecord({ ...r, seq: 2 }, START, 100), RecordRejectedError);
});

Deno.test("a_full_store_refuses_new_names_but_updates_held_ones", async () => {
  const { clock, store } = setup({ maxRecords: 2 });
  await store.put(await rec(alice, "a", 1, "v", START + HOUR));
  await store.put(await rec(alice, "b", 1, "v", START + 2 * HOUR));
  await refused(store.put(await rec(alice, "c", 1)), "FULL");
  assert.equal(await store.put(await rec(alice, "a", 2, "v2", START + HOUR)), "stored");
  assert.equal(store.size, 2);
  // Once a record expired, a put sweeps it and the new name fits.
  await advance(clock, HOUR);
  assert.equal(await store.put(await rec(alice, "c", 1, "v", START + 3 * HOUR)), "stored");
  assert.equal(store.get(await keyOfName("a")), null);
  assert.equal(store.size, 2);
});

Deno.test("an_expired_record_frees_the_name_for_another_key", async () => {
  const { clock, store } = setup();
  await store.put(await rec(alice, "docs", 9, "v", START + HOUR));
  await refused(store.put(await rec(bob, "docs", 1, "b", START + 3 * HOUR)), "NOT_OWNER");
  await advance(clock, HOUR);
  assert.equal(store.get(await keyOfName("docs")), null, "expired: no longer served");
  const bobs = await rec(bob, "docs", 1, "b", START + 3 * HOUR);
  assert.equal(await store.put(bobs), "stored", "a low sequence is fine: nothing is held");
  assert.equal(store.get(await keyOfName("docs")), bobs);
});

Deno.test("sweep_drops_expired_records", async () => {
  const { clock, store } = setup();
  await store.put(await rec(alice, "a", 1, "v", START + HOUR));
  await store.put(await rec(alice, "b", 1, "v", START + 2 * HOUR));
  assert.equal(store.sweep(), 0);
  await advance(clock, HOUR);
  assert.equal(store.size, 2, "expired records stay until touched or swept");
  assert.equal(store.sweep(), 1);
  assert.equal(store.size, 1);
});
