/**
 * One authenticated connection to a peer: request/response by request id, many requests in
 * flight, block bodies as DATA frames, heartbeats, limits and graceful close.
 *
 * Request ids are allocated per side without collision: the dialler uses odd ids, the
 * listener even ones (0 is for connection-level messages). A message whose id has our parity
 * answers one of our requests; one with the peer's parity is a request (or its body, or its
 * CANCEL) from the peer.
 *
 * @module
 */

import { errorFields } from "../util/log.ts";
import { AbortedError, DfsError, errorText, NotFoundError, TimeoutError } from "../errors.ts";
import type { ContentId } from "../id/content_id.ts";
import { dataChunks } from "../wire/data_frames.ts";
import { MAX_HAS_IDS, MAX_PROBE_IDS } from "../wire/limits.ts";
import { MessageType, WireErrorCode } from "../wire/messages.ts";
import type { Message, WireTombstone } from "../wire/messages.ts";
import {
  BLOCKS_VERIFY_CAPABILITY,
  FILES_AGES_CAPABILITY,
  FILES_CAPABILITY,
  FILES_REVIVAL_CAPABILITY,
} from "./block_service.ts";
import { BlockAssembly } from "./block_assembly.ts";
import type { BlockLease, BlockService, FileProbeResult } from "./block_service.ts";
import type { MessageChannel } from "./channel.ts";
import {
  PeerClosedError,
  PeerCorruptDataError,
  PeerLimitError,
  PeerProtocolError,
  PeerPushCorruptError,
  PeerRemoteError,
} from "./errors.ts";
import type { HandshakeResult } from "./handshake.ts";
import type { PeerOptions } from "./options.ts";
import { overRateAnswer, requestBucket, type TokenBucket } from "./peer_limits.ts";
import { bytesEqual } from "../util/bytes_equal.ts";
import type {
  CloseInfo,
  CloseReason,
  OutgoingMessage,
  PeerConnectionInit,
  PeerConnectionStats,
  PeerLogger,
  PeerRole,
  PutBlockOptions,
  RequestContext,
  RequestHandler,
  RequestOptions,
  StreamRequestOptions,
} from "./connection_types.ts";
import {
  errorMessage,
  parseId,
  remoteError,
  toClosedError,
  unexpected,
  unsupported,
  wireErrorOf,
} from "./wire_error_mapping.ts";

interface Pending {
  onMessage(msg: Message): void;
  fail(err: Error): void;
  /** Where the next DATA chunk of `length` bytes of the answer may be read (see channel). */
  place?(length: number): Uint8Array | undefined;
}

interface Incoming {
  readonly controller: AbortController;
  onData?(msg: Message & { type: typeof MessageType.DATA }): void;
  /** Where the next DATA chunk of `length` bytes of the request may be read (see channel). */
  place?(length: number): Uint8Array | undefined;
}

const WIRE_DECODE_CODES = new Set([
  "FRAME_TOO_LARGE",
  "MALFORMED_MESSAGE",
  "UNKNOWN_MESSAGE_TYPE",
  "UNSUPPORTED_VERSION",
]);

const RESPONSE_TYPES: ReadonlySet<number> = new Set([
  MessageType.PONG,
  MessageType.HAS_RESULT,
  MessageType.BLOCK,
  MessageType.OK,
  MessageType.ERROR,
  MessageType.PEERS,
  MessageType.NODES,
  MessageType.PROVIDERS,
  MessageType.VALUE,
  MessageType.FILE_STATE,
]);

/** Extra control frames (PONG, refusals) allowed in the send queue beyond the in-flight limit. */
const CONTROL_QUEUE_SLACK = 16;

/** GOODBYE reason the peer manager uses when it drops a duplicate connection. */
export const DUPLICATE_REASON = "duplicate connection";

/** How long a final ERROR/GOODBYE may take to write before the socket is closed anyway. */
const FAREWELL_MS = 250;

/**
 * An authenticated connection to one peer. Build it with the peer manager (or, in tests,
 * from a handshaken channel), then call the block methods.
 *
 * @example Fetch a block from a connected peer
 * ```ts ignore
 * const peer = await manager.connect({ hostname: "127.0.0.1", port: 4000 });
 * const bytes = await peer.getBlock(id, { signal: AbortSignal.timeout(10_000) });
 * ```
 */
export class PeerConnection {
  /** The authenticated peer: node id, public key, listen address, capabilities. */
  readonly remote: HandshakeResult;
  /** Which side we are. */
  readonly role: PeerRole;
  /** Resolves when the connection is closed, with why. Never rejects. */
  readonly closed: Promise<CloseInfo>;

  readonly #channel: MessageChannel;
  readonly #options: PeerOptions;
  readonly #service: BlockService | undefined;
  readonly #handlers: Map<number, RequestHandler>;
  readonly #localHandlers = new Map<number, RequestHandler>();
  readonly #log: PeerLogger;
  readonly #pending = new Map<number, Pending>();
  readonly #incoming = new Map<number, Incoming>();
  /** Block transfers in flight that take DATA chunks in place (see `#placeStart`). */
  #placing = 0;
  readonly #placer = (id: number, length: number) => this.#placeData(id, length);
  #requests: TokenBucket | undefined; // this peer's request rate (peer_limits.ts), made on use
  readonly #closeListeners = new Set<(info: CloseInfo) => void>();
  #resolveClosed!: (info: CloseInfo) => void;
  #state: "open" | "closing" | "closed" = "open";
  #remoteGoodbye = false;
  #localGoodbye = false;
  #peerEnded = false;
  #successorExpected = false;
  #successorWait: PromiseWithResolvers<void> | undefined;
  #nextId: number;
  #lastSeen = Date.now();
  #lastActive = Date.now();
  #rttMs: number | undefined;
  #pinging = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #drained: (() => void) | undefined;
  #closeInfo: CloseInfo | undefined;
  #successor: PeerConnection | undefined;
  /** The peer verifies whole blocks on arrival and reports mismatches (`blocks/2`). */
  readonly #peerVerifies: boolean;

