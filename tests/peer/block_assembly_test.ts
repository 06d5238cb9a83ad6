/**
 * A fetched block's DATA chunks land in the block's own buffer (`BlockAssembly` and the frame
 * placement behind `getBlock`), over the in-memory pair (default stream: chunks copied once,
 * straight into the block) and over loopback TCP (byte stream: the socket is read into the
 * block); a holder that sends more or fewer bytes than it announced is refused with a typed
 * error, and nothing past the announced size is ever held.
 */
import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { BlockAssembly } from "../../src/peer/block_assembly.ts";
import { framedChannel, type MessageChannel } from "../../src/peer/channel.ts";
import { PeerCorruptDataError } from "../../src/peer/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { resolvePeerOptions } from "../../src/peer/options.ts";
import type { RequestHandler } from "../../src/peer/connection_types.ts";
import { PeerConnection } from "../../src/peer/peer_connection.ts";
import { denoNetwork } from "../../src/runtime/deno/net.ts";
import type { Connection } from "../../src/runtime/types.ts";
import { MessageType } from "../../src/wire/messages.ts";
import { Rng, testSeed } from "../util/prng.ts";
import { connectionPair, FAST, handshakePair, peerPair } from "./helpers.ts";

Deno.test("assembly_keeps_a_chunk_read_in_place_and_copies_any_other", () => {
  const block = new BlockAssembly(10);
  const into = block.place(4)!;
  assert.equal(into.buffer, block.bytes.buffer);
  into.set([1, 2, 3, 4]);
  assert.ok(block.add(into));
  assert.ok(block.add(new Uint8Array([5, 6, 7])));
  assert.equal(block.received, 7);
  // A read that moved the buffer (a byte-stream read transfers it): the block follows it.
  const next = block.place(3)!;
  const at = next.byteOffset; // (a transferred view reads as empty)
  const moved = new Uint8Array((next.buffer as ArrayBuffer).transfer(), at, 3);
  moved.set([8, 9, 10]);
  assert.ok(block.add(moved));
  assert.ok(block.complete);
  assert.deepEqual([...block.bytes], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(block.bytes.buffer, moved.buffer);
});

Deno.test("assembly_refuses_past_its_size_and_never_places_there", () => {
  const block = new BlockAssembly(5);
  assert.equal(block.place(6), undefined);
  assert.equal(block.place(0), undefined);
  assert.ok(block.add(new Uint8Array(3)));
  assert.equal(block.place(3), undefined);
  assert.equal(block.add(new Uint8Array(3)), false);
  assert.equal(block.received, 3);
  assert.equal(block.complete, false);
  assert.equal(block.bytes.length, 5);
  // A chunk that merely looks placed (same offset, other memory) is copied, not adopted.
  const other = new Uint8Array(5);
  block.place(2);
  assert.ok(block.add(other.subarray(3, 5)));
  assert.notEqual(block.bytes.buffer, other.buffer);
});

/** A handler for GET_BLOCK that announces `announced` bytes and sends `chunks` as DATA. */
function serving(announced: number, chunks: () => Uint8Array[]): Map<number, RequestHandler> {
  return new Map<number, RequestHandler>([[
    MessageType.GET_BLOCK,
    async (msg, ctx) => {
      if (msg.type !== MessageType.GET_BLOCK) return;
      await ctx.send({ type: MessageType.BLOCK, id: msg.id, size: announced });
      const list = chunks();
      for (let i = 0; i < list.length; i++) {
        await ctx.send({ type: MessageType.DATA, chunk: list[i], end: i === list.length - 1 });
      }
    },
  ]]);
}

/** Cuts `bytes` into pieces of random sizes (1..max). */
function split(rng: Rng, bytes: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(bytes.length - at, 1 + rng.int(max));
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Two handshaken connections over loopback TCP (Deno): a byte stream under each channel. */
async function tcpPair(handlers: Map<number, RequestHandler>) {
  const net = denoNetwork();
  let accepted!: (c: Connection) => void;
  const inbound = new Promise<Connection>((r) => accepted = r);
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (c) => accepted(c));
  const connA = await net.connect(listener.address);
  const connB = await inbound;
  await listener.close();
  const ca = framedChannel(connA);
  const cb = framedChannel(connB);
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra, rb] = await handshakePair(ca, cb, ia, ib);
  const options = resolvePeerOptions(FAST);
  const a = new PeerConnection({ channel: ca, remote: ra, role: "dialer", options });
  const b = new PeerConnection({ channel: cb, remote: rb, role: "listener", options, handlers });
  return { a, b };
}

