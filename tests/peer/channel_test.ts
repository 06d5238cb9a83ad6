import assert from "node:assert/strict";
import { framedChannel } from "../../src/peer/channel.ts";
import { PeerClosedError } from "../../src/peer/errors.ts";
import { type Message, MessageType } from "../../src/wire/mod.ts";
import { makeRng, testSeed, withSeed } from "../util/prng.ts";
import { connectionPair } from "./helpers.ts";

function dataMessage(requestId: number, size: number, fill: number): Message {
  return {
    type: MessageType.DATA,
    requestId,
    chunk: new Uint8Array(size).fill(fill),
    end: false,
  };
}

Deno.test("channel_delivers_concurrent_small_and_big_sends_in_call_order", async () => {
  const seed = testSeed(0x5eed);
  const rng = makeRng(seed);
  const random = () => rng.next();
  const [a, b] = connectionPair();
  const sender = framedChannel(a);
  const receiver = framedChannel(b);
  await withSeed(seed, async () => {
    const sizes: number[] = [];
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      // Mostly small frames, some of one or several write buffers (up to 1 MiB).
      const r = random();
      const size = r < 0.6
        ? Math.floor(random() * 200)
        : r < 0.9
        ? 128 * 1024
        : Math.floor(random() * 1024 * 1024);
      sizes.push(size);
      sends.push(sender.send(dataMessage(i + 1, size, i & 0xff)));
    }
    const received = (async () => {
      for (let i = 0; i < sizes.length; i++) {
        const msg = await receiver.receive();
        assert.ok(msg && msg.type === MessageType.DATA, `message ${i}`);
        assert.equal(msg.requestId, i + 1);
        assert.equal(msg.chunk.length, sizes[i]);
        assert.ok(msg.chunk.every((x) => x === (i & 0xff)), `bytes of message ${i}`);
      }
    })();
    await Promise.all([...sends, received]);
    assert.equal(sender.pendingSends, 0);
  }).finally(() => {
    sender.close();
    receiver.close();
  });
});

Deno.test("channel_send_waits_for_a_peer_that_does_not_read", async () => {
  const [a, b] = connectionPair(2);
  const sender = framedChannel(a);
  const receiver = framedChannel(b);
  let resolved = 0;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    sends.push(sender.send(dataMessage(1, 128 * 1024, 1)).then(() => void resolved++));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(resolved < 40, `all 40 sends resolved without a reader (${resolved})`);
  assert.ok(sender.pendingSends > 0);
  for (let i = 0; i < 40; i++) assert.ok(await receiver.receive());
  await Promise.all(sends);
  assert.equal(resolved, 40);
  sender.close();
  receiver.close();
});

Deno.test("channel_rejects_queued_and_later_sends_after_close", async () => {
  const [a, b] = connectionPair(1);
  const sender = framedChannel(a);
  const receiver = framedChannel(b);
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 60; i++) sends.push(sender.send(dataMessage(1, 64 * 1024, 2)));
  await new Promise((r) => setTimeout(r, 20));
  sender.close();
  const results = await Promise.allSettled(sends);
  assert.ok(results.some((r) => r.status === "rejected"));
  for (const r of results) {
    if (r.status === "rejected") assert.ok(r.reason instanceof PeerClosedError, String(r.reason));
  }
  await assert.rejects(sender.send(dataMessage(1, 10, 3)), PeerClosedError);
  receiver.close();
});
