/**
 * Wire layer benchmarks: DATA frame encode/decode, small-message rate, and FrameReader
 * throughput over 64 MiB of DATA frames, each next to a raw baseline in the same group.
 *
 *     deno bench -A bench/wire_bench.ts
 *
 * Results and the chunk-size choice: bench/RESULTS.md ("## Wire").
 *
 * @module
 */

import {
  decodeMessage,
  DEFAULT_DATA_CHUNK_SIZE,
  encodeDataFrames,
  encodeMessage,
  FrameReader,
  type Message,
  MessageType,
} from "../src/wire/mod.ts";
import { concatBytes } from "../src/util/concat.ts";

const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;
/** What one transport read typically delivers (TCP reads of 64 KiB). */
const TRANSPORT_CHUNK = 64 * 1024;

function patterned(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131) & 0xff;
  return out;
}

const concat = concatBytes;

function cut(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

let sink = 0;

// --- DATA frame encode / decode at the default chunk size --------------------------------

const piece = patterned(DEFAULT_DATA_CHUNK_SIZE);
const dataMsg: Message = { type: MessageType.DATA, requestId: 42, chunk: piece, end: false };
const dataBody = encodeMessage(dataMsg).subarray(4);

Deno.bench({
  name: "raw: allocate + copy 128 KiB",
  group: "data-encode",
  baseline: true,
  fn() {
    const out = new Uint8Array(piece.length + 11);
    out.set(piece, 11);
    sink ^= out[11];
  },
});

Deno.bench({
  name: "encodeMessage DATA 128 KiB",
  group: "data-encode",
  fn() {
    sink ^= encodeMessage(dataMsg)[11];
  },
});

Deno.bench({
  name: "raw: copy 128 KiB out of a frame",
  group: "data-decode",
  baseline: true,
  fn() {
    sink ^= dataBody.slice(7)[0];
  },
});

Deno.bench({
  name: "decodeMessage DATA 128 KiB (zero-copy view)",
  group: "data-decode",
  fn() {
    const m = decodeMessage(dataBody);
    if (m.type === MessageType.DATA) sink ^= m.chunk[0];
  },
});

// --- small messages ------------------------------------------------------------------------

const id = new Uint8Array(34);
id[0] = 0x12;
id[1] = 0x20;
const smalls: Message[] = [
  { type: MessageType.PING, requestId: 1, timestamp: 1_790_000_000_000 },
  { type: MessageType.GET_BLOCK, requestId: 2, id },
  { type: MessageType.OK, requestId: 3 },
  { type: MessageType.ERROR, requestId: 4, code: 2, message: "not found" },
];
const smallBodies = smalls.map((m) => encodeMessage(m).subarray(4));

Deno.bench({
  name: "raw: allocate + write 4 small frames (header only)",
  group: "small-messages",
  baseline: true,
  fn() {
    for (const b of smallBodies) {
      const out = new Uint8Array(b.length + 4);
      out[4] = 1;
      out[5] = b[1];
      sink ^= out[5];
    }
  },
});

Deno.bench({
  name: "encodeMessage x4 (PING, GET_BLOCK, OK, ERROR)",
  group: "small-messages",
  fn() {
    for (const m of smalls) sink ^= encodeMessage(m)[5];
  },
});

Deno.bench({
  name: "decodeMessage x4 (PING, GET_BLOCK, OK, ERROR)",
  group: "small-messages",
  fn() {
    for (const b of smallBodies) sink ^= decodeMessage(b).requestId;
  },
});

// --- FrameReader over 64 MiB of DATA frames ------------------------------------------------

const payload = patterned(TOTAL);
const wire = concat([...encodeDataFrames(7, payload, DEFAULT_DATA_CHUNK_SIZE)]);
const transportChunks = cut(wire, TRANSPORT_CHUNK);
const alignedChunks = [...encodeDataFrames(7, payload, DEFAULT_DATA_CHUNK_SIZE)];
const copyTarget = new Uint8Array(wire.length);

Deno.bench({
  name: "raw: copy 64 MiB through a ReadableStream (64 KiB reads)",
  group: "reader-64MiB",
  baseline: true,
  n: 30,
  warmup: 5,
  async fn() {
    const reader = streamOf(transportChunks).getReader();
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      copyTarget.set(value, at);
      at += value.length;
    }
    sink ^= at;
  },
});

async function readAllData(chunks: readonly Uint8Array[]): Promise<number> {
  const reader = new FrameReader(streamOf(chunks));
  let total = 0;
  for (;;) {
    const body = await reader.read();
    if (body === null) return total;
    const m = decodeMessage(body);
    if (m.type === MessageType.DATA) total += m.chunk.length;
  }
}

Deno.bench({
  name: "FrameReader+decode, 64 KiB reads (frames straddle: one copy each)",
  group: "reader-64MiB",
  n: 30,
  warmup: 5,
  async fn() {
    if ((await readAllData(transportChunks)) !== TOTAL) throw new Error("short read");
  },
});

Deno.bench({
  name: "FrameReader+decode, one frame per read (zero-copy)",
  group: "reader-64MiB",
  n: 30,
  warmup: 5,
  async fn() {
    if ((await readAllData(alignedChunks)) !== TOTAL) throw new Error("short read");
  },
});

// --- choosing DEFAULT_DATA_CHUNK_SIZE: encode, then read, 64 MiB at several piece sizes -----

const SIZES = [16 * 1024, 64 * 1024, 128 * 1024, 256 * 1024, 1024 * 1024 - 64];
for (const size of SIZES) {
  Deno.bench({
    name: `encodeDataFrames 64 MiB as ${Math.round(size / 1024)} KiB pieces`,
    group: "chunk-size-encode",
    baseline: size === DEFAULT_DATA_CHUNK_SIZE,
    n: 30,
    warmup: 5,
    fn() {
      let total = 0;
      for (const frame of encodeDataFrames(7, payload, size)) total += frame.length;
      sink ^= total;
    },
  });
}
for (const size of SIZES) {
  const onWire = cut(concat([...encodeDataFrames(7, payload, size)]), TRANSPORT_CHUNK);
  Deno.bench({
    name: `FrameReader+decode 64 MiB of ${Math.round(size / 1024)} KiB pieces (64 KiB reads)`,
    group: "chunk-size-read",
    baseline: size === DEFAULT_DATA_CHUNK_SIZE,
    n: 30,
    warmup: 5,
    async fn() {
      if ((await readAllData(onWire)) !== TOTAL) throw new Error("short read");
    },
  });
}

globalThis.addEventListener("unload", () => {
  if (sink === 0x7fffffff) console.log(sink); // keep results observable
});
