/**
 * The `node:crypto` AES-256-GCM provider produces Web Crypto's bytes and refuses what it does;
 * the ChaCha20-Poly1305 one gives RFC 8439's bytes and refuses altered messages.
 */

import assert from "node:assert/strict";
import { webCryptoAead } from "../../../src/peer/noise/aead.ts";
import { CipherState } from "../../../src/peer/noise/cipher_state.ts";
import { NoiseDecryptError } from "../../../src/peer/noise/errors.ts";
import { HandshakeState } from "../../../src/peer/noise/handshake_state.ts";
import { generateKeyPair } from "../../../src/peer/noise/x25519.ts";
import { nodeAesGcm, nodeChaCha20Poly1305 } from "../../../src/runtime/node/aead.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

Deno.test("node_aead_same_bytes_as_web_crypto", async () => {
  for (const size of [0, 1, 15, 16, 17, 1000, 65519]) {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const ad = crypto.getRandomValues(new Uint8Array(size % 50));
    const plaintext = new Uint8Array(size).map((_, i) => i * 7);
    const web = await webCryptoAead(key);
    const node = await nodeAesGcm(key);
    const a = await web.seal(nonce, ad, plaintext);
    const b = await node.seal(nonce, ad, plaintext);
    assert.deepEqual(b, a, `size ${size}`);
    assert.deepEqual(await node.open(nonce, ad, a), plaintext);
    assert.deepEqual(await web.open(nonce, ad, b), plaintext);
    const bad = b.slice();
    bad[bad.length - 1] ^= 1;
    await assert.rejects(node.open(nonce, ad, bad));
    await assert.rejects(node.open(nonce, ad, b.subarray(0, 3)));
  }
});

Deno.test("node_aead_interoperates_in_a_handshake_and_transport", async () => {
  const i = await HandshakeState.create({
    pattern: "XX",
    initiator: true,
    staticKey: await generateKeyPair(),
    cipher: { name: "AESGCM", factory: nodeAesGcm },
  });
  const r = await HandshakeState.create({
    pattern: "XX",
    initiator: false,
    staticKey: await generateKeyPair(),
  });
  const empty = new Uint8Array(0);
  await r.readMessage(await i.writeMessage(empty));
  await i.readMessage(await r.writeMessage(empty));
  await r.readMessage(await i.writeMessage(empty));
  const a = await i.split();
  const b = await r.split();
  const sealed = await a.send.encryptWithAd(empty, new Uint8Array([1, 2, 3]));
  assert.deepEqual(await b.receive.decryptWithAd(empty, sealed), new Uint8Array([1, 2, 3]));
  sealed[0] ^= 1;
  const c = new CipherState({ name: "AESGCM", factory: nodeAesGcm });
  await c.initializeKey(new Uint8Array(32));
  await assert.rejects(c.decryptWithAd(empty, sealed), NoiseDecryptError);
});

Deno.test("node_chacha20_poly1305_gives_rfc8439_bytes", async () => {
  // RFC 8439 section 2.8.2.
  const key = new Uint8Array(32).map((_, i) => 0x80 + i);
  const nonce = fromHex("070000004041424344454647")!;
  const ad = fromHex("50515253c0c1c2c3c4c5c6c7")!;
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the " +
      "future, sunscreen would be it.",
  );
  const aead = await nodeChaCha20Poly1305(key);
  const sealed = await aead.seal(nonce, ad, plaintext);
  assert.equal(sealed.length, plaintext.length + 16);
  assert.equal(toHex(sealed.subarray(0, 16)), "d31a8d34648e60db7b86afbc53ef7ec2");
  assert.equal(toHex(sealed.subarray(plaintext.length)), "1ae10b594f09e26a7e902ecbd0600691");
  assert.deepEqual(await aead.open(nonce, ad, sealed), plaintext);
  const bad = sealed.slice();
  bad[5] ^= 1;
  await assert.rejects(aead.open(nonce, ad, bad));
  await assert.rejects(aead.open(nonce, ad.subarray(1), sealed));
  await assert.rejects(aead.open(nonce, ad, sealed.subarray(0, 3)));
});

Deno.test("node_aead_seal_into_and_open_sync_are_the_same_bytes_as_seal_and_open", async () => {
  for (const factory of [nodeAesGcm, nodeChaCha20Poly1305]) {
    for (const size of [0, 1, 16, 1000, 65519]) {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const nonce = crypto.getRandomValues(new Uint8Array(12));
      const ad = crypto.getRandomValues(new Uint8Array(size % 33));
      const plaintext = new Uint8Array(size).map((_, i) => i * 13);
      const aead = await factory(key);
      const sealed = await aead.seal(nonce, ad, plaintext);
      // Into the middle of a larger buffer: the bytes around stay untouched.
      const out = new Uint8Array(size + 16 + 10).fill(0xee);
      aead.sealInto!(nonce, ad, plaintext, out, 5);
      assert.deepEqual(out.subarray(5, 5 + size + 16), sealed, `size ${size}`);
      assert.deepEqual(out.subarray(0, 5), new Uint8Array(5).fill(0xee));
      assert.deepEqual(out.subarray(5 + size + 16), new Uint8Array(5).fill(0xee));
      assert.throws(() => aead.sealInto!(nonce, ad, plaintext, out, 11), RangeError);
      assert.deepEqual(aead.openSync!(nonce, ad, sealed), plaintext);
      const bad = sealed.slice();
      bad[0] ^= 1;
      assert.throws(() => aead.openSync!(nonce, ad, bad));
      assert.throws(() => aead.openSync!(nonce, ad, sealed.subarray(0, 15)), RangeError);
    }
  }
});
