/** The secured connection over the in-memory network, watched by a recording relay. */

import assert from "node:assert/strict";
import { AbortedError, TimeoutError } from "../../../src/errors.ts";
import { NodeIdentity } from "../../../src/peer/identity.ts";
import {
  NoiseDecryptError,
  NoiseHandshakeError,
  NoisePreambleError,
  PlaintextPeerError,
} from "../../../src/peer/noise/errors.ts";
import { createNoiseCredentials } from "../../../src/peer/noise/payload.ts";
import { NOISE_PREAMBLE } from "../../../src/peer/noise/preamble.ts";
import { secureConnection } from "../../../src/peer/noise/secure_connection.ts";
import type { SecureConnectionOptions } from "../../../src/peer/noise/secure_connection.ts";
import { connectedPair, contains, drain, joined, newNode } from "./noise_helpers.ts";

type Side = Omit<SecureConnectionOptions, "role" | "credentials">;

async function handshakeBoth(
  pair: Awaited<ReturnType<typeof connectedPair>>,
  client: Side = {},
  server: Side = {},
) {
  const a = await newNode();
  const b = await newNode();
  const [ca, sb] = await Promise.allSettled([
    secureConnection(pair.client, { role: "initiator", credentials: a.credentials, ...client }),
    secureConnection(pair.server, { role: "responder", credentials: b.credentials, ...server }),
  ]);
  return { a, b, ca, sb };
}

function marker(total: number): Uint8Array {
  const unit = new TextEncoder().encode("SECRET-MARKER-0123456789|");
  const out = new Uint8Array(total);
  for (let i = 0; i < total; i++) out[i] = unit[i % unit.length];
  return out;
}

Deno.test("noise_secured_round_trip_hides_a_repeated_marker", async () => {
  const pair = await connectedPair();
  const { a, b, ca, sb } = await handshakeBoth(pair, { payload: new Uint8Array([1, 2, 3]) });
  assert.equal(ca.status, "fulfilled");
  assert.equal(sb.status, "fulfilled");
  if (ca.status !== "fulfilled" || sb.status !== "fulfilled") return;
  const client = ca.value;
  const server = sb.value;
  assert.deepEqual(client.remoteNodeId, b.identity.nodeId);
  assert.deepEqual(server.remoteNodeId, a.identity.nodeId);
  assert.deepEqual(client.remoteStatic, b.credentials.staticKey.publicKey);
  assert.deepEqual(client.handshakeHash, server.handshakeHash);
  assert.deepEqual(server.remotePayload, new Uint8Array([1, 2, 3]));
  assert.equal(client.remotePayload.length, 0);

  const data = marker(1_000_003);
  const send = async (to: WritableStream<Uint8Array>) => {
    const w = to.getWriter();
    // Mixed sizes: tiny writes (batched), odd sizes, and writes larger than a Noise message.
    const sizes = [1, 7, 100, 65519, 65520, 200_000, 3];
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const n = Math.min(sizes[i % sizes.length], data.length - at);
      await w.write(data.slice(at, at + n));
      at += n;
    }
    await w.close();
  };
  const [, , up, down] = await Promise.all([
    send(client.connection.writable),
    send(server.connection.writable),
    drain(server.connection.readable),
    drain(client.connection.readable),
  ]);
  assert.equal(up.error, null);
  assert.equal(down.error, null);
  assert.deepEqual(up.bytes, data);
  assert.deepEqual(down.bytes, data);
  const needle = new TextEncoder().encode("MARKER");
  assert.equal(contains(joined(pair.wire.up), needle), false);
  assert.equal(contains(joined(pair.wire.down), needle), false);
  // The wire starts with the preamble in both directions.
  assert.deepEqual(joined(pair.wire.up).subarray(0, 8), NOISE_PREAMBLE);
  assert.deepEqual(joined(pair.wire.down).subarray(0, 8), NOISE_PREAMBLE);
  client.connection.close();
});

