/**
 * `PeerManager.connect` with a signal already aborted rejects at once, and the dial it shares
 * failing later is not an unhandled rejection (it used to fail whatever test ran then).
 */
import assert from "node:assert/strict";
import { AbortedError } from "../../src/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import { FAST } from "./helpers.ts";

Deno.test("connect_with_an_aborted_signal_leaves_no_dangling_dial_failure", async () => {
  const manager = new PeerManager({
    identity: await NodeIdentity.generate(),
    network: new MemoryNetwork(),
    listen: { hostname: "127.0.0.1", port: 0 },
    options: FAST,
    log: () => {},
  });
  await manager.start();
  try {
    const signal = AbortSignal.abort();
    await assert.rejects(manager.connect("10.9.9.9:4000", { signal }), AbortedError);
    // Let the shared dial to nowhere fail.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    await manager.shutdown();
  }
});
