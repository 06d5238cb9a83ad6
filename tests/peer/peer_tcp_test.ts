import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import { denoNetwork } from "../../src/runtime/deno/net.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import { FAST, waitFor } from "./helpers.ts";

const rng = makeRng(testSeed(0x5eed));
const LOOPBACK = { hostname: "127.0.0.1", port: 0 };

async function manager(listen: boolean, logs: string[] = []) {
  const service = new MemoryBlockService();
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network: denoNetwork(),
    listen: listen ? LOOPBACK : undefined,
    service,
    options: FAST,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  await m.start();
  return { m, service };
}

Deno.test("tcp_peers_exchange_blocks_over_loopback", async () => {
  const a = await manager(true);
  const b = await manager(false);
  try {
    const peer = await b.m.connect(a.m.address!);
    const blocks = await Promise.all(
      [0, 1, 1000, 256 * 1024, 1024 * 1024 + 3].map(async (n) => {
        const bytes = rng.bytes(n);
        return [await ContentId.of(bytes), bytes] as const;
      }),
    );
    await Promise.all(blocks.map(([id, bytes]) => peer.putBlock(id, bytes)));
    assert.equal(a.service.size, blocks.length);
    const got = await Promise.all(blocks.map(([id]) => peer.getBlock(id)));
    for (let i = 0; i < blocks.length; i++) assert.deepEqual(got[i], blocks[i][1]);
    assert.deepEqual(await peer.has(blocks.map(([id]) => id)), blocks.map(() => true));
  } finally {
    await Promise.all([a.m.shutdown(), b.m.shutdown()]);
  }
});

Deno.test("tcp_garbage_peer_is_dropped_while_another_is_served", async () => {
  const logs: string[] = [];
  const a = await manager(true, logs);
  const b = await manager(false);
  try {
    const bytes = rng.bytes(500_000);
    const id = await ContentId.of(bytes);
    await a.service.put(id, bytes);
    const peer = await b.m.connect(a.m.address!);
    // A raw socket: a huge declared frame length, then garbage.
    const raw = await Deno.connect({ hostname: "127.0.0.1", port: a.m.address!.port });
    await raw.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3]));
    const buf = new Uint8Array(4096);
    for (let i = 0; i < 1000; i++) {
      const n = await raw.read(buf).catch(() => null);
      if (n === null) break;
    }
    raw.close();
    assert.deepEqual(await peer.getBlock(id), bytes);
    assert.ok(peer.isOpen);
    await waitFor(() => logs.some((l) => l.includes("handshake refused")), 2000, "log line");
  } finally {
    await Promise.all([a.m.shutdown(), b.m.shutdown()]);
  }
});
