/** Per-peer bounds of the P2P port: request rate per connection, connections per host. */

import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { HandshakeError, PeerRemoteError } from "../../src/peer/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { resolvePeerOptions } from "../../src/peer/options.ts";
import type { PeerOptions } from "../../src/peer/options.ts";
import {
  hostAtLimit,
  isLoopbackHost,
  overRateAnswer,
  requestBucket,
  TokenBucket,
} from "../../src/peer/peer_limits.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Network } from "../../src/runtime/types.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import { FAST, peerPair } from "./helpers.ts";

Deno.test("token_bucket_spends_its_burst_then_refills_at_its_rate", () => {
  let now = 1000;
  const bucket = new TokenBucket(10, 3, () => now);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [
    true,
    true,
    true,
    false,
  ]);
  now += 99;
  assert.equal(bucket.take(), false, "not a whole token yet");
  now += 1;
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  now += 60_000; // a long pause refills only up to the burst
  let n = 0;
  while (bucket.take()) n++;
  assert.equal(n, 3);
  now -= 5000; // a clock going back spends nothing and gives nothing
  assert.equal(bucket.take(), false);
});

Deno.test("request_bucket_allows_two_seconds_of_burst_and_no_bound_when_unset", () => {
  const now = 0;
  const bucket = requestBucket({ maxRequestsPerSecond: 5 }, () => now);
  let n = 0;
  while (bucket.take()) n++;
  assert.equal(n, 10);
  const open = requestBucket({} as PeerOptions, () => now);
  for (let i = 0; i < 10_000; i++) assert.ok(open.take());
  const answer = overRateAnswer(9, { maxRequestsPerSecond: 5 });
  assert.equal(answer.code, WireErrorCode.LIMIT);
  assert.equal(answer.requestId, 9);
});

Deno.test("host_limit_counts_open_connections_and_pending_handshakes_and_spares_loopback", () => {
  const c = (host: string, isOpen = true) => ({ remote: { observedHost: host }, isOpen });
  const conns = [c("10.0.0.7"), c("10.0.0.7"), c("10.0.0.7", false), c("10.0.0.8")];
  assert.equal(hostAtLimit(conns, "10.0.0.7", 0, 3), false);
  assert.equal(hostAtLimit(conns, "10.0.0.7", 1, 3), true);
  assert.equal(hostAtLimit(conns, "10.0.0.7", 0, 2), true);
  assert.equal(hostAtLimit(conns, "10.0.0.9", 0, 1), false);
  assert.equal(hostAtLimit(conns, "10.0.0.9", 1, 1), true);
  assert.equal(hostAtLimit([c("127.0.0.1"), c("127.0.0.1")], "127.0.0.1", 5, 1), false);
  for (const h of ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::ffff:10.0.0.1", "example.org"]) {
    assert.ok(!isLoopbackHost(h), h);
  }
  assert.equal(resolvePeerOptions().maxRequestsPerSecond, 5000);
  assert.equal(resolvePeerOptions().maxConnectionsPerHost, 8);
});

Deno.test("a_peer_over_its_request_rate_gets_limit_and_recovers_while_others_are_served", async () => {
  const service = new MemoryBlockService();
  const bytes = new TextEncoder().encode("a block");
  const id = await ContentId.of(bytes);
  await service.put(id, bytes);
  const options = { maxRequestsPerSecond: 20 };
  const greedy = await peerPair({ service, options });
  const polite = await peerPair({ service, options });
  try {
    // 40 at once (the 2-second burst) are served; the next ones are refused with LIMIT.
    const burst = await Promise.allSettled(
      Array.from({ length: 60 }, () => greedy.a.has([id])),
    );
    const served = burst.filter((r) => r.status === "fulfilled").length;
    const refused = burst.filter((r) =>
      r.status === "rejected" && r.reason instanceof PeerRemoteError &&
      r.reason.wireCode === WireErrorCode.LIMIT
    ).length;
    assert.ok(served >= 40 && served <= 42, `served ${served}`);
    assert.equal(served + refused, 60);
    // Another peer of the same node is served as usual, and the connection stays open.
    assert.deepEqual(await polite.a.has([id]), [true]);
    assert.ok(greedy.a.isOpen && greedy.b.isOpen);
    // Heartbeat PINGs are not requests: the greedy connection is not declared dead.
    await new Promise((r) =>
      setTimeout(r, 150)
    );
    assert.deepEqual(await greedy.a.has([id]), [true], "the rate refilled");
  } finally {
    await Promise.all([greedy.a.close(), greedy.b.close(), polite.a.close(), polite.b.close()]);
  }
});

async function manager(network: Network, options: Partial<PeerOptions>, listen?: string) {
  const [hostname, port] = listen?.split(":") ?? [];
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network,
    service: new MemoryBlockService(),
    options: { ...FAST, ...options },
    ...(listen ? { listen: { hostname, port: Number(port) } } : {}),
  });
  await m.start();
  return m;
}

Deno.test("a_host_past_its_connection_bound_is_refused_with_limit_and_others_connect", async () => {
  const net = new MemoryNetwork();
  const a = await manager(net.host("10.0.0.1"), { maxConnectionsPerHost: 2 }, "10.0.0.1:7000");
  const crowd = await Promise.all(
    [0, 1, 2].map(() => manager(net.host("10.0.0.66"), { maxConnectionsPerHost: 2 })),
  );
  const other = await manager(net.host("10.0.0.2"), {});
  const target = "10.0.0.1:7000";
  try {
    await crowd[0].connect(target);
    await crowd[1].connect(target);
    await assert.rejects(crowd[2].connect(target), (err) => {
      assert.ok(err instanceof HandshakeError, String(err));
      assert.equal(err.wireCode, WireErrorCode.LIMIT);
      return true;
    });
    const conn = await other.connect(target);
    assert.equal(
      (await conn.request({ type: MessageType.HAS, ids: [] })).type,
      MessageType.HAS_RESULT,
    );
    // One of the host's connections goes: room for another from it.
    await crowd[0].peer(a.nodeIdHex)!.close();
    await new Promise((r) => setTimeout(r, 20));
    await crowd[2].connect(target);
  } finally {
    await Promise.all([a, other, ...crowd].map((m) => m.shutdown()));
  }
});
