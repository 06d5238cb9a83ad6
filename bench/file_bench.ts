/**
 * Files: `putFile` of 64 MiB (256 KiB blocks) into a discarding sink next to the raw
 * `crypto.subtle.digest` of the same blocks (one at a time, and 4 at a time as `putFile`
 * does); `readFile` of the same 64 MiB from a Map source next to a raw copy of its blocks.
 * Both sides of each pair write into / read from the same memory.
 *
 *     deno bench -A bench/file_bench.ts     # deno bench table with ratios
 *     deno run -A bench/file_bench.ts       # MB/s, ratios and peak RSS as a markdown table
 */

import { ContentId } from "../src/id/content_id.ts";
import { putFile, readFile } from "../src/file/mod.ts";
import type { BlockSink, BlockSource } from "../src/file/types.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const SIZE = 64 * MIB;
const BS = 256 * KIB;
const CHUNK = 64 * KIB;

const data = new Uint8Array(SIZE);
for (let at = 0; at < SIZE; at += CHUNK) crypto.getRandomValues(data.subarray(at, at + CHUNK));
const blocks: Uint8Array<ArrayBuffer>[] = [];
for (let at = 0; at < SIZE; at += BS) blocks.push(data.slice(at, at + BS));

/** Forgets the bytes and returns the id putFile computed (no second hash). */
const discard: BlockSink = { putBlock: (_bytes, o) => Promise.resolve(o!.id!) };

/** The file as a stream of 64 KiB chunks (views of `data`, as a socket or file would hand over). */
function input(): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= SIZE) return c.close();
      c.enqueue(data.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  }, { highWaterMark: 0 });
}

const map = new Map<string, Uint8Array>();
const mapSink: BlockSink = {
  async putBlock(bytes) {
    const id = await ContentId.of(bytes);
    map.set(id.toString(), bytes);
    return id;
  },
};
const source: BlockSource = {
  getBlock: (id) => Promise.resolve(map.get(id.toString())!),
};
const { id: fileId } = await putFile(data, mapSink);
const dest = new Uint8Array(SIZE);

const cases = {
  rawDigest: async () => {
    for (const b of blocks) await crypto.subtle.digest("SHA-256", b);
  },
  rawDigest4: async () => {
    for (let i = 0; i < blocks.length; i += 4) {
      await Promise.all(blocks.slice(i, i + 4).map((b) => crypto.subtle.digest("SHA-256", b)));
    }
  },
  putFile: async () => {
    await putFile(input(), discard);
  },
  rawCopy: () => {
    let at = 0;
    for (const b of blocks) {
      dest.set(b, at);
      at += b.length;
    }
  },
  readFile: async () => {
    const { stream } = await readFile(fileId, source);
    let at = 0;
    for await (const part of stream) {
      dest.set(part, at);
      at += part.length;
    }
  },
};

if (!import.meta.main) {
  const n = 5;
  const warmup = 1;
  Deno.bench({
    name: "raw crypto.subtle.digest, 256 x 256 KiB, one at a time",
    group: "put 64 MiB",
    baseline: true,
    n,
    warmup,
    fn: cases.rawDigest,
  });
  Deno.bench({
    name: "raw crypto.subtle.digest, 256 x 256 KiB, 4 at a time",
    group: "put 64 MiB",
    n,
    warmup,
    fn: cases.rawDigest4,
  });
  Deno.bench({
    name: "putFile 64 MiB stream -> discarding sink",
    group: "put 64 MiB",
    n,
    warmup,
    fn: cases.putFile,
  });
  Deno.bench({
    name: "raw copy of 256 x 256 KiB blocks",
    group: "read 64 MiB",
    baseline: true,
    n,
    warmup,
    fn: cases.rawCopy,
  });
  Deno.bench({
    name: "readFile 64 MiB from a Map source",
    group: "read 64 MiB",
    n,
    warmup,
    fn: cases.readFile,
  });
} else {
  // Interleaved: every round times each case once, so load from other processes hits all
  // cases alike; ratios are medians of per-round ratios.
  const rounds = 11;
  const times: Record<string, number[]> = {};
  for (const fn of Object.values(cases)) await fn(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const t0 = performance.now();
      await fn();
      (times[name] ??= []).push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ratio = (a: string, b: string) => median(times[a].map((t, i) => t / times[b][i]));
  const mbs = (ms: number) => (SIZE / MIB / (ms / 1000)).toFixed(0);
  const row = (name: string, base: string) =>
    `| ${name} | ${median(times[name]).toFixed(1)} ms | ${mbs(median(times[name]))} MiB/s | ${
      ratio(name, base).toFixed(2)
    } |`;
  const peakRssDuring = async (fn: () => Promise<unknown>) => {
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 1);
    await fn();
    clearInterval(timer);
    return Math.max(peak, Deno.memoryUsage().rss) - before;
  };
  console.log(
    `| case (64 MiB, 256 KiB blocks) | median of ${rounds} | throughput | time / baseline |`,
  );
  console.log("| --- | --- | --- | --- |");
  console.log(row("rawDigest", "rawDigest"));
  console.log(row("rawDigest4", "rawDigest"));
  console.log(row("putFile", "rawDigest"));
  console.log(row("rawCopy", "rawCopy"));
  console.log(row("readFile", "rawCopy"));
  console.log(`\nputFile / 4-way raw digest: ${ratio("putFile", "rawDigest4").toFixed(2)}`);
  const putPeak = await peakRssDuring(cases.putFile);
  console.log(`peak RSS growth during one putFile of 64 MiB: ${(putPeak / MIB).toFixed(1)} MiB`);
}
