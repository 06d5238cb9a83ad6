import assert from "node:assert/strict";
import { framedChannel } from "../../src/peer/channel.ts";
import type { MessageChannel } from "../../src/peer/channel.ts";
import { HandshakeError } from "../../src/peer/errors.ts";
import type { HandshakeFailureReason } from "../../src/peer/errors.ts";
import { handshakeTranscript, performHandshake } from "../../src/peer/handshake.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import type { HelloMessage, Message } from "../../src/wire/messages.ts";
import { connectionPair, handshakePair, receiveOfType } from "./helpers.ts";

function channels(): [MessageChannel, MessageChannel, ReturnType<typeof connectionPair>] {
  const pair = connectionPair();
  return [framedChannel(pair[0]), framedChannel(pair[1]), pair];
}

function isHandshakeError(reason: HandshakeFailureReason) {
  return (err: unknown) => {
    assert.ok(err instanceof HandshakeError, `expected HandshakeError, got ${err}`);
    assert.equal(err.code, "HANDSHAKE_FAILED");
    assert.equal(err.reason, reason, err.message);
    return true;
  };
}

function helloOf(
  id: NodeIdentity,
  overrides: Partial<HelloMessage> = {},
): HelloMessage {
  return {
    type: MessageType.HELLO,
    requestId: 0,
    protocolVersion: 1,
    nodeId: id.nodeId,
    publicKey: id.publicKey,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    listenAddress: "127.0.0.1:9",
    capabilities: ["blocks/1"],
    ...overrides,
  };
}

function nextOfType(ch: MessageChannel, type: number): Promise<Message> {
  return receiveOfType(ch, type);
}

Deno.test("handshake_succeeds_and_authenticates_both_sides", async () => {
  const [a, b] = channels();
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra, rb] = await handshakePair(a, b, ia, ib);
  assert.equal(ra.nodeIdHex, ib.nodeIdHex);
  assert.equal(rb.nodeIdHex, ia.nodeIdHex);
  assert.deepEqual(ra.publicKey, ib.publicKey);
  assert.equal(ra.listenAddress, "127.0.0.1:2");
  assert.equal(rb.listenAddress, "127.0.0.1:1");
  assert.deepEqual(ra.capabilities, ["blocks/1"]);
  assert.equal(ra.protocolVersion, 1);
  a.close();
  b.close();
});

Deno.test("handshake_accepts_the_expected_node_id", async () => {
  const [a, b] = channels();
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra] = await Promise.all([
    performHandshake(a, {
      identity: ia,
      listenAddress: "",
      timeoutMs: 2000,
      expectedNodeId: ib.nodeId,
    }),
    performHandshake(b, { identity: ib, listenAddress: "", timeoutMs: 2000 }),
  ]);
  assert.equal(ra.nodeIdHex, ib.nodeIdHex);
  a.close();
  b.close();
});

Deno.test("handshake_rejects_an_unexpected_node_on_both_sides", async () => {
  const [a, b] = channels();
  const [ia, ib, other] = await Promise.all([
    NodeIdentity.generate(),
    NodeIdentity.generate(),
    NodeIdentity.generate(),
  ]);
  const results = await Promise.allSettled([
    performHandshake(a, {
      identity: ia,
      listenAddress: "",
      timeoutMs: 2000,
      expectedNodeId: other.nodeId,
    }),
    performHandshake(b, { identity: ib, listenAddress: "", timeoutMs: 2000 }),
  ]);
  assert.equal(results[0].status, "rejected");
  isHandshakeError("UNEXPECTED_PEER")((results[0] as PromiseRejectedResult).reason);
  assert.equal(results[1].status, "rejected");
  const remote = (results[1] as PromiseRejectedResult).reason;
  isHandshakeError("REJECTED")(remote);
  assert.equal(remote.wireCode, WireErrorCode.BAD_REQUEST);
  a.close();
  b.close();
});

Deno.test("handshake_rejects_version_mismatch_on_both_sides", async () => {
  const [a, b] = channels();
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const results = await Promise.allSettled([
    performHandshake(a, { identity: ia, listenAddress: "", timeoutMs: 2000, protocolVersion: 0 }),
    performHandshake(b, { identity: ib, listenAddress: "", timeoutMs: 2000 }),
  ]);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    isHandshakeError("VERSION_MISMATCH")((r as PromiseRejectedResult).reason);
  }
  a.close();
  b.close();
});

