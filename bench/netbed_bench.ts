/**
 * A remote get between two hosts of the network test bed (tests/netbed/), under a one-way link
 * delay, random loss and optionally a bandwidth cap, next to the raw relayed link measured in
 * the same run:
 *
 *     flock /tmp/dfs-bench.lock deno run -A bench/netbed_bench.ts [--delay MS] [--loss PCT]
 *       [--rate MBIT] [--size BYTES] [--runs N]
 *
 * Defaults: 50 ms one-way (100 ms round trip), 1% loss, no cap, 8 MiB, 3 runs. Needs root.
 * `--rate MBIT` caps both hosts at MBIT Mbit/s each way (`rateMbit` of the bed: tbf on both ends
 * of each host's veth), so every byte between them is held to it; the table then also gives
 * each throughput as a fraction of the cap.
 *
 * 1. Raw link: `tests/netbed/probe.ts` on host 2 and host 1: the median of 20 TCP round trips
 *    (64-byte echoes), then `--runs` plain TCP copies of SIZE bytes from host 2 to host 1 on a
 *    new connection each (time to first byte counts from before the connect).
 * 2. dfs: `dfs serve` on both hosts (the default encrypted peer links); SIZE pseudo-random bytes
 *    put through host 2 with `replicas:1` (so only host 2 holds them), then got `--runs` times
 *    through host 1's API (the bench talks to it over the undelayed management link): every
 *    block crosses the delayed, lossy link. Time to first byte is from the request to the first
 *    body byte; the SHA-256 of every get is checked.
 *
 * Prints a markdown table for bench/RESULTS.md (medians, with each run) and one JSON line.
 *
 * @module
 */

import { NetBed } from "../tests/netbed/netbed.ts";
import { sha256Hex } from "../tests/e2e/node_harness.ts";
import { randomBytes } from "../tests/util/prng.ts";
import { createHash } from "node:crypto";

const MiB = 1024 * 1024;
const flag = (name: string): string | undefined => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : undefined;
};
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (xs: readonly number[], digits = 0) =>
  `${median(xs).toFixed(digits)} (${xs.map((x) => x.toFixed(digits)).join(", ")})`;

async function uptime(): Promise<string> {
  const out = await new Deno.Command("uptime", { stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

async function main(): Promise<void> {
  const delay = Number(flag("delay") ?? "50");
  const loss = Number(flag("loss") ?? "1");
  const size = Number(flag("size") ?? String(8 * MiB));
  const runs = Number(flag("runs") ?? "3");
  const rateText = flag("rate");
  const rate = rateText === undefined ? undefined : Number(rateText);
  const loadBefore = await uptime();
  const bed = await NetBed.create({
    hosts: 2,
    delayMs: delay,
    lossPercent: loss,
    seed: 1,
    rateMbit: rate,
  });
  const dir = await Deno.makeTempDir({ prefix: "dfs-netbed-bench-" });
  try {
    const to = `${bed.hosts[1].address}:3000`;
    // 1. The raw relayed link.
    const stopProbe = await bed.probeServer(2, 3000);
    const rtt = await bed.probe<{ rttMs: number[] }>(1, ["rtt", "--to", to, "--count", "20"]);
    const rawTtfb: number[] = [], rawMiBs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const f = await bed.probe<{ ttfbMs: number; totalMs: number; bytes: number }>(
        1,
        ["fetch", "--to", to, "--bytes", String(size)],
        300_000,
      );
      if (f.bytes !== size) throw new Error(`raw copy: ${f.bytes} of ${size} bytes`);
      rawTtfb.push(f.ttfbMs);
      rawMiBs.push(size / MiB / (f.totalMs / 1000));
    }
    await stopProbe();

    // 2. dfs over the same link.
    await bed.startNode(2, { dataDir: `${dir}/n2`, extraArgs: ["--scrub-rate", "0"] });
    await bed.startNode(1, {
      dataDir: `${dir}/n1`,
      bootstrap: [`${bed.hosts[1].address}:3000`],
      extraArgs: ["--scrub-rate", "0"],
    });
    await bed.waitForPeers(1, 1);
    const data = randomBytes(size, 0xbe7c);
    const digest = sha256Hex(data);
    const put = await bed.put(2, data, "?redundancy=replicas:1", 300_000);
    const stat = await bed.api<{ local?: boolean }>(1, `/files/${put.id}/stat`);
    if (stat.local) throw new Error("host 1 holds the file: the get would not be remote");
    const ttfb: number[] = [], mibs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const res = await bed.request(1, `/files/${put.id}`, {}, 300_000);
      if (!res.ok || !res.body) throw new Error(`get: ${res.status} ${await res.text()}`);
      const hash = createHash("sha256");
      let first = -1, bytes = 0;
      for await (const c of res.body) {
        if (first < 0) first = performance.now() - t0;
        hash.update(c);
        bytes += c.length;
      }
      const total = performance.now() - t0;
      if (bytes !== size || hash.digest("hex") !== digest) throw new Error("get: wrong bytes");
      ttfb.push(first);
      mibs.push(size / MiB / (total / 1000));
    }
    const { passed, lost } = await bed.lossCounters();
    const loadAfter = await uptime();

    /** MiB/s as a fraction of the cap (payload bytes against the cap's bits on the wire). */
    const ofCap = (mibPerS: number) =>
      rate === undefined ? "" : ` (${(mibPerS * MiB * 8 / 1e6 / rate).toFixed(2)} of the cap)`;
    const rows = [
      `| measure | raw TCP through the relay | dfs remote get | dfs / raw |`,
      `| --- | --- | --- | --- |`,
      `| round trip (ms), median of 20 | ${median(rtt.rttMs).toFixed(1)} | | |`,
      `| time to first byte (ms), median (runs) | ${fmt(rawTtfb)} | ${fmt(ttfb)} | ${
        (median(ttfb) / median(rawTtfb)).toFixed(2)
      } |`,
      `| throughput (MiB/s), median (runs) | ${fmt(rawMiBs, 2)}${ofCap(median(rawMiBs))} | ${
        fmt(mibs, 2)
      }${ofCap(median(mibs))} | ${(median(mibs) / median(rawMiBs)).toFixed(2)} |`,
    ];
    console.log(
      `\n${size / MiB} MiB, one-way delay ${delay} ms, loss ${loss}% per relayed packet, ` +
        `${rate === undefined ? "no bandwidth cap" : `each host capped at ${rate} Mbit/s`} ` +
        `(${lost} of ${passed + lost} relayed packets dropped in this run)\n` +
        `load before: ${loadBefore}\nload after:  ${loadAfter}\n\n${rows.join("\n")}\n`,
    );
    console.log(JSON.stringify({
      delay,
      loss,
      rateMbit: rate ?? null,
      size,
      rttMs: median(rtt.rttMs),
      raw: { ttfbMs: rawTtfb, mibPerS: rawMiBs },
      dfs: { ttfbMs: ttfb, mibPerS: mibs },
      relayed: passed + lost,
      lost,
    }));
  } catch (err) {
    for (const p of bed.nodes) console.error(`--- ${p?.info.address}\n${p?.stderr()}`);
    throw err;
  } finally {
    await bed.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
