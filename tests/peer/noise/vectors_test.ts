/**
 * The published Noise vectors (XX and XXpsk3 with 25519, AES-GCM or ChaChaPoly, SHA-256): every
 * handshake and transport ciphertext must come out byte for byte, decrypt on the other side, and
 * the handshake hash must match where the vector gives one. AES-GCM runs on Web Crypto,
 * ChaChaPoly on `node:crypto` (Deno's has it), the implementation the Deno adapter offers.
 */

import assert from "node:assert/strict";
import type { AeadName, NoiseCipher } from "../../../src/peer/noise/aead.ts";
import { WEB_CRYPTO_AESGCM } from "../../../src/peer/noise/aead.ts";
import { HandshakeState, protocolName } from "../../../src/peer/noise/handshake_state.ts";
import type { NoisePattern } from "../../../src/peer/noise/handshake_state.ts";
import { nodeChaCha20Poly1305 } from "../../../src/runtime/node/aead.ts";
import { keyPairFromPrivate } from "../../../src/peer/noise/x25519.ts";
import { fromHex as maybeHex, toHex } from "../../../src/util/hex.ts";

interface Vector {
  protocol_name: string;
  init_prologue: string;
  resp_prologue: string;
  init_static: string;
  init_ephemeral: string;
  resp_static: string;
  resp_ephemeral: string;
  init_psks?: string[];
  resp_psks?: string[];
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

const FILES = ["cacophony-xx.json", "snow-xx.json"];
const NAMES = [
  "Noise_XX_25519_AESGCM_SHA256",
  "Noise_XXpsk3_25519_AESGCM_SHA256",
  "Noise_XX_25519_ChaChaPoly_SHA256",
  "Noise_XXpsk3_25519_ChaChaPoly_SHA256",
];
const seen = new Set<string>();

for (const file of FILES) {
  const url = new URL(`./vectors/${file}`, import.meta.url);
  const { vectors } = JSON.parse(await Deno.readTextFile(url)) as { vectors: Vector[] };
  for (const v of vectors) {
    seen.add(v.protocol_name);
    Deno.test(`noise vector ${file}: ${v.protocol_name}`, async () => {
      await runVector(v);
    });
  }
}

Deno.test("noise vectors cover every protocol dfs speaks", () => {
  assert.deepEqual([...seen].sort(), [...NAMES].sort());
});

function fromHex(text: string): Uint8Array {
  const bytes = maybeHex(text);
  if (bytes === null) throw new Error(`bad hex in a vector: ${text}`);
  return bytes;
}

async function runVector(v: Vector): Promise<void> {
  const [, pattern, , name] = v.protocol_name.split("_") as [
    string,
    NoisePattern,
    string,
    AeadName,
  ];
  assert.equal(protocolName(pattern, name), v.protocol_name);
  const cipher: NoiseCipher = name === "ChaChaPoly"
    ? { name, factory: nodeChaCha20Poly1305 }
    : WEB_CRYPTO_AESGCM;
  const psk = (list?: string[]) =>
    list !== undefined && list.length > 0 ? fromHex(list[0]) : undefined;
  const init = await HandshakeState.create({
    pattern,
    initiator: true,
    staticKey: await keyPairFromPrivate(fromHex(v.init_static)),
    ephemeralPrivateKey: fromHex(v.init_ephemeral),
    prologue: fromHex(v.init_prologue),
    psk: psk(v.init_psks),
    cipher,
  });
  const resp = await HandshakeState.create({
    pattern,
    initiator: false,
    staticKey: await keyPairFromPrivate(fromHex(v.resp_static)),
    ephemeralPrivateKey: fromHex(v.resp_ephemeral),
    prologue: fromHex(v.resp_prologue),
    psk: psk(v.resp_psks),
    cipher,
  });
  for (let i = 0; i < 3; i++) {
    const [writer, reader] = i % 2 === 0 ? [init, resp] : [resp, init];
    const message = await writer.writeMessage(fromHex(v.messages[i].payload));
    assert.equal(toHex(message), v.messages[i].ciphertext, `handshake message ${i}`);
    assert.equal(toHex(await reader.readMessage(message)), v.messages[i].payload);
  }
  assert.equal(init.isComplete && resp.isComplete, true);
  assert.equal(toHex(init.handshakeHash), toHex(resp.handshakeHash));
  if (v.handshake_hash !== undefined) assert.equal(toHex(init.handshakeHash), v.handshake_hash);
  assert.equal(
    toHex(init.remoteStatic!),
    toHex((await keyPairFromPrivate(fromHex(v.resp_static))).publicKey),
  );
  const i = await init.split();
  const r = await resp.split();
  const empty = new Uint8Array(0);
  for (let m = 3; m < v.messages.length; m++) {
    const [send, receive] = m % 2 === 0 ? [i.send, r.receive] : [r.send, i.receive];
    const sealed = await send.encryptWithAd(empty, fromHex(v.messages[m].payload));
    assert.equal(toHex(sealed), v.messages[m].ciphertext, `transport message ${m}`);
    assert.equal(toHex(await receive.decryptWithAd(empty, sealed)), v.messages[m].payload);
  }
}
