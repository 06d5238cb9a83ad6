/**
 * An in-process network for tests and large simulations: {@linkcode MemoryNetwork}.
 *
 * Connections are pairs of bounded byte pipes, so backpressure is real: a writer whose peer
 * does not read stalls once the pipe holds `bufferSize` bytes. Idle connections cost no
 * timers; timers exist only while delayed bytes are waiting to be delivered or a connect is
 * stuck behind a partition. Test controls: {@linkcode MemoryNetwork.setDelay},
 * {@linkcode MemoryNetwork.partition} / {@linkcode MemoryNetwork.heal},
 * {@linkcode MemoryNetwork.disconnect} and {@linkcode MemoryNetwork.dropConnections}.
 *
 * @module
 */

import { ConnectError, IoError, TimeoutError } from "../../errors.ts";
import type { Connection, ConnectOptions, Listener, NetAddress, Network } from "../types.ts";

/** Options for {@linkcode MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** Host name the network's own `connect` uses as local address (default `"127.0.0.1"`). */
  readonly hostname?: string;
  /** Bytes one direction of a connection holds before writes stall (default 256 KiB). */
  readonly bufferSize?: number;
  /** How long a connect across a partition waits before failing, in ms (default 5000). */
  readonly connectTimeoutMs?: number;
}

/** The two ends of a live in-memory connection, as seen by {@linkcode MemoryNetwork.dropConnections}. */
export interface MemoryConnectionInfo {
  /** The connecting side's address. */
  readonly client: NetAddress;
  /** The accepting side's address (the listener's address). */
  readonly server: NetAddress;
}

/** Largest piece one queue entry holds; bigger writes are split so the bound stays tight. */
const PIECE = 64 * 1024;
/** Bookkeeping cost charged per queued entry, so floods of tiny writes are bounded too. */
const ENTRY_COST = 32;
const FIRST_EPHEMERAL = 49152;

type Entry = { bytes: Uint8Array | null; readyAt: number };

/** One direction of a connection: a bounded FIFO of byte chunks (and a final EOF marker). */
class Pipe {
  readonly #capacity: number;
  readonly #pair: Pair;
  #queue: Entry[] = [];
  #head = 0;
  #queued = 0;
  #lastReadyAt = 0;
  #eofQueued = false;
  #readerGone = false;
  #error: Error | null = null;
  #space: (() => void)[] = [];
  #wakeReader: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(capacity: number, pair: Pair) {
    this.#capacity = capacity;
    this.#pair = pair;
  }

  /** Bytes (plus bookkeeping) currently held. */
  get queued(): number {
    return this.#queued;
  }

  async write(chunk: Uint8Array, delay: number): Promise<void> {
    for (let off = 0; off < chunk.length; off += PIECE) {
      while (this.#queued >= this.#capacity && this.#writable()) {
        await new Promise<void>((r) => this.#space.push(r));
      }
      this.#checkWritable();
      const piece = chunk.slice(off, off + PIECE);
      this.#push(piece, delay);
      this.#queued += piece.length + ENTRY_COST;
    }
  }

  /** Queues the end-of-stream marker (FIN). Idempotent. */
  end(delay: number): void {
    if (this.#eofQueued || this.#error || this.#readerGone) return;
    this.#eofQueued = true;
    this.#push(null, delay);
    // A write still waiting for space now fails instead of hanging.
    const waiters = this.#space;
    this.#space = [];
    for (const w of waiters) w();
  }

  /** The reading side went away: drop what is queued and fail later writes. */
  closeReader(): void {
    if (this.#readerGone) return;
    this.#readerGone = true;
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
    this.#wakeAll();
  }

  /** Resets the pipe: both ends see `err`. */
  fail(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
    this.#wakeAll();
  }

  /** Re-checks a reader blocked by a partition or delay (after heal). */
  poke(): void {
    this.#wake();
  }

  /**
   * Waits for the next deliverable item: bytes, `null` at end of stream. Throws the reset
   * error after a reset. Returns `null` too once the reader was closed locally.
   */
  async read(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#error) throw this.#error;
      if (this.#readerGone) return null;
      let until: number | undefined;
      if (this.#head < this.#queue.length && !this.#pair.blocked) {
        const entry = this.#queue[this.#head];
        const now = performance.now();
        if (entry.readyAt <= now) {
          this.#queue[this.#head++] = undefined as unknown as Entry;
          if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
            this.#queue = this.#queue.slice(this.#head);
            this.#head = 0;
          }
          if (entry.bytes !== null) {
            this.#queued -= entry.bytes.length + ENTRY_COST;
            const waiters = this.#space;
            this.#space = [];
            for (const w of waiters) w();
          }
          return entry.bytes;
        }
        until = entry.readyAt - now;
      }
      await new Promise<void>((resolve) => {
        this.#wakeReader = resolve;
        if (until !== undefined) {
          this.#timer = setTimeout(() => this.#wake(), Math.max(1, Math.ceil(until)));
        }
      });
    }
  }

  #writable(): boolean {
    return this.#error === null && !this.#readerGone && !this.#eofQueued;
  }

  #checkWritable(): void {
    if (this.#error) throw this.#error;
    if (this.#readerGone) throw new IoError("connection reset: the peer closed its reading side");
    if (this.#eofQueued) throw new IoError("connection is closed for writing");
  }

  #push(bytes: Uint8Array | null, delay: number): void {
    const readyAt = Math.max(performance.now() + delay, this.#lastReadyAt);
    this.#lastReadyAt = readyAt;
    this.#queue.push({ bytes, readyAt });
    this.#wake();
  }

  #wake(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const w = this.#wakeReader;
    this.#wakeReader = null;
    w?.();
  }

  #wakeAll(): void {
    this.#wake();
    const waiters = this.#space;
    this.#space = [];
    for (const w of waiters) w();
  }
}

