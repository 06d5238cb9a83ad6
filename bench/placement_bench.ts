/**
 * The receiving half of a remote get, alone: DATA frames of 256 KiB blocks (two 128 KiB DATA
 * frames each, as a holder sends them) over loopback TCP through the runtime adapter, read with
 * the wire's reader into one block buffer per block, either copied there from the reader's
 * buffer (`copy`, before issue 12's frame placement) or read straight into it (`place`). The
 * sender writes pre-encoded frames (the same work in both modes). Modes alternate, `--rounds`
 * times each; the process CPU (user + system, both halves) and wall time per GiB are medians.
 *
 *     deno run -A bench/placement_bench.ts [--size 512M] [--rounds 5]
 *     node bench/placement_bench.ts [--size 512M] [--rounds 5]
 *
 * @module
 */

import process from "node:process";
import { BlockAssembly } from "../src/peer/block_assembly.ts";
import { encodeMessage } from "../src/wire/codec.ts";
import { MessageType } from "../src/wire/messages.ts";
import { type DataPlacement, readMessages } from "../src/wire/read_messages.ts";
import type { Connection, Network } from "../src/runtime/types.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const MiB = 1024 * 1024;
const size = Number((flag("size") ?? "512M").replace(/M$/i, "")) * MiB;
const rounds = Math.max(1, Math.min(15, Number(flag("rounds") ?? "5")));
const BLOCK = 256 * 1024;
const CHUNK = 128 * 1024;

async function network(): Promise<{ name: string; net: Network }> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) {
    return { name: "deno", net: (await import("../src/runtime/deno/net.ts")).denoNetwork() };
  }
  if (g.Bun) return { name: "bun", net: (await import("../src/runtime/bun/net.ts")).bunNetwork() };
  return { name: "node", net: (await import("../src/runtime/node/net.ts")).nodeNetwork() };
}

/** 512 KiB of frames: two blocks, each two DATA frames (request ids 1 and 3). */
function batch(): Uint8Array {
  const frames: Uint8Array[] = [];
  for (const requestId of [1, 3]) {
    const chunk = new Uint8Array(CHUNK).fill(requestId);
    frames.push(encodeMessage({ type: MessageType.DATA, requestId, chunk, end: false }));
    frames.push(encodeMessage({ type: MessageType.DATA, requestId, chunk, end: true }));
  }
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

async function once(net: Network, mode: "copy" | "place") {
  let accepted!: (c: Connection) => void;
  const inbound = new Promise<Connection>((r) => accepted = r);
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (c) => accepted(c));
  const sender = await net.connect(listener.address);
  const receiver = await inbound;
  await listener.close();
  const frames = batch();
  const blocks = size / BLOCK;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const writing = (async () => {
    const w = sender.writable.getWriter();
    for (let i = 0; i < blocks / 2; i++) await w.write(frames);
    await w.close();
  })();
  let block: BlockAssembly | undefined;
  const placement: { data?: DataPlacement } = {};
  if (mode === "place") {
    placement.data = (_id, n) => (block ??= new BlockAssembly(BLOCK)).place(n);
  }
  let done = 0;
  let check = 0;
  for await (
    const msg of readMessages(receiver.readable, { reuseBuffers: true, placement })
  ) {
    if (msg.type !== MessageType.DATA) throw new Error("not DATA");
    block ??= new BlockAssembly(BLOCK);
    if (!block.add(msg.chunk)) throw new Error("overflow");
    if (msg.end) {
      if (!block.complete) throw new Error("short");
      check += block.bytes[BLOCK - 1];
      block = undefined;
      done++;
    }
  }
  await writing;
  const cpu = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  sender.close();
  receiver.close();
  if (done !== blocks || check !== (blocks / 2) * 4) throw new Error(`got ${done} blocks`);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const { name, net } = await network();
const runs: Record<string, { ms: number[]; cpuMs: number[] }> = {
  copy: { ms: [], cpuMs: [] },
  place: { ms: [], cpuMs: [] },
};
await once(net, "copy"); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const mode of r % 2 === 0 ? ["copy", "place"] as const : ["place", "copy"] as const) {
    const x = await once(net, mode);
    runs[mode].ms.push(x.ms);
    runs[mode].cpuMs.push(x.cpuMs);
  }
}
const perGiB = (v: number) => Math.round(v * (1024 * MiB) / size);
const result = {
  bench: "placement",
  runtime: name,
  sizeMiB: size / MiB,
  rounds,
  copy: { cpuMsPerGiB: perGiB(median(runs.copy.cpuMs)), msPerGiB: perGiB(median(runs.copy.ms)) },
  place: { cpuMsPerGiB: perGiB(median(runs.place.cpuMs)), msPerGiB: perGiB(median(runs.place.ms)) },
  runs,
};
console.log(JSON.stringify(result));
process.exit(0);
