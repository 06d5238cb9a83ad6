import assert from "node:assert/strict";
import { AbortedError, NotFoundError, TimeoutError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import type { BlockService } from "../../src/peer/block_service.ts";
import { framedChannel } from "../../src/peer/channel.ts";
import {
  PeerClosedError,
  PeerCorruptDataError,
  PeerLimitError,
  PeerProtocolError,
  PeerRemoteError,
} from "../../src/peer/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { resolvePeerOptions } from "../../src/peer/options.ts";
import { PeerConnection } from "../../src/peer/peer_connection.ts";
import type { RequestHandler } from "../../src/peer/connection_types.ts";
import { encodeMessage } from "../../src/wire/codec.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import type { Message } from "../../src/wire/messages.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import {
  connectionPair,
  FAST,
  GatedService,
  handshakePair,
  peerPair,
  rawChannel,
  receiveOfType,
  waitFor,
} from "./helpers.ts";

const rng = makeRng(testSeed(0x5eed));

async function block(size: number): Promise<[ContentId, Uint8Array]> {
  const bytes = rng.bytes(size);
  return [await ContentId.of(bytes), bytes];
}

/** Handshakes `conn` as a raw peer and returns its channel, for tests that misbehave by hand. */
async function rawPeer(buffer?: number) {
  const [connA, connB] = connectionPair(buffer);
  const ca = framedChannel(connA);
  const cb = rawChannel(connB);
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra] = await handshakePair(ca, cb, ia, ib);
  const logs: string[] = [];
  const service = new MemoryBlockService();
  const a = new PeerConnection({
    channel: ca,
    remote: ra,
    role: "dialer",
    options: resolvePeerOptions(FAST),
    service,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  return { a, raw: cb, connA, connB, logs, service };
}

function receiveUntil(
  ch: { receive(): Promise<Message | null> },
  type: number,
): Promise<Message> {
  return receiveOfType(ch, type);
}

Deno.test("connection_puts_gets_has_and_deletes_blocks", async () => {
  const service = new MemoryBlockService();
  const { a, b } = await peerPair({ service });
  try {
    const [id, bytes] = await block(300 * 1024 + 7); // several DATA frames
    const [absent] = await block(10);
    await a.putBlock(id, bytes);
    assert.equal(service.size, 1);
    assert.deepEqual(await a.has([id, absent]), [true, false]);
    assert.deepEqual(await a.getBlock(id), bytes);
    await a.deleteBlock(id);
    assert.deepEqual(await a.has([id]), [false]);
    await assert.rejects(a.getBlock(id), NotFoundError);
    const [emptyId, empty] = await block(0);
    await a.putBlock(emptyId, empty);
    assert.equal((await a.getBlock(emptyId)).length, 0);
    assert.ok((await a.ping()) >= 0);
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_serves_many_concurrent_requests_in_both_directions", async () => {
  const sa = new MemoryBlockService();
  const sb = new MemoryBlockService();
  const { a, b } = await peerPair({
    service: sb,
    serviceA: sa,
    options: { maxInFlightPerPeer: 64 },
  });
  try {
    const blocks = await Promise.all(Array.from({ length: 40 }, (_, i) => block(1000 + i * 4099)));
    for (const [id, bytes] of blocks) {
      await sa.put(id, bytes);
      await sb.put(id, bytes);
    }
    const results = await Promise.all([
      ...blocks.map(([id]) => a.getBlock(id)),
      ...blocks.map(([id]) => b.getBlock(id)),
      ...Array.from({ length: 10 }, () => a.ping().then(() => null)),
    ]);
    for (let i = 0; i < blocks.length; i++) {
      assert.deepEqual(results[i], blocks[i][1]);
      assert.deepEqual(results[blocks.length + i], blocks[i][1]);
    }
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_rejects_corrupt_block_from_peer", async () => {
  const [id] = await block(5000);
  const [, other] = await block(5000);
  const liar: BlockService = {
    has: (ids) => Promise.resolve(ids.map(() => true)),
    get: () => Promise.resolve(other),
    put: () => Promise.resolve(),
    delete: () => Promise.resolve(true),
  };
  const { a, b } = await peerPair({ service: liar });
  try {
    await assert.rejects(a.getBlock(id), (err) => {
      assert.ok(err instanceof PeerCorruptDataError);
      assert.equal(err.code, "PEER_CORRUPT_DATA");
      return true;
    });
    assert.ok((await a.ping()) >= 0, "connection still usable");
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_put_of_bytes_not_matching_id_is_refused_corrupt", async () => {
  const service = new MemoryBlockService();
  const { a, b } = await peerPair({ service });
  try {
    const [id] = await block(2000);
    const [, wrong] = await block(2000);
    await assert.rejects(a.putBlock(id, wrong), (err) => {
      assert.ok(err instanceof PeerRemoteError);
      assert.equal(err.wireCode, WireErrorCode.CORRUPT);
      return true;
    });
    assert.equal(service.size, 0);
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_request_times_out_and_cancels_on_the_peer", async () => {
  const service = new GatedService();
  const { a, b } = await peerPair({ service });
  try {
    const [id, bytes] = await block(100);
    await service.put(id, bytes);
    await assert.rejects(a.getBlock(id, { timeoutMs: 100 }), TimeoutError);
    await waitFor(() => b.stats().incomingRequests === 0, 2000, "CANCEL to reach the peer");
    assert.equal(a.stats().outgoingRequests, 0);
    service.gate.resolve();
    assert.deepEqual(await a.getBlock(id), bytes, "connection still usable");
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_abort_signal_cancels_the_request", async () => {
  let sawAbort = false;
  const handlers = new Map<number, RequestHandler>([[
    MessageType.HAS,
    (_msg, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          sawAbort = true;
          resolve();
        });
      }),
  ]]);
  const { a, b } = await peerPair({ service: new MemoryBlockService(), handlers });
  try {
    const [id] = await block(10);
    const ctl = new AbortController();
    const pending = a.has([id], { signal: ctl.signal });
    await waitFor(() => b.stats().incomingRequests === 1, 2000, "request to arrive");
    ctl.abort();
    await assert.rejects(pending, AbortedError);
    await waitFor(() => sawAbort, 2000, "handler to see the CANCEL");
    assert.equal(b.stats().incomingRequests, 0);
    await assert.rejects(a.has([id], { signal: AbortSignal.abort() }), AbortedError);
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_cancel_stops_a_large_transfer", async () => {
  // A GET served slowly, frame by frame, the way the built-in one is (it checks the same signal
  // between DATA frames).
  let framesSent = 0;
  let stopped = false;
  const handlers = new Map<number, RequestHandler>([[
    MessageType.GET_BLOCK,
    async (msg, ctx) => {
      if (msg.type !== MessageType.GET_BLOCK) return;
      await ctx.send({ type: MessageType.BLOCK, id: msg.id, size: 1000 * 100 });
      for (let i = 0; i < 1000; i++) {
        if (ctx.signal.aborted) {
          stopped = true;
          return;
        }
        await ctx.send({ type: MessageType.DATA, chunk: new Uint8Array(100), end: i === 999 });
        framesSent++;
        await new Promise((r) => setTimeout(r, 2));
      }
    },
  ]]);
  const { a, b } = await peerPair({ handlers });
  try {
    const [id] = await block(10);
    const ctl = new AbortController();
    const pending = a.getBlock(id, { signal: ctl.signal });
    await waitFor(() => framesSent >= 5, 5000, "transfer to start");
    ctl.abort();
    await assert.rejects(pending, AbortedError);
    await waitFor(() => stopped, 3000, "sender to stop");
    assert.ok(framesSent < 1000, `sender stopped early (${framesSent} of 1000 frames)`);
    assert.equal(b.stats().incomingRequests, 0);
    assert.ok((await a.ping()) >= 0);
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_ping_interleaves_with_a_large_transfer", async () => {
  const service = new MemoryBlockService();
  const { a, b } = await peerPair({ service, buffer: 1 });
  try {
    const [id, bytes] = await block(4 * 1024 * 1024);
    await service.put(id, bytes);
    let transferDone = false;
    const transfer = a.getBlock(id).then((got) => {
      transferDone = true;
      return got;
    });
    await a.ping();
    await b.ping();
    // Not a timing assertion: the pings only had to get through between DATA frames.
    assert.deepEqual(await transfer, bytes);
    assert.ok(transferDone);
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_request_ids_have_the_side_parity", async () => {
  const seen: number[] = [];
  const handlers = new Map<number, RequestHandler>([[
    MessageType.HAS,
    (msg) => {
      seen.push(msg.requestId);
      return Promise.resolve({ type: MessageType.HAS_RESULT, present: [] });
    },
  ]]);
  const { a, b } = await peerPair({ handlers, serviceA: new MemoryBlockService() });
  try {
    await Promise.all(Array.from({ length: 5 }, () => a.has([])));
    assert.ok(seen.length === 5 && seen.every((id) => id % 2 === 1), `dialler ids odd: ${seen}`);
    const res = await b.request({ type: MessageType.HAS, ids: [] });
    assert.equal(res.type, MessageType.HAS_RESULT);
    assert.equal(res.requestId % 2, 0, "listener ids even");
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_refuses_requests_beyond_the_in_flight_limit", async () => {
  const service = new GatedService();
  const { a, b } = await peerPair({ service, options: { maxInFlightPerPeer: 2 } });
  try {
    const [id, bytes] = await block(100);
    await service.put(id, bytes);
    const first = [a.getBlock(id), a.getBlock(id)];
    await waitFor(() => service.gets === 2, 2000, "two requests in flight");
    await assert.rejects(a.getBlock(id), (err) => {
      assert.ok(err instanceof PeerRemoteError);
      assert.equal(err.wireCode, WireErrorCode.LIMIT);
      return true;
    });
    service.gate.resolve();
    for (const got of await Promise.all(first)) assert.deepEqual(got, bytes);
    // PING does not count against the limit.
    assert.ok((await a.ping()) >= 0);
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_refuses_blocks_over_the_size_limit", async () => {
  const service = new MemoryBlockService();
  const { a, b } = await peerPair({ service, options: { maxBlockSize: 1000 } });
  try {
    const [id, bytes] = await block(1001);
    await assert.rejects(a.putBlock(id, bytes), PeerLimitError);
    await service.put(id, bytes);
    await assert.rejects(a.getBlock(id), (err) => {
      assert.ok(err instanceof PeerRemoteError);
      assert.equal(err.wireCode, WireErrorCode.LIMIT);
      return true;
    });
  } finally {
    await a.close();
    await b.closed;
  }
});

Deno.test("connection_declares_a_silent_peer_dead", async () => {
  const { a, raw } = await rawPeer();
  try {
    const pending = a.ping({ timeoutMs: 10_000 });
    const info = await a.closed;
    assert.equal(info.reason, "dead");
    assert.ok(info.error instanceof PeerClosedError);
    await assert.rejects(pending, PeerClosedError);
    await assert.rejects(a.ping(), PeerClosedError);
  } finally {
    raw.close();
  }
});

Deno.test("connection_disconnects_a_peer_sending_garbage", async () => {
  const { a, raw, logs } = await rawPeer();
  try {
    const frame = encodeMessage({ type: MessageType.OK, requestId: 2 });
    frame[5] = 0xee; // unknown message type
    await raw.writeBytes(frame);
    const info = await a.closed;
    assert.equal(info.reason, "protocol");
    assert.ok(info.error instanceof PeerProtocolError);
    assert.ok(logs.some((l) => l.startsWith("warn")), "violation logged");
    const err = await receiveUntil(raw, MessageType.ERROR);
    assert.equal(err.type === MessageType.ERROR && err.code, WireErrorCode.BAD_REQUEST);
  } finally {
    raw.close();
  }
});

Deno.test("connection_disconnects_a_peer_declaring_a_huge_frame", async () => {
  const { a, raw } = await rawPeer();
  try {
    await raw.writeBytes(new Uint8Array([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
    const info = await a.closed;
    assert.equal(info.reason, "protocol");
    const err = await receiveUntil(raw, MessageType.ERROR);
    assert.equal(err.type === MessageType.ERROR && err.code, WireErrorCode.LIMIT);
  } finally {
    raw.close();
  }
});

Deno.test("connection_disconnects_a_peer_sending_unexpected_messages", async () => {
  for (
    const bad of [
      { type: MessageType.OK, requestId: 2 } as Message, // answer to a request never sent
      { type: MessageType.AUTH, requestId: 0, signature: new Uint8Array(64) } as Message,
      { type: MessageType.GET_BLOCK, requestId: 3, id: (await block(1))[0].bytes } as Message,
    ]
  ) {
    const { a, raw } = await rawPeer();
    try {
      await raw.send(bad);
      const info = await a.closed;
      assert.equal(info.reason, "protocol", `message type ${bad.type}`);
    } finally {
      raw.close();
    }
  }
});

Deno.test("connection_to_a_peer_that_stops_reading_keeps_a_bounded_queue", async () => {
  const { a, raw, connA, service } = await rawPeer(2);
  try {
    const [id, bytes] = await block(1024 * 1024);
    await service.put(id, bytes);
    // The raw peer floods requests and PINGs but never reads an answer.
    let next = 2;
    for (let i = 0; i < 300; i++) {
      await raw.send({ type: MessageType.GET_BLOCK, requestId: next, id: id.bytes });
      next += 2;
      await raw.send({ type: MessageType.PING, requestId: next, timestamp: i });
      next += 2;
    }
    const stats = a.stats();
    const opts = resolvePeerOptions(FAST);
    assert.ok(
      // One answer frame per request being served, plus a few capped control frames.
      stats.pendingSends <= 2 * opts.maxInFlightPerPeer + 16 + 1,
      `send queue bounded: ${stats.pendingSends}`,
    );
    assert.ok(stats.incomingRequests <= opts.maxInFlightPerPeer);
    assert.ok(connA.bytesWritten < 8 * 1024 * 1024, `bytes written bounded: ${connA.bytesWritten}`);
    assert.equal(a.closeInfo, undefined, "still connected: the peer is not silent");
  } finally {
    await a.close();
    raw.close();
  }
});

Deno.test("connection_shutdown_lets_in_flight_requests_finish", async () => {
  const service = new GatedService();
  const { a, b } = await peerPair({ service });
  const [id, bytes] = await block(50_000);
  await service.put(id, bytes);
  const inFlight = a.getBlock(id);
  await waitFor(() => service.gets === 1, 2000, "request in flight");
  const shutdown = b.shutdown(3000);
  await waitFor(() => !a.isOpen, 2000, "GOODBYE to arrive");
  await assert.rejects(a.getBlock(id), PeerClosedError, "no new requests after GOODBYE");
  service.gate.resolve();
  assert.deepEqual(await inFlight, bytes);
  await shutdown;
  assert.equal((await b.closed).reason, "local");
  await a.closed;
});

Deno.test("connection_shutdown_fails_requests_past_the_grace_period", async () => {
  const service = new GatedService();
  const { a, b } = await peerPair({ service });
  const [id, bytes] = await block(100);
  await service.put(id, bytes);
  const inFlight = a.getBlock(id);
  await waitFor(() => service.gets === 1, 2000, "request in flight");
  await a.shutdown(100);
  await assert.rejects(inFlight, PeerClosedError);
  service.gate.resolve();
  await b.closed;
});

Deno.test("connection_fails_pending_requests_when_the_peer_goes_away", async () => {
  const service = new GatedService();
  const { a, b, connB } = await peerPair({ service });
  const [id] = await block(100);
  const pending = a.getBlock(id);
  await waitFor(() => service.gets === 1, 2000, "request in flight");
  connB.close();
  await assert.rejects(pending, PeerClosedError);
  assert.notEqual((await a.closed).reason, "local");
  service.gate.resolve();
  await b.close();
});
