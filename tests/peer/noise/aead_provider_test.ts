/** The `node:crypto` AES-256-GCM provider produces Web Crypto's bytes and refuses what it does. */

import assert from "node:assert/strict";
import { webCryptoAead } from "../../../src/peer/noise/aead.ts";
import { CipherState } from "../../../src/peer/noise/cipher_state.ts";
import { NoiseDecryptError } from "../../../src/peer/noise/errors.ts";
import { HandshakeState } from "../../../src/peer/noise/handshake_state.ts";
import { generateKeyPair } from "../../../src/peer/noise/x25519.ts";
import { nodeAesGcm } from "../../../src/runtime/node/aead.ts";

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
    aead: nodeAesGcm,
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
  const c = new CipherState(nodeAesGcm);
  await c.initializeKey(new Uint8Array(32));
  await assert.rejects(c.decryptWithAd(empty, sealed), NoiseDecryptError);
});
