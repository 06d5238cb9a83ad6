/**
 * The transport's wire format does not depend on how it seals: whatever the AEAD (Web Crypto's
 * promise-only one, or `node:crypto`'s with the synchronous `sealInto` / `openSync`), however
 * the writes batch frames into socket writes, and across rekeys, the bytes on the wire are
 * `u16 length || message` frames that a reference cipher (the same cipher through its
 * promise-only `seal` / `open`) opens one by one under consecutive nonces; and a stream sealed
 * by the reference, cut anywhere, reads back through the transport. An altered frame delivers
 * nothing of itself.
 */

import assert from "node:assert/strict";
import { webCryptoAead } from "../../../src/peer/noise/aead.ts";
import type { AeadFactory, NoiseCipher } from "../../../src/peer/noise/aead.ts";
import { ByteReader } from "../../../src/peer/noise/byte_reader.ts";
import { CipherState } from "../../../src/peer/noise/cipher_state.ts";
import { NoiseDecryptError } from "../../../src/peer/noise/errors.ts";
import { frameMessage, transportConnection } from "../../../src/peer/noise/transport.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import { nodeAesGcm, nodeChaCha20Poly1305 } from "../../../src/runtime/node/aead.ts";
import type { Connection } from "../../../src/runtime/types.ts";
import { makeRng, testSeed, withSeed } from "../../util/prng.ts";
import type { Rng } from "../../util/prng.ts";
import { drain, joined } from "./noise_helpers.ts";

const SEED = testSeed(0x7a45_0c12);
const KEY = new Uint8Array(32).map((_, i) => i * 11 + 1);
const EMPTY = new Uint8Array(0);

/** The same cipher with only its promise-returning `seal` / `open`: the reference path. */
function promiseOnly(factory: AeadFactory): AeadFactory {
  return async (key) => {
    const aead = await factory(key);
    return {
      seal: (nonce, ad, plaintext, headroom) => aead.seal(nonce, ad, plaintext, headroom),
      open: (nonce, ad, ciphertext) => aead.open(nonce, ad, ciphertext),
    };
  };
}

const CIPHERS: readonly { label: string; cipher: NoiseCipher; reference: NoiseCipher }[] = [
  {
    label: "Web Crypto AESGCM",
    cipher: { name: "AESGCM", factory: webCryptoAead },
    reference: { name: "AESGCM", factory: webCryptoAead },
  },
  {
    label: "node:crypto AESGCM",
    cipher: { name: "AESGCM", factory: nodeAesGcm },
    reference: { name: "AESGCM", factory: promiseOnly(nodeAesGcm) },
  },
  {
    label: "node:crypto ChaChaPoly",
    cipher: { name: "ChaChaPoly", factory: nodeChaCha20Poly1305 },
    reference: { name: "ChaChaPoly", factory: promiseOnly(nodeChaCha20Poly1305) },
  },
];

async function keyed(cipher: NoiseCipher, rekeyEvery: number): Promise<CipherState> {
  const state = new CipherState(cipher);
  await state.initializeKey(KEY);
  state.setRekeyInterval(rekeyEvery);
  return state;
}

async function rawPair(): Promise<[Connection, Connection]> {
  const net = new MemoryNetwork();
  let server!: Connection;
  const accepted = new Promise<void>((resolve) => {
    net.listen({ hostname: "127.0.0.1", port: 7100 }, (c) => {
      server = c;
      resolve();
    });
  });
  const client = await net.connect({ hostname: "127.0.0.1", port: 7100 });
  await accepted;
  return [client, server];
}

/** Random write sizes: tiny, odd, exactly a message, just over, several messages. */
function writeSizes(rng: Rng, total: number): number[] {
  const shapes = [1, 7, 100, 4096, 65519, 65520, 131038, 200_000, 262144];
  const sizes: number[] = [];
  for (let sum = 0; sum < total && sizes.length < 10_000;) {
    const n = Math.min(total - sum, rng.int(3) === 0 ? rng.int(70_000) : rng.pick(shapes));
    sizes.push(n);
    sum += n;
  }
  return sizes;
}

