import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { formatAddress, parseAddress, reachableAddress } from "../../src/peer/address.ts";
import { backoffDelay } from "../../src/peer/backoff.ts";
import { DEFAULT_PEER_OPTIONS, resolvePeerOptions } from "../../src/peer/options.ts";
import { makeRng, testSeed, withSeed } from "../util/prng.ts";

Deno.test("options_fill_defaults_in_one_place", () => {
  const o = resolvePeerOptions({ heartbeatIntervalMs: 50, deadAfterMs: 300 });
  assert.equal(o.heartbeatIntervalMs, 50);
  assert.equal(o.deadAfterMs, 300);
  assert.equal(o.handshakeTimeoutMs, DEFAULT_PEER_OPTIONS.handshakeTimeoutMs);
  assert.equal(resolvePeerOptions().deadAfterMs, 4000);
  assert.ok(resolvePeerOptions().deadAfterMs >= 3000 && resolvePeerOptions().deadAfterMs <= 5000);
});

Deno.test("options_reject_bad_values", () => {
  assert.throws(() => resolvePeerOptions({ maxBlockSize: -1 }), InvalidArgumentError);
  assert.throws(() => resolvePeerOptions({ heartbeatIntervalMs: NaN }), InvalidArgumentError);
  assert.throws(
    () => resolvePeerOptions({ heartbeatIntervalMs: 500, deadAfterMs: 400 }),
    InvalidArgumentError,
  );
  assert.throws(() => resolvePeerOptions({ dataChunkSize: 2 * 1024 * 1024 }), InvalidArgumentError);
  assert.throws(
    () => resolvePeerOptions({ nope: 1 } as unknown as Record<string, number>),
    InvalidArgumentError,
  );
});

Deno.test("backoff_grows_exponentially_with_jitter_and_a_cap", async () => {
  const seed = testSeed(0x5eed);
  const rng = makeRng(seed);
  const random = () => rng.next();
  await withSeed(seed, () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const step = Math.min(1000, 10 * 2 ** (attempt - 1));
      const d = backoffDelay(attempt, 10, 1000, random);
      assert.ok(
        d >= step / 2 && d <= step,
        `seed ${seed} attempt ${attempt}: ${d} not in [${step / 2}, ${step}]`,
      );
    }
  });
  assert.equal(backoffDelay(1, 100, 1000, () => 0), 50);
  assert.equal(backoffDelay(50, 100, 1000, () => 0.999999) <= 1000, true);
});

Deno.test("address_parses_and_formats_host_port", () => {
  assert.deepEqual(parseAddress("127.0.0.1:4000"), { hostname: "127.0.0.1", port: 4000 });
  assert.deepEqual(parseAddress("[::1]:80"), { hostname: "::1", port: 80 });
  assert.deepEqual(parseAddress("node-a.local:65535"), { hostname: "node-a.local", port: 65535 });
  assert.equal(formatAddress({ hostname: "::1", port: 80 }), "[::1]:80");
  assert.equal(formatAddress({ hostname: "10.0.0.1", port: 1 }), "10.0.0.1:1");
  for (const bad of ["", "host", ":80", "host:0", "host:70000", "::1:80", "a b:1"]) {
    assert.throws(() => parseAddress(bad), InvalidArgumentError, bad);
  }
});

Deno.test("reachable_address_replaces_an_unspecified_host_by_the_observed_one", () => {
  assert.equal(reachableAddress("0.0.0.0:3000", "10.0.0.2"), "10.0.0.2:3000");
  assert.equal(reachableAddress("[::]:3000", "fd00::2"), "[fd00::2]:3000");
  assert.equal(reachableAddress("0.0.0.0:3000", "::ffff:10.0.0.2"), "10.0.0.2:3000");
  assert.equal(reachableAddress("0.0.0.0:3000", "[fd00::2]"), "[fd00::2]:3000");
  // Anything else is kept as advertised.
  assert.equal(reachableAddress("10.0.0.9:3000", "10.0.0.2"), "10.0.0.9:3000");
  assert.equal(reachableAddress("node-a.example:3000", "10.0.0.2"), "node-a.example:3000");
  assert.equal(reachableAddress("", "10.0.0.2"), "");
  assert.equal(reachableAddress("garbage", "10.0.0.2"), "garbage");
  assert.equal(reachableAddress("0.0.0.0:3000", ""), "0.0.0.0:3000");
  assert.equal(reachableAddress("0.0.0.0:3000", "0.0.0.0"), "0.0.0.0:3000");
});
