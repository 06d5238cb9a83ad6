/**
 * The test bed adds what it is asked to: 4 hosts with one-way link delays drawn in 20-80 ms and
 * 1% loss. A TCP round trip between two hosts (64-byte echoes through `probe.ts`) takes twice
 * the link's delay, never less, with a median within +25 ms of it (the relay's timer and the
 * wake-ups of four processes on a shared, loaded machine); and the hub's nftables counters show
 * about 1% of the relayed packets dropped over a 4 MiB transfer. The relay's own lateness
 * (`stats`) is printed at the end.
 */
import assert from "node:assert/strict";
import { NetBed, netbedAvailable } from "./netbed.ts";
import { testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0x0de1_a7ed);
const available = await netbedAvailable("tests/netbed/relay_test.ts");

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

Deno.test({
  name: "netbed_relay_adds_each_links_delay_to_a_tcp_round_trip_and_drops_about_one_percent",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSeed(SEED, async () => {
      const bed = await NetBed.create({ hosts: 4, delayMs: [20, 80], lossPercent: 1, seed: SEED });
      try {
        for (const h of bed.hosts) await bed.probeServer(h.index, 3000);
        const pairs: [number, number][] = [[1, 2], [1, 3], [2, 4], [3, 4]];
        for (const [a, b] of pairs) {
          const d = bed.delay(a, b);
          assert.ok(d >= 20 && d <= 80, `delay ${d}`);
          const r = await bed.probe<{ connectMs: number; rttMs: number[] }>(a, [
            "rtt",
            "--to",
            `${bed.hosts[b - 1].address}:3000`,
            "--count",
            "15",
          ]);
          const m = median(r.rttMs);
          console.log(
            `h${a} -> h${b}: link delay ${d} ms, TCP round trip median ${m.toFixed(1)} ms ` +
              `(min ${Math.min(...r.rttMs).toFixed(1)}, connect ${r.connectMs.toFixed(1)})`,
          );
          assert.ok(Math.min(...r.rttMs) >= 2 * d - 0.5, `no round trip under 2 x ${d} ms`);
          assert.ok(m <= 2 * d + 25, `median ${m} ms within 2 x ${d} + 25 ms`);
        }
        const before = await bed.lossCounters();
        const f = await bed.probe<{ bytes: number }>(1, [
          "fetch",
          "--to",
          `${bed.hosts[1].address}:3000`,
          "--bytes",
          String(4 << 20),
        ]);
        assert.equal(f.bytes, 4 << 20);
        const after = await bed.lossCounters();
        const lost = after.lost - before.lost;
        const total = lost + after.passed - before.passed;
        const rate = lost / total;
        console.log(`loss: ${lost} of ${total} relayed packets (${(rate * 100).toFixed(2)}%)`);
        // 1% of ~3,000+ packets: the binomial spread is about +-0.2 points.
        assert.ok(total > 2500, `${total} packets`);
        assert.ok(rate > 0.004 && rate < 0.02, `loss rate ${rate}`);
      } finally {
        await bed.close();
        console.log(`relay: ${bed.relayStderr().trim()}`);
      }
    }),
});
