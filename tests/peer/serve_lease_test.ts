/**
 * The serving side's lent block buffers (BlockService.lease): a buffer goes back only once no
 * send can still read it, exactly once on every path.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import type { BlockLease } from "../../src/peer/block_service.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import type { MessageChannel } from "../../src/peer/channel.ts";
import { framedChannel } from "../../src/peer/channel.ts";
import { PeerLimitError, PeerRemoteError } from "../../src/peer/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { resolvePeerOptions } from "../../src/peer/options.ts";
import type { PeerOptions } from "../../src/peer/options.ts";
import { PeerConnection } from "../../src/peer/peer_connection.ts";
import { ReadBufferPool } from "../../src/store/read_buffer_pool.ts";
import type { Message } from "../../src/wire/messages.ts";
import { makeRng, testSeed, withSeed } from "../util/prng.ts";
import { connectionPair, FAST, handshakePair, waitFor } from "./helpers.ts";

const SEED = testSeed(0x1ea5_0001);
const rng = makeRng(SEED);

async function block(size: number): Promise<[ContentId, Uint8Array]> {
  const bytes = rng.bytes(size);
  return [await ContentId.of(bytes), bytes];
}

/**
 * A memory service that lends its blocks in buffers of a tiny pool: a lease waits (bounded) for
 * a free buffer, and a released buffer is poisoned at once, so a send that still reads it after
 * the release puts garbage on the wire and the fetching side's verification fails.
 */
class PooledService extends MemoryBlockService {
  readonly pool: ReadBufferPool;
  leases = 0;
  releases = 0;
  dropped = 0;
  extraReleases = 0;
  #waiting: (() => void)[] = [];

  constructor(bufferSize: number, maxBuffers: number) {
    super();
    this.pool = new ReadBufferPool({ bufferSize, maxBuffers });
  }

  async lease(id: ContentId): Promise<BlockLease | null> {
    const bytes = await this.get(id);
    if (bytes === null) return null;
    let buffer = this.pool.acquire();
    for (let i = 0; buffer === undefined && i < 1000; i++) {
      await new Promise<void>((r) => this.#waiting.push(r));
      buffer = this.pool.acquire();
    }
    if (buffer === undefined) throw new Error("no buffer came back");
    buffer.set(bytes);
    this.leases++;
    let released = false;
    return {
      bytes: buffer.subarray(0, bytes.length),
      release: (reuse = true) => {
        if (released) {
          this.extraReleases++;
          return;
        }
        released = true;
        this.releases++;
        if (!reuse) this.dropped++;
        buffer.fill(0xee);
        this.pool.release(buffer, reuse);
        this.#waiting.shift()?.();
      },
    };
  }
}

/**
 * A channel that takes its time: each send waits `delayMs` before the frame is encoded (so
 * until then it holds the message and the chunk view it carries) and resolves after that.
 * Sends stay in call order.
 */
function lazyChannel(inner: MessageChannel, delayMs: number): MessageChannel {
  let chain: Promise<void> = Promise.resolve();
  return {
    get pendingSends() {
      return inner.pendingSends;
    },
    send(message: Message) {
      const sent = chain.then(async () => {
        await new Promise((r) => setTimeout(r, delayMs));
        await inner.send(message);
      });
      chain = sent.catch(() => {});
      return sent;
    },
    receive: () => inner.receive(),
    end: () => chain.then(() => inner.end()),
    close: () => inner.close(),
    closed: inner.closed,
    remote: inner.remote,
  };
}

/** `a` fetches from `b`, which serves `service` through a lazy channel. */
async function lazyPair(service: PooledService, delayMs: number, opts: Partial<PeerOptions>) {
  const [connA, connB] = connectionPair();
  const ca = framedChannel(connA);
  const cb = framedChannel(connB);
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra, rb] = await handshakePair(ca, cb, ia, ib);
  const options = resolvePeerOptions({ ...FAST, ...opts });
  const a = new PeerConnection({ channel: ca, remote: ra, role: "dialer", options });
  const b = new PeerConnection({
    channel: lazyChannel(cb, delayMs),
    remote: rb,
    role: "listener",
    options,
    service,
  });
  return { a, b };
}

Deno.test("serve_get_keeps_a_lent_buffer_until_the_last_data_send_resolved", async () => {
  await withSeed(SEED, async () => {
    // One buffer for four concurrent gets of multi-frame blocks: each lease waits for the
    // previous one's release, and the channel reads every chunk late.
    const service = new PooledService(32 * 1024, 1);
    const blocks = await Promise.all([20_000, 32_768, 4_097, 12_345].map(block));
    for (const [id, bytes] of blocks) await service.put(id, bytes);
    const { a, b } = await lazyPair(service, 1, { dataChunkSize: 4096 });
    try {
      const got = await Promise.all(blocks.map(([id]) => a.getBlock(id)));
      for (let i = 0; i < blocks.length; i++) assert.deepEqual(got[i], blocks[i][1]);
      // And once more, each block after the other.
      for (const [id, bytes] of blocks) assert.deepEqual(await a.getBlock(id), bytes);
      assert.equal(service.leases, 8);
      await waitFor(() => service.releases === 8, 3000, "every lease released");
      assert.deepEqual([service.dropped, service.extraReleases, service.pool.lent], [0, 0, 0]);
    } finally {
      await a.close();
      await b.closed;
    }
  });
});

Deno.test("serve_get_releases_a_lease_once_when_the_connection_closes_mid_block", async () => {
  await withSeed(SEED, async () => {
    const service = new PooledService(64 * 1024, 1);
    const [id, bytes] = await block(64 * 1024);
    await service.put(id, bytes);
    const { a, b } = await lazyPair(service, 5, { dataChunkSize: 1024 });
    const get = a.getBlock(id).then(() => "done", () => "failed");
    await waitFor(() => service.leases === 1, 3000, "the block lent");
    await a.close();
    await b.closed;
    assert.equal(await get, "failed");
    await waitFor(() => service.releases === 1, 3000, "the lease released");
    assert.equal(service.extraReleases, 0);
    assert.equal(service.pool.lent, 0);
  });
});

Deno.test("serve_get_releases_a_lease_once_when_the_block_is_refused", async () => {
  await withSeed(SEED, async () => {
    const service = new PooledService(8 * 1024, 1);
    const [id, bytes] = await block(6000);
    await service.put(id, bytes);
    const { a, b } = await lazyPair(service, 0, { maxBlockSize: 4096, dataChunkSize: 1024 });
    try {
      await assert.rejects(
        a.getBlock(id),
        (err) => err instanceof PeerRemoteError || err instanceof PeerLimitError,
      );
      await waitFor(() => service.releases === 1, 3000, "the lease released");
      assert.deepEqual([service.dropped, service.extraReleases, service.pool.lent], [0, 0, 0]);
      assert.equal(await a.getBlock(await ContentId.of(bytes)).catch(() => null), null);
    } finally {
      await a.close();
      await b.closed;
    }
  });
});
