import assert from "node:assert/strict";
import { framedChannel } from "../../src/peer/channel.ts";
import type { MessageChannel } from "../../src/peer/channel.ts";
import { HandshakeError } from "../../src/peer/errors.ts";
import type { HandshakeFailureReason } from "../../src/peer/errors.ts";
import {
  CLUSTER_BAD_SIGNATURE_TEXT,
  clusterAuthMessage,
  handshakeTranscript,
  performHandshake,
} from "../../src/peer/handshake.ts";
import { NodeIdentity, verifySignature } from "../../src/peer/identity.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { toHex } from "../../src/util/hex.ts";
import { encodeMessage } from "../../src/wire/codec.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import type { HelloMessage, Message } from "../../src/wire/messages.ts";
import { connectionPair, handshakePair, rawChannel, receiveOfType } from "./helpers.ts";

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
    protocolVersion: 2,
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
  assert.equal(ra.protocolVersion, 2);
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
    // Version 1 (retired, no DHT messages) is now too old.
    performHandshake(a, { identity: ia, listenAddress: "", timeoutMs: 2000, protocolVersion: 1 }),
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

Deno.test("handshake_refuses_a_version_1_peer_with_error_unsupported", async () => {
  const [conn, rawConn] = connectionPair();
  const honest = framedChannel(conn);
  const raw = rawChannel(rawConn);
  const [ih, ir] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const done = performHandshake(honest, { identity: ih, listenAddress: "", timeoutMs: 2000 });
  // What a version 1 node sends first: a HELLO whose header version byte is 1.
  const frame = encodeMessage(helloOf(ir, { protocolVersion: 1 }));
  frame[4] = 1;
  await raw.writeBytes(frame);
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
    await w.write(new Uint8Array([0, 0, 0, 5, 2, 0x01, 0, 0, 0]));
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

// ------------------------------------------------------------------ cluster key

/** `n` bytes start, start+1, ... (mod 256), like the wire test vectors. */
function seq(n: number, start: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

/** Handshakes a and b with the given cluster keys; both outcomes, settled. */
async function keyedPair(keyA: Uint8Array | undefined, keyB: Uint8Array | undefined) {
  const [a, b] = channels();
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const results = await Promise.allSettled([
    performHandshake(a, { identity: ia, listenAddress: "", timeoutMs: 2000, clusterKey: keyA }),
    performHandshake(b, { identity: ib, listenAddress: "", timeoutMs: 2000, clusterKey: keyB }),
  ]);
  a.close();
  b.close();
  return { results, ia, ib };
}

function rejection(r: PromiseSettledResult<unknown>): HandshakeError {
  assert.equal(r.status, "rejected");
  const err = (r as PromiseRejectedResult).reason;
  assert.ok(err instanceof HandshakeError, `expected HandshakeError, got ${err}`);
  return err;
}

Deno.test("cluster_auth_message_is_transcript_then_hmac_sha256_of_it", async () => {
  // Pinned bytes: domain || other nonce 00.. || own nonce 20.. || own id 40.. || other id 60..,
  // then HMAC-SHA256 with the key a0a1..bf (computed independently with Python's hmac module).
  const transcript = handshakeTranscript(
    seq(32, 0x00),
    seq(32, 0x20),
    seq(32, 0x40),
    seq(32, 0x60),
  );
  const expectedTranscript = "6466732f68616e647368616b652f7631" +
    toHex(seq(128, 0x00));
  assert.equal(toHex(transcript), expectedTranscript);
  const signed = await clusterAuthMessage(transcript, seq(32, 0xa0));
  assert.equal(
    toHex(signed),
    expectedTranscript + "e74fa56b909aad7bd39b568aa0ecd42f9d3225ed91a7e62014636afebb9ca99c",
  );
  // A 16-byte key (the minimum) works the same way.
  const short = await clusterAuthMessage(transcript, seq(16, 0xc0));
  assert.equal(
    toHex(short.subarray(144)),
    "6b929dda1078baa5f24d703664d3548eb3d5d3908af1117eed9da1ce25e3256b",
  );
  // No key: the bare transcript, as before.
  assert.deepEqual(await clusterAuthMessage(transcript, undefined), transcript);
});

Deno.test("cluster_auth_message_rejects_keys_outside_16_to_1024_bytes", async () => {
  const t = handshakeTranscript(seq(32, 0), seq(32, 0), seq(32, 0), seq(32, 0));
  for (const n of [0, 1, 15, 1025]) {
    await assert.rejects(clusterAuthMessage(t, new Uint8Array(n)), InvalidArgumentError, `${n}`);
  }
  assert.equal((await clusterAuthMessage(t, new Uint8Array(1024))).length, 176);
});

Deno.test("handshake_with_a_cluster_key_signs_transcript_and_hmac", async () => {
  // One side is driven by hand: its checks use the documented construction, nothing else.
  const key = seq(32, 0xa0);
  const [honest, raw] = channels();
  const [ih, ir] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const done = performHandshake(honest, {
    identity: ih,
    listenAddress: "",
    timeoutMs: 2000,
    clusterKey: key,
  });
  const ourHello = helloOf(ir);
  await raw.send(ourHello);
  const theirHello = await nextOfType(raw, MessageType.HELLO) as HelloMessage;
  const auth = await nextOfType(raw, MessageType.AUTH);
  assert.ok(auth.type === MessageType.AUTH);
  // Their AUTH: signed over ourNonce || theirNonce || theirId || ourId, plus the HMAC.
  const theirs = handshakeTranscript(ourHello.nonce, theirHello.nonce, ih.nodeId, ir.nodeId);
  assert.ok(
    await verifySignature(ih.publicKey, auth.signature, await clusterAuthMessage(theirs, key)),
  );
  assert.ok(!(await verifySignature(ih.publicKey, auth.signature, theirs)));
  const ours = handshakeTranscript(theirHello.nonce, ourHello.nonce, ir.nodeId, ih.nodeId);
  const signature = await ir.sign(await clusterAuthMessage(ours, key));
  await raw.send({ type: MessageType.AUTH, requestId: 0, signature });
  const result = await done;
  assert.equal(result.nodeIdHex, ir.nodeIdHex);
  honest.close();
  raw.close();
});

Deno.test("handshake_with_the_same_cluster_key_succeeds", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const { results, ia, ib } = await keyedPair(key, key.slice());
  assert.equal(results[0].status, "fulfilled");
  assert.equal(results[1].status, "fulfilled");
  const [ra, rb] = results.map((r) => (r as PromiseFulfilledResult<{ nodeIdHex: string }>).value);
  assert.equal(ra.nodeIdHex, ib.nodeIdHex);
  assert.equal(rb.nodeIdHex, ia.nodeIdHex);
});

Deno.test("handshake_with_different_cluster_keys_fails_on_both_sides", async () => {
  const { results } = await keyedPair(seq(32, 1), seq(32, 2));
  for (const r of results) {
    const err = rejection(r);
    assert.equal(err.reason, "BAD_SIGNATURE");
    assert.ok(err.message.includes(CLUSTER_BAD_SIGNATURE_TEXT), err.message);
  }
});

Deno.test("handshake_with_a_cluster_key_on_one_side_only_fails_on_both_sides", async () => {
  for (const [keyA, keyB] of [[seq(16, 9), undefined], [undefined, seq(16, 9)]]) {
    const { results } = await keyedPair(keyA, keyB);
    const [ea, eb] = results.map(rejection);
    assert.equal(ea.reason, "BAD_SIGNATURE");
    assert.equal(eb.reason, "BAD_SIGNATURE");
    // The keyed side says the peer may be outside the cluster; the open side sees a bad signature.
    const [keyed, open] = keyA ? [ea, eb] : [eb, ea];
    assert.ok(keyed.message.includes(CLUSTER_BAD_SIGNATURE_TEXT), keyed.message);
    assert.ok(!open.message.includes("cluster"), open.message);
  }
});

Deno.test("handshake_without_cluster_keys_is_unchanged", async () => {
  const { results } = await keyedPair(undefined, undefined);
  assert.ok(results.every((r) => r.status === "fulfilled"));
});

Deno.test("handshake_error_sent_to_an_outsider_is_generic", async () => {
  // An outsider (no key) completes HELLO and a valid open-cluster AUTH; the member refuses it
  // and its ERROR says nothing about keys or clusters.
  const [member, raw] = channels();
  const [im, io] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const done = performHandshake(member, {
    identity: im,
    listenAddress: "",
    timeoutMs: 2000,
    clusterKey: seq(32, 0x33),
  });
  const hello = helloOf(io);
  await raw.send(hello);
  const theirHello = await nextOfType(raw, MessageType.HELLO) as HelloMessage;
  const signature = await io.sign(
    handshakeTranscript(theirHello.nonce, hello.nonce, io.nodeId, im.nodeId),
  );
  await raw.send({ type: MessageType.AUTH, requestId: 0, signature });
  await assert.rejects(done, isHandshakeError("BAD_SIGNATURE"));
  const err = await nextOfType(raw, MessageType.ERROR);
  assert.ok(err.type === MessageType.ERROR);
  assert.equal(err.code, WireErrorCode.BAD_REQUEST);
  assert.equal(err.message, "handshake failed (BAD_SIGNATURE): AUTH signature does not verify");
  member.close();
  raw.close();
});

Deno.test("handshake_rejects_a_short_cluster_key_before_sending", async () => {
  const [a, b] = channels();
  const ia = await NodeIdentity.generate();
  await assert.rejects(
    performHandshake(a, {
      identity: ia,
      listenAddress: "",
      timeoutMs: 2000,
      clusterKey: seq(15, 0),
    }),
    InvalidArgumentError,
  );
  a.close();
  b.close();
});
