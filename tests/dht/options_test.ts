import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { contactOf } from "../../src/dht/contact.ts";
import { systemClock } from "../../src/dht/clock.ts";
import { DEFAULT_REPUBLISH_MS, resolveDhtTuning } from "../../src/dht/options.ts";
import { DEFAULT_PROVIDER_TTL_MS } from "../../src/dht/providers.ts";
import { DEFAULT_MAX_RECORD_TTL_MS } from "../../src/dht/record_store.ts";

Deno.test("dht_tuning_defaults_are_those_of_kademlia_and_the_docs", () => {
  const t = resolveDhtTuning({});
  assert.equal(t.k, 20);
  assert.equal(t.alpha, 3);
  assert.equal(t.requestTimeoutMs, 5_000);
  assert.equal(t.lookupDeadlineMs, 30_000);
  assert.equal(t.providerTtlMs, DEFAULT_PROVIDER_TTL_MS);
  assert.equal(t.republishMs, DEFAULT_REPUBLISH_MS);
  assert.ok(t.republishMs < t.providerTtlMs);
  assert.equal(t.maxNameTtlMs, DEFAULT_MAX_RECORD_TTL_MS);
  assert.equal(t.maxPerSubnet, 2);
  assert.equal(t.anyKeyMayUpdate, false);
  assert.equal(t.clock, systemClock);
  assert.equal(t.random(32).length, 32);
});

Deno.test("dht_tuning_keeps_the_values_given", () => {
  const t = resolveDhtTuning({ k: 8, alpha: 5, anyKeyMayUpdate: true, republishMs: 1000 });
  assert.equal(t.k, 8);
  assert.equal(t.alpha, 5);
  assert.equal(t.anyKeyMayUpdate, true);
  assert.equal(t.republishMs, 1000);
});

Deno.test("dht_tuning_refuses_values_that_are_not_positive_integers", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => resolveDhtTuning({ k: bad }), InvalidArgumentError, `k ${bad}`);
    assert.throws(() => resolveDhtTuning({ alpha: bad }), InvalidArgumentError, `alpha ${bad}`);
    assert.throws(
      () => resolveDhtTuning({ lookupDeadlineMs: bad }),
      InvalidArgumentError,
      `deadline ${bad}`,
    );
  }
});

Deno.test("dht_tuning_refuses_a_republish_interval_not_below_the_record_lifetime", () => {
  assert.throws(
    () => resolveDhtTuning({ providerTtlMs: 1000, republishMs: 1000 }),
    InvalidArgumentError,
  );
  assert.throws(
    () => resolveDhtTuning({ nameTtlMs: 2000, maxNameTtlMs: 1000 }),
    InvalidArgumentError,
  );
  resolveDhtTuning({ providerTtlMs: 1000, republishMs: 999, nameTtlMs: 1000, maxNameTtlMs: 1000 });
});

Deno.test("a_contact_needs_a_32_byte_id_and_an_address", () => {
  const c = contactOf(new Uint8Array(32).fill(0xab), "127.0.0.1:4000");
  assert.equal(c.idHex, "ab".repeat(32));
  assert.equal(c.address, "127.0.0.1:4000");
  assert.throws(() => contactOf(new Uint8Array(31), "127.0.0.1:4000"), InvalidArgumentError);
  assert.throws(() => contactOf(new Uint8Array(33), "127.0.0.1:4000"), InvalidArgumentError);
  assert.throws(() => contactOf(new Uint8Array(32), ""), InvalidArgumentError);
});
