import assert from "node:assert/strict";
import { LogRateLimiter } from "../../../src/cli/log/rate_limit.ts";
import { logSink } from "../../../src/cli/log/setup.ts";
import type { LogLine } from "../../../src/cli/log/format.ts";

Deno.test("rate_limiter_lets_a_burst_through_then_refills_with_the_clock", () => {
  let now = 1_000;
  const limiter = new LogRateLimiter<number>({ burst: 3, perMinute: 6, now: () => now });
  const admitted = [1, 2, 3, 4, 5].map((n) => limiter.admit("a|BAD_FRAME", n).ok);
  assert.deepEqual(admitted, [true, true, true, false, false]);
  now += 9_999; // 6 a minute is one per 10 s: not yet
  assert.equal(limiter.admit("a|BAD_FRAME", 6).ok, false);
  now += 1;
  const next = limiter.admit("a|BAD_FRAME", 7);
  assert.equal(next.ok, true);
  assert.deepEqual(next.suppressed, { sample: 6, count: 3 }, "what was turned away comes first");
  assert.equal(limiter.admit("a|BAD_FRAME", 8).ok, false);
  // another (peer, code) has its own bucket
  assert.equal(limiter.admit("b|BAD_FRAME", 1).ok, true);
  assert.equal(limiter.admit("a|CORRUPT_BLOCK", 1).ok, true);
  assert.deepEqual(limiter.flush(), [{ sample: 8, count: 1 }]);
  assert.deepEqual(limiter.flush(), [], "counts restart once reported");
});

Deno.test("rate_limiter_forgets_the_least_recent_key_past_max_keys", () => {
  const limiter = new LogRateLimiter<number>({ burst: 1, perMinute: 0, maxKeys: 2, now: () => 0 });
  assert.equal(limiter.admit("a", 1).ok, true);
  assert.equal(limiter.admit("b", 1).ok, true);
  assert.equal(limiter.admit("a", 2).ok, false); // a is now the most recent
  assert.equal(limiter.admit("c", 1).ok, true); // evicts b
  assert.equal(limiter.admit("b", 2).ok, true, "b was forgotten: a fresh bucket");
  assert.equal(limiter.admit("a", 3).ok, true, "a was forgotten when b came back");
});

function line(peer: string | undefined, code: string, message = "peer sent a bad frame"): LogLine {
  return {
    timestamp: 0,
    level: "warn",
    category: "dfs.peer",
    message,
    fields: { ...(peer ? { peer } : {}), code },
  };
}

Deno.test("a_noisy_peer_is_rate_limited_in_the_log_with_a_suppressed_line", () => {
  let now = 0;
  const out: string[] = [];
  const sink = logSink({
    level: "debug",
    format: "json",
    write: (t) => out.push(t),
    rateLimit: { burst: 5, perMinute: 6, now: () => now },
  });
  for (let i = 0; i < 1000; i++) sink.write(line("9f2c", "PEER_PROTOCOL"));
  sink.write(line("77aa", "PEER_PROTOCOL")); // a quiet peer is not held back by a noisy one
  for (let i = 0; i < 10; i++) sink.write(line(undefined, "IO", "disk full")); // no peer: not limited
  const parsed = out.map((t) => JSON.parse(t));
  assert.equal(parsed.filter((r) => r.peer === "9f2c").length, 5);
  assert.equal(parsed.filter((r) => r.peer === "77aa").length, 1);
  assert.equal(parsed.filter((r) => r.message === "disk full").length, 10);
  sink.flush();
  const summary = JSON.parse(out.at(-1)!);
  assert.equal(summary.message, "suppressed 995 similar messages");
  assert.equal(summary.peer, "9f2c");
  assert.equal(summary.code, "PEER_PROTOCOL");
  assert.equal(summary.suppressed, 995);
  assert.equal(summary.level, "warn");
  assert.equal(summary.category, "dfs.peer");
  // 60 s later the bucket holds 5 tokens again (6 a minute, burst 5)
  const before = out.length;
  now += 60_000;
  for (let i = 0; i < 7; i++) sink.write(line("9f2c", "PEER_PROTOCOL"));
  assert.equal(out.length - before, 5);
  now += 10_000;
  sink.write(line("9f2c", "PEER_PROTOCOL"));
  const last2 = out.slice(-2).map((t) => JSON.parse(t));
  assert.equal(last2[0].message, "suppressed 2 similar messages", "reported before the next one");
  assert.equal(last2[1].message, "peer sent a bad frame");
});
