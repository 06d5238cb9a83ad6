/**
 * Test helpers for the peer layer: an in-process byte connection pair built from web streams,
 * and a pair of handshaken peer connections over it.
 *
 * @module
 */

import type { Connection, NetAddress } from "../../src/runtime/types.ts";
import { framedChannel } from "../../src/peer/channel.ts";
import type { MessageChannel } from "../../src/peer/channel.ts";
import { performHandshake } from "../../src/peer/handshake.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { resolvePeerOptions } from "../../src/peer/options.ts";
import type { PeerOptions } from "../../src/peer/options.ts";
import { PeerConnection } from "../../src/peer/peer_connection.ts";
import type { PeerLogger, RequestHandler } from "../../src/peer/connection_types.ts";
import type { BlockService } from "../../src/peer/block_service.ts";
import { MemoryBlockService } from "../../src/peer/block_service.ts";
import type { ContentId } from "../../src/id/content_id.ts";
import { encodeMessage } from "../../src/wire/codec.ts";
import type { Message } from "../../src/wire/messages.ts";
import { readMessages } from "../../src/wire/read_messages.ts";

let nextPort = 40000;

/** Short timings for tests. */
export const FAST: Partial<PeerOptions> = {
  handshakeTimeoutMs: 1000,
  requestTimeoutMs: 3000,
  heartbeatIntervalMs: 50,
  // Short enough for tests of death and reconnects, long enough that a loaded CI machine's
  // event-loop stalls (hundreds of ms at load 20 on 2 cores) do not kill healthy connections.
  deadAfterMs: 1500,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  shutdownGraceMs: 500,
  connectTimeoutMs: 1000,
};

/** One side of {@linkcode connectionPair}, with a count of bytes written for tests. */
export interface TestConnection extends Connection {
  /** Bytes written by this side so far. */
  readonly bytesWritten: number;
}

/**
 * Two connected in-memory byte connections. Each direction holds at most `buffer` chunks
 * before a write waits for the reader (like a socket buffer), so a reader that stops reading
 * stops the writer.
 */
export function connectionPair(buffer = 4): [TestConnection, TestConnection] {
  const ab = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: buffer }, {
    highWaterMark: buffer,
  });
  const ba = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: buffer }, {
    highWaterMark: buffer,
  });
  const pa: NetAddress = { hostname: "127.0.0.1", port: nextPort++ };
  const pb: NetAddress = { hostname: "127.0.0.1", port: nextPort++ };
  return [end(ab, ba, pa, pb), end(ba, ab, pb, pa)];
}

function end(
  out: TransformStream<Uint8Array, Uint8Array>,
  inn: TransformStream<Uint8Array, Uint8Array>,
  local: NetAddress,
  remote: NetAddress,
): TestConnection {
  const writer = out.writable.getWriter();
  const reader = inn.readable.getReader();
  writer.closed.catch(() => {});
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => resolveClosed = r);
  let isClosed = false;
  let written = 0;
  const conn: TestConnection = {
    localAddress: local,
    remoteAddress: remote,
    closed,
    get bytesWritten() {
      return written;
    },
    readable: new ReadableStream<Uint8Array>({
      async pull(ctl) {
        try {
          const r = await reader.read();
          if (r.done) {
            ctl.close();
          } else ctl.enqueue(r.value);
        } catch (err) {
          ctl.error(err);
        }
      },
      cancel(reason) {
        return reader.cancel(reason).catch(() => {});
      },
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        written += chunk.length;
        // Copy: the writer may reuse its buffer, a socket would have copied too.
        await writer.write(chunk.slice());
      },
      close() {
        return writer.close().catch(() => {});
      },
      abort(reason) {
        return writer.abort(reason).catch(() => {});
      },
    }, { highWaterMark: 1 }),
    close() {
      if (isClosed) return;
      isClosed = true;
      writer.abort(new Error("connection closed")).catch(() => {});
      reader.cancel().catch(() => {});
      resolveClosed();
    },
  };
  return conn;
}

/**
 * Handshakes over both channels at once, with the given identities; both announce
 * `capabilities` (default: the handshake's default).
 */
export async function handshakePair(
  a: MessageChannel,
  b: MessageChannel,
  ia: NodeIdentity,
  ib: NodeIdentity,
  capabilities?: readonly string[],
): Promise<Awaited<ReturnType<typeof performHandshake>>[]> {
  const common = { timeoutMs: 2000, capabilities };
  return await Promise.all([
    performHandshake(a, { identity: ia, listenAddress: "127.0.0.1:1", ...common }),
    performHandshake(b, { identity: ib, listenAddress: "127.0.0.1:2", ...common }),
  ]);
}

