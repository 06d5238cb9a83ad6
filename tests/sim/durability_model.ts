/**
 * The data plane of the durability simulation (`durability_sim.ts`), modeled instead of run:
 * files are ids, a policy and a size (no bytes); each node keeps which files it holds (the
 * root, so a whole copy for a replicas policy, and which shard columns of a Reed-Solomon file);
 * {@linkcode SimPeer} answers the repair probe (FILE_PROBE) from that model on the virtual
 * clock, and a dead or absent node answers nothing (the caller's timeout fires); transfers
 * take bytes / bandwidth of virtual time on every link they use ("both ends busy", one FIFO
 * queue per node) and fail when a node at either end goes down or dies before they end.
 *
 * @module
 */

import { ConnectError, DfsError, TimeoutError } from "../../src/errors.ts";
import type { Contact } from "../../src/dht/contact.ts";
import type { Dht } from "../../src/dht/dht.ts";
import { keyOfContentId } from "../../src/dht/key.ts";
import type { Redundancy } from "../../src/file/redundancy.ts";
import type { ContentId } from "../../src/id/content_id.ts";
import type { SampleStripe } from "../../src/node/durability/file_check.ts";
import type { RemoteCallOptions, RemotePeer } from "../../src/node/remote.ts";
import { toWireAges } from "../../src/node/durability/grace_ages.ts";
import type { FileProbeResult } from "../../src/peer/block_service.ts";
import type { RateLimiter } from "../../src/util/rate_limiter.ts";
import type { Rng } from "../util/prng.ts";
import type { VirtualClock } from "./virtual_clock.ts";

/** A file of the simulation: what its manifest would say, and who holds it. */
export interface SimFile {
  /** Position in the file list. */
  readonly index: number;
  /** Its id (synthetic: a seeded digest). */
  readonly id: ContentId;
  /** `id` as text (the index key). */
  readonly hex: string;
  /** Redundancy policy. */
  readonly policy: Redundancy;
  /** The policy's text form, e.g. `rs:4+2`. */
  readonly label: string;
  /** Bytes. */
  readonly size: number;
  /** What one holder keeps: replicas the whole size; Reed-Solomon one column (size / k). */
  readonly unitBytes: number;
  /** Reed-Solomon stripes (k blocks of 256 KiB each); 0 for replicas. */
  readonly stripes: number;
  /** Reed-Solomon: the first stripe's shard ids (what a check probes for). */
  readonly sample?: SampleStripe;
  /** Nodes holding its root (in any state: up, down or dead). */
  readonly holders: Set<SimNode>;
}

/** What one node holds of one file. */
export interface Holding {
  /** The root manifest (a replicas holder has the whole file under it). */
  root: boolean;
  /** Reed-Solomon columns held. */
  readonly columns: Set<number>;
}

/** A node's state: `down` is a transient outage (back later with its data), `dead` is for good. */
export type NodeState = "up" | "down" | "dead";

/** One node of the simulation: its DHT, its repair loop, and what it holds. */
export class SimNode {
  /** Position in the node list. */
  readonly index: number;
  /** Its DHT contact. */
  readonly contact: Contact;
  /** Node id, hex. */
  readonly idHex: string;
  /** Its own randomness (repair jitter). */
  readonly rng: Rng;
  /** Up, down or dead. */
  state: NodeState = "up";
  /** Bumped whenever the node goes down or dies: a transfer that spans a bump failed. */
  epoch = 0;
  /** When `state` last changed (virtual ms). */
  changedAt = 0;
  /** File id (hex) -> what it holds. */
  readonly holdings = new Map<string, Holding>();
  /** When its link is free of the transfers already queued on it. */
  linkFreeAt = 0;
  /** Its real DHT. */
  dht!: Dht;
  /**
   * Its real repair loop (a fresh one after each restart; none while it is down): its grace
   * clocks answer probes, as `serveBlocks` answers them from the node's repairer.
   */
  repairer:
    | {
      stop(): Promise<void>;
      missingAges?(fileId: string): ReadonlyMap<string, number> | undefined;
    }
    | undefined;
  /** Its repair traffic bound (the real token bucket on the virtual clock). */
  limiter!: RateLimiter;
  /**
   * File id (hex) -> the candidates of the last provider lookup for it, when it ran, and
   * whether the last check found the file below target or above max.
   */
  readonly candidates = new Map<string, { at: number; peers: RemotePeer[]; off: boolean }>();
  /** Peers it talks to, by node id. */
  readonly peers = new Map<string, SimPeer>();

