/**
 * Bounds of the name record store against one publisher filling it: a quota per publisher key,
 * and, when the store is full, the record farthest from this node gives way to a closer one.
 */

import assert from "node:assert/strict";
import { compareDistance, keyOfName } from "../../src/dht/key.ts";
import { signNameRecord } from "../../src/dht/name_record.ts";
import { NameRecordStore } from "../../src/dht/record_store.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";

const NOW = 1_790_000_000_000;

async function record(signer: NodeIdentity, name: string) {
  return await signNameRecord(signer, {
    name,
    value: new Uint8Array([1]),
    seq: 1,
    expires: NOW + 3600_000,
  });
}

Deno.test("one_publisher_key_fills_at_most_its_quota", async () => {
  const clock = new VirtualClock(NOW);
  const store = new NameRecordStore({ clock, maxRecords: 100, maxPerPublisher: 3 });
  const spammer = await NodeIdentity.generate();
  const honest = await NodeIdentity.generate();
  for (let i = 0; i < 3; i++) await store.put(await record(spammer, `junk-${i}`));
  await assert.rejects(store.put(await record(spammer, "junk-3")), {
    code: "RECORD_REJECTED",
    reason: "FULL",
  });
  assert.equal(await store.put(await record(honest, "mine")), "stored");
  // An update of a record it holds is not a new one: the quota does not refuse it.
  const update = await signNameRecord(spammer, {
    name: "junk-0",
    value: new Uint8Array([2]),
    seq: 2,
    expires: NOW + 3600_000,
  });
  assert.equal(await store.put(update), "stored");
  assert.equal(store.size, 4);
});

Deno.test("a_full_store_gives_the_farthest_record_up_for_a_closer_one", async () => {
  const clock = new VirtualClock(NOW);
  const self = new Uint8Array(32);
  const store = new NameRecordStore({ clock, maxRecords: 4, maxPerPublisher: 100, self });
  const signer = await NodeIdentity.generate();
  // Names and their keys' distance to this node (all zeros), sorted nearest first.
  const names = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => ({ name: `n${i}`, key: await keyOfName(`n${i}`) })),
  );
  names.sort((a, b) => compareDistance(self, a.key, b.key));
  const far = names.slice(-4);
  for (const n of far) await store.put(await record(signer, n.name));
  // A record farther than all held is refused; a nearer one evicts the farthest.
  const nearest = names[0];
  assert.equal(await store.put(await record(signer, nearest.name)), "stored");
  assert.equal(store.size, 4);
  assert.equal(store.get(far[3].key), null, "the farthest gave way");
  assert.ok(store.get(nearest.key));
  const farther = names[names.length - 1];
  assert.equal(farther.name, far[3].name);
  await assert.rejects(store.put(await record(signer, farther.name)), { reason: "FULL" });
});
