/** `RateLimiter`: a token bucket in bytes, driven by a virtual clock. */
import assert from "node:assert/strict";
import { AbortedError, InvalidArgumentError } from "../../src/errors.ts";
import { RateLimiter } from "../../src/util/rate_limiter.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { Rng, testSeed, withSeed } from "./prng.ts";

const SEED = testSeed(0x7a7e);

/** Issues every take at once; resolves with the clock time each was granted at. */
async function grantTimes(
  clock: VirtualClock,
  limiter: RateLimiter,
  sizes: readonly number[],
): Promise<number[]> {
  const times: number[] = new Array(sizes.length);
  const all = Promise.all(
    sizes.map((n, i) => limiter.take(n).then(() => void (times[i] = clock.now()))),
  );
  await clock.runUntil(all);
  return times;
}

Deno.test("rate_limiter_holds_the_long_run_rate", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 10_000, burstBytes: 1000, clock });
  const times = await grantTimes(clock, limiter, new Array(100).fill(1000));
  for (let i = 0; i < times.length; i++) {
    // The bucket starts full (1000 bytes); then 1000 bytes per 100 ms.
    assert.ok(times[i] >= i * 100, `take ${i} granted at ${times[i]} ms, before ${i * 100} ms`);
    assert.ok(times[i] <= i * 100 + 1, `take ${i} granted late, at ${times[i]} ms`);
  }
  assert.equal(limiter.waiting, 0);
});

Deno.test("rate_limiter_random_sizes_never_exceed_the_bucket_and_stay_in_order", async () => {
  await withSeed(SEED, async () => {
    const rng = new Rng(SEED);
    for (let round = 0; round < 20; round++) {
      const clock = new VirtualClock();
      const rate = 1000 + rng.int(1_000_000);
      const burst = 1 + rng.int(200_000);
      const limiter = new RateLimiter({ bytesPerSecond: rate, burstBytes: burst, clock });
      // Sizes around the burst: some fit, some leave the bucket in debt, some are 0.
      const sizes = Array.from({ length: 60 }, () => rng.int(3) === 0 ? 0 : rng.int(2 * burst));
      const order: number[] = [];
      const times: number[] = [];
      const all = Promise.all(sizes.map((n, i) =>
        limiter.take(n).then(() => {
          if (n > 0) order.push(i); // 0 bytes goes at once, ahead of nobody's bytes
          times[i] = clock.now();
        })
      ));
      await clock.runUntil(all);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), "FIFO among waiting takes");
      let before = 0;
      let slackMs = 0;
      for (const i of order) {
        const need = Math.min(sizes[i], burst);
        // Granted so far plus what this take needs in the bucket never exceeds what the bucket
        // held at the start plus what it earned since.
        const allowance = burst + (rate * times[i]) / 1000;
        assert.ok(
          before + need <= allowance + 1e-3,
          `round ${round}: take ${i} at ${times[i]} ms: ${before} + ${need} > ${allowance}`,
        );
        // ... and it is not held much longer than that requires (1 ms of rounding per wait).
        slackMs++;
        const earliest = ((before + need - burst) * 1000) / rate;
        assert.ok(times[i] <= Math.max(0, earliest) + slackMs, `take ${i} held too long`);
        before += sizes[i];
      }
    }
  });
});

Deno.test("rate_limiter_allows_a_burst_then_the_rate", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, burstBytes: 5000, clock });
  const times = await grantTimes(clock, limiter, [1000, 1000, 1000, 1000, 1000, 1000, 1000]);
  assert.deepEqual(times, [0, 0, 0, 0, 0, 1000, 2000]);
});

Deno.test("rate_limiter_refills_while_idle_up_to_the_burst_only", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, burstBytes: 2000, clock });
  await grantTimes(clock, limiter, [2000]);
  clock.setTimeout(() => {}, 60_000); // a minute idle: the bucket is full again, not fuller
  await clock.run();
  const start = clock.now();
  const times = await grantTimes(clock, limiter, [1000, 1000, 1000]);
  assert.deepEqual(times.map((t) => t - start), [0, 0, 1000]);
});

Deno.test("rate_limiter_lets_an_oversized_take_through_and_waits_off_the_debt", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, burstBytes: 1000, clock });
  const times = await grantTimes(clock, limiter, [5000, 1000]);
  assert.equal(times[0], 0, "larger than the burst, but the bucket is full: it goes");
  assert.equal(times[1], 5000, "4000 bytes of debt and 1000 more take 5 s at 1000 B/s");
});

