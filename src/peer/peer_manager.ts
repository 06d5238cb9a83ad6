/**
 * The peer manager: listens, accepts and dials, keeps the peer table, redials bootstrap
 * addresses with backoff, dedupes connections, enforces limits, and shuts down gracefully.
 *
 * Peer exchange: each newly connected peer that announced {@linkcode PEERS_CAPABILITY} is asked
 * GET_PEERS; the addresses it returns (checked, deduplicated, bounded) go into a table of
 * learned addresses, dialled while the node has fewer than `targetConnections` connections,
 * redialled with the bootstrap backoff when they drop, and forgotten after
 * {@linkcode MAX_LEARNED_FAILURES} failed dials in a row. So nodes bootstrapped from one node
 * stay connected to each other when it goes away.
 *
 * @module
 */

import { errorFields, silentLogger, withCategory } from "../util/log.ts";
import { AbortedError, DfsError, errorText } from "../errors.ts";
import type { AeadProviders, Connection, NetAddress, Network } from "../runtime/types.ts";
import { fromHex, toHex } from "../util/hex.ts";
import { MAX_ADDRESS_BYTES, MAX_PEER_ADDRESSES } from "../wire/limits.ts";
import { MessageType, WireErrorCode } from "../wire/messages.ts";
import { utf8Length } from "../wire/primitives.ts";
import { formatAddress, parseAddress, reachableAddress } from "./address.ts";
import { backoffDelay } from "./backoff.ts";
import {
  BLOCKS_VERIFY_CAPABILITY,
  type BlockService,
  FILES_AGES_CAPABILITY,
  FILES_CAPABILITY,
  FILES_REVIVAL_CAPABILITY,
} from "./block_service.ts";
import { framedChannel, type TrafficTally } from "./channel.ts";
import { checkClusterKey } from "./cluster_key.ts";
import type { MessageChannel } from "./channel.ts";
import { HandshakeError, PeerClosedError, PeerLimitError } from "./errors.ts";
import { DEFAULT_CAPABILITIES, performHandshake } from "./handshake.ts";
import { ChannelSecurity, type EncryptionMode } from "./channel_security.ts";
import { refuseNoise } from "./noise/refusal.ts";
import type { HandshakeResult } from "./handshake.ts";
import type { NodeIdentity } from "./identity.ts";
import { resolvePeerOptions } from "./options.ts";
import type { PeerOptions } from "./options.ts";
import { DUPLICATE_REASON, PeerConnection } from "./peer_connection.ts";
import type { CloseInfo, PeerLogger, PeerRole, RequestHandler } from "./connection_types.ts";
import { hostAtLimit, isLoopbackHost as isLoopback } from "./peer_limits.ts";

/** HELLO capability of a node that answers GET_PEERS. */
export const PEERS_CAPABILITY = "peers/1";

/** A learned address is forgotten after this many failed dials in a row. */
export const MAX_LEARNED_FAILURES = 5;

/** State of a peer in the table. */
export type PeerState =
  /** A dial or handshake is under way. */
  | "connecting"
  /** Connected and authenticated. */
  | "connected"
  /** Down; a redial is scheduled (bootstrap addresses). */
  | "backoff"
  /** The heartbeat declared it dead. */
  | "dead"
  /** Closed on purpose (GOODBYE, shutdown, duplicate) and not redialled. */
  | "disconnected";

/** One row of the peer table. */
export interface PeerInfo {
  /** Node id, hex ("" for a bootstrap address not reached yet). */
  readonly nodeId: string;
  /** Where it listens ("host:port"), or the address dialled. */
  readonly address: string;
  /** Current state. */
  readonly state: PeerState;
  /** Epoch ms when last heard from (0 if never). */
  readonly lastSeen: number;
  /** Last measured round-trip time in ms. */
  readonly rttMs?: number;
}

/** Constructor parameters of {@linkcode PeerManager}. */
export interface PeerManagerInit {
  /** Our key pair. */
  readonly identity: NodeIdentity;
  /** Listen/connect (a runtime's `net`, or a `MemoryNetwork`). */
  readonly network: Network;
  /** Where to accept connections; absent: dial only. */
  readonly listen?: NetAddress;
  /** Address announced in HELLO (default: the bound listen address). */
  readonly advertiseAddress?: string;
  /** Addresses to dial at start and to keep redialling while down. */
  readonly bootstrap?: readonly (NetAddress | string)[];
  /** Serves the peers' block requests. */
  readonly service?: BlockService;
  /** Timing knobs and limits; defaults filled by {@linkcode resolvePeerOptions}. */
  readonly options?: Partial<PeerOptions>;
  /** Log sink, category `dfs.peer` unless the sink's records name one (default: nothing). */
  readonly log?: PeerLogger;
  /** Random source in [0, 1) for backoff jitter (default `Math.random`). */
  readonly random?: () => number;
  /**
   * Ask new peers for their peers and dial them (default true). When false, the manager still
   * answers GET_PEERS but dials only what it is told to.
   */
  readonly peerExchange?: boolean;
  /**
   * Capabilities to announce in HELLO besides `blocks/1` and `peers/1` (e.g. `dht/1`), and
   * `files/1`, announced by itself when `service` serves probes or tombstones (and `files/2`
   * when it serves probes).
   */
  readonly capabilities?: readonly string[];
  /**
   * The private cluster's shared key (16..1024 raw bytes, else `InvalidArgumentError`): every
   * handshake, inbound and outbound, completes only with a peer holding the same key (see
   * `handshake.ts`). Absent: an open cluster. Kept privately, never logged.
   */
  readonly clusterKey?: Uint8Array;
  /** `noise` (default): every connection encrypted; `plaintext` for tests and benches only. */
  readonly encryption?: EncryptionMode;
  /** The AEADs the runtime offers besides Web Crypto AES-GCM (the runtime's `aeads`). */
  readonly aeads?: AeadProviders;
}