  /** A node with nothing yet. */
  constructor(index: number, contact: Contact, rng: Rng) {
    this.index = index;
    this.contact = contact;
    this.idHex = contact.idHex;
    this.rng = rng;
  }

  /** Ids (hex) of the files whose root it holds: its file index. */
  *fileIds(): IterableIterator<string> {
    for (const [hex, h] of this.holdings) if (h.root) yield hex;
  }
}

/** Answers and timeouts of modeled requests land on multiples of this many ms. */
export const DELIVERY_GRID_MS = 250;

/** A modeled request did not reach a live node (or its answer did not come back). */
export class SimUnreachableError extends TimeoutError {}

/** One leg of a transfer window. */
export interface Leg {
  /** Sender. */
  readonly from: SimNode;
  /** Receiver. */
  readonly to: SimNode;
  /** Bytes moved. */
  readonly bytes: number;
}

/** What {@linkcode DataPlane.window} reports per leg. */
export interface LegOutcome {
  /** Both ends stayed up from the call to the end of the window. */
  readonly ok: boolean;
  /** Bytes that crossed the network (all of them, or the share sent before it broke). */
  readonly moved: number;
}

/** The modeled network of the data plane (see the module doc). */
export class DataPlane {
  readonly #clock: VirtualClock;
  readonly #latency: (a: string, b: string) => number;
  readonly #linkBytesPerMs: number;
  /** Block id (hex) -> its file and which block it is (-1: the root; j: column j's sample). */
  readonly #blocks = new Map<string, { file: SimFile; column: number }>();
  /** Called after a node's holding of a file changed (and after a node's state changed). */
  readonly onChange: (file: SimFile) => void;

  /** A data plane over `clock`, with the network's latencies and a link speed per node. */
  constructor(options: {
    readonly clock: VirtualClock;
    readonly latency: (a: string, b: string) => number;
    readonly linkBytesPerSecond: number;
    readonly onChange: (file: SimFile) => void;
  }) {
    this.#clock = options.clock;
    this.#latency = options.latency;
    this.#linkBytesPerMs = options.linkBytesPerSecond / 1000;
    this.onChange = options.onChange;
  }

  /** Makes `file`'s root and sample shard ids known to probes. */
  register(file: SimFile): void {
    this.#blocks.set(file.hex, { file, column: -1 });
    file.sample?.columns.forEach((c, j) => {
      if (c) this.#blocks.set(c.toString(), { file, column: j });
    });
  }

  /** The peer `to` as `from` reaches it (one object per pair). */
  peer(from: SimNode, to: SimNode): SimPeer {
    let p = from.peers.get(to.idHex);
    if (!p) {
      p = new SimPeer(this, from, to);
      from.peers.set(to.idHex, p);
    }
    return p;
  }

  /** Which of `ids` node `node` holds now (the answer to a probe). */
  has(node: SimNode, ids: readonly ContentId[]): boolean[] {
    return ids.map((id) => {
      const b = this.#blocks.get(id.toString());
      if (!b) return false;
      const h = node.holdings.get(b.file.hex);
      if (!h?.root) return false;
      return b.column < 0 || h.columns.has(b.column);
    });
  }

