/**
 * Peer protocol throughput against raw loopback TCP of the same runtime, measured in the same
 * run, printed as one JSON line (plus a readable summary on stderr):
 *
 *     deno run -A bench/peer_throughput.ts [MiB] [blockKiB] [inFlight]
 *     bun bench/peer_throughput.ts [MiB] [blockKiB] [inFlight]
 *     node bench/peer_throughput.ts [MiB] [blockKiB] [inFlight]
 *
 * Defaults: 256 MiB, 1024 KiB blocks, 4 requests in flight.
 *
 * - `raw`: the runtime's native socket API (Deno.connect / Bun.connect / node:net), one
 *   connection, 128 KiB writes (the wire's DATA chunk size), receiver counts bytes.
 * - `adapter`: the same through the dfs runtime adapter (`runtime.net`), web streams, a fresh
 *   buffer per write. Both transfers are those of `loopback_common.ts`.
 * - `get`: two PeerManagers over `runtime.net` on 127.0.0.1; the client fetches the total as
 *   GET_BLOCKs (BLOCK + DATA frames), each block verified (SHA-256) before it counts.
 * - `put`: the same amount as PUT_BLOCKs; the server verifies each block before storing it.
 * - `framed`: the protocol without block verification: the same amount through a third pair of
 *   PeerManagers (handshake done, heartbeats on), as GET_BLOCK requests of one block each, 4 in
 *   flight, answered by a bench handler registered with `handle(GET_BLOCK, ...)` that streams
 *   the asked range as DATA frames (`ctx.send`, the production send path) and then OK; the
 *   client takes the DATA with `request(..., { onData })` and counts it. Framing, codec, frame
 *   reader, request ids, dispatch and the adapter are all on the path; SHA-256 and the copy into
 *   a block buffer are not.
 * - `sha256`: `ContentId.of` over the same blocks, one after another: the verification cost
 *   alone (every received block is hashed before it is returned or stored).
 * - round trips: sequential PINGs, and PINGs with 32 in flight, for 1.5 s each; raw baseline is
 *   a 16-byte ping-pong over the adapter connection.
 *
 * Three runs of each transfer; medians are reported. Ratios are protocol / raw.
 *
 * @module
 */

import { ContentId } from "../src/id/content_id.ts";
import { MemoryBlockService } from "../src/peer/block_service.ts";
import type { BlockService } from "../src/peer/block_service.ts";
import { NodeIdentity } from "../src/peer/identity.ts";
import { PeerManager } from "../src/peer/peer_manager.ts";
import { MessageType } from "../src/wire/messages.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import type { Network } from "../src/runtime/types.ts";
import { adapterTransfer, median, rawNativeTransfer } from "./loopback_common.ts";

const MiB = 1024 * 1024;
const CHUNK = 128 * 1024;
const RUNS = 3;

const runtime = await detectRuntime();
const args = runtime.process?.args ?? [];
const totalMiB = Number(args[0] ?? 256);
const blockKiB = Number(args[1] ?? 1024);
const inFlight = Number(args[2] ?? 4);
const total = totalMiB * MiB;
const blockSize = blockKiB * 1024;
const blocks = Math.ceil(total / blockSize);

function mibps(bytes: number, ms: number): number {
  return Math.round((bytes / MiB) / (ms / 1000));
}

let peakRss = 0;
function sampleRss(): void {
  const rss = runtime.process?.memoryRss() ?? 0;
  if (rss > peakRss) peakRss = rss;
}

async function rawRoundTrips(network: Network, ms: number): Promise<number> {
  const listener = await network.listen({ hostname: "127.0.0.1", port: 0 }, async (conn) => {
    const w = conn.writable.getWriter();
    for await (const c of conn.readable) await w.write(c);
  });
  const conn = await network.connect(listener.address);
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  const msg = new Uint8Array(16);
  let n = 0;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    await writer.write(msg);
    let got = 0;
    while (got < 16) {
      const r = await reader.read();
      if (r.done) throw new Error("closed");
      got += r.value.length;
    }
    n++;
  }
  conn.close();
  await listener.close();
  return n / (ms / 1000);
}

// ------------------------------------------------------------------ protocol

/** Serves one stored block under every id asked for the GET runs (ids are all the same). */
async function peers(service: BlockService) {
  const opts = { maxBlockSize: Math.max(4 * MiB, blockSize), requestTimeoutMs: 120_000 };
  const server = new PeerManager({
    identity: await NodeIdentity.generate(),
    network: runtime.net,
    listen: { hostname: "127.0.0.1", port: 0 },
    service,
    options: opts,
  });
  await server.start();
  const client = new PeerManager({
    identity: await NodeIdentity.generate(),
    network: runtime.net,
    options: opts,
  });
  await client.start();
  const peer = await client.connect(server.address!);
  return { server, client, peer };
}

async function pool(count: number, width: number, job: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) {
      const i = next++;
      await job(i);
      if (i % 16 === 0) sampleRss();
    }
  }));
}

const service = new MemoryBlockService();
const payload = new Uint8Array(blockSize);
for (let i = 0; i < payload.length; i += 4096) payload[i] = (i * 2654435761) >>> 24;
const payloadId = await ContentId.of(payload);
await service.put(payloadId, payload);
const { server, client, peer } = await peers(service);