Deno.test("rate_limiter_serves_waiters_first_come_first_served", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, burstBytes: 1000, clock });
  await limiter.take(1000); // empties the bucket
  const order: string[] = [];
  const big = limiter.take(3000).then(() => order.push(`big@${clock.now()}`));
  // Small enough to fit long before big does, yet it must not overtake it.
  const small = limiter.take(10).then(() => order.push(`small@${clock.now()}`));
  assert.equal(limiter.waiting, 2);
  await clock.runUntil(Promise.all([big, small]));
  assert.deepEqual(order, ["big@1000", "small@3010"]);
});

Deno.test("rate_limiter_abort_rejects_and_frees_the_place", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, burstBytes: 1000, clock });
  await limiter.take(1000);
  const ctl = new AbortController();
  const first = limiter.take(1000, ctl.signal);
  const firstDone = first.then(() => "granted", (err) => err);
  let nextAt = -1;
  const next = limiter.take(500).then(() => void (nextAt = clock.now()));
  clock.setTimeout(() => ctl.abort(), 300);
  await clock.runUntil(next);
  const err = await firstDone;
  assert.ok(err instanceof AbortedError, `expected AbortedError, got ${err}`);
  assert.equal(err.code, "ABORTED");
  assert.equal(nextAt, 500, "the next take moved up: 500 bytes earned by 500 ms");
  assert.equal(limiter.waiting, 0);
});

Deno.test("rate_limiter_rejects_with_the_signals_aborted_error_and_takes_nothing", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, burstBytes: 1000, clock });
  const reason = new AbortedError("stopping");
  const ctl = new AbortController();
  ctl.abort(reason);
  await assert.rejects(limiter.take(10, ctl.signal), (err) => err === reason);
  // A waiting take aborted with an AbortedError reason rejects with exactly that error.
  await limiter.take(1000);
  const later = new AbortController();
  const waiting = limiter.take(1000, later.signal);
  later.abort(reason);
  await assert.rejects(waiting, (err) => err === reason);
  // Nothing was taken by the aborted takes: 1000 bytes are back after exactly 1 s.
  const times = await grantTimes(clock, limiter, [1000]);
  assert.equal(times[0], 1000);
});

Deno.test("rate_limiter_infinity_means_no_limit_and_set_rate_releases_waiters", async () => {
  const clock = new VirtualClock();
  const free = new RateLimiter({ bytesPerSecond: Infinity, clock });
  await free.take(1e15);
  await free.take(1e15);
  assert.equal(free.waiting, 0);

  const limiter = new RateLimiter({ bytesPerSecond: 1, burstBytes: 1, clock });
  await limiter.take(1);
  const stuck = limiter.take(1_000_000);
  assert.equal(limiter.waiting, 1);
  limiter.setRate(Infinity);
  await stuck; // released without any time passing
  assert.equal(clock.now(), 0);
  assert.equal(limiter.waiting, 0);
});

Deno.test("rate_limiter_set_rate_reschedules_waiting_takes", async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ bytesPerSecond: 100, burstBytes: 1000, clock });
  await limiter.take(1000);
  let at = -1;
  const waiting = limiter.take(1000).then(() => void (at = clock.now()));
  clock.setTimeout(() => limiter.setRate(1000), 1000); // 100 bytes earned by then
  await clock.runUntil(waiting);
  assert.equal(at, 1900, "the other 900 bytes at the new rate take 900 ms");
  assert.equal(limiter.bytesPerSecond, 1000);
});

Deno.test("rate_limiter_burst_follows_the_rate_unless_given", () => {
  const clock = new VirtualClock();
  const follows = new RateLimiter({ bytesPerSecond: 2048, clock });
  assert.equal(follows.burstBytes, 2048);
  follows.setRate(4096);
  assert.equal(follows.burstBytes, 4096);
  const fixed = new RateLimiter({ bytesPerSecond: 2048, burstBytes: 100, clock });
  fixed.setRate(4096);
  assert.equal(fixed.burstBytes, 100);
});

Deno.test("rate_limiter_refuses_bad_arguments", async () => {
  for (const bytesPerSecond of [0, -1, NaN, "5" as unknown as number]) {
    assert.throws(() => new RateLimiter({ bytesPerSecond }), InvalidArgumentError);
  }
  for (const burstBytes of [0, -5, Infinity, NaN]) {
    assert.throws(() => new RateLimiter({ bytesPerSecond: 10, burstBytes }), InvalidArgumentError);
  }
  const limiter = new RateLimiter({ bytesPerSecond: 10 });
  assert.throws(() => limiter.setRate(0), InvalidArgumentError);
  for (const bytes of [-1, NaN, Infinity]) {
    await assert.rejects(limiter.take(bytes), InvalidArgumentError);
  }
  assert.equal(limiter.waiting, 0);
});
