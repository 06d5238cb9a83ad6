/** Failure cases of the Noise state machines: tampering, wrong psk, replay, nonce end, rekey. */

import assert from "node:assert/strict";
import {
  CipherState,
  MAX_NONCE,
  MAX_PLAINTEXT_BYTES,
} from "../../../src/peer/noise/cipher_state.ts";
import {
  NoiseDecryptError,
  NoiseMessageTooLargeError,
  NoiseNonceExhaustedError,
  NoiseStateError,
} from "../../../src/peer/noise/errors.ts";
import { HandshakeState } from "../../../src/peer/noise/handshake_state.ts";
import type { TransportCiphers } from "../../../src/peer/noise/handshake_state.ts";
import { generateKeyPair } from "../../../src/peer/noise/x25519.ts";

const EMPTY = new Uint8Array(0);
const text = (s: string) => new TextEncoder().encode(s);

async function pair(pskI?: Uint8Array, pskR?: Uint8Array) {
  const pattern = pskI === undefined ? "XX" : "XXpsk3";
  const i = await HandshakeState.create({
    pattern,
    initiator: true,
    staticKey: await generateKeyPair(),
    psk: pskI,
  });
  const r = await HandshakeState.create({
    pattern,
    initiator: false,
    staticKey: await generateKeyPair(),
    psk: pskR,
  });
  return { i, r };
}

async function transport(): Promise<{ i: TransportCiphers; r: TransportCiphers }> {
  const { i, r } = await pair();
  await r.readMessage(await i.writeMessage(EMPTY));
  await i.readMessage(await r.writeMessage(EMPTY));
  await r.readMessage(await i.writeMessage(EMPTY));
  return { i: await i.split(), r: await r.split() };
}

Deno.test("noise_tampered_handshake_byte_is_refused_without_payload", async () => {
  const { i, r } = await pair();
  await r.readMessage(await i.writeMessage(EMPTY));
  const m2 = await r.writeMessage(text("secret payload"));
  m2[m2.length - 1] ^= 1;
  await assert.rejects(i.readMessage(m2), NoiseDecryptError);
  // The failed state refuses to go on.
  await assert.rejects(i.writeMessage(EMPTY), NoiseStateError);
});

Deno.test("noise_tampered_transport_byte_is_refused_then_original_accepted", async () => {
  const { i, r } = await transport();
  const sealed = await i.send.encryptWithAd(EMPTY, text("hello"));
  for (let at = 0; at < sealed.length; at++) {
    const bad = sealed.slice();
    bad[at] ^= 0x80;
    const err = await r.receive.decryptWithAd(EMPTY, bad).catch((e) => e);
    assert.ok(err instanceof NoiseDecryptError, `byte ${at}`);
    assert.equal(err.code, "NOISE_DECRYPT");
  }
  // A failed open does not consume the nonce: the genuine message still opens.
  assert.equal(new TextDecoder().decode(await r.receive.decryptWithAd(EMPTY, sealed)), "hello");
});

Deno.test("noise_wrong_psk_fails_the_handshake", async () => {
  const a = crypto.getRandomValues(new Uint8Array(32));
  const b = crypto.getRandomValues(new Uint8Array(32));
  const { i, r } = await pair(a, b);
  await r.readMessage(await i.writeMessage(EMPTY));
  await i.readMessage(await r.writeMessage(EMPTY));
  await assert.rejects(r.readMessage(await i.writeMessage(EMPTY)), NoiseDecryptError);
  assert.equal(r.isComplete, false);
});

Deno.test("noise_same_psk_completes_and_keys_agree", async () => {
  const psk = crypto.getRandomValues(new Uint8Array(32));
  const { i, r } = await pair(psk, psk);
  await r.readMessage(await i.writeMessage(EMPTY));
  await i.readMessage(await r.writeMessage(EMPTY));
  await r.readMessage(await i.writeMessage(EMPTY));
  assert.deepEqual(i.handshakeHash, r.handshakeHash);
});