Deno.test("noise_flipped_byte_closes_with_no_wrong_bytes_delivered", async () => {
  // Handshake up: 8 + 2 + 32 (m1), then 2 + 64 + 98 + 16 (m3) = 222 bytes; flip well after.
  for (const flipUpAt of [222 + 2 + 5, 222 + 65537 + 2 + 40_000, 222 + 1]) {
    const pair = await connectedPair({ flipUpAt });
    const { ca, sb } = await handshakeBoth(pair);
    if (ca.status !== "fulfilled" || sb.status !== "fulfilled") throw new Error("handshake");
    const data = marker(300_000);
    const w = ca.value.connection.writable.getWriter();
    const writing = (async () => {
      for (let at = 0; at < data.length; at += 65519) await w.write(data.slice(at, at + 65519));
      await w.close();
    })().catch(() => {});
    const got = await drain(sb.value.connection.readable);
    await writing;
    assert.ok(got.error instanceof NoiseDecryptError, `flip at ${flipUpAt}: ${got.error}`);
    assert.deepEqual(got.bytes, data.subarray(0, got.bytes.length), "only genuine bytes");
    assert.equal(got.bytes.length % 65519, 0, "nothing of the altered message");
    await sb.value.connection.closed;
  }
});

Deno.test("noise_flipped_handshake_byte_fails_the_handshake", async () => {
  const pair = await connectedPair({ flipUpAt: 8 + 2 + 32 + 2 + 10 }); // inside message 3
  const { ca, sb } = await handshakeBoth(pair, { timeoutMs: 2000 }, { timeoutMs: 2000 });
  assert.equal(ca.status, "rejected");
  assert.equal(sb.status, "rejected");
  if (sb.status === "rejected") {
    assert.ok(sb.reason instanceof NoiseHandshakeError, String(sb.reason));
    assert.equal(sb.reason.reason, "AUTH_FAILED");
  }
});

Deno.test("noise_wrong_cluster_key_fails_on_both_sides", async () => {
  const pair = await connectedPair();
  const { ca, sb } = await handshakeBoth(
    pair,
    { clusterKey: new Uint8Array(16).fill(1) },
    { clusterKey: new Uint8Array(16).fill(2) },
  );
  assert.ok(ca.status === "rejected" && ca.reason instanceof NoiseHandshakeError);
  assert.equal(ca.reason.reason, "REJECTED");
  assert.ok(sb.status === "rejected" && sb.reason instanceof NoiseHandshakeError);
  assert.equal(sb.reason.reason, "AUTH_FAILED");
  assert.match(sb.reason.message, /cluster key/);
});

Deno.test("noise_cluster_key_on_one_side_only_fails_on_both_sides", async () => {
  const pair = await connectedPair();
  // The protocol names differ, so message 1 already fails at the responder.
  const { ca, sb } = await handshakeBoth(pair, {}, { clusterKey: new Uint8Array(16).fill(2) });
  assert.ok(ca.status === "rejected" && ca.reason instanceof NoiseHandshakeError);
  assert.equal(ca.reason.reason, "CLOSED");
  assert.match(ca.reason.message, /cluster key/);
  assert.ok(sb.status === "rejected" && sb.reason instanceof NoiseHandshakeError);
  assert.equal(sb.reason.reason, "AUTH_FAILED");
  // And the other way round: the initiator holds the key.
  const pair2 = await connectedPair();
  const r = await handshakeBoth(pair2, { clusterKey: new Uint8Array(16).fill(2) }, {});
  assert.equal(r.ca.status, "rejected");
  assert.equal(r.sb.status, "rejected");
});

Deno.test("noise_same_cluster_key_succeeds", async () => {
  const pair = await connectedPair();
  const key = crypto.getRandomValues(new Uint8Array(64));
  const { ca, sb } = await handshakeBoth(pair, { clusterKey: key }, { clusterKey: key });
  assert.equal(ca.status, "fulfilled");
  assert.equal(sb.status, "fulfilled");
  if (ca.status === "fulfilled") ca.value.connection.close();
});

Deno.test("noise_bad_identity_signature_fails", async () => {
  const pair = await connectedPair();
  const a = await newNode();
  const other = await NodeIdentity.generate();
  // Claims a's identity key but the signature is by another key.
  const forged = {
    ...a.credentials,
    signature: (await createNoiseCredentials(other, a.credentials.staticKey)).signature,
  };
  const b = await newNode();
  const [ca, sb] = await Promise.allSettled([
    secureConnection(pair.client, { role: "initiator", credentials: forged, timeoutMs: 2000 }),
    secureConnection(pair.server, { role: "responder", credentials: b.credentials }),
  ]);
  assert.ok(sb.status === "rejected" && sb.reason instanceof NoiseHandshakeError);
  assert.equal(sb.reason.reason, "BAD_IDENTITY");
  assert.equal(ca.status, "rejected");
});