  /** Gives `node` the root of `file` and, for Reed-Solomon, `column`. */
  give(node: SimNode, file: SimFile, column?: number): void {
    let h = node.holdings.get(file.hex);
    if (!h) {
      h = { root: true, columns: new Set() };
      node.holdings.set(file.hex, h);
    }
    h.root = true;
    if (column !== undefined) h.columns.add(column);
    file.holders.add(node);
    this.onChange(file);
  }

  /** Drops `node`'s copy of the file whose root is `id` (a trim). True when it held one. */
  drop(node: SimNode, id: ContentId): boolean {
    const b = this.#blocks.get(id.toString());
    if (!b || b.column >= 0 || !node.holdings.has(b.file.hex)) return false;
    node.holdings.delete(b.file.hex);
    node.candidates.delete(b.file.hex);
    node.dht.unprovide(keyOfContentId(b.file.id));
    b.file.holders.delete(node);
    this.onChange(b.file);
    return true;
  }

  /**
   * A request from `from` to `to` answered by `answer()` (evaluated when the answer arrives):
   * one round trip of latency when both stay up, else a {@linkcode SimUnreachableError} at the
   * caller's timeout (default 30 s, the node's request timeout), as an unreachable node gives.
   * Answers and timeouts land on a {@linkcode DELIVERY_GRID_MS} grid, so the probes of one
   * check (which waits for all of them) settle in one or two clock steps instead of one each.
   * An aborted `signal` rejects when the answer or the timeout is due (the simulation aborts
   * only the repair loop of a node that went away).
   */
  call<T>(
    from: SimNode,
    to: SimNode,
    options: RemoteCallOptions | undefined,
    answer: () => T,
  ): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (from.state !== "up") {
      return Promise.reject(new ConnectError(`sim: ${from.contact.address} is not up`));
    }
    const clock = this.#clock;
    const now = clock.now();
    const timeoutMs = options?.timeoutMs ?? 30_000;
    const rtt = 2 * this.#latency(from.contact.address, to.contact.address);
    const grid = (t: number) => Math.ceil(t / DELIVERY_GRID_MS) * DELIVERY_GRID_MS - now;
    const reachable = to.state === "up" && rtt <= timeoutMs;
    const toEpoch = to.epoch;
    return new Promise<T>((resolve, reject) => {
      const timedOut = () =>
        reject(
          new SimUnreachableError(`sim: no answer from ${to.contact.address} in ${timeoutMs} ms`),
        );
      if (!reachable) {
        clock.setTimeout(
          () => signal?.aborted ? reject(signal.reason) : timedOut(),
          grid(now + timeoutMs),
        );
        return;
      }
      clock.setTimeout(() => {
        if (signal?.aborted) return reject(signal.reason);
        if (to.epoch !== toEpoch || to.state !== "up") {
          clock.setTimeout(
            () => signal?.aborted ? reject(signal.reason) : timedOut(),
            grid(now + timeoutMs),
          );
          return;
        }
        try {
          resolve(answer());
        } catch (err) {
          reject(err);
        }
      }, grid(now + rtt));
    });
  }

  /**
   * One window of transfers: all `legs` at once, each node's link carrying the bytes of its
   * legs at the link speed after the transfers already queued on it, the window lasting at
   * least `minMs` (the sender's repair rate). Resolves per leg whether both of its ends stayed
   * up throughout, and the bytes it moved. Rejects when `signal` aborts.
   */
  async window(legs: readonly Leg[], minMs: number, signal: AbortSignal): Promise<LegOutcome[]> {
    signal.throwIfAborted();
    const clock = this.#clock;
    const up = (n: SimNode) => n.state === "up";
    // A leg to or from a node already gone fails at once; the others go ahead.
    const going = legs.filter((l) => up(l.from) && up(l.to));
    const through = new Map<SimNode, number>();
    for (const l of going) {
      through.set(l.from, (through.get(l.from) ?? 0) + l.bytes);
      through.set(l.to, (through.get(l.to) ?? 0) + l.bytes);
    }
    let start = clock.now();
    let busiest = 0;
    for (const [node, bytes] of through) {
      start = Math.max(start, node.linkFreeAt);
      busiest = Math.max(busiest, bytes);
    }
    const duration = Math.max(minMs, busiest / this.#linkBytesPerMs);
    const end = start + duration;
    for (const node of through.keys()) node.linkFreeAt = end;
    const epochs = new Map([...through.keys()].map((n) => [n, n.epoch] as const));
    if (going.length > 0) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clock.clearTimeout(timer);
          reject(signal.reason);
        };
        const timer = clock.setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        }, end - clock.now());
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
    const alive = (n: SimNode) => up(n) && n.epoch === epochs.get(n);
    return legs.map((l) => {
      if (!going.includes(l)) return { ok: false, moved: 0 };
      if (alive(l.from) && alive(l.to)) return { ok: true, moved: l.bytes };
      const broke = Math.min(
        alive(l.from) ? Infinity : l.from.changedAt,
        alive(l.to) ? Infinity : l.to.changedAt,
      );
      const share = Math.min(1, Math.max(0, (broke - start) / Math.max(1, duration)));
      return { ok: false, moved: Math.round(l.bytes * share) };
    });
  }
}

