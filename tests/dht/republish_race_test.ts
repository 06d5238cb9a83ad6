/**
 * A name published while a republish round runs keeps its new value: the round re-signs the
 * latest record under the name's lock, never an older copy.
 */

import assert from "node:assert/strict";
import { contactOf } from "../../src/dht/contact.ts";
import { Dht } from "../../src/dht/dht.ts";
import { keyOfName } from "../../src/dht/key.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";

Deno.test("a_publish_during_a_republish_round_is_not_undone", async () => {
  const signer = await NodeIdentity.generate();
  const dht = new Dht({
    self: contactOf(new Uint8Array(32).fill(7), "198.51.100.1:4000"),
    // A node alone: lookups find nobody, records stay here.
    network: { request: () => Promise.reject(new Error("no network")) },
    signer,
  });
  const key = await keyOfName("m");
  // Names published before "m": a republish round reaches "m" only after them.
  for (let i = 0; i < 20; i++) await dht.publishName(`before-${i}`, new Uint8Array([i]));
  await dht.publishName("m", new Uint8Array([0]));
  for (let round = 0; round < 5; round++) {
    const before = dht.published(key)?.seq ?? 0;
    const value = new Uint8Array([round + 1]);
    const [, published] = await Promise.all([dht.republish(), dht.publishName("m", value)]);
    assert.equal(published.record.seq, before + 1);
    assert.deepEqual(dht.published(key)?.value, value, `round ${round}`);
    assert.equal(dht.published(key)?.seq, before + 1);
  }
});