Deno.test("noise_signature_over_another_static_key_fails", async () => {
  const pair = await connectedPair();
  const b = await newNode();
  const stolen = await newNode(); // b's identity signature, replayed with another static key
  const replayed = { ...b.credentials, staticKey: stolen.credentials.staticKey };
  const a = await newNode();
  const [ca] = await Promise.allSettled([
    secureConnection(pair.client, { role: "initiator", credentials: a.credentials }),
    secureConnection(pair.server, { role: "responder", credentials: replayed, timeoutMs: 2000 }),
  ]);
  assert.ok(ca.status === "rejected" && ca.reason instanceof NoiseHandshakeError);
  assert.equal(ca.reason.reason, "BAD_IDENTITY");
});

Deno.test("noise_expected_node_id_is_enforced", async () => {
  const pair = await connectedPair();
  const { ca } = await handshakeBoth(pair, { expectedNodeId: new Uint8Array(32) }, {
    timeoutMs: 2000,
  });
  assert.ok(ca.status === "rejected" && ca.reason instanceof NoiseHandshakeError);
  assert.equal(ca.reason.reason, "BAD_IDENTITY");
});

Deno.test("noise_plaintext_peer_is_a_typed_error_on_both_roles", async () => {
  // A plaintext dfs node dials us: its first bytes are a u32 frame length.
  let pair = await connectedPair();
  const { credentials } = await newNode();
  const w = pair.client.writable.getWriter();
  await w.write(new Uint8Array([0, 0, 0, 12, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  await assert.rejects(
    secureConnection(pair.server, { role: "responder", credentials }),
    (err) => err instanceof PlaintextPeerError && /without encryption/.test(err.message),
  );
  // We dial a plaintext node that answers our preamble with an ERROR frame.
  pair = await connectedPair();
  const answer = pair.server.writable.getWriter();
  const dial = secureConnection(pair.client, { role: "initiator", credentials });
  await answer.write(new Uint8Array([0, 0, 0, 5, 0x7f, 0, 0, 0, 1]));
  await assert.rejects(dial, PlaintextPeerError);
  // A plaintext node that just closes.
  pair = await connectedPair();
  const dial2 = secureConnection(pair.client, { role: "initiator", credentials });
  pair.server.close();
  await assert.rejects(dial2, (e) => e instanceof NoiseHandshakeError && e.reason === "CLOSED");
});

Deno.test("noise_preamble_mismatch_is_typed_and_clear", async () => {
  const { credentials } = await newNode();
  let pair = await connectedPair();
  await pair.client.writable.getWriter().write(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
  await assert.rejects(
    secureConnection(pair.server, { role: "responder", credentials }),
    (e) => e instanceof NoisePreambleError && /not a dfs node/.test(e.message),
  );
  pair = await connectedPair();
  const future = NOISE_PREAMBLE.slice();
  future[6] = 9;
  await pair.client.writable.getWriter().write(future);
  await assert.rejects(
    secureConnection(pair.server, { role: "responder", credentials }),
    (e) => e instanceof NoisePreambleError && e.peerVersion === 9 && /version 9/.test(e.message),
  );
  // A version 1 node sent the version as a u16: 00 01.
  pair = await connectedPair();
  const v1 = NOISE_PREAMBLE.slice();
  v1.set([0, 1], 6);
  await pair.client.writable.getWriter().write(v1);
  await assert.rejects(
    secureConnection(pair.server, { role: "responder", credentials }),
    (e) => e instanceof NoisePreambleError && e.peerVersion === 1 && /upgrade/.test(e.message),
  );
  // An offer without AESGCM.
  pair = await connectedPair();
  const noAes = NOISE_PREAMBLE.slice();
  noAes[7] = 0x01;
  await pair.client.writable.getWriter().write(noAes);
  await assert.rejects(
    secureConnection(pair.server, { role: "responder", credentials }),
    (e) => e instanceof NoisePreambleError && /lacks AESGCM/.test(e.message),
  );
});

Deno.test("noise_handshake_is_bounded_by_timeout_and_signal", async () => {
  const { credentials } = await newNode();
  let pair = await connectedPair();
  await assert.rejects(
    secureConnection(pair.client, { role: "initiator", credentials, timeoutMs: 50 }),
    TimeoutError,
  );
  await pair.client.closed;
  pair = await connectedPair();
  const controller = new AbortController();
  const p = secureConnection(pair.server, {
    role: "responder",
    credentials,
    signal: controller.signal,
  });
  controller.abort();
  await assert.rejects(p, AbortedError);
});