/** Splits the wire into frames and opens each with `reference`, in order. */
async function openWire(wire: Uint8Array, reference: CipherState): Promise<Uint8Array> {
  const plain: Uint8Array[] = [];
  let at = 0;
  for (let frames = 0; at < wire.length; frames++) {
    assert.ok(frames < 100_000, "bounded");
    assert.ok(at + 2 <= wire.length, "the wire ends inside a length");
    const length = (wire[at] << 8) | wire[at + 1];
    assert.ok(length >= 16 && length <= 65535, `frame ${frames} of ${length} bytes`);
    assert.ok(at + 2 + length <= wire.length, "the wire ends inside a message");
    plain.push(await reference.decryptWithAd(EMPTY, wire.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  return joined(plain);
}

for (const { label, cipher, reference } of CIPHERS) {
  for (const rekeyEvery of [2 ** 20, 3]) {
    Deno.test(`transport_wire_is_frames_a_reference_cipher_opens (${label}, rekey every ${rekeyEvery})`, async () => {
      await withSeed(SEED, async () => {
        const rng = makeRng(SEED);
        const data = rng.bytes(1_500_000);
        const [client, server] = await rawPair();
        const plain = transportConnection(
          client,
          new ByteReader(client.readable),
          client.writable.getWriter(),
          await keyed(cipher, rekeyEvery),
          await keyed(cipher, rekeyEvery),
          rekeyEvery,
        );
        const wire = drain(server.readable);
        const w = plain.writable.getWriter();
        let at = 0;
        const pending: Promise<void>[] = [];
        for (const n of writeSizes(rng, data.length)) {
          // Some writes queued without waiting, so the sealer sees them back to back.
          const p = w.write(data.slice(at, at + n));
          at += n;
          if (rng.int(3) === 0) pending.push(p);
          else await p;
        }
        await Promise.all(pending);
        await w.close();
        const got = await wire;
        assert.equal(got.error, null);
        const opened = await openWire(got.bytes, await keyed(reference, rekeyEvery));
        assert.equal(opened.length, data.length);
        assert.deepEqual(opened, data);
        client.close();
      });
    });

    Deno.test(`transport_reads_what_a_reference_cipher_sealed_cut_anywhere (${label}, rekey every ${rekeyEvery})`, async () => {
      await withSeed(SEED, async () => {
        const rng = makeRng(SEED ^ 0x5a5a);
        for (const flip of [false, true]) {
          const data = rng.bytes(700_000);
          const sealer = await keyed(reference, rekeyEvery);
          const frames: Uint8Array[] = [];
          for (let at = 0; at < data.length;) {
            const n = Math.min(data.length - at, 1 + rng.int(65519));
            frames.push(frameMessage(await sealer.encryptWithAd(EMPTY, data.subarray(at, at + n))));
            at += n;
          }
          const wire = joined(frames);
          // Flip a byte inside frame 5's message: frames 0..4 arrive, nothing after.
          const before = frames.slice(0, 5).reduce((s, f) => s + f.length, 0);
          if (flip) wire[before + 2 + rng.int(frames[5].length - 2)] ^= 1;
          const [client, server] = await rawPair();
          const plain = transportConnection(
            server,
            new ByteReader(server.readable),
            server.writable.getWriter(),
            await keyed(cipher, rekeyEvery),
            await keyed(cipher, rekeyEvery),
            rekeyEvery,
          );
          const writing = (async () => {
            const w = client.writable.getWriter();
            for (let at = 0, cuts = 0; at < wire.length && cuts < 100_000; cuts++) {
              const n = Math.min(wire.length - at, 1 + rng.int(150_000));
              await w.write(wire.slice(at, at + n));
              at += n;
            }
            await w.close();
          })().catch(() => {});
          const got = await drain(plain.readable);
          await writing;
          if (!flip) {
            assert.equal(got.error, null);
            assert.deepEqual(got.bytes, data);
          } else {
            assert.ok(got.error instanceof NoiseDecryptError, `${got.error}`);
            const genuine = before - 5 * (2 + 16);
            // Opened frames still queued when the stream errors may be dropped; never a byte of
            // the altered frame or after it.
            assert.ok(got.bytes.length <= genuine, "nothing of the altered frame");
            assert.deepEqual(got.bytes, data.subarray(0, got.bytes.length));
          }
          client.close();
          server.close();
        }
      });
    });
  }
}