  /** Wraps a handshaken channel; starts reading and the heartbeat at once. */
  constructor(init: PeerConnectionInit) {
    this.#channel = init.channel;
    this.remote = init.remote;
    this.role = init.role;
    this.#options = init.options;
    this.#service = init.service;
    this.#handlers = init.handlers ?? new Map();
    this.#log = init.log ?? (() => {});
    this.#nextId = init.role === "dialer" ? 1 : 2;
    this.#peerVerifies = init.remote.capabilities.includes(BLOCKS_VERIFY_CAPABILITY);
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#heartbeat = setInterval(() => this.#tick(), this.#options.heartbeatIntervalMs);
    this.#readLoop();
  }

  /** Peer node id, hex. */
  get nodeIdHex(): string {
    return this.remote.nodeIdHex;
  }

  /**
   * True until the connection starts closing (locally or after the peer's GOODBYE). Requests
   * on a connection that is not open reject with {@linkcode PeerClosedError}, unless it was
   * redirected (see {@linkcode PeerConnection.redirectTo}).
   */
  get isOpen(): boolean {
    return this.#state === "open" && !this.#remoteGoodbye;
  }

  /** How the connection ended, once it has. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /** Current counters. */
  stats(): PeerConnectionStats {
    return {
      outgoingRequests: this.#pending.size,
      incomingRequests: this.#incoming.size,
      pendingSends: this.#channel.pendingSends,
      lastSeen: this.#lastSeen,
      lastActive: this.#lastActive,
      rttMs: this.#rttMs,
    };
  }

  /** Calls `listener` once when the connection closes. Returns a function that removes it. */
  onClose(listener: (info: CloseInfo) => void): () => void {
    if (this.#closeInfo) {
      const info = this.#closeInfo;
      queueMicrotask(() => listener(info));
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /**
   * Registers a handler for one more request type on this connection only (the peer manager
   * offers the same for all connections).
   */
  handle(type: number, handler: RequestHandler): void {
    this.#localHandlers.set(type, handler);
  }

  // ---------------------------------------------------------------- client API

  /** Sends PING and resolves with the round-trip time in milliseconds. */
  ping(options: RequestOptions = {}): Promise<number> {
    return this.#ping(options, false);
  }

  async #ping(options: RequestOptions, heartbeat: boolean): Promise<number> {
    const started = performance.now();
    await this.#call<void>(
      { type: MessageType.PING, timestamp: Date.now() },
      (msg, done) => {
        if (msg.type === MessageType.PONG) done.resolve();
        else done.reject(unexpected(msg));
      },
      options,
      undefined,
      heartbeat,
    );
    const rtt = performance.now() - started;
    this.#rttMs = rtt;
    return rtt;
  }