/** A method of {@linkcode RemotePeer} the simulation does not model. */
export class NotModeledError extends DfsError {
  /** Creates the error. */
  constructor(what: string) {
    super("UNSUPPORTED", `sim: ${what} is not modeled by the durability simulation`);
  }
}

/**
 * Node `to` seen from node `from` as a {@linkcode RemotePeer}: `probe` and `has` answer from
 * the model after a round trip, `deleteBlock` drops a copy (trims); the byte-moving methods are
 * not used (repair's transfers are modeled by {@linkcode DataPlane.window}).
 */
export class SimPeer implements RemotePeer {
  /** Node id of `to`, hex. */
  readonly nodeId: string;
  /** The node it reaches. */
  readonly node: SimNode;
  readonly #plane: DataPlane;
  readonly #from: SimNode;

  /** The peer `to` as `from` reaches it. */
  constructor(plane: DataPlane, from: SimNode, to: SimNode) {
    this.#plane = plane;
    this.#from = from;
    this.node = to;
    this.nodeId = to.idHex;
  }

  /** See {@linkcode RemotePeer.has}. */
  has(ids: readonly ContentId[], options?: RemoteCallOptions): Promise<boolean[]> {
    return this.#plane.call(this.#from, this.node, options, () => this.#plane.has(this.node, ids));
  }

  /**
   * See {@linkcode RemotePeer.probe}: the model's answer, no tombstone, and the ages of the
   * losses the node's current repair loop has timed (as on the wire: whole seconds).
   */
  probe(
    fileId: ContentId,
    ids: readonly ContentId[],
    options?: RemoteCallOptions,
  ): Promise<FileProbeResult> {
    return this.#plane.call(this.#from, this.node, options, () => {
      const has = this.#plane.has(this.node, ids);
      const missing = this.node.repairer?.missingAges?.(fileId.toString());
      return missing?.size ? { has, ages: toWireAges(missing) } : { has };
    });
  }

  /** See {@linkcode RemotePeer.deleteBlock}: dropping a root drops the copy. */
  deleteBlock(id: ContentId, options?: RemoteCallOptions): Promise<void> {
    return this.#plane.call(this.#from, this.node, options, () => {
      this.#plane.drop(this.node, id);
    });
  }

  /** Not modeled. */
  getBlock(): Promise<Uint8Array> {
    return Promise.reject(new NotModeledError("getBlock"));
  }

  /** Not modeled. */
  putBlock(): Promise<void> {
    return Promise.reject(new NotModeledError("putBlock"));
  }

  /** Not modeled (the simulation deletes nothing). */
  sendTombstone(): Promise<void> {
    return Promise.reject(new NotModeledError("sendTombstone"));
  }
}