/** Options of {@linkcode peerPair}. */
export interface PeerPairOptions {
  /** Timing and limits for both sides. */
  readonly options?: Partial<PeerOptions>;
  /** Service of the listener side (b). */
  readonly service?: BlockService;
  /** Service of the dialler side (a). */
  readonly serviceA?: BlockService;
  /** Handlers on side b. */
  readonly handlers?: Map<number, RequestHandler>;
  /** Chunks buffered per direction. */
  readonly buffer?: number;
  /** Log sink for both sides. */
  readonly log?: PeerLogger;
  /** HELLO capabilities both sides announce (default: the handshake's default). */
  readonly capabilities?: readonly string[];
}

/** Two handshaken peer connections: `a` dialled `b`. */
export async function peerPair(init: PeerPairOptions = {}): Promise<{
  a: PeerConnection;
  b: PeerConnection;
  connA: TestConnection;
  connB: TestConnection;
}> {
  const [connA, connB] = connectionPair(init.buffer);
  const ca = framedChannel(connA);
  const cb = framedChannel(connB);
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra, rb] = await handshakePair(ca, cb, ia, ib, init.capabilities);
  const options = resolvePeerOptions({ ...FAST, ...init.options });
  const a = new PeerConnection({
    channel: ca,
    remote: ra,
    role: "dialer",
    options,
    service: init.serviceA,
    log: init.log,
  });
  const b = new PeerConnection({
    channel: cb,
    remote: rb,
    role: "listener",
    options,
    service: init.service,
    handlers: init.handlers,
    log: init.log,
  });
  return { a, b, connA, connB };
}

/**
 * Receives from `ch` until a message of `type` arrives and returns it, skipping others. Bounded:
 * fails after `maxMessages` other messages or `timeoutMs`, and when the channel ends first.
 */
export async function receiveOfType(
  ch: { receive(): Promise<Message | null> },
  type: number,
  maxMessages = 1000,
  timeoutMs = 5000,
): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < maxMessages; i++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left));
    const m = await Promise.race([ch.receive(), timeout]).finally(() => clearTimeout(timer));
    if (m === "timeout") break;
    if (m === null) throw new Error(`stream ended before message type ${type}`);
    if (m.type === type) return m;
  }
  throw new Error(`no message of type ${type} within ${maxMessages} messages / ${timeoutMs} ms`);
}

/** Polls `predicate` every 10 ms until it holds or `ms` pass; throws on timeout. */
export async function waitFor(
  predicate: () => boolean,
  ms = 3000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A {@linkcode MessageChannel} for misbehaving test peers: it can also write raw bytes. */
export interface RawChannel extends MessageChannel {
  /** Writes bytes as they are (garbage, hand-made frames). */
  writeBytes(bytes: Uint8Array): Promise<void>;
  /** Reads (and drops) messages until the peer ends or resets the stream (bounded). */
  readonly closedByPeer: Promise<void>;
}

/** A plain, unbounded-by-design test channel over `conn` that can write raw bytes too. */
export function rawChannel(conn: Connection): RawChannel {
  const writer = conn.writable.getWriter();
  writer.closed.catch(() => {});
  const messages = readMessages(conn.readable);
  let pending = 0;
  const channel: RawChannel = {
    remote: "raw",
    closed: conn.closed,
    get pendingSends() {
      return pending;
    },
    async send(message: Message) {
      pending++;
      try {
        await writer.write(encodeMessage(message));
      } finally {
        pending--;
      }
    },
    writeBytes: (bytes) => writer.write(bytes),
    async receive() {
      const next = await messages.next();
      return next.done ? null : next.value;
    },
    async end() {
      await writer.close().catch(() => {});
    },
    close() {
      conn.close();
    },
    get closedByPeer() {
      return (async () => {
        for (let i = 0; i < 10_000; i++) {
          const m = await channel.receive().catch(() => null);
          if (m === null) return;
        }
        throw new Error("peer did not close the stream");
      })();
    },
  };
  return channel;
}

/**
 * A memory block service whose `get` waits until `gate` is resolved, counting the calls in
 * `gets`: for tests of requests that are in flight (aborted, timed out, shut down).
 */
export class GatedService extends MemoryBlockService {
  /** Resolve to let every waiting and later `get` go on. */
  gate = Promise.withResolvers<void>();
  /** How many times `get` was called. */
  gets = 0;
  override async get(id: ContentId): Promise<Uint8Array | null> {
    this.gets++;
    await this.gate.promise;
    return super.get(id);
  }
}
