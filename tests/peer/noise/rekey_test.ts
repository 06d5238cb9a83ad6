/**
 * Rekeying (Noise spec 11.3) at an agreed message count: both sides switch keys at the same
 * message without any signal, the bytes still arrive, and a side that rekeys at another point
 * cannot read on (so the rekey really happens).
 */

import assert from "node:assert/strict";
import { CipherState } from "../../../src/peer/noise/cipher_state.ts";
import { secureConnection } from "../../../src/peer/noise/secure_connection.ts";
import { connectedPair, drain, newNode } from "./noise_helpers.ts";

const KEY = new Uint8Array(32).fill(3);
const AD = new Uint8Array(0);

Deno.test("cipher_states_rekey_at_the_same_message_and_the_keys_change", async () => {
  const a = new CipherState();
  const b = new CipherState();
  const plain = new CipherState();
  for (const c of [a, b, plain]) await c.initializeKey(KEY);
  a.setRekeyInterval(3);
  b.setRekeyInterval(3);
  const msg = new TextEncoder().encode("hello");
  // Sealed concurrently, as the transport does: the nonces and keys still go in call order.
  const sealed = await Promise.all(Array.from({ length: 10 }, () => a.encryptWithAd(AD, msg)));
  for (const s of sealed) assert.deepEqual(await b.decryptWithAd(AD, s), msg);
  const unkeyed = await Promise.all(Array.from({ length: 10 }, () => plain.encryptWithAd(AD, msg)));
  // Messages 0..2 are under the first key; from message 3 on the key has changed.
  assert.deepEqual(sealed.slice(0, 3), unkeyed.slice(0, 3));
  for (let i = 3; i < 10; i++) assert.notDeepEqual(sealed[i], unkeyed[i], `message ${i}`);
});

Deno.test("noise_connections_rekey_every_n_messages_and_a_mismatch_fails", async () => {
  for (const [every, other, ok] of [[4, 4, true], [4, 5, false]] as const) {
    const pair = await connectedPair();
    const a = await newNode();
    const b = await newNode();
    const [ca, sb] = await Promise.all([
      secureConnection(pair.client, {
        role: "initiator",
        credentials: a.credentials,
        rekeyEvery: every,
      }),
      secureConnection(pair.server, {
        role: "responder",
        credentials: b.credentials,
        rekeyEvery: other,
      }),
    ]);
    const bytes = new Uint8Array(20 * 65_519).map((_, i) => i * 7);
    const writing = (async () => {
      const w = ca.connection.writable.getWriter();
      await w.write(bytes);
      await w.close();
    })().catch(() => {});
    const got = await drain(sb.connection.readable);
    await writing;
    if (ok) {
      assert.equal(got.error, null);
      assert.deepEqual(got.bytes, bytes);
    } else {
      assert.ok(got.error, "a reader rekeying at another message cannot read on");
      assert.ok(got.bytes.length < bytes.length);
      // What it did deliver is the start of the stream, never other bytes.
      assert.deepEqual(got.bytes, bytes.subarray(0, got.bytes.length));
    }
    ca.connection.close();
    sb.connection.close();
  }
});