const TRANSPORTS = [
  ["memory", (h: Map<number, RequestHandler>) => peerPair({ handlers: h })],
  ["tcp", tcpPair],
] as const;

for (const [name, pair] of TRANSPORTS) {
  Deno.test(`get_block_over_${name}_assembles_randomly_split_chunks`, async () => {
    const seed = testSeed(1212);
    const rng = new Rng(seed);
    try {
      for (let round = 0; round < 6; round++) {
        const size = round === 0 ? 1 : rng.int(600 * 1024);
        const bytes = rng.bytes(size);
        const id = await ContentId.of(bytes);
        const max = rng.int(2) === 0 ? 300 : 200 * 1024;
        const { a, b } = await pair(serving(size, () => split(rng, bytes, max)));
        try {
          const got = await a.getBlock(id);
          assert.equal(got.length, size);
          assert.deepEqual(got, bytes);
        } finally {
          await a.close();
          await b.closed;
        }
      }
    } catch (err) {
      console.error(`get_block_over_${name} failed with seed ${seed} (set DFS_SEED to replay)`);
      throw err;
    }
  });

  Deno.test(`get_block_over_${name}_refuses_more_or_fewer_bytes_than_announced`, async () => {
    const bytes = new Uint8Array(300 * 1024).fill(3);
    const id = await ContentId.of(bytes);
    const cases: [string, number, () => Uint8Array[]][] = [
      // One chunk larger than the whole announced block, one that crosses its end, and an
      // honest-looking body that stops short.
      ["oversized chunk", 1000, () => [bytes]],
      ["chunk crossing the end", bytes.length - 10, () => split(new Rng(1), bytes, 128 * 1024)],
      [
        "short",
        bytes.length + 1,
        () => [bytes.subarray(0, 128 * 1024), bytes.subarray(128 * 1024)],
      ],
    ];
    for (const [what, announced, chunks] of cases) {
      const { a, b } = await pair(serving(announced, chunks));
      try {
        await assert.rejects(a.getBlock(id), PeerCorruptDataError, what);
        // A refused answer is the request's failure, not a protocol violation.
        assert.ok(a.isOpen, what);
      } finally {
        await a.close();
        await b.closed;
      }
    }
  });
}

Deno.test("placement_is_on_only_while_block_transfers_are_in_flight", async () => {
  const [connA, connB] = connectionPair();
  const inner = framedChannel(connA);
  const calls: boolean[] = [];
  const ca: MessageChannel = {
    send: (m) => inner.send(m),
    receive: () => inner.receive(),
    get pendingSends() {
      return inner.pendingSends;
    },
    end: () => inner.end(),
    close: () => inner.close(),
    closed: inner.closed,
    remote: inner.remote,
    placeData: (place) => {
      calls.push(place !== undefined);
      inner.placeData?.(place);
    },
  };
  const cb = framedChannel(connB);
  const bytes = new Uint8Array(200_000).fill(1);
  const id = await ContentId.of(bytes);
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra, rb] = await handshakePair(ca, cb, ia, ib);
  const options = resolvePeerOptions(FAST);
  const a = new PeerConnection({ channel: ca, remote: ra, role: "dialer", options });
  const handlers = serving(bytes.length, () => [bytes]);
  const b = new PeerConnection({ channel: cb, remote: rb, role: "listener", options, handlers });
  try {
    assert.deepEqual(calls, []);
    await Promise.all([a.getBlock(id), a.getBlock(id), a.getBlock(id)]);
    assert.deepEqual(calls, [true, false]);
    await a.getBlock(id);
    assert.deepEqual(calls, [true, false, true, false]);
  } finally {
    await a.close();
    await b.closed;
  }
});
