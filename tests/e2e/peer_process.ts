/**
 * A peer process for the cross-runtime tests: runs unchanged under `deno run -A`, `bun` and
 * `node`. It starts a {@linkcode PeerManager} with an in-memory block service, prints one JSON
 * line `{"event":"ready","runtime","nodeId","address","pid"}`, then serves until killed
 * (SIGTERM: graceful shutdown). It also prints `connected` / `disconnected` events and obeys
 * JSON-line commands on stdin, each answered by one JSON line with the same `tag`:
 *
 * - `{"op":"fill","count","size","seed"}`: create blocks locally; answers their `ids`.
 * - `{"op":"exchange","address","size","seed"}`: create a block, PUT it to the peer at
 *   `address`, GET it back (verified), ask HAS; answers `id`, the peer's `nodeId` and the
 *   connection's Noise `cipher` (each side offers its runtime's `aeads`).
 * - `{"op":"get","address","ids"}`: fetch and verify blocks from a peer; answers `bytes`.
 * - `{"op":"peers"}`: the peer table. `{"op":"shutdown"}`: graceful shutdown, exit 0.
 *
 * Arguments: `--listen host:port` (default 127.0.0.1:0), `--bootstrap host:port` (repeatable),
 * `--data dir` (keep the identity there), `--fast` (short heartbeat/backoff timings).
 *
 * @module
 */

import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { parseAddress } from "../../src/peer/address.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";

const runtime = await detectRuntime();
const proc = runtime.process!;
const args = [...proc.args];
const listen = argValue("--listen") ?? "127.0.0.1:0";
const data = argValue("--data");
const fast = args.includes("--fast");
const bootstrap: string[] = [];
for (let i = 0; i < args.length; i++) if (args[i] === "--bootstrap") bootstrap.push(args[i + 1]);

const encoder = new TextEncoder();
let out = Promise.resolve();
function emit(obj: Record<string, unknown>): Promise<void> {
  const line = encoder.encode(JSON.stringify(obj) + "\n");
  out = out.then(() => proc.writeStdout(line)).catch(() => {});
  return out;
}

const identity = data
  ? await NodeIdentity.loadOrCreate(runtime.fs, data)
  : await NodeIdentity.generate();
const service = new MemoryBlockService();
const manager = new PeerManager({
  identity,
  network: runtime.net,
  aeads: runtime.aeads,
  listen: listenAddress(listen),
  bootstrap,
  service,
  options: fast
    ? {
      heartbeatIntervalMs: 200,
      deadAfterMs: 1500,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      shutdownGraceMs: 2000,
      maxBlockSize: 8 * 1024 * 1024,
    }
    : { maxBlockSize: 8 * 1024 * 1024 },
  log: (level, message, fields) => {
    if (level !== "debug") emit({ event: "log", level, message, fields });
  },
});
manager.onPeerConnected((p) =>
  emit({ event: "connected", nodeId: p.nodeIdHex, cipher: p.remote.cipher })
);
manager.onPeerDisconnected((p, info) =>
  emit({ event: "disconnected", nodeId: p.nodeIdHex, reason: info.reason })
);
await manager.start();
await emit({
  event: "ready",
  runtime: runtime.name,
  nodeId: manager.nodeIdHex,
  address: manager.advertisedAddress,
  pid: proc.pid,
});

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await manager.shutdown();
    await emit({ event: "stopped" });
  }
  return proc.exit(code);
}
proc.onSignal("SIGTERM", () => void stop(0));
proc.onSignal("SIGINT", () => void stop(0));

// Commands on stdin, one JSON object per line.
const decoder = new TextDecoder();
let pending = "";
for await (const chunk of proc.stdin) {
  pending += decoder.decode(chunk, { stream: true });
  let nl: number;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (line) void command(line);
  }
}
// stdin closed: keep serving until killed.

async function command(line: string): Promise<void> {
  let cmd: Record<string, unknown> = {};
  try {
    cmd = JSON.parse(line);
    const result = await run(cmd);
    await emit({ tag: cmd.tag, ok: true, ...result });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    await emit({
      tag: cmd.tag,
      ok: false,
      error: e.code ?? "ERROR",
      message: e.message ?? String(err),
    });
  }
}

async function run(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
  switch (cmd.op) {
    case "fill": {
      const ids: string[] = [];
      for (let i = 0; i < Number(cmd.count); i++) {
        const bytes = pseudoRandom(Number(cmd.size), Number(cmd.seed) + i);
        const id = await ContentId.of(bytes);
        await service.put(id, bytes);
        ids.push(id.toString());
      }
      return { ids };
    }
    case "exchange": {
      const peer = await manager.connect(String(cmd.address));
      const bytes = pseudoRandom(Number(cmd.size), Number(cmd.seed));
      const id = await ContentId.of(bytes);
      await service.put(id, bytes);
      await peer.putBlock(id, bytes);
      const back = await peer.getBlock(id);
      if (back.length !== bytes.length) throw new Error("size mismatch");
      const [has] = await peer.has([id]);
      if (!has) throw new Error("peer does not report the block");
      return {
        id: id.toString(),
        nodeId: peer.nodeIdHex,
        bytes: back.length,
        cipher: peer.remote.cipher,
      };
    }
    case "get": {
      const peer = await manager.connect(String(cmd.address));
      let bytes = 0;
      for (const text of cmd.ids as string[]) {
        bytes += (await peer.getBlock(ContentId.parse(text))).length;
      }
      return { bytes };
    }
    case "peers":
      return { peers: manager.peers() };
    case "shutdown":
      return await stop(0);
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
}

function argValue(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function listenAddress(text: string): { hostname: string; port: number } {
  // parseAddress refuses port 0, which asks for any free port: parse with port 1, then swap.
  const port = Number(/:(\d+)$/.exec(text)?.[1] ?? "0");
  return { hostname: parseAddress(text.replace(/:\d+$/, ":1")).hostname, port };
}

function pseudoRandom(n: number, seed: number): Uint8Array {
  const outBytes = new Uint8Array(n);
  let x = (seed >>> 0) || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    outBytes[i] = x & 0xff;
  }
  return outBytes;
}
