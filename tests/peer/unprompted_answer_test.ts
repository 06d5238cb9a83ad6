/**
 * Every answer type arriving unprompted (with the peer's request-id parity) is a protocol
 * violation that closes the connection, including the answer types added later (PEERS, and the
 * DHT's NODES, PROVIDERS and VALUE): none of them may be mistaken for an unknown request and
 * answered UNSUPPORTED.
 */
import assert from "node:assert/strict";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { framedChannel } from "../../src/peer/channel.ts";
import { PeerProtocolError } from "../../src/peer/errors.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { resolvePeerOptions } from "../../src/peer/options.ts";
import { PeerConnection } from "../../src/peer/peer_connection.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import type { Message } from "../../src/wire/messages.ts";
import { connectionPair, FAST, handshakePair, rawChannel, receiveOfType } from "./helpers.ts";

/** A dialer-side connection `a` (odd ids) and a raw listener-side channel (even ids). */
async function rawPeer() {
  const [connA, connB] = connectionPair();
  const ca = framedChannel(connA);
  const raw = rawChannel(connB);
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra] = await handshakePair(ca, raw, ia, ib);
  const a = new PeerConnection({
    channel: ca,
    remote: ra,
    role: "dialer",
    options: resolvePeerOptions(FAST),
    service: new MemoryBlockService(),
    log: () => {},
  });
  return { a, raw };
}

/** Resolves with `p`, or rejects after `ms` (so a connection left open fails, never hangs). */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("connection_treats_unprompted_peers_and_dht_answers_as_violations", async () => {
  const closer = [{ nodeId: new Uint8Array(32), address: "127.0.0.1:7001" }];
  const unprompted: Message[] = [
    { type: MessageType.PEERS, requestId: 2, addresses: ["127.0.0.1:7000"] },
    { type: MessageType.NODES, requestId: 4, peers: closer },
    { type: MessageType.PROVIDERS, requestId: 6, providers: [], closer },
    { type: MessageType.VALUE, requestId: 8, closer },
  ];
  for (const bad of unprompted) {
    const { a, raw } = await rawPeer();
    try {
      await raw.send(bad);
      const info = await within(a.closed, 5000);
      assert.equal(info.reason, "protocol", `message type 0x${bad.type.toString(16)}`);
      assert.ok(info.error instanceof PeerProtocolError);
      // The farewell is ERROR BAD_REQUEST on id 0, not an UNSUPPORTED answer to the id sent.
      const err = await receiveOfType(raw, MessageType.ERROR);
      assert.equal(err.type === MessageType.ERROR && err.code, WireErrorCode.BAD_REQUEST);
      assert.equal(err.requestId, 0);
    } finally {
      raw.close();
    }
  }
});