/** A PUT target that verifies (done by the connection) but does not keep the bytes. */
const sink: BlockService = {
  has: (ids) => Promise.resolve(ids.map(() => false)),
  get: () => Promise.resolve(null),
  put: () => Promise.resolve(),
  delete: () => Promise.resolve(false),
};
const putPeers = await peers(sink);

/** Serves GET_BLOCK by streaming `range.length` bytes as DATA (no store, no hashing), then OK. */
const framedPeers = await peers(service);
const chunkSize = 128 * 1024;
framedPeers.server.handle(MessageType.GET_BLOCK, async (msg, ctx) => {
  if (msg.type !== MessageType.GET_BLOCK || msg.range === undefined) throw new Error("no range");
  const length = msg.range.length;
  let offset = 0;
  while (offset < length && !ctx.signal.aborted) {
    const n = Math.min(chunkSize, length - offset, payload.length);
    await ctx.send({ type: MessageType.DATA, chunk: payload.subarray(0, n), end: false });
    offset += n;
  }
  return { type: MessageType.OK };
});

/** One framed request: `blockSize` bytes of DATA, counted; the answer must be OK. */
async function framedRequest(): Promise<void> {
  let got = 0;
  const answer = await framedPeers.peer.request(
    { type: MessageType.GET_BLOCK, id: payloadId.bytes, range: { offset: 0, length: blockSize } },
    { onData: (chunk) => void (got += chunk.length) },
  );
  if (answer.type !== MessageType.OK || got !== blockSize) throw new Error("short framed block");
}

/** SHA-256 of the same bytes, block by block: the verification every received block needs. */
async function hashOnly(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < blocks; i++) await ContentId.of(payload);
  return performance.now() - started;
}

const raw: number[] = [];
const hash: number[] = [];
const adapter: number[] = [];
const get: number[] = [];
const put: number[] = [];
const framed: number[] = [];
for (let run = 0; run < RUNS; run++) {
  raw.push(await rawNativeTransfer(total, CHUNK));
  sampleRss();
  // A fresh buffer per write, as the protocol produces one frame per write.
  adapter.push(await adapterTransfer(runtime.net, total, CHUNK, { freshChunks: true }));
  sampleRss();
  hash.push(await hashOnly());
  let started = performance.now();
  await pool(blocks, inFlight, async () => {
    const bytes = await peer.getBlock(payloadId);
    if (bytes.length !== blockSize) throw new Error("short block");
  });
  get.push(performance.now() - started);
  started = performance.now();
  await pool(blocks, inFlight, () => putPeers.peer.putBlock(payloadId, payload));
  put.push(performance.now() - started);
  started = performance.now();
  await pool(blocks, inFlight, framedRequest);
  framed.push(performance.now() - started);
}

const rawRtt = await rawRoundTrips(runtime.net, 1500);
let pings = 0;
let until = performance.now() + 1500;
while (performance.now() < until) {
  await peer.ping();
  pings++;
}
const seqRps = pings / 1.5;
let concurrent = 0;
until = performance.now() + 1500;
await Promise.all(Array.from({ length: 32 }, async () => {
  while (performance.now() < until) {
    await peer.ping();
    concurrent++;
  }
}));
const parRps = concurrent / 1.5;
sampleRss();

await Promise.all([
  server.shutdown(500),
  client.shutdown(500),
  putPeers.server.shutdown(500),
  putPeers.client.shutdown(500),
  framedPeers.server.shutdown(500),
  framedPeers.client.shutdown(500),
]);

const bytes = blocks * blockSize;
const result = {
  bench: "peer_throughput",
  runtime: runtime.name,
  totalMiB: bytes / MiB,
  blockKiB,
  inFlight,
  rawMiBps: mibps(total, median(raw)),
  adapterMiBps: mibps(total, median(adapter)),
  sha256MiBps: mibps(bytes, median(hash)),
  getMiBps: mibps(bytes, median(get)),
  putMiBps: mibps(bytes, median(put)),
  framedMiBps: mibps(bytes, median(framed)),
  framedVsRaw: +(median(raw) / median(framed) * (bytes / total)).toFixed(2),
  framedVsAdapter: +(median(adapter) / median(framed) * (bytes / total)).toFixed(2),
  getVsRaw: +(median(raw) / median(get) * (bytes / total)).toFixed(2),
  putVsRaw: +(median(raw) / median(put) * (bytes / total)).toFixed(2),
  getVsAdapter: +(median(adapter) / median(get) * (bytes / total)).toFixed(2),
  runsMs: {
    raw: raw.map(Math.round),
    adapter: adapter.map(Math.round),
    sha256: hash.map(Math.round),
    get: get.map(Math.round),
    put: put.map(Math.round),
    framed: framed.map(Math.round),
  },
  rawRoundTripsPerSec: Math.round(rawRtt),
  pingPerSecSequential: Math.round(seqRps),
  pingPerSec32InFlight: Math.round(parRps),
  peakRssMiB: Math.round(peakRss / MiB),
};
const line = JSON.stringify(result) + "\n";
if (runtime.process) {
  await runtime.process.writeStdout(new TextEncoder().encode(line));
  // The raw native baselines may leave a socket handle behind (seen with Bun.listen);
  // everything of dfs is shut down above, so end the process explicitly.
  runtime.process.exit(0);
} else console.log(line);