  /** Asks which of `ids` the peer holds (one boolean per id, in order; at most 1024 ids). */
  has(ids: readonly ContentId[], options: RequestOptions = {}): Promise<boolean[]> {
    if (ids.length > MAX_HAS_IDS) {
      return Promise.reject(new PeerLimitError(`HAS takes at most ${MAX_HAS_IDS} ids`));
    }
    return this.#call<boolean[]>(
      { type: MessageType.HAS, ids: ids.map((id) => id.bytes) },
      (msg, done) => {
        if (msg.type !== MessageType.HAS_RESULT) return done.reject(unexpected(msg));
        if (msg.present.length !== ids.length) {
          return done.reject(
            new PeerProtocolError(`HAS_RESULT has ${msg.present.length} answers for ${ids.length}`),
          );
        }
        done.resolve([...msg.present]);
      },
      options,
    );
  }

  /**
   * Fetches a block. The bytes are verified against `id` before they are returned. Rejects
   * with `NotFoundError` when the peer does not have it, {@linkcode PeerCorruptDataError} when
   * the bytes do not match, {@linkcode PeerLimitError} when it is larger than `maxBlockSize`,
   * `TimeoutError`/`AbortedError`, or {@linkcode PeerClosedError}.
   *
   * A peer that announced `blocks/2` may send a whole block without verifying its own copy: on a
   * mismatch it is told so (BAD_BLOCK, see {@linkcode PeerConnection.reportBadBlock}) before the
   * call rejects. When it confirms that its copy was rotten (and took it out of service), the
   * rejection is a {@linkcode PeerRemoteError} with `wireCode` CORRUPT, as when a holder finds
   * its copy rotten before sending it; otherwise a {@linkcode PeerCorruptDataError}.
   */
  getBlock(id: ContentId, options: RequestOptions = {}): Promise<Uint8Array> {
    const max = this.#options.maxBlockSize;
    let block: BlockAssembly | undefined;
    return this.#call<Uint8Array>(
      { type: MessageType.GET_BLOCK, id: id.bytes },
      (msg, done) => {
        if (msg.type === MessageType.BLOCK && block === undefined) {
          if (!bytesEqual(msg.id, id.bytes)) {
            return done.reject(new PeerCorruptDataError(`peer answered with another block id`));
          }
          if (msg.size > max) {
            return done.reject(
              new PeerLimitError(`block of ${msg.size} bytes exceeds maxBlockSize ${max}`),
            );
          }
          block = new BlockAssembly(msg.size);
          return;
        }
        if (msg.type === MessageType.DATA && block !== undefined) {
          // A chunk the channel read straight into the block (see `place` below) is not copied.
          if (!block.add(msg.chunk)) {
            return done.reject(
              new PeerCorruptDataError(`peer sent more than the ${block.size} bytes announced`),
            );
          }
          if (!msg.end) return;
          if (!block.complete) {
            return done.reject(
              new PeerCorruptDataError(
                `peer sent ${block.received} of ${block.size} bytes announced`,
              ),
            );
          }
          const bytes = block.bytes;
          done.hold();
          id.matches(bytes).then(async (ok) =>
            ok ? done.resolve(bytes) : done.reject(await this.#mismatch(id, options))
          );
          return;
        }
        done.reject(unexpected(msg));
      },
      options,
      undefined,
      false,
      (length) => block?.place(length),
    );
  }

  /**
   * Tells the peer that the bytes it sent for block `id` did not match it (BAD_BLOCK). Resolves
   * `true` when the peer confirms that its copy was bad (it verified it and took it out of
   * service, or no longer holds it), `false` when its copy verifies. Rejects with
   * {@linkcode PeerRemoteError} (`wireCode` UNSUPPORTED) without sending anything when the peer
   * did not announce `blocks/2`, with `wireCode` LIMIT when it refuses a report over its rate.
   *
   * @example
   * ```ts ignore
   * if (await peer.reportBadBlock(id)) console.log("the holder quarantined its copy");
   * ```
   */
  async reportBadBlock(id: ContentId, options: RequestOptions = {}): Promise<boolean> {
    if (!this.#peerVerifies) {
      throw new PeerRemoteError(
        WireErrorCode.UNSUPPORTED,
        `peer does not take BAD_BLOCK: it did not announce ${BLOCKS_VERIFY_CAPABILITY}`,
      );
    }
    try {
      await this.#call<void>(
        { type: MessageType.BAD_BLOCK, id: id.bytes },
        (msg, done) => {
          if (msg.type === MessageType.OK) done.resolve();
          else done.reject(unexpected(msg));
        },
        options,
      );
      return true;
    } catch (err) {
      if (err instanceof PeerRemoteError && err.wireCode === WireErrorCode.BAD_REQUEST) {
        return false;
      }
      throw err;
    }
  }

  /**
   * The error for a block whose bytes did not match `id`. A `blocks/2` peer may have sent its
   * copy unverified: it is told, and when it confirms its copy was rotten, the error says so
   * (ERROR CORRUPT, as if it had found out before sending).
   */
  async #mismatch(id: ContentId, options: RequestOptions): Promise<Error> {
    const bad = new PeerCorruptDataError(`block from peer does not match its id ${id.toString()}`);
    if (!this.#peerVerifies || this.#state !== "open") return bad;
    try {
      if (await this.reportBadBlock(id, { signal: options.signal, timeoutMs: options.timeoutMs })) {
        return new PeerRemoteError(
          WireErrorCode.CORRUPT,
          `peer's copy of block ${id.toString()} was corrupt; it took it out of service`,
        );
      }
    } catch {
      // Refused (over its rate), closed or timed out: the bytes were bad, nothing more is known.
    }
    return bad;
  }

  /**
   * Sends a block; resolves once the peer stored it (after verifying it). Rejects with
   * {@linkcode PeerRemoteError} (`wireCode` CORRUPT, LIMIT, ...) when the peer refused it.
   *
   * With `options.unverified` (bytes read without the pusher's own hash), a `blocks/2` peer
   * gets them as they are (its check on arrival is the one hash pass) and a CORRUPT refusal
   * rejects with {@linkcode PeerPushCorruptError} (`byPeer` true); any other peer gets them only
   * after they were hashed here (a mismatch: that error, `byPeer` false, nothing sent).
   *
   * @example
   * ```ts ignore
   * try {
   *   await peer.putBlock(id, bytes, { unverified: true, timeoutMs: 10_000 });
   * } catch (err) {
   *   if (err instanceof PeerPushCorruptError) console.log("check the local copy of", id.toString());
   * }
   * ```
   */
  putBlock(id: ContentId, bytes: Uint8Array, options: PutBlockOptions = {}): Promise<void> {
    if (bytes.length > this.#options.maxBlockSize) {
      return Promise.reject(
        new PeerLimitError(
          `block of ${bytes.length} bytes exceeds maxBlockSize ${this.#options.maxBlockSize}`,
        ),
      );
    }
    if (!options.unverified) return this.#put(id, bytes, options);
    if (!this.#peerVerifies) {
      // A peer that did not announce `blocks/2` gets only bytes verified here.
      return id.matches(bytes).then((ok) => {
        if (ok) return this.#put(id, bytes, options);
        throw new PeerPushCorruptError(
          `block ${id.toString()} does not match its id (found before sending)`,
          false,
        );
      });
    }
    return this.#put(id, bytes, options).catch((err) => {
      if (err instanceof PeerRemoteError && err.wireCode === WireErrorCode.CORRUPT) {
        throw new PeerPushCorruptError(
          `peer refused block ${id.toString()}: the bytes do not match its id`,
          true,
          { cause: err },
        );
      }
      throw err;
    });
  }

  #put(id: ContentId, bytes: Uint8Array, options: RequestOptions): Promise<void> {
    return this.#call<void>(
      { type: MessageType.PUT_BLOCK, id: id.bytes, size: bytes.length },
      (msg, done) => {
        if (msg.type === MessageType.OK) done.resolve();
        else done.reject(unexpected(msg));
      },
      options,
      async (requestId, isSettled, channel) => {
        for (const { chunk, end } of dataChunks(bytes, this.#options.dataChunkSize)) {
          if (isSettled()) return;
          await channel.send({ type: MessageType.DATA, requestId, chunk, end });
        }
      },
    );
  }

  /** Asks the peer to delete a block. Resolves once it answered OK (also when it was absent). */
  deleteBlock(id: ContentId, options: RequestOptions = {}): Promise<void> {
    return this.#call<void>(
      { type: MessageType.DELETE, id: id.bytes },
      (msg, done) => {
        if (msg.type === MessageType.OK) done.resolve();
        else done.reject(unexpected(msg));
      },
      options,
    );
  }

  /**
   * Asks the peer which of `ids` (blocks of file `fileId`, at most 1024) it holds, and for the
   * tombstone it holds for the file (FILE_PROBE): one answer per id, in order, and the
   * tombstone, unchecked (its signature and times are the caller's to check). Rejects with
   * {@linkcode PeerRemoteError} (`wireCode` UNSUPPORTED) without sending anything when the peer
   * did not announce {@linkcode FILES_CAPABILITY}, or when it answers that it does not serve
   * probes; with {@linkcode PeerProtocolError} when the answer does not match the question.
   *
   * @example
   * ```ts ignore
   * const { has, tombstone } = await peer.probe(fileId, [fileId, ...blockIds]);
   * ```
   */
  probe(
    fileId: ContentId,
    ids: readonly ContentId[],
    options: RequestOptions = {},
  ): Promise<FileProbeResult> {
    const refused = this.#refuseFiles("FILE_PROBE");
    if (refused) return refused;
    if (ids.length > MAX_PROBE_IDS) {
      return Promise.reject(new PeerLimitError(`FILE_PROBE takes at most ${MAX_PROBE_IDS} ids`));
    }
    return this.#call<FileProbeResult>(
      { type: MessageType.FILE_PROBE, fileId: fileId.bytes, ids: ids.map((id) => id.bytes) },
      (msg, done) => {
        if (msg.type !== MessageType.FILE_STATE) return done.reject(unexpected(msg));
        if (msg.has.length !== ids.length) {
          return done.reject(
            new PeerProtocolError(`FILE_STATE has ${msg.has.length} answers for ${ids.length}`),
          );
        }
        const { tombstone, ages } = msg;
        if (tombstone !== undefined && !bytesEqual(tombstone.fileId, fileId.bytes)) {
          return done.reject(new PeerProtocolError(`FILE_STATE carries another file's tombstone`));
        }
        done.resolve({ has: [...msg.has], ...(tombstone && { tombstone }), ...(ages && { ages }) });
      },
      options,
    );
  }

  /**
   * Offers a tombstone to the peer (TOMBSTONE); resolves once it answered OK (kept, or it holds
   * one as good). Rejects with {@linkcode PeerRemoteError}: `wireCode` BAD_REQUEST when the
   * peer refused it (the reason, e.g. `EXPIRED` or `BAD_SIGNATURE`, starts the message), and
   * UNSUPPORTED, without sending anything, when the peer did not announce
   * {@linkcode FILES_CAPABILITY} (or when it answers that it keeps no tombstones), or, for a
   * revival, {@linkcode FILES_REVIVAL_CAPABILITY}.
   *
   * @example
   * ```ts ignore
   * await peer.sendTombstone(toWireTombstone(tombstone), { timeoutMs: 5_000 });
   * ```
   */
  sendTombstone(tombstone: WireTombstone, options: RequestOptions = {}): Promise<void> {
    const refused = this.#refuseFiles("TOMBSTONE");
    if (refused) return refused;
    if (tombstone.revival && !this.remote.capabilities.includes(FILES_REVIVAL_CAPABILITY)) {
      return Promise.reject(
        new PeerRemoteError(
          WireErrorCode.UNSUPPORTED,
          `peer does not take revivals: it did not announce ${FILES_REVIVAL_CAPABILITY}`,
        ),
      );
    }
    return this.#call<void>(
      { type: MessageType.TOMBSTONE, tombstone },
      (msg, done) => {
        if (msg.type === MessageType.OK) done.resolve();
        else done.reject(unexpected(msg));
      },
      options,
    );
  }

  /** Rejects unless the peer announced {@linkcode FILES_CAPABILITY} (it may not decode `what`). */
  #refuseFiles(what: string): Promise<never> | undefined {
    if (this.remote.capabilities.includes(FILES_CAPABILITY)) return undefined;
    return Promise.reject(
      new PeerRemoteError(
        WireErrorCode.UNSUPPORTED,
        `peer does not serve ${what}: it did not announce ${FILES_CAPABILITY}`,
      ),
    );
  }

  /**
   * Sends any request and resolves with the first answer (for request types added by upper
   * layers). An ERROR answer rejects with {@linkcode PeerRemoteError}. With `options.onData`,
   * DATA frames of the answer go to it and the first other message is the answer (a streamed
   * body followed by OK, say).
   *
   * @example Stream a body answered by a handler the peer registered
   * ```ts ignore
   * let got = 0;
   * const answer = await peer.request(
   *   { type: MessageType.GET_BLOCK, id: id.bytes, range: { offset: 0, length: 1 << 20 } },
   *   { onData: (chunk) => void (got += chunk.length) },
   * );
   * ```
   */
  request(message: OutgoingMessage, options: StreamRequestOptions = {}): Promise<Message> {
    // (A whole-block GET_BLOCK sent this way from a `blocks/2` node may be answered with bytes
    // the holder did not verify: verify them, as getBlock does.)
    const onData = options.onData;
    if (onData === undefined) {
      // A DATA answer's chunk lives in the connection's read buffer: hand out a copy.
      return this.#call<Message>(message, (msg, done) =>
        done.resolve(
          msg.type === MessageType.DATA ? { ...msg, chunk: msg.chunk.slice() } : msg,
        ), options);
    }
    return this.#call<Message>(message, (msg, done) => {
      if (msg.type === MessageType.DATA) onData(msg.chunk, msg.end);
      else done.resolve(msg);
    }, options);
  }

  /** True when the peer dropped this connection as a duplicate and no successor is known yet. */
  get awaitingSuccessor(): boolean {
    return this.#successorExpected && this.#successor === undefined;
  }

  /**
   * Sends requests made on this connection after it started closing to `next` instead (a
   * connection to the same node). The peer manager uses it when it drops a duplicate
   * connection, so a caller holding the dropped one keeps working.
   */
  redirectTo(next: PeerConnection): void {
    if (next === this || next.remote.nodeIdHex !== this.remote.nodeIdHex) return;
    this.#successor = next;
    this.#successorWait?.resolve();
  }

  // ---------------------------------------------------------------- closing

  /** Closes at once: pending requests fail with {@linkcode PeerClosedError}. */
  close(reason: string = "closed by this node"): Promise<void> {
    return this.#teardown("local", new PeerClosedError(`connection closed: ${reason}`), {
      type: MessageType.GOODBYE,
      requestId: 0,
      reason,
    });
  }

  /**
   * Graceful close: sends GOODBYE and refuses new requests of ours (they reject with
   * {@linkcode PeerClosedError}, or go to the successor set by
   * {@linkcode PeerConnection.redirectTo}). Requests in flight in both directions (including
   * the peer's requests already on the wire) finish; the peer, on GOODBYE, stops sending new
   * requests, drains its own and closes. After `graceMs` (default `shutdownGraceMs`) whatever
   * is left fails with {@linkcode PeerClosedError} and the connection is closed.
   */
  async shutdown(
    graceMs: number = this.#options.shutdownGraceMs,
    reason = "shutting down",
  ): Promise<void> {
    if (this.#state === "closed" || this.#localGoodbye) return void (await this.closed);
    this.#state = "closing";
    this.#localGoodbye = true;
    await this.#sendWithin({ type: MessageType.GOODBYE, requestId: 0, reason }, FAREWELL_MS);
    await this.#waitDrained(graceMs);
    await this.#teardown(
      "local",
      new PeerClosedError(`connection shut down before the request finished (${reason})`),
    );
  }

  // ---------------------------------------------------------------- internals: requests

  #allocateId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId += 2;
      if (this.#nextId > 0xffff_ffff) this.#nextId = this.role === "dialer" ? 1 : 2;
      if (!this.#pending.has(id)) return id;
    }
  }

  #call<T>(
    message: OutgoingMessage,
    onMessage: (msg: Message, done: Settle<T>) => void,
    options: RequestOptions,
    body?: (requestId: number, isSettled: () => boolean, channel: MessageChannel) => Promise<void>,
    heartbeat = false,
    place?: (length: number) => Uint8Array | undefined,
  ): Promise<T> {
    if (heartbeat ? this.#state === "closed" : this.#state !== "open" || this.#remoteGoodbye) {
      const next = this.#successor;
      if (next && next !== this && next.isOpen) {
        return next.#call(message, onMessage, options, body, false, place);
      }
      if (this.#successorExpected) {
        // The peer dropped this connection as a duplicate of another one that is still
        // handshaking here: wait for it (bounded) rather than fail the caller.
        this.#successorWait ??= Promise.withResolvers<void>();
        let timer: ReturnType<typeof setTimeout> | undefined;
        return Promise.race([
          this.#successorWait.promise,
          new Promise<void>((resolve) =>
            timer = setTimeout(resolve, this.#options.handshakeTimeoutMs)
          ),
        ]).then(() => {
          clearTimeout(timer);
          this.#successorExpected = false;
          return this.#call(message, onMessage, options, body, false, place);
        });
      }
      return Promise.reject(
        this.#closeInfo?.error ?? new PeerClosedError("connection to peer is closing"),
      );
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError("request aborted"));
    const requestId = this.#allocateId();
    if (!heartbeat) this.#lastActive = Date.now();
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let held = false;
      let placing = place !== undefined;
      if (placing) this.#placeStart();
      const stopPlacing = () => {
        if (!placing) return;
        placing = false;
        this.#placeEnd();
      };
      const finish = () => {
        stopPlacing();
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(requestId);
        this.#checkDrained();
      };
      const giveUp = (err: Error) => {
        if (settled) return;
        finish();
        this.#sendControl({ type: MessageType.CANCEL, requestId });
        reject(err);
      };
      const done: Settle<T> = {
        resolve: (value) => {
          if (settled) return;
          finish();
          resolve(value);
        },
        reject: (err) => {
          if (settled) return;
          finish();
          // The peer may still be sending a body for this request: tell it to stop.
          if (!(err instanceof PeerRemoteError)) {
            this.#sendControl({ type: MessageType.CANCEL, requestId });
          }
          reject(err);
        },
        hold: () => {
          // Every byte is here: the answer no longer depends on the connection, so closing it
          // (e.g. the peer's FIN right after the last DATA) must not fail this request.
          held = true;
          stopPlacing();
          this.#pending.delete(requestId);
        },
      };
      const fail = (err: Error) => {
        if (settled) return;
        finish();
        reject(err);
      };
      const onAbort = () => giveUp(new AbortedError("request aborted", { cause: signal?.reason }));
      const timer = setTimeout(
        () => giveUp(new TimeoutError(`no answer from peer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(requestId, {
        onMessage: (msg) => {
          if (held) return;
          if (msg.type === MessageType.ERROR) {
            return done.reject(remoteError(msg.code, msg.message));
          }
          if (msg.type === MessageType.CANCEL) {
            return done.reject(
              new PeerRemoteError(WireErrorCode.CANCELLED, "peer cancelled the request"),
            );
          }
          try {
            onMessage(msg, done);
          } catch (err) {
            done.reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
        fail,
        place: place && ((length) => (held || settled ? undefined : place(length))),
      });
      const sent = this.#channel.send({ ...message, requestId } as Message);
      const all = body ? sent.then(() => body(requestId, () => settled, this.#channel)) : sent;
      all.catch((err) => fail(toClosedError(err, this.#closeInfo)));
    });
  }

  // ---------------------------------------------------------------- internals: reading

  async #readLoop(): Promise<void> {
    for (;;) {
      let msg: Message | null;
      try {
        msg = await this.#channel.receive();
      } catch (err) {
        if (this.#state === "closed") return;
        const code = err instanceof DfsError ? err.code : "";
        if (WIRE_DECODE_CODES.has(code)) {
          this.#violation(
            errorText(err),
            code === "FRAME_TOO_LARGE" ? WireErrorCode.LIMIT : undefined,
            err,
          );
        } else {
          this.#teardown(
            "error",
            new PeerClosedError(`connection to peer failed: ${errorText(err)}`, { cause: err }),
          );
        }
        return;
      }
      if (this.#state === "closed") return;
      if (msg === null) {
        if (this.#state === "closing" && this.#pending.size === 0) {
          // The expected end of a graceful close: finish serving, then close.
          this.#peerEnded = true;
          this.#checkDrained();
        } else {
          this.#teardown("remote", new PeerClosedError("peer closed the connection"));
        }
        return;
      }
      this.#lastSeen = Date.now();
      try {
        this.#dispatch(msg);
      } catch (err) {
        if (err instanceof PeerProtocolError) {
          this.#violation(err.message, undefined, err);
        } else {
          this.#log("error", "dispatching a peer message failed", {
            peer: this.remote.nodeIdHex,
            ...errorFields(err),
          });
          this.#teardown(
            "error",
            new PeerClosedError(`internal error: ${errorText(err)}`, { cause: err }),
          );
        }
        return;
      }
    }
  }

  /**
   * A block transfer starts (a GET_BLOCK of ours or a PUT_BLOCK of the peer's): while any is in
   * flight, the channel reads DATA chunks straight into the block's buffer.
   */
  #placeStart(): void {
    if (this.#placing++ === 0) this.#channel.placeData?.(this.#placer);
  }

  /** A block transfer ended (once per {@linkcode PeerConnection.#placeStart}). */
  #placeEnd(): void {
    if (--this.#placing === 0) this.#channel.placeData?.(undefined);
  }

  /** Where the DATA chunk of `length` bytes for request `id` goes (see the channel). */
  #placeData(id: number, length: number): Uint8Array | undefined {
    if (this.#state === "closed") return undefined;
    const ours = (id % 2 === 1) === (this.role === "dialer");
    return ours ? this.#pending.get(id)?.place?.(length) : this.#incoming.get(id)?.place?.(length);
  }

  #violation(message: string, wireCode: number = WireErrorCode.BAD_REQUEST, cause?: unknown): void {
    this.#log("warn", "peer violated the protocol; disconnecting", {
      peer: this.remote.nodeIdHex,
      address: this.#channel.remote,
      code: cause instanceof DfsError ? cause.code : "PEER_PROTOCOL",
      error: message,
    });
    this.#teardown(
      "protocol",
      new PeerProtocolError(`peer violated the protocol: ${message}`, { cause }),
      { type: MessageType.ERROR, requestId: 0, code: wireCode, message },
    );
  }

  #dispatch(msg: Message): void {
    const id = msg.requestId;
    if (id === 0) {
      if (msg.type === MessageType.GOODBYE) return this.#onGoodbye(msg.reason);
      if (msg.type === MessageType.ERROR) {
        this.#teardown(
          "remote",
          new PeerClosedError(`peer closed the connection with an error: ${msg.message}`, {
            wireCode: msg.code,
          }),
        );
        return;
      }
      throw new PeerProtocolError(`message type 0x${msg.type.toString(16)} with request id 0`);
    }
    const ours = (id % 2 === 1) === (this.role === "dialer");
    if (ours) {
      if (
        msg.type === MessageType.HELLO || msg.type === MessageType.AUTH ||
        isBuiltinRequest(msg.type)
      ) {
        throw new PeerProtocolError(`request type 0x${msg.type.toString(16)} with our request id`);
      }
      // Unknown ids are answers that arrived after we gave up: ignore them.
      this.#pending.get(id)?.onMessage(msg);
      return;
    }
    switch (msg.type) {
      case MessageType.DATA:
        this.#incoming.get(id)?.onData?.(msg);
        return;
      case MessageType.CANCEL: {
        const entry = this.#incoming.get(id);
        if (entry) {
          this.#incoming.delete(id);
          entry.controller.abort();
          this.#checkDrained();
        }
        return;
      }
      case MessageType.PING:
        this.#sendControl({ type: MessageType.PONG, requestId: id, timestamp: msg.timestamp });
        return;
      case MessageType.HELLO:
      case MessageType.AUTH:
        throw new PeerProtocolError("handshake message after the handshake");
    }
    if (RESPONSE_TYPES.has(msg.type)) {
      throw new PeerProtocolError(
        `answer type 0x${msg.type.toString(16)} for request id ${id} we never sent`,
      );
    }
    if (this.#incoming.has(id)) {
      throw new PeerProtocolError(`request id ${id} reused while in flight`);
    }
    // Requests still arrive while closing (sent before the peer saw our GOODBYE): serve them;
    // the grace period bounds how long.
    if (!(this.#requests ??= requestBucket(this.#options)).take()) {
      return this.#sendControl(overRateAnswer(id, this.#options));
    }
    if (this.#incoming.size >= this.#options.maxInFlightPerPeer) {
      return this.#sendControl(
        errorMessage(
          id,
          WireErrorCode.LIMIT,
          `more than ${this.#options.maxInFlightPerPeer} requests in flight`,
        ),
      );
    }
    this.#serve(msg);
  }

  #onGoodbye(reason: string): void {
    if (this.#remoteGoodbye) return;
    this.#remoteGoodbye = true;
    this.#log("debug", "peer said goodbye", { peer: this.remote.nodeIdHex, reason });
    if (reason === DUPLICATE_REASON && !this.#successor) this.#successorExpected = true;
    if (this.#state === "open") {
      // Send no new requests; let those in flight in both directions finish, then close (the
      // peer waits for that close).
      this.#state = "closing";
      this.#waitDrained(this.#options.shutdownGraceMs).then(() =>
        this.#teardown("remote", new PeerClosedError(`peer left: ${reason}`))
      );
    } else {
      this.#checkDrained();
    }
  }

  // ---------------------------------------------------------------- internals: serving

  #serve(msg: Message): void {
    const id = msg.requestId;
    if (msg.type !== MessageType.PING) this.#lastActive = Date.now();
    const controller = new AbortController();
    const entry: Incoming = { controller };
    this.#incoming.set(id, entry);
    const ctx: RequestContext = {
      requestId: id,
      signal: controller.signal,
      peer: this,
      send: (out) => this.#channel.send({ ...out, requestId: id } as Message),
    };
    const finish = () => {
      if (this.#incoming.get(id) === entry) this.#incoming.delete(id);
      this.#checkDrained();
    };
    let work: Promise<OutgoingMessage | void>;
    try {
      work = this.#route(msg, ctx, entry);
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(
      async (answer) => {
        if (answer && !controller.signal.aborted) await ctx.send(answer);
      },
    ).catch(async (err) => {
      if (controller.signal.aborted || this.#state === "closed") return;
      const [code, text] = wireErrorOf(err);
      if (code === WireErrorCode.INTERNAL) {
        this.#log("error", "serving a peer request failed", {
          peer: this.remote.nodeIdHex,
          type: msg.type,
          ...errorFields(err),
        });
      }
      await ctx.send({ type: MessageType.ERROR, code, message: text });
    }).catch(() => {}).finally(finish);
  }

  #route(msg: Message, ctx: RequestContext, entry: Incoming): Promise<OutgoingMessage | void> {
    const handler = this.#localHandlers.get(msg.type) ?? this.#handlers.get(msg.type);
    if (handler) return handler(msg, ctx);
    const service = this.#service;
    switch (msg.type) {
      case MessageType.HAS:
        if (!service) return unsupported("blocks");
        return (async () => {
          const ids = msg.ids.map(parseId);
          const present = await service.has(ids);
          return { type: MessageType.HAS_RESULT, present };
        })();
      case MessageType.GET_BLOCK:
        if (!service) return unsupported("blocks");
        return this.#serveGet(service, parseId(msg.id), msg.id, msg.range, ctx);
      case MessageType.PUT_BLOCK:
        if (!service) return unsupported("blocks");
        return this.#servePut(service, parseId(msg.id), msg.size, ctx, entry);
      case MessageType.BAD_BLOCK:
        if (!service?.recheck) return unsupported("BAD_BLOCK");
        return (async () => {
          const id = parseId(msg.id);
          if (await service.recheck!(id, this.remote.nodeIdHex)) return { type: MessageType.OK };
          this.#log("warn", "peer reported a block as corrupt; our copy verifies", {
            peer: this.remote.nodeIdHex,
            block: id.toString(),
          });
          throw new PeerRemoteError(
            WireErrorCode.BAD_REQUEST,
            `the copy of ${id.toString()} here verifies: not corrupt`,
          );
        })();
      case MessageType.DELETE:
        if (!service) return unsupported("blocks");
        return (async () => {
          await service.delete(parseId(msg.id));
          return { type: MessageType.OK };
        })();
      case MessageType.FILE_PROBE:
        if (!service?.probe) return unsupported("FILE_PROBE");
        return (async () => {
          const ids = msg.ids.map(parseId);
          const result = await service.probe!(parseId(msg.fileId), ids);
          if (!Array.isArray(result?.has) || result.has.length !== ids.length) {
            throw new Error(`probe gave ${result?.has?.length} answers for ${ids.length} ids`);
          }
          const { has, ages } = result;
          // A revival only to a peer that decodes flag REVIVAL (to others: no record).
          const tombstone = result.tombstone?.revival &&
              !this.remote.capabilities.includes(FILES_REVIVAL_CAPABILITY)
            ? undefined
            : result.tombstone;
          const out = { type: MessageType.FILE_STATE, has, ...(tombstone && { tombstone }) };
          // Ages only to a peer that decodes flag AGES.
          return ages && this.remote.capabilities.includes(FILES_AGES_CAPABILITY)
            ? { ...out, ages }
            : out;
        })();
      case MessageType.TOMBSTONE:
        if (!service?.tombstone) return unsupported("TOMBSTONE");
        return (async () => {
          await service.tombstone!(msg.tombstone);
          return { type: MessageType.OK };
        })();
    }
    return unsupported(`message type 0x${msg.type.toString(16)}`);
  }

  async #serveGet(
    service: BlockService,
    id: ContentId,
    rawId: Uint8Array,
    range: { offset: number; length: number } | undefined,
    ctx: RequestContext,
  ): Promise<void> {
    // A whole block for a peer that verifies it on arrival and reports a mismatch (`blocks/2`)
    // goes out unverified when this service answers those reports: one hash per block, the
    // receiver's. A range cannot be checked by the receiver: it is verified here.
    const trust = range === undefined && this.#peerVerifies && service.recheck !== undefined;
    const lease = service.lease
      ? await service.lease(id, trust ? UNVERIFIED : undefined)
      : plainLease(await service.get(id));
    if (lease === null) throw new NotFoundError(`block ${id.toString()} is not here`);
    // The lent bytes may be a reused buffer: it goes back only once no send can still read it
    // (each send resolves after its frame was taken in; a failed one might not have been).
    let sending = false;
    try {
      let bytes = lease.bytes;
      if (range) {
        bytes = bytes.subarray(Math.min(range.offset, bytes.length), range.offset + range.length);
      }
      if (bytes.length > this.#options.maxBlockSize) {
        throw new PeerRemoteError(WireErrorCode.LIMIT, `block exceeds maxBlockSize`);
      }
      await ctx.send({ type: MessageType.BLOCK, id: rawId, size: bytes.length });
      for (const { chunk, end } of dataChunks(bytes, this.#options.dataChunkSize)) {
        if (ctx.signal.aborted) return;
        sending = true;
        await ctx.send({ type: MessageType.DATA, chunk, end });
        sending = false;
      }
    } finally {
      lease.release(!sending);
    }
  }

  #servePut(
    service: BlockService,
    id: ContentId,
    size: number,
    ctx: RequestContext,
    entry: Incoming,
  ): Promise<OutgoingMessage> {
    if (size > this.#options.maxBlockSize) {
      throw new PeerRemoteError(
        WireErrorCode.LIMIT,
        `block of ${size} bytes exceeds maxBlockSize ${this.#options.maxBlockSize}`,
      );
    }
    let placing = true;
    this.#placeStart();
    const stopPlacing = () => {
      if (!placing) return;
      placing = false;
      entry.place = undefined;
      this.#placeEnd();
    };
    return new Promise<Uint8Array>((resolve, reject) => {
      const block = new BlockAssembly(size);
      ctx.signal.addEventListener("abort", () => reject(new AbortedError("cancelled")), {
        once: true,
      });
      entry.place = (length) => block.place(length);
      entry.onData = (data) => {
        if (!block.add(data.chunk)) {
          entry.onData = entry.place = undefined;
          return reject(
            new PeerRemoteError(WireErrorCode.BAD_REQUEST, `more than the ${size} bytes announced`),
          );
        }
        if (!data.end) return;
        entry.onData = entry.place = undefined;
        if (!block.complete) {
          return reject(
            new PeerRemoteError(
              WireErrorCode.BAD_REQUEST,
              `${block.received} of ${size} bytes announced`,
            ),
          );
        }
        resolve(block.bytes);
      };
    }).finally(stopPlacing).then(async (bytes) => {
      if (!(await id.matches(bytes))) {
        throw new PeerRemoteError(WireErrorCode.CORRUPT, `bytes do not match ${id.toString()}`);
      }
      await service.put(id, bytes, this.remote.nodeIdHex);
      return { type: MessageType.OK } as OutgoingMessage;
    });
  }

  // ---------------------------------------------------------------- internals: liveness, closing

  #tick(): void {
    if (this.#state === "closed") return;
    const silent = Date.now() - this.#lastSeen;
    if (silent > this.#options.deadAfterMs) {
      this.#log("warn", "peer silent; declared dead", {
        peer: this.remote.nodeIdHex,
        code: "PEER_DEAD",
        silentMs: silent,
      });
      this.#teardown("dead", new PeerClosedError(`peer silent for ${silent} ms; declared dead`));
      return;
    }
    // Heartbeats continue while a graceful close drains, so a long drain is not mistaken for
    // a dead peer.
    if (this.#pinging) return;
    this.#pinging = true;
    this.#ping({ timeoutMs: this.#options.deadAfterMs }, true).catch(() => {}).finally(() =>
      this.#pinging = false
    );
  }

  /** Sends a control frame unless the queue is already full (a peer that does not read). */
  #sendControl(msg: Message): void {
    if (this.#state === "closed") return;
    if (this.#channel.pendingSends > this.#options.maxInFlightPerPeer + CONTROL_QUEUE_SLACK) return;
    this.#channel.send(msg).catch(() => {});
  }

  async #sendWithin(msg: Message, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#channel.send(msg),
        new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
      ]);
    } catch {
      // Best effort.
    } finally {
      clearTimeout(timer);
    }
  }

  #isDrained(): boolean {
    if (this.#pending.size !== 0 || this.#incoming.size !== 0) return false;
    // The side that said GOODBYE also waits for the peer to finish (its GOODBYE or its close),
    // so requests the peer sent before it saw our GOODBYE are still served.
    return !this.#localGoodbye || this.#remoteGoodbye || this.#peerEnded;
  }

  #checkDrained(): void {
    if (this.#drained && this.#isDrained()) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }

  #waitDrained(ms: number): Promise<void> {
    if (this.#isDrained()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#drained = undefined;
        resolve();
      }, ms);
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #teardown(
    reason: CloseReason,
    error: PeerClosedError | PeerProtocolError,
    farewell?: Message,
  ): Promise<void> {
    if (this.#state === "closed") return void (await this.closed);
    this.#state = "closed";
    const info: CloseInfo = { reason, error };
    this.#closeInfo = info;
    clearInterval(this.#heartbeat);
    this.#drained?.();
    for (const pending of [...this.#pending.values()]) pending.fail(error);
    this.#pending.clear();
    for (const entry of this.#incoming.values()) entry.controller.abort();
    this.#incoming.clear();
    // Write the farewell (if any) and half-close first, so bytes already queued (the last
    // answers of a graceful shutdown) reach the peer; a peer that does not read gets
    // FAREWELL_MS, then the connection is closed anyway.
    if (farewell) await this.#sendWithin(farewell, FAREWELL_MS);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#channel.end(),
      new Promise<void>((resolve) => timer = setTimeout(resolve, FAREWELL_MS)),
    ]);
    clearTimeout(timer);
    this.#channel.close();
    this.#resolveClosed(info);
    for (const listener of this.#closeListeners) {
      try {
        listener(info);
      } catch (err) {
        this.#log("error", "close listener threw", { error: errorText(err) });
      }
    }
    this.#closeListeners.clear();
  }
}

interface Settle<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  /** All bytes are in: stop routing messages and detach from the connection while verifying. */
  hold(): void;
}

function isBuiltinRequest(type: number): boolean {
  return type === MessageType.HAS || type === MessageType.GET_BLOCK ||
    type === MessageType.PUT_BLOCK || type === MessageType.DELETE || type === MessageType.PING ||
    type === MessageType.BAD_BLOCK ||
    type === MessageType.FILE_PROBE || type === MessageType.TOMBSTONE;
}

/** Lease options for a whole block sent to a verifying peer. */
const UNVERIFIED = Object.freeze({ verify: false });

/** A lease over bytes the service handed over for good (`get`): nothing to give back. */
function plainLease(bytes: Uint8Array | null): BlockLease | null {
  return bytes === null ? null : { bytes, release: () => {} };
}