/** A live connection: two endpoints, two pipes. */
class Pair {
  blocked = false;
  readonly client: NetAddress;
  readonly server: NetAddress;
  readonly toServer: Pipe;
  readonly toClient: Pipe;
  readonly ends: Endpoint[] = [];

  constructor(client: NetAddress, server: NetAddress, capacity: number) {
    this.client = client;
    this.server = server;
    this.toServer = new Pipe(capacity, this);
    this.toClient = new Pipe(capacity, this);
  }

  reset(reason: string): void {
    const err = new IoError(`connection reset: ${reason}`);
    this.toServer.fail(err);
    this.toClient.fail(err);
    for (const end of this.ends) end.fail(err);
  }
}

/** One end of a {@linkcode Pair}, exposed as a {@linkcode Connection}. */
class Endpoint implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddress: NetAddress;
  readonly remoteAddress: NetAddress;
  readonly closed: Promise<void>;
  #readDone = false;
  #writeDone = false;
  #resolveClosed!: () => void;
  #writeController: WritableStreamDefaultController | null = null;
  readonly #in: Pipe;
  readonly #out: Pipe;
  readonly #onDone: () => void;

  constructor(
    net: MemoryNetwork,
    local: NetAddress,
    remote: NetAddress,
    inbound: Pipe,
    outbound: Pipe,
    onDone: () => void,
  ) {
    this.localAddress = local;
    this.remoteAddress = remote;
    this.#in = inbound;
    this.#out = outbound;
    this.#onDone = onDone;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        let bytes: Uint8Array | null;
        try {
          bytes = await inbound.read();
        } catch (err) {
          this.#markRead();
          controller.error(err);
          return;
        }
        if (bytes === null) {
          this.#markRead();
          controller.close();
        } else {
          controller.enqueue(bytes);
        }
      },
      cancel: () => {
        inbound.closeReader();
        this.#markRead();
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: async (chunk) => {
        try {
          await outbound.write(chunk, net.delay);
        } catch (err) {
          this.#markWrite();
          throw err;
        }
      },
      close: () => {
        outbound.end(net.delay);
        this.#markWrite();
      },
      abort: () => {
        outbound.end(net.delay);
        this.#markWrite();
      },
    }, { highWaterMark: 1 });
  }

  close(): void {
    this.#in.closeReader();
    this.#out.end(0);
    if (!this.#writeDone) {
      try {
        this.#writeController?.error(new IoError("connection closed locally"));
      } catch {
        // the stream already finished
      }
    }
    this.#markRead();
    this.#markWrite();
  }

  /** Called on reset: fail the writable too, and settle `closed`. */
  fail(err: Error): void {
    if (!this.#writeDone) {
      try {
        this.#writeController?.error(err);
      } catch {
        // the stream already finished
      }
    }
    this.#markRead();
    this.#markWrite();
  }

  #markRead(): void {
    this.#readDone = true;
    this.#settle();
  }

  #markWrite(): void {
    this.#writeDone = true;
    this.#settle();
  }

  #settle(): void {
    if (this.#readDone && this.#writeDone) {
      this.#resolveClosed();
      this.#onDone();
    }
  }
}

type PendingConnect = { retry: () => void };

class MemListener implements Listener {
  readonly address: NetAddress;
  readonly onConnection: (conn: Connection) => void;
  readonly #remove: () => void;
  constructor(address: NetAddress, onConnection: (c: Connection) => void, remove: () => void) {
    this.address = address;
    this.onConnection = onConnection;
    this.#remove = remove;
  }
  close(): Promise<void> {
    this.#remove();
    return Promise.resolve();
  }
}