/** Options of {@linkcode PeerManager.connect}. */
export interface ConnectPeerOptions {
  /** Reject the peer unless it proves this node id (hex or bytes). */
  readonly expectedNodeId?: string | Uint8Array;
  /** Cancels the dial and handshake. */
  readonly signal?: AbortSignal;
}

interface Record {
  nodeId: string;
  address: string;
  state: PeerState;
  lastSeen: number;
  rttMs?: number;
  /** A closed connection whose callers wait for its replacement (dropped duplicate). */
  orphan?: PeerConnection;
}

interface BootstrapTarget {
  readonly address: NetAddress;
  readonly key: string;
  nodeId: string;
  state: PeerState;
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** An address learned through peer exchange. */
interface LearnedTarget {
  readonly address: NetAddress;
  readonly key: string;
  /** Node id once reached ("" before). */
  nodeId: string;
  /** Failed dials in a row. */
  failures: number;
  /** Redials since the last success (drives the backoff). */
  attempt: number;
  dialing: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Owns every peer connection of a node.
 *
 * @example Two nodes on the in-memory network
 * ```ts ignore
 * const net = new MemoryNetwork();
 * const a = new PeerManager({ identity: idA, network: net, listen: { hostname: "127.0.0.1", port: 0 }, service });
 * await a.start();
 * const b = new PeerManager({ identity: idB, network: net, bootstrap: [a.address!] });
 * b.onPeerConnected((peer) => console.log("connected to", peer.nodeIdHex));
 * await b.start();
 * const peer = await b.connect(a.address!);
 * console.log(await peer.ping());
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export class PeerManager {
  /** Our identity. */
  readonly identity: NodeIdentity;
  /** Resolved options. */
  readonly options: PeerOptions;

  readonly #network: Network;
  readonly #listenOn: NetAddress | undefined;
  readonly #service: BlockService | undefined;
  readonly #log: PeerLogger;
  readonly #random: () => number;
  readonly #handlers = new Map<number, RequestHandler>();
  readonly #connections = new Map<string, PeerConnection>();
  readonly #records = new Map<string, Record>();
  readonly #dialled = new WeakMap<PeerConnection, string>();
  readonly #bootstrap: BootstrapTarget[];
  readonly #learned = new Map<string, LearnedTarget>();
  readonly #exchange: boolean;
  readonly #capabilities: readonly string[];
  readonly #clusterKey: Uint8Array | undefined;
  readonly #security: ChannelSecurity;
  /** Bytes of peer message frames sent and received over every connection, since start. */
  readonly traffic: TrafficTally = { sent: 0, received: 0 };
  /** Dials under way by address (and the node id they must reach, hex or ""), shared. */
  readonly #dialing = new Map<string, { dial: Promise<PeerConnection>; expected: string }>();
  readonly #handshaking = new Set<{ close(): void }>();
  /** The inbound ones among them: bounded apart, and given a slot only once they complete. */
  readonly #inboundHandshakes = new Set<Connection>();
  /** Inbound handshakes in progress per remote host (loopback not counted). */
  readonly #handshakesByHost = new Map<string, number>();
  readonly #onConnected = new Set<(peer: PeerConnection) => void>();
  readonly #onDisconnected = new Set<(peer: PeerConnection, info: CloseInfo) => void>();
  readonly #stop = new AbortController();
  #advertise: string;
  #listener: { readonly address: NetAddress; close(): Promise<void> } | undefined;
  #started = false;
  #firstDials: Promise<void> = Promise.resolve();
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  /** Connections closed to make room whose close has not completed (not counted). */
  readonly #evicting = new Set<PeerConnection>();
  /** Outbound dials that took a slot and whose TCP connect is under way (counted). */
  #connectingDials = 0;
  #shuttingDown = false;

  /**
   * Creates a manager; nothing happens until {@linkcode PeerManager.start}. Throws
   * `InvalidArgumentError` for a bad option or a cluster key outside 16..1024 bytes.
   */
  constructor(init: PeerManagerInit) {
    this.identity = init.identity;
    this.options = resolvePeerOptions(init.options);
    this.#network = init.network;
    this.#listenOn = init.listen;
    this.#service = init.service;
    this.#log = withCategory(init.log ?? silentLogger, "dfs.peer");
    this.#random = init.random ?? Math.random;
    this.#advertise = init.advertiseAddress ?? "";
    this.#exchange = init.peerExchange ?? true;
    this.#clusterKey = checkClusterKey(init.clusterKey);
    const { identity, clusterKey, aeads } = { ...init, clusterKey: this.#clusterKey };
    const mode = init.encryption, tally = this.traffic;
    this.#security = new ChannelSecurity({ mode, identity, clusterKey, aeads, tally });
    const files = init.service?.probe || init.service?.tombstone ? [FILES_CAPABILITY] : [];
    if (init.service?.probe) files.push(FILES_AGES_CAPABILITY);
    if (init.service?.tombstone) files.push(FILES_REVIVAL_CAPABILITY);
    // Reports bad blocks and answers reports: whole blocks may come to it unverified.
    if (init.service?.recheck) files.push(BLOCKS_VERIFY_CAPABILITY);
    this.#capabilities = [
      ...new Set([
        ...DEFAULT_CAPABILITIES,
        PEERS_CAPABILITY,
        ...files,
        ...(init.capabilities ?? []),
      ]),
    ];
    this.#handlers.set(MessageType.GET_PEERS, (_msg, ctx) => {
      return Promise.resolve({ type: MessageType.PEERS, addresses: this.#shareable(ctx.peer) });
    });
    this.#bootstrap = (init.bootstrap ?? []).map((a) => {
      const address = typeof a === "string" ? parseAddress(a) : a;
      return { address, key: formatAddress(address), nodeId: "", state: "connecting", attempt: 0 };
    });
  }

  /** The bound listen address (after start), if listening. */
  get address(): NetAddress | undefined {
    return this.#listener?.address;
  }

  /** The address announced to peers ("host:port"), or "". */
  get advertisedAddress(): string {
    return this.#advertise;
  }

  /** Our node id, hex. */
  get nodeIdHex(): string {
    return this.identity.nodeIdHex;
  }

  /**
   * Listens (if asked) and starts dialling the bootstrap addresses. Resolves once listening;
   * {@linkcode PeerManager.bootstrapAttempted} tells when the first dials are over.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#listenOn) {
      this.#listener = await this.#network.listen(this.#listenOn, (conn) => this.#accept(conn));
      if (!this.#advertise) this.#advertise = formatAddress(this.#listener.address);
    }
    this.#firstDials = Promise.all(this.#bootstrap.map((t) => this.#dialTarget(t))).then(() => {});
    const every = Math.max(10, Math.min(30_000, Math.floor(this.options.idleTimeoutMs / 2)));
    this.#idleTimer = setInterval(() => this.closeIdle(), every);
  }

  /**
   * Closes every connection idle for `idleTimeoutMs` (no request either way, nothing in
   * flight), except bootstrap and peer-exchange connections. Runs by itself every half
   * `idleTimeoutMs` (at most every 30 s); returns how many it closed.
   */
  closeIdle(now: number = Date.now()): number {
    let closed = 0;
    for (const conn of this.#evictable()) {
      if (now - conn.stats().lastActive < this.options.idleTimeoutMs) continue;
      this.#log("debug", "closing idle connection", { peer: conn.nodeIdHex });
      void conn.shutdown(this.options.shutdownGraceMs, "idle").catch(() => {});
      closed++;
    }
    return closed;
  }

  /**
   * Open connections that idle-closing and eviction may take: nothing in flight either way,
   * and not kept on purpose (bootstrap, peer exchange).
   */
  #evictable(): PeerConnection[] {
    const kept = new Set<string>();
    for (const t of this.#bootstrap) if (t.nodeId) kept.add(t.nodeId);
    for (const t of this.#learned.values()) if (t.nodeId) kept.add(t.nodeId);
    return this.connections().filter((c) => {
      if (kept.has(c.nodeIdHex) || this.#evicting.has(c)) return false;
      const s = c.stats();
      return s.outgoingRequests === 0 && s.incomingRequests === 0 && s.pendingSends === 0;
    });
  }

  /**
   * Connections that count toward the limit: every established one not being evicted. (Not
   * `size - evicting.size`: a connection under eviction may already have been replaced in the
   * map by the same peer's new one before its close ends, and would be subtracted twice.)
   */
  #staying(): number {
    let n = 0;
    for (const c of this.#connections.values()) if (!this.#evicting.has(c)) n++;
    return n;
  }

  /**
   * At the connection limit, closes the least recently active evictable connection to make
   * room; returns false when there is none. An operation whose connection is closed between
   * two of its requests redials it (`withConnection` in the node layer tries again).
   */
  #makeRoom(): boolean {
    const outboundHandshakes = this.#handshaking.size - this.#inboundHandshakes.size;
    const open = this.#staying() + outboundHandshakes + this.#connectingDials;
    if (open < this.options.maxConnections) return true;
    const victim = this.#evictable()
      .sort((a, b) => a.stats().lastActive - b.stats().lastActive)[0];
    if (!victim) return false;
    this.#log("debug", "closing the least recently used connection", { peer: victim.nodeIdHex });
    // Closed at once (nothing is in flight on it): it leaves the count now, and the peer gets
    // GOODBYE; a request of the peer's still on the wire fails there with PeerClosedError and
    // is sent again over a new connection (block and DHT requests are idempotent).
    this.#evicting.add(victim);
    void victim.close("connection limit: least recently used").catch(() => {});
    return true;
  }

  /**
   * Resolves once the first dial of every bootstrap address has ended, connected or failed
   * (each is bounded by `connectTimeoutMs` + `handshakeTimeoutMs`; failed ones keep being
   * redialled in the background). Never rejects. Resolves at once before `start` and without
   * bootstrap addresses.
   *
   * @example
   * ```ts ignore
   * await manager.start();
   * await manager.bootstrapAttempted();
   * console.log(manager.connections().length); // peers reached at startup
   * ```
   */
  bootstrapAttempted(): Promise<void> {
    return this.#firstDials;
  }

  /**
   * Registers a handler for a request type on every connection, present and future (for the
   * layers above, e.g. the DHT).
   */
  handle(type: number, handler: RequestHandler): void {
    this.#handlers.set(type, handler);
  }

  /** Calls `listener` with each newly connected peer. Returns a function that removes it. */
  onPeerConnected(listener: (peer: PeerConnection) => void): () => void {
    this.#onConnected.add(listener);
    return () => this.#onConnected.delete(listener);
  }

  /** Calls `listener` when a peer's connection closes. Returns a function that removes it. */
  onPeerDisconnected(listener: (peer: PeerConnection, info: CloseInfo) => void): () => void {
    this.#onDisconnected.add(listener);
    return () => this.#onDisconnected.delete(listener);
  }

  /** The live connection to `nodeIdHex`, if any. */
  peer(nodeIdHex: string): PeerConnection | undefined {
    const conn = this.#connections.get(nodeIdHex);
    return conn?.isOpen ? conn : undefined;
  }

  /** Every live connection. */
  connections(): PeerConnection[] {
    return [...this.#connections.values()].filter((c) => c.isOpen);
  }

  /**
   * The peer table: known peers (bounded: beyond 4 x `maxConnections` entries the
   * longest-silent disconnected ones are forgotten) and bootstrap addresses not reached yet.
   */
  peers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const r of this.#records.values()) {
      const conn = this.#connections.get(r.nodeId);
      if (conn) {
        const s = conn.stats();
        r.lastSeen = s.lastSeen;
        if (s.rttMs !== undefined) r.rttMs = s.rttMs;
      }
      out.push({
        nodeId: r.nodeId,
        address: r.address,
        state: r.state,
        lastSeen: r.lastSeen,
        ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}),
      });
    }
    for (const t of this.#bootstrap) {
      if (!t.nodeId || !this.#records.has(t.nodeId)) {
        out.push({ nodeId: t.nodeId, address: t.key, state: t.state, lastSeen: 0 });
      } else if (t.state === "backoff" || t.state === "connecting") {
        const r = out.find((p) => p.nodeId === t.nodeId);
        if (r && r.state !== "connected") Object.assign(r, { state: t.state });
      }
    }
    return out;
  }

  /**
   * Addresses learned through peer exchange and still in the table ("host:port"), reached or
   * not. Bounded by `max(32, 4 x targetConnections)`.
   */
  learnedAddresses(): string[] {
    return [...this.#learned.keys()];
  }

  /**
   * Dials `address` and completes the handshake; resolves with the connection (an existing
   * one when we are already connected to that node). Rejects with `ConnectError`,
   * `HandshakeError`, {@linkcode PeerLimitError} or {@linkcode PeerClosedError}.
   */
  connect(address: NetAddress | string, options: ConnectPeerOptions = {}): Promise<PeerConnection> {
    const addr = typeof address === "string" ? parseAddress(address) : address;
    const key = formatAddress(addr);
    const expected = typeof options.expectedNodeId === "string"
      ? fromHex(options.expectedNodeId) ?? undefined
      : options.expectedNodeId;
    if (expected) {
      const existing = this.peer(toHex(expected));
      if (existing) return Promise.resolve(existing);
    }
    for (const conn of this.#connections.values()) {
      if (!conn.isOpen) continue;
      if (expected && conn.nodeIdHex !== toHex(expected)) continue;
      if (conn.remote.listenAddress === key || this.#dialled.get(conn) === key) {
        return Promise.resolve(conn);
      }
    }
    // One dial per address at a time, shared by every caller (each caller's signal only ends
    // its own wait): concurrent requests to a node must not open several connections to it.
    const expectedHex = expected ? toHex(expected) : "";
    let entry = this.#dialing.get(key);
    if (!entry || (expectedHex && entry.expected && entry.expected !== expectedHex)) {
      const dial = this.#dial(addr, key, expected, undefined);
      const mine = { dial, expected: expectedHex };
      this.#dialing.set(key, mine);
      const forget = () => {
        if (this.#dialing.get(key) === mine) this.#dialing.delete(key);
      };
      dial.then(forget, forget);
      entry = mine;
    }
    const shared = entry.dial.then((conn) => {
      if (expectedHex && conn.nodeIdHex !== expectedHex) {
        throw new HandshakeError(
          "UNEXPECTED_PEER",
          `expected node ${expectedHex.slice(0, 16)}..., ${key} is ${
            conn.nodeIdHex.slice(0, 16)
          }...`,
        );
      }
      return conn;
    });
    return options.signal ? raceSignal(shared, options.signal) : shared;
  }

  /**
   * Graceful shutdown: stops accepting and redialling, sends GOODBYE on every connection,
   * lets in-flight requests finish for up to `graceMs` (default `shutdownGraceMs`), fails
   * the rest with {@linkcode PeerClosedError}, and closes everything. Idempotent.
   */
  async shutdown(graceMs: number = this.options.shutdownGraceMs): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#stop.abort(new PeerClosedError("node is shutting down"));
    for (const t of this.#bootstrap) clearTimeout(t.timer);
    for (const t of this.#learned.values()) clearTimeout(t.timer);
    clearInterval(this.#idleTimer);
    const listener = this.#listener;
    const closingListener = listener ? listener.close().catch(() => {}) : Promise.resolve();
    for (const ch of this.#handshaking) ch.close();
    await Promise.all([
      closingListener,
      ...[...this.#connections.values()].map((c) => c.shutdown(graceMs, "node shutting down")),
    ]);
  }

  // ------------------------------------------------------------------ internals

  #accept(conn: Connection): void {
    const remote = `${conn.remoteAddress.hostname}:${conn.remoteAddress.port}`;
    if (this.#shuttingDown) {
      this.#turnAway(conn, WireErrorCode.SHUTTING_DOWN, "node is shutting down");
      return;
    }
    // Handshakes in progress are bounded on their own, and take nothing from the established
    // connections: a socket that never completes a handshake closes no one's connection.
    const room = this.#staying() < this.options.maxConnections || this.#evictable().length > 0;
    const host = conn.remoteAddress.hostname;
    const fromHost = isLoopback(host) ? 0 : this.#handshakesByHost.get(host) ?? 0;
    if (
      this.#inboundHandshakes.size >= maxInboundHandshakes(this.options) || !room ||
      fromHost >= MAX_HANDSHAKES_PER_HOST ||
      hostAtLimit(this.#connections.values(), host, fromHost, this.options.maxConnectionsPerHost)
    ) {
      this.#log("info", "refusing connection: connection limit reached", {
        host,
        remote,
        code: "PEER_LIMIT",
      });
      this.#turnAway(
        conn,
        WireErrorCode.LIMIT,
        `connection limit (${this.options.maxConnections}) reached`,
      );
      return;
    }
    this.#inboundHandshakes.add(conn);
    if (!isLoopback(host)) this.#handshakesByHost.set(host, fromHost + 1);
    // The handshake stops counting against its host in the same step that registers (or drops)
    // its connection: no moment in which it counts as neither, when another from the host could
    // slip past the per-host bound.
    const release = () => {
      this.#inboundHandshakes.delete(conn);
      if (isLoopback(host)) return;
      const n = (this.#handshakesByHost.get(host) ?? 1) - 1;
      if (n <= 0) this.#handshakesByHost.delete(host);
      else this.#handshakesByHost.set(host, n);
    };
    this.#handshake(conn, "responder", undefined, undefined)
      .then(({ channel, result }) => {
        release();
        // Complete: now it takes a slot. A peer turned away cannot reach us at all, while one of
        // ours closed between requests only redials: any connection with nothing in flight
        // gives way.
        this.#handshaking.delete(channel); // counted below as the connection it becomes
        // A second connection to a node already connected takes no slot (one of the two goes).
        if (!this.peer(result.nodeIdHex) && !this.#makeRoom()) {
          refuse(
            channel,
            WireErrorCode.LIMIT,
            `connection limit (${this.options.maxConnections}) reached`,
          );
          return;
        }
        this.#register(channel, result, "listener", remote);
      }, (err) => {
        release();
        this.#log("warn", "inbound handshake refused", { host, remote, ...errorFields(err) });
      })
      .catch((err) => {
        this.#log("warn", "inbound connection could not be registered", {
          host,
          remote,
          ...errorFields(err),
        });
      });
  }

  async #dial(
    address: NetAddress,
    key: string,
    expected: Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ): Promise<PeerConnection> {
    if (this.#shuttingDown) throw new PeerClosedError("node is shutting down");
    // At the limit with nothing idle to close, wait (bounded) for a slot: connections busy now
    // are usually done in moments.
    const waitUntil = Date.now() + this.options.connectTimeoutMs;
    while (!this.#makeRoom()) {
      if (Date.now() >= waitUntil || this.#shuttingDown || signal?.aborted) {
        throw new PeerLimitError(`connection limit (${this.options.maxConnections}) reached`);
      }
      await new Promise((r) => setTimeout(r, ROOM_POLL_MS));
    }
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DfsError("TIMEOUT", "connect timed out")),
      this.options.connectTimeoutMs,
    );
    const signals = [this.#stop.signal, timeout.signal, ...(signal ? [signal] : [])];
    const combined = AbortSignal.any(signals);
    let conn: Connection;
    this.#connectingDials++;
    try {
      conn = await this.#network.connect(address, { signal: combined });
    } finally {
      clearTimeout(timer);
      this.#connectingDials--;
    }
    const { channel, result } = await this.#handshake(conn, "initiator", expected, signal);
    return this.#register(channel, result, "dialer", key);
  }

  /** The Noise handshake (unless plaintext), then the identity handshake inside it. */
  async #handshake(
    conn: Connection,
    role: "initiator" | "responder",
    expected: Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ channel: MessageChannel; result: HandshakeResult }> {
    this.#handshaking.add(conn);
    const stop = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal;
    const timeoutMs = this.options.handshakeTimeoutMs;
    let channel: MessageChannel | undefined;
    try {
      const opened = await this.#security.open(conn, role, {
        timeoutMs,
        signal: stop,
        expectedNodeId: expected,
      });
      channel = opened.channel;
      this.#handshaking.delete(conn);
      this.#handshaking.add(channel);
      const result = await performHandshake(channel, {
        identity: this.identity,
        listenAddress: this.#advertise,
        capabilities: this.#capabilities,
        expectedNodeId: opened.provenNodeId ?? expected,
        timeoutMs,
        signal: stop,
        clusterKey: this.#security.handshakeClusterKey,
      });
      // The channel keeps its slot until `#register` adopts (or drops) it.
      return { channel, result: opened.cipher ? { ...result, cipher: opened.cipher } : result };
    } catch (err) {
      this.#handshaking.delete(conn);
      if (channel) this.#handshaking.delete(channel);
      channel?.close();
      conn.close();
      throw err;
    }
  }

  /**
   * Turns an inbound connection away before any handshake: an ERROR in plaintext mode, a
   * refusal in clear with Noise (`noise/refusal.ts`); the dialer gets `REJECTED` either way.
   */
  #turnAway(conn: Connection, code: number, message: string): void {
    if (this.#security.mode === "plaintext") refuse(framedChannel(conn), code, message);
    else refuseNoise(conn, code, message);
  }

  #register(
    channel: MessageChannel,
    result: HandshakeResult,
    role: PeerRole,
    dialled: string,
  ): PeerConnection {
    this.#handshaking.delete(channel);
    if (this.#shuttingDown) {
      channel.close();
      throw new PeerClosedError("node is shutting down");
    }
    // A peer listening on every interface advertises 0.0.0.0:PORT: keep (and share) the host
    // its connection came from instead, so others can dial it.
    const observedHost = channel.remote.slice(0, channel.remote.lastIndexOf(":"));
    const listenAddress = reachableAddress(result.listenAddress, observedHost);
    result = { ...result, listenAddress, observedHost };
    const conn = new PeerConnection({
      channel,
      remote: result,
      role,
      options: this.options,
      service: this.#service,
      handlers: this.#handlers,
      log: this.#log,
    });
    const id = result.nodeIdHex;
    const existing = this.#connections.get(id);
    if (existing?.isOpen) {
      // Two connections to one node (both dialled at once, or a redial raced an inbound
      // connection). Both sides keep the one dialled by the smaller node id, so they agree
      // without talking; the other is closed gracefully.
      const me = this.identity.nodeIdHex;
      const dialerOf = (c: PeerConnection) => c.role === "dialer" ? me : id;
      const keepNew = dialerOf(conn) !== dialerOf(existing) &&
        dialerOf(conn) === (me < id ? me : id);
      const [keep, drop] = keepNew ? [conn, existing] : [existing, conn];
      this.#log("debug", "duplicate connection closed", { peer: id });
      if (keepNew) this.#adopt(conn, result, role, dialled);
      drop.redirectTo(keep);
      drop.shutdown(this.options.shutdownGraceMs, DUPLICATE_REASON).catch(() => {});
      return keep;
    }
    // A previous connection that is closing (e.g. the peer dropped it as a duplicate): send
    // its late callers here.
    existing?.redirectTo(conn);
    this.#adopt(conn, result, role, dialled);
    return conn;
  }

  #adopt(conn: PeerConnection, result: HandshakeResult, role: PeerRole, dialled: string): void {
    const id = result.nodeIdHex;
    this.#connections.set(id, conn);
    if (role === "dialer") this.#dialled.set(conn, dialled);
    const address = result.listenAddress || (role === "dialer" ? dialled : "");
    const record = this.#records.get(id);
    if (record) {
      record.state = "connected";
      record.lastSeen = Date.now();
      if (address) record.address = address;
      record.orphan?.redirectTo(conn);
      record.orphan = undefined;
    } else {
      this.#records.set(id, { nodeId: id, address, state: "connected", lastSeen: Date.now() });
    }
    conn.onClose((info) => this.#closed(conn, info));
    for (const t of this.#bootstrap) {
      if (t.key === dialled || t.nodeId === id) {
        t.nodeId = id;
        t.state = "connected";
        t.attempt = 0;
        clearTimeout(t.timer);
        t.timer = undefined;
      }
    }
    this.#log("debug", "peer connected", { peer: id, address, role });
    for (const listener of this.#onConnected) {
      try {
        listener(conn);
      } catch (err) {
        this.#log("error", "peer connected listener threw", { error: errorText(err) });
      }
    }
    if (this.#exchange) void this.#askPeers(conn);
  }

  #closed(conn: PeerConnection, info: CloseInfo): void {
    this.#evicting.delete(conn);
    const id = conn.nodeIdHex;
    if (this.#connections.get(id) !== conn) return; // a dropped duplicate
    this.#connections.delete(id);
    const record = this.#records.get(id);
    if (record) {
      const s = conn.stats();
      record.lastSeen = s.lastSeen;
      if (s.rttMs !== undefined) record.rttMs = s.rttMs;
      record.state = info.reason === "dead" ? "dead" : "disconnected";
      if (conn.awaitingSuccessor) record.orphan = conn;
    }
    this.#pruneRecords();
    this.#log(info.reason === "local" ? "debug" : "info", "peer disconnected", {
      peer: id,
      reason: info.reason,
      error: info.error.message,
    });
    for (const listener of this.#onDisconnected) {
      try {
        listener(conn, info);
      } catch (err) {
        this.#log("error", "peer disconnected listener threw", { error: errorText(err) });
      }
    }
    for (const t of this.#bootstrap) {
      if (t.nodeId === id) this.#scheduleRedial(t);
    }
    for (const t of this.#learned.values()) {
      if (t.nodeId === id) this.#scheduleLearned(t);
    }
    this.#fill();
  }

  /** Forgets the longest-silent disconnected peers once the table outgrows its bound. */
  #pruneRecords(): void {
    const bound = 4 * this.options.maxConnections;
    if (this.#records.size <= bound) return;
    const keep = new Set(this.#bootstrap.map((t) => t.nodeId));
    const idle = [...this.#records.values()]
      .filter((r) => !this.#connections.has(r.nodeId) && !keep.has(r.nodeId) && !r.orphan)
      .sort((a, b) => a.lastSeen - b.lastSeen);
    for (const r of idle.slice(0, this.#records.size - bound)) this.#records.delete(r.nodeId);
  }

  /** Dials a bootstrap target once; the promise (never rejecting) ends with that attempt. */
  #dialTarget(target: BootstrapTarget): Promise<void> {
    if (this.#shuttingDown) return Promise.resolve();
    target.timer = undefined;
    if (target.nodeId && this.peer(target.nodeId)) {
      target.state = "connected";
      return Promise.resolve();
    }
    target.state = "connecting";
    return this.connect(target.address).then(
      (conn) => {
        target.nodeId = conn.nodeIdHex;
        if (!conn.isOpen) this.#scheduleRedial(target);
      },
      (err) => {
        this.#log("debug", "bootstrap dial failed", {
          address: target.key,
          attempt: target.attempt,
          error: errorText(err),
        });
        this.#scheduleRedial(target);
      },
    );
  }

  #scheduleRedial(target: BootstrapTarget): void {
    if (this.#shuttingDown || target.timer !== undefined) return;
    if (target.nodeId && this.peer(target.nodeId)) return;
    target.attempt++;
    target.state = "backoff";
    const delay = backoffDelay(
      target.attempt,
      this.options.backoffBaseMs,
      this.options.backoffMaxMs,
      this.#random,
    );
    target.timer = setTimeout(() => void this.#dialTarget(target), delay);
  }

  // ------------------------------------------------------------------ peer exchange

  /** The connections we may dial at most through peer exchange. */
  get #target(): number {
    return Math.max(
      0,
      Math.min(this.options.targetConnections, this.options.maxConnections - 1),
    );
  }

  /** Listen addresses of our connected peers other than `asker`, shuffled, bounded. */
  #shareable(asker: PeerConnection): string[] {
    const out: string[] = [];
    for (const c of this.connections()) {
      const a = c.remote.listenAddress;
      if (c.nodeIdHex === asker.nodeIdHex || !a || utf8Length(a) > MAX_ADDRESS_BYTES) continue;
      if (!isAddress(a)) continue;
      out.push(a);
    }
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out.slice(0, MAX_PEER_ADDRESSES);
  }

  async #askPeers(conn: PeerConnection): Promise<void> {
    if (!conn.remote.capabilities.includes(PEERS_CAPABILITY) || this.#shuttingDown) return;
    try {
      const answer = await conn.request({ type: MessageType.GET_PEERS }, {
        signal: this.#stop.signal,
        timeoutMs: Math.min(this.options.requestTimeoutMs, 10_000),
      });
      if (answer.type !== MessageType.PEERS) {
        this.#log("info", "peer answered GET_PEERS with another type", { peer: conn.nodeIdHex });
        return;
      }
      const added = this.#learn(answer.addresses);
      this.#log("debug", "peer exchange", {
        peer: conn.nodeIdHex,
        offered: answer.addresses.length,
        added,
      });
      this.#fill();
    } catch (err) {
      this.#log("debug", "GET_PEERS failed", { peer: conn.nodeIdHex, error: errorText(err) });
    }
  }

  /** Adds the usable, unknown addresses of `offered` to the learned table; returns how many. */
  #learn(offered: readonly string[]): number {
    const bound = Math.max(32, 4 * this.options.targetConnections);
    const own = new Set([this.#advertise]);
    if (this.#listener) own.add(formatAddress(this.#listener.address));
    const bootstrap = new Set(this.#bootstrap.map((t) => t.key));
    const connected = new Set(this.connections().map((c) => c.remote.listenAddress));
    let added = 0;
    for (const text of offered.slice(0, MAX_PEER_ADDRESSES)) {
      if (this.#learned.size >= bound) break;
      if (typeof text !== "string" || text.length > MAX_ADDRESS_BYTES) continue;
      let address: NetAddress;
      try {
        address = parseAddress(text);
      } catch {
        continue; // malformed entries are ignored, not dialled
      }
      const key = formatAddress(address);
      if (own.has(key) || bootstrap.has(key) || connected.has(key) || this.#learned.has(key)) {
        continue;
      }
      this.#learned.set(key, { address, key, nodeId: "", failures: 0, attempt: 0, dialing: false });
      added++;
    }
    return added;
  }

  /** Dials idle learned addresses while below the target. */
  #fill(): void {
    if (this.#shuttingDown || !this.#exchange) return;
    let active = this.#connections.size;
    for (const t of this.#learned.values()) if (t.dialing) active++;
    for (const t of this.#learned.values()) {
      if (active >= this.#target) return;
      if (t.dialing || t.timer !== undefined || (t.nodeId && this.peer(t.nodeId))) continue;
      active++;
      this.#dialLearned(t);
    }
  }

  #dialLearned(t: LearnedTarget): void {
    t.dialing = true;
    this.connect(t.address).then(
      (conn) => {
        t.dialing = false;
        t.nodeId = conn.nodeIdHex;
        t.failures = 0;
        t.attempt = 0;
        if (!conn.isOpen) this.#scheduleLearned(t);
      },
      (err) => {
        t.dialing = false;
        t.failures++;
        const self = err instanceof HandshakeError && err.reason === "SELF";
        if (self || t.failures >= MAX_LEARNED_FAILURES) {
          this.#learned.delete(t.key);
          this.#log("debug", "forgot a learned address", {
            address: t.key,
            failures: t.failures,
            error: errorText(err),
          });
          return;
        }
        this.#scheduleLearned(t);
      },
    );
  }

  #scheduleLearned(t: LearnedTarget): void {
    if (this.#shuttingDown || t.timer !== undefined || t.dialing) return;
    if (this.#learned.get(t.key) !== t) return;
    t.attempt++;
    const delay = backoffDelay(
      t.attempt,
      this.options.backoffBaseMs,
      this.options.backoffMaxMs,
      this.#random,
    );
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.#fill();
    }, delay);
  }
}

/** Inbound handshakes in progress at once: a quarter of the connection bound, at least 4. */
function maxInboundHandshakes(options: PeerOptions): number {
  return Math.max(4, Math.ceil(options.maxConnections / 4));
}

/**
 * Inbound handshakes in progress from one host (loopback excepted): a host holding sockets
 * open without completing a handshake cannot lock every other peer out.
 */
const MAX_HANDSHAKES_PER_HOST = 2;

/** How often a dial waiting for a free slot checks again (ms). */
const ROOM_POLL_MS = 25;

/** `promise`, or a rejection with the signal's reason (an `AbortedError`) when it aborts first. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError("dial aborted", { cause: signal.reason }));
    // Already aborted: reject now, yet still handle the shared dial's outcome (no dangling
    // rejection when it fails later).
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function isAddress(text: string): boolean {
  try {
    parseAddress(text);
    return true;
  } catch {
    return false;
  }
}

function refuse(channel: MessageChannel, code: number, message: string): void {
  // Send ERROR, half-close, and keep reading until the peer hangs up (bounded), so the ERROR is
  // not lost to a reset from closing with unread bytes.
  const timer = setTimeout(() => channel.close(), 1000);
  (async () => {
    await channel.send({ type: MessageType.ERROR, requestId: 0, code, message });
    await channel.end();
    for (let i = 0; i < 64; i++) if ((await channel.receive()) === null) break;
  })().catch(() => {}).finally(() => {
    clearTimeout(timer);
    channel.close();
  });
}