Deno.test("noise_replayed_or_reordered_transport_message_is_refused", async () => {
  const { i, r } = await transport();
  const m0 = await i.send.encryptWithAd(EMPTY, text("zero"));
  const m1 = await i.send.encryptWithAd(EMPTY, text("one"));
  await assert.rejects(r.receive.decryptWithAd(EMPTY, m1), NoiseDecryptError); // reordered
  await r.receive.decryptWithAd(EMPTY, m0);
  await assert.rejects(r.receive.decryptWithAd(EMPTY, m0), NoiseDecryptError); // replayed
  await r.receive.decryptWithAd(EMPTY, m1);
});

Deno.test("noise_nonce_exhaustion_is_a_typed_error", async () => {
  const { i, r } = await transport();
  i.send.setNonce(MAX_NONCE - 1n);
  r.receive.setNonce(MAX_NONCE - 1n);
  const last = await i.send.encryptWithAd(EMPTY, text("last"));
  assert.equal(new TextDecoder().decode(await r.receive.decryptWithAd(EMPTY, last)), "last");
  await assert.rejects(i.send.encryptWithAd(EMPTY, text("more")), NoiseNonceExhaustedError);
  await assert.rejects(r.receive.decryptWithAd(EMPTY, last), NoiseNonceExhaustedError);
});

Deno.test("noise_rekey_round_trip", async () => {
  const { i, r } = await transport();
  const before = await i.send.encryptWithAd(EMPTY, text("before"));
  await r.receive.decryptWithAd(EMPTY, before);
  await i.send.rekey();
  const after = await i.send.encryptWithAd(EMPTY, text("after"));
  // Without rekeying the receiver cannot open it; after rekeying it can.
  await assert.rejects(r.receive.decryptWithAd(EMPTY, after), NoiseDecryptError);
  await r.receive.rekey();
  assert.equal(new TextDecoder().decode(await r.receive.decryptWithAd(EMPTY, after)), "after");
  assert.equal(i.send.nonce, 2n);
});

Deno.test("noise_rekey_matches_spec_definition", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const a = new CipherState();
  await a.initializeKey(key);
  await a.rekey();
  // REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros): check with raw AES-GCM.
  const raw = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  const iv = new Uint8Array(12).fill(0xff, 4);
  const k2 = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: EMPTY },
      raw,
      new Uint8Array(32),
    ),
  ).subarray(0, 32);
  const b = new CipherState();
  await b.initializeKey(k2);
  assert.deepEqual(
    await a.encryptWithAd(EMPTY, text("x")),
    await b.encryptWithAd(EMPTY, text("x")),
  );
});

Deno.test("noise_message_size_is_bounded", async () => {
  const { i, r } = await transport();
  await assert.rejects(
    i.send.encryptWithAd(EMPTY, new Uint8Array(MAX_PLAINTEXT_BYTES + 1)),
    NoiseMessageTooLargeError,
  );
  const full = await i.send.encryptWithAd(EMPTY, new Uint8Array(MAX_PLAINTEXT_BYTES));
  assert.equal(full.length, 65535);
  assert.equal((await r.receive.decryptWithAd(EMPTY, full)).length, MAX_PLAINTEXT_BYTES);
  await assert.rejects(
    r.receive.decryptWithAd(EMPTY, new Uint8Array(65536)),
    NoiseMessageTooLargeError,
  );
});

Deno.test("noise_handshake_misuse_is_a_state_error", async () => {
  const { i, r } = await pair();
  await assert.rejects(r.writeMessage(EMPTY), NoiseStateError); // responder first
  await assert.rejects(i.readMessage(new Uint8Array(32)), NoiseStateError); // initiator reads first
  await assert.rejects(i.split(), NoiseStateError);
  await assert.rejects(
    HandshakeState.create({
      pattern: "XXpsk3",
      initiator: true,
      staticKey: await generateKeyPair(),
    }),
    NoiseStateError,
  );
  const m1 = await i.writeMessage(EMPTY);
  await assert.rejects(r.readMessage(m1.subarray(0, 31)), /MALFORMED/);
});