function key(a: NetAddress): string {
  return `${a.hostname}:${a.port}`;
}

function normalizeHost(hostname: string): string {
  return hostname === "localhost" ? "127.0.0.1" : hostname;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * An in-process {@linkcode Network}. Listeners are keyed by `host:port` (port 0 allocates a
 * free port from 49152 up, per host); a listener on `0.0.0.0` also accepts connects to any
 * host name with its port. Connects to an address nobody listens on reject with
 * {@linkcode ConnectError} ("connection refused").
 *
 * Each simulated node should get its own host name through {@linkcode MemoryNetwork.host},
 * so that its outgoing connections carry it and partitions by host name cut them too.
 *
 * @example Two nodes, a partition and a heal
 * ```ts
 * import { MemoryNetwork } from "./net.ts";
 * const net = new MemoryNetwork();
 * const a = net.host("10.0.0.1");
 * const b = net.host("10.0.0.2");
 * const listener = await b.listen({ hostname: "10.0.0.2", port: 4000 }, (conn) => {
 *   conn.readable.pipeTo(conn.writable).catch(() => {});
 * });
 * const conn = await a.connect(listener.address);
 * net.partition(["10.0.0.1"], ["10.0.0.2"]); // bytes now wait in the pipe
 * net.heal(); // and are delivered again
 * conn.close();
 * ```
 */
export class MemoryNetwork implements Network {
  readonly #hostname: string;
  readonly #capacity: number;
  readonly #connectTimeoutMs: number;
  readonly #listeners = new Map<string, MemListener>();
  readonly #nextPort = new Map<string, number>();
  readonly #pairs = new Set<Pair>();
  readonly #pending = new Set<PendingConnect>();
  #partitions: { a: Set<string>; b: Set<string> }[] = [];
  #delay = 0;

  /** Creates an empty network. */
  constructor(options: MemoryNetworkOptions = {}) {
    this.#hostname = normalizeHost(options.hostname ?? "127.0.0.1");
    this.#capacity = Math.max(1, options.bufferSize ?? 256 * 1024);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  }

  /** Current per-chunk delivery delay in ms (see {@linkcode MemoryNetwork.setDelay}). */
  get delay(): number {
    return this.#delay;
  }

  /** Number of live connections (pairs not yet fully closed on both ends). */
  get connectionCount(): number {
    return this.#pairs.size;
  }

  /**
   * Delays every chunk (and FIN) written from now on by `ms` before it can be read; order is
   * kept. New connects also take `ms` to complete. 0 turns the delay off.
   */
  setDelay(ms: number): void {
    this.#delay = Math.max(0, ms);
  }

  /**
   * Cuts every connection with one end in `groupA` and the other in `groupB` (entries are
   * `"host:port"` or a bare `"host"` matching any port). Bytes on cut connections are held back
   * (writers stall once the pipe is full) and delivered after {@linkcode MemoryNetwork.heal};
   * new connects across the cut wait, then fail with {@linkcode ConnectError} after
   * `connectTimeoutMs`. Several partitions may be active at once.
   */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.#partitions.push({ a: new Set(groupA), b: new Set(groupB) });
    for (const pair of this.#pairs) pair.blocked = this.#cut(pair.client, pair.server);
  }

  /** Removes every partition; held bytes flow again and waiting connects proceed. */
  heal(): void {
    this.#partitions = [];
    for (const pair of this.#pairs) {
      if (pair.blocked) {
        pair.blocked = false;
        pair.toClient.poke();
        pair.toServer.poke();
      }
    }
    for (const p of [...this.#pending]) p.retry();
  }

  /**
   * Resets every connection with an end at `address` (`"host:port"` or bare `"host"`): both
   * ends' streams fail with {@linkcode IoError}. Listeners stay. Returns how many were reset.
   */
  disconnect(address: string): number {
    return this.dropConnections((info) =>
      matches(address, info.client) || matches(address, info.server)
    );
  }

  /** Resets every live connection for which `filter` returns true; returns how many. */
  dropConnections(filter: (info: MemoryConnectionInfo) => boolean): number {
    let n = 0;
    for (const pair of [...this.#pairs]) {
      if (filter({ client: pair.client, server: pair.server })) {
        this.#pairs.delete(pair);
        pair.reset("dropped by the test network");
        n++;
      }
    }
    return n;
  }

  /**
   * A view of this network for one simulated host: its `connect` uses `hostname` as local
   * address (with an ephemeral port), so partitions and disconnects by host name apply.
   */
  host(hostname: string): Network {
    const h = normalizeHost(hostname);
    return {
      listen: (address, onConnection) => this.listen(address, onConnection),
      connect: (address, options) => this.#connect(h, address, options),
    };
  }

  /** Listens on `address` (port 0 picks a free one). Rejects with {@linkcode IoError} if taken. */
  listen(address: NetAddress, onConnection: (conn: Connection) => void): Promise<Listener> {
    const hostname = normalizeHost(address.hostname);
    const port = address.port === 0 ? this.#ephemeral(hostname) : address.port;
    const bound = { hostname, port };
    const k = key(bound);
    if (this.#listeners.has(k)) {
      return Promise.reject(new IoError(`address in use: ${k}`));
    }
    const listener = new MemListener(bound, onConnection, () => {
      if (this.#listeners.get(k) === listener) this.#listeners.delete(k);
    });
    this.#listeners.set(k, listener);
    return Promise.resolve(listener);
  }

  /** Connects from this network's default host; see {@linkcode MemoryNetwork.host}. */
  connect(address: NetAddress, options?: ConnectOptions): Promise<Connection> {
    return this.#connect(this.#hostname, address, options);
  }

  async #connect(
    fromHost: string,
    address: NetAddress,
    options?: ConnectOptions,
  ): Promise<Connection> {
    const signal = options?.signal;
    const target = { hostname: normalizeHost(address.hostname), port: address.port };
    const where = key(target);
    const aborted = () =>
      new ConnectError(`connect to ${where} aborted`, { cause: signal?.reason });
    if (signal?.aborted) throw aborted();
    if (this.#delay > 0) await sleep(this.#delay);
    else await Promise.resolve();
    if (signal?.aborted) throw aborted();
    const local = { hostname: fromHost, port: this.#ephemeral(fromHost) };
    if (this.#cut(local, target)) await this.#waitUncut(local, target, where, signal);
    const listener = this.#listeners.get(where) ??
      this.#listeners.get(`0.0.0.0:${target.port}`);
    if (!listener) {
      throw new ConnectError(`connect to ${where} failed: connection refused`);
    }
    const server = listener.address.hostname === "0.0.0.0" ? target : listener.address;
    const pair = new Pair(local, server, this.#capacity);
    let done = 0;
    const onDone = () => {
      if (++done === 2) this.#pairs.delete(pair);
    };
    const clientEnd = new Endpoint(this, local, server, pair.toClient, pair.toServer, onDone);
    const serverEnd = new Endpoint(this, server, local, pair.toServer, pair.toClient, onDone);
    pair.ends.push(clientEnd, serverEnd);
    pair.blocked = this.#cut(local, server);
    this.#pairs.add(pair);
    try {
      listener.onConnection(serverEnd);
    } catch {
      // The accept callback's failure is not the connector's business.
    }
    return clientEnd;
  }

  #waitUncut(
    local: NetAddress,
    target: NetAddress,
    where: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: PendingConnect = {
        retry: () => {
          if (!this.#cut(local, target)) finish();
        },
      };
      const onAbort = () =>
        finish(new ConnectError(`connect to ${where} aborted`, { cause: signal?.reason }));
      const timer = setTimeout(
        () =>
          finish(
            new ConnectError(`connect to ${where} failed: timed out (partitioned)`, {
              cause: new TimeoutError(`no answer within ${this.#connectTimeoutMs} ms`),
            }),
          ),
        this.#connectTimeoutMs,
      );
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.#pending.delete(pending);
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      this.#pending.add(pending);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #cut(x: NetAddress, y: NetAddress): boolean {
    for (const p of this.#partitions) {
      if ((inGroup(p.a, x) && inGroup(p.b, y)) || (inGroup(p.b, x) && inGroup(p.a, y))) {
        return true;
      }
    }
    return false;
  }

  #ephemeral(hostname: string): number {
    let port = this.#nextPort.get(hostname) ?? FIRST_EPHEMERAL;
    for (let tries = 0; tries < 65536 - FIRST_EPHEMERAL; tries++) {
      const candidate = port;
      port = port >= 65535 ? FIRST_EPHEMERAL : port + 1;
      if (!this.#listeners.has(`${hostname}:${candidate}`)) {
        this.#nextPort.set(hostname, port);
        return candidate;
      }
    }
    throw new IoError(`no free port left on ${hostname}`);
  }
}

function inGroup(group: Set<string>, a: NetAddress): boolean {
  return group.has(a.hostname) || group.has(key(a));
}

function matches(address: string, a: NetAddress): boolean {
  return address === a.hostname || address === key(a);
}
