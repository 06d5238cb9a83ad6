/**
 * Cross-runtime and process-level tests of the peer protocol: Deno, Bun and Node processes
 * (tests/e2e/peer_process.ts) exchange blocks pairwise over loopback TCP; a peer killed with
 * SIGKILL mid-transfer fails the requests clearly and is detected; a stopped (SIGSTOP) peer is
 * declared dead by the heartbeat; a bootstrap node that is down at start is reached once it
 * comes up.
 */

import assert from "node:assert/strict";
import { DfsError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import type { CloseInfo } from "../../src/peer/connection_types.ts";
import { denoNetwork } from "../../src/runtime/deno/net.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const SCRIPT = `${ROOT}tests/e2e/peer_process.ts`;
type RuntimeName = "deno" | "bun" | "node";
const RUNTIMES: RuntimeName[] = ["deno", "bun", "node"];
/**
 * The Noise cipher each pair picks from its runtimes' offers (src/runtime/{deno,bun,node}.ts):
 * ChaChaPoly where both have a fast one (Deno's Web Crypto AES-GCM is slow), else AES-GCM.
 */
function expectedCipher(x: RuntimeName, y: RuntimeName): string {
  const chacha = (r: RuntimeName) => r !== "bun";
  return (x === "deno" || y === "deno") && chacha(x) && chacha(y) ? "ChaChaPoly" : "AESGCM";
}

interface Line {
  [key: string]: unknown;
}

/** A spawned peer process with a line reader over its stdout. */
class PeerProcess {
  readonly runtime: RuntimeName;
  readonly child: Deno.ChildProcess;
  readonly lines: Line[] = [];
  nodeId = "";
  address = "";
  #waiters: (() => void)[] = [];
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #tag = 0;
  #reading: Promise<void>;
  #exited = false;

  constructor(runtime: RuntimeName, args: string[]) {
    this.runtime = runtime;
    const cmd = runtime === "deno" ? ["run", "-A", SCRIPT, ...args] : [SCRIPT, ...args];
    this.child = new Deno.Command(`${BIN}${runtime}`, {
      args: cmd,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.child.status.then(() => this.#exited = true);
    this.#stdin = this.child.stdin.getWriter();
    this.#reading = this.#read();
  }

  static async start(runtime: RuntimeName, args: string[] = []): Promise<PeerProcess> {
    const p = new PeerProcess(runtime, ["--fast", ...args]);
    const ready = await p.waitLine((l) => l.event === "ready", 30_000);
    p.nodeId = String(ready.nodeId);
    p.address = String(ready.address);
    assert.equal(ready.runtime, runtime);
    return p;
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of this.child.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(text));
        } catch {
          this.lines.push({ raw: text });
        }
      }
      for (const w of this.#waiters.splice(0)) w();
    }
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Waits for (and returns) the first line matching `predicate`. */
  async waitLine(predicate: (l: Line) => boolean, ms = 15_000): Promise<Line> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`${this.runtime}: no matching line in ${JSON.stringify(this.lines)}`);
      }
      if (this.#exited && this.lines.length > 0) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a command and waits for its answer. */
  async command(cmd: Record<string, unknown>, ms = 30_000): Promise<Line> {
    const tag = ++this.#tag;
    await this.#stdin.write(new TextEncoder().encode(JSON.stringify({ ...cmd, tag }) + "\n"));
    return await this.waitLine((l) => l.tag === tag, ms);
  }

  kill(signal: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGKILL (if still running) and reap. */
  async dispose(): Promise<void> {
    this.kill("SIGKILL");
    await this.child.status;
    await this.#stdin.close().catch(() => {});
    await this.#reading.catch(() => {});
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function localManager(): Promise<{ m: PeerManager; closes: CloseInfo[] }> {
  const closes: CloseInfo[] = [];
  const m = new PeerManager({
    identity: await NodeIdentity.generate(),
    network: denoNetwork(),
    service: new MemoryBlockService(),
    options: {
      heartbeatIntervalMs: 200,
      deadAfterMs: 1500,
      maxBlockSize: 8 * 1024 * 1024,
      requestTimeoutMs: 20_000,
    },
    log: () => {},
  });
  m.onPeerDisconnected((_p, info) => closes.push(info));
  await m.start();
  return { m, closes };
}

Deno.test("interop_every_runtime_pair_exchanges_blocks", async () => {
  const procs: PeerProcess[] = [];
  try {
    for (const r of RUNTIMES) procs.push(await PeerProcess.start(r));
    const jobs: Promise<void>[] = [];
    let seed = 1;
    for (const x of procs) {
      for (const y of procs) {
        if (x === y) continue;
        const s = seed++;
        jobs.push((async () => {
          const res = await x.command({
            op: "exchange",
            address: y.address,
            size: 1024 * 1024 + 17 * s,
            seed: s,
          });
          assert.equal(res.ok, true, `${x.runtime} -> ${y.runtime}: ${JSON.stringify(res)}`);
          assert.equal(res.nodeId, y.nodeId, `${x.runtime} reached ${y.runtime}`);
          assert.equal(
            res.cipher,
            expectedCipher(x.runtime, y.runtime),
            `${x.runtime}-${y.runtime}`,
          );
        })());
      }
    }
    await Promise.all(jobs);
    // Graceful stop on SIGTERM.
    for (const p of procs) p.kill("SIGTERM");
    for (const p of procs) {
      await p.waitLine((l) => l.event === "stopped", 15_000);
      assert.equal((await p.child.status).code, 0);
    }
  } finally {
    await Promise.all(procs.map((p) => p.dispose()));
  }
});

Deno.test("interop_sigkill_mid_transfer_fails_requests_and_is_detected", async () => {
  for (const runtime of RUNTIMES) {
    const proc = await PeerProcess.start(runtime);
    const { m, closes } = await localManager();
    try {
      const filled = await proc.command({ op: "fill", count: 6, size: 4 * 1024 * 1024, seed: 7 });
      assert.equal(filled.ok, true);
      const ids = (filled.ids as string[]).map((t) => ContentId.parse(t));
      const peer = await m.connect(proc.address, { expectedNodeId: proc.nodeId });
      let completed = 0;
      const failures: unknown[] = [];
      const workers = Array.from({ length: 3 }, async (_, w) => {
        for (let i = 0; i < 200; i++) {
          try {
            const bytes = await peer.getBlock(ids[(w + i) % ids.length]);
            assert.equal(bytes.length, 4 * 1024 * 1024);
            completed++;
          } catch (err) {
            failures.push(err);
            return;
          }
        }
      });
      // Kill while blocks are streaming.
      const deadline = Date.now() + 20_000;
      while (completed < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      proc.kill("SIGKILL");
      await Promise.all(workers);
      assert.ok(failures.length > 0, `${runtime}: requests in flight failed`);
      for (const err of failures) {
        assert.ok(err instanceof DfsError, String(err));
        assert.equal(err.code, "PEER_CLOSED", `${runtime}: ${err.message}`);
      }
      const info = await peer.closed;
      assert.notEqual(info.reason, "local");
      assert.equal(closes.length, 1);
      assert.equal(m.peer(proc.nodeId), undefined);
      assert.notEqual(m.peers().find((p) => p.nodeId === proc.nodeId)?.state, "connected");
    } finally {
      await m.shutdown(200);
      await proc.dispose();
    }
  }
});

Deno.test("interop_stopped_process_is_declared_dead_by_the_heartbeat", async () => {
  const proc = await PeerProcess.start("node");
  const { m } = await localManager();
  try {
    const peer = await m.connect(proc.address);
    assert.ok((await peer.ping()) >= 0);
    proc.kill("SIGSTOP");
    const info = await peer.closed;
    assert.equal(info.reason, "dead");
    assert.equal(m.peers().find((p) => p.nodeId === proc.nodeId)?.state, "dead");
  } finally {
    proc.kill("SIGCONT");
    await m.shutdown(200);
    await proc.dispose();
  }
});

Deno.test("interop_bootstrap_node_down_at_start_is_reached_when_it_comes_up", async () => {
  const port = freePort();
  const procs: PeerProcess[] = [];
  try {
    const client = await PeerProcess.start("bun", ["--bootstrap", `127.0.0.1:${port}`]);
    procs.push(client);
    await new Promise((r) => setTimeout(r, 700)); // several failed dials, now in backoff
    const peers = await client.command({ op: "peers" });
    const row = (peers.peers as { state: string }[])[0];
    assert.notEqual(row.state, "connected");
    const server = await PeerProcess.start("deno", ["--listen", `127.0.0.1:${port}`]);
    procs.push(server);
    await client.waitLine((l) => l.event === "connected" && l.nodeId === server.nodeId, 15_000);
    const res = await client.command({
      op: "exchange",
      address: `127.0.0.1:${port}`,
      size: 100_000,
      seed: 99,
    });
    assert.equal(res.ok, true, JSON.stringify(res));
  } finally {
    await Promise.all(procs.map((p) => p.dispose()));
  }
});

Deno.test("interop_identity_written_by_one_runtime_loads_in_the_others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-peer-id-" });
  try {
    let first = "";
    for (const r of RUNTIMES) {
      const p = await PeerProcess.start(r, ["--data", dir]);
      try {
        if (!first) first = p.nodeId;
        assert.equal(p.nodeId, first, `${r} loads the same node id`);
      } finally {
        await p.dispose();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