Deno.test("handshake_version_mismatch_sends_error_unsupported", async () => {
  const [honest, raw] = channels();
  const [ih, ir] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const done = performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 2000 });
  await raw.send(helloOf(ir, { protocolVersion: 0 }));
  await assert.rejects(done, isHandshakeError("VERSION_MISMATCH"));
  const err = await nextOfType(raw, MessageType.ERROR);
  assert.equal(err.type === MessageType.ERROR && err.code, WireErrorCode.UNSUPPORTED);
  honest.close();
  raw.close();
});

Deno.test("handshake_rejects_bad_signature", async () => {
  const [honest, raw] = channels();
  const [ih, ir] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const done = performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 2000 });
  await raw.send(helloOf(ir));
  const theirHello = await nextOfType(raw, MessageType.HELLO);
  assert.equal(theirHello.type, MessageType.HELLO);
  // A signature by the right key over the wrong transcript (a replay from another session).
  const stale = await ir.sign(
    handshakeTranscript(new Uint8Array(32), new Uint8Array(32), ir.nodeId, ih.nodeId),
  );
  await raw.send({ type: MessageType.AUTH, requestId: 0, signature: stale });
  await assert.rejects(done, isHandshakeError("BAD_SIGNATURE"));
  const err = await nextOfType(raw, MessageType.ERROR);
  assert.equal(err.type === MessageType.ERROR && err.code, WireErrorCode.BAD_REQUEST);
  honest.close();
  raw.close();
});

Deno.test("handshake_rejects_node_id_not_matching_key", async () => {
  const [honest, raw] = channels();
  const [ih, ir] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const done = performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 2000 });
  await raw.send(helloOf(ir, { nodeId: crypto.getRandomValues(new Uint8Array(32)) }));
  await assert.rejects(done, isHandshakeError("NODE_ID_MISMATCH"));
  honest.close();
  raw.close();
});

Deno.test("handshake_rejects_malformed_hello", async () => {
  // Another message instead of HELLO.
  {
    const [honest, raw] = channels();
    const ih = await NodeIdentity.generate();
    const done = performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 2000 });
    await raw.send({ type: MessageType.PING, requestId: 1, timestamp: 0 });
    await assert.rejects(done, isHandshakeError("MALFORMED_HELLO"));
    const err = await nextOfType(raw, MessageType.ERROR);
    assert.equal(err.type === MessageType.ERROR && err.code, WireErrorCode.BAD_REQUEST);
    honest.close();
    raw.close();
  }
  // Bytes that do not decode as a message.
  {
    const [conn, rawConn] = connectionPair();
    const honest = framedChannel(conn);
    const ih = await NodeIdentity.generate();
    const done = performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 2000 });
    const w = rawConn.writable.getWriter();
    await w.write(new Uint8Array([0, 0, 0, 5, 1, 0x01, 0, 0, 0]));
    await assert.rejects(done, isHandshakeError("MALFORMED_HELLO"));
    honest.close();
    rawConn.close();
  }
});

Deno.test("handshake_times_out_when_the_peer_stays_silent", async () => {
  const [honest, raw] = channels();
  const ih = await NodeIdentity.generate();
  const started = Date.now();
  await assert.rejects(
    performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 150 }),
    isHandshakeError("TIMEOUT"),
  );
  assert.ok(Date.now() - started < 5000);
  honest.close();
  raw.close();
});

Deno.test("handshake_rejects_connecting_to_self", async () => {
  const [a, b] = channels();
  const ia = await NodeIdentity.generate();
  const results = await Promise.allSettled([
    performHandshake(a, { identity: ia, listenAddress: "", timeoutMs: 2000 }),
    performHandshake(b, { identity: ia, listenAddress: "", timeoutMs: 2000 }),
  ]);
  assert.ok(results.every((r) => r.status === "rejected"));
  a.close();
  b.close();
});

Deno.test("handshake_reports_a_closed_connection", async () => {
  const [honest, raw] = channels();
  const ih = await NodeIdentity.generate();
  const done = performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 2000 });
  await raw.end();
  raw.close();
  await assert.rejects(done, isHandshakeError("CLOSED"));
  honest.close();
});
