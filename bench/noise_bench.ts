/**
 * `deno bench` for the Noise AEAD: seal + open of one 64 KiB message through Web Crypto
 * AES-256-GCM, `node:crypto` AES-256-GCM and `node:crypto` ChaCha20-Poly1305, next to raw `crypto.subtle.digest` SHA-256 of the
 * same 64 KiB (the baseline), and a full secured transfer of 8 MiB over the in-memory network.
 * The cross-runtime figures come from `bench/noise_aead_speed.ts`.
 *
 *     deno bench -A bench/noise_bench.ts
 *
 * @module
 */

import { webCryptoAead } from "../src/peer/noise/aead.ts";
import { createNoiseCredentials } from "../src/peer/noise/payload.ts";
import { secureConnection } from "../src/peer/noise/secure_connection.ts";
import { NodeIdentity } from "../src/peer/identity.ts";
import { MemoryNetwork } from "../src/runtime/memory/net.ts";
import { nodeAesGcm, nodeChaCha20Poly1305 } from "../src/runtime/node/aead.ts";
import type { Connection } from "../src/runtime/types.ts";

const SIZE = 64 * 1024;
const key = crypto.getRandomValues(new Uint8Array(32));
const data = crypto.getRandomValues(new Uint8Array(SIZE));
const ad = new Uint8Array(0);
const nonce = new Uint8Array(12);
const web = await webCryptoAead(key);
const node = await nodeAesGcm(key);
const chacha = await nodeChaCha20Poly1305(key);

Deno.bench("SHA-256 digest 64 KiB (baseline)", { group: "aead", baseline: true }, async () => {
  await crypto.subtle.digest("SHA-256", data);
});

Deno.bench("Web Crypto AES-256-GCM seal+open 64 KiB", { group: "aead" }, async () => {
  await web.open(nonce, ad, await web.seal(nonce, ad, data));
});

Deno.bench("node:crypto AES-256-GCM seal+open 64 KiB", { group: "aead" }, async () => {
  await node.open(nonce, ad, await node.seal(nonce, ad, data));
});

Deno.bench("node:crypto ChaCha20-Poly1305 seal+open 64 KiB", { group: "aead" }, async () => {
  await chacha.open(nonce, ad, await chacha.seal(nonce, ad, data));
});

const credentials = [
  await createNoiseCredentials(await NodeIdentity.generate()),
  await createNoiseCredentials(await NodeIdentity.generate()),
];
const TRANSFER = 8 * 1024 * 1024;
const payload = new Uint8Array(TRANSFER).map((_, i) => (i * 31) & 0xff);

async function transfer(secure: boolean): Promise<void> {
  const net = new MemoryNetwork({ bufferSize: 1024 * 1024 });
  let accepted!: (c: Connection) => void;
  const server = new Promise<Connection>((r) => (accepted = r));
  const listener = await net.listen({ hostname: "127.0.0.1", port: 9 }, (c) => accepted(c));
  const rawClient = await net.connect({ hostname: "127.0.0.1", port: 9 });
  const rawServer = await server;
  let client = rawClient;
  let serverSide = rawServer;
  if (secure) {
    const [c, s] = await Promise.all([
      secureConnection(rawClient, { role: "initiator", credentials: credentials[0] }),
      secureConnection(rawServer, { role: "responder", credentials: credentials[1] }),
    ]);
    client = c.connection;
    serverSide = s.connection;
  }
  const writing = (async () => {
    const w = client.writable.getWriter();
    for (let at = 0; at < TRANSFER; at += 128 * 1024) {
      await w.write(payload.subarray(at, at + 128 * 1024));
    }
    await w.close();
  })();
  let got = 0;
  for await (const chunk of serverSide.readable) got += chunk.length;
  await writing;
  if (got !== TRANSFER) throw new Error(`got ${got}`);
  client.close();
  await listener.close();
}

Deno.bench(
  "memory network 8 MiB plaintext (baseline)",
  { group: "transfer", baseline: true },
  async () => {
    await transfer(false);
  },
);

Deno.bench("memory network 8 MiB Noise (handshake + transfer)", { group: "transfer" }, async () => {
  await transfer(true);
});
