/**
 * An in-memory network for DHT simulations on a {@linkcode VirtualClock}: every node registers
 * a request handler under its address and gets a {@linkcode DhtNetwork} to send with. Messages
 * take a fixed one-way latency per pair of addresses, may be lost, and (by default) pass the
 * real wire codec both ways. Randomness comes only from the seeded {@linkcode Rng}; time only
 * from the clock.
 *
 * @module
 */

import { ConnectError, DfsError, errorText, TimeoutError } from "../../src/errors.ts";
import type { Contact } from "../../src/dht/contact.ts";
import type {
  DhtNetwork,
  DhtReply,
  DhtRequest,
  DhtRequestOptions,
  DhtTarget,
} from "../../src/dht/network.ts";
import { decodeMessage, encodeMessage } from "../../src/wire/codec.ts";
import type { Message } from "../../src/wire/messages.ts";
import type { Rng } from "../util/prng.ts";
import type { VirtualClock } from "./virtual_clock.ts";

/** A node's request handler: answers `request` from `from`. */
export type SimHandler = (from: Contact, request: Message) => Promise<Message>;

/** Options of {@linkcode SimNetwork}. */
export interface SimNetworkOptions {
  /** The clock every delivery and timeout is scheduled on. */
  readonly clock: VirtualClock;
  /** The only source of randomness (message loss; its seed also fixes the latencies). */
  readonly rng: Rng;
  /** One-way latency range in integer ms (default 10-150); per pair, at least 1. */
  readonly latency?: { readonly minMs: number; readonly maxMs: number };
  /** Probability (0..1) that any one message, request or answer, is dropped (default 0). */
  readonly loss?: number;
  /** Pass every message through `encodeMessage`/`decodeMessage` (default true). */
  readonly codec?: boolean;
}

/** Counters of {@linkcode SimNetwork.stats}. */
export interface SimNetworkStats {
  /** Request messages sent. */
  readonly requests: number;
  /** Answer messages sent back (answers and remote errors), delivered or not. */
  readonly answers: number;
  /** Messages dropped by random loss. */
  readonly lost: number;
  /** Messages that vanished because their target (or the answering node) was unknown or dead. */
  readonly toDead: number;
  /** Encoded frame bytes of every message sent (0 with `codec: false`). */
  readonly bytes: number;
}

/** The remote handler rejected the request. Code `REMOTE_ERROR`. */
export class SimRemoteError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("REMOTE_ERROR", message, options);
  }
}

/** No answer within the request's timeout (virtual ms). Code `TIMEOUT`. */
export class SimTimeoutError extends TimeoutError {}

interface SimNode {
  readonly contact: Contact;
  readonly handler: SimHandler;
  alive: boolean;
}

/** Largest request id before wrapping (ids are u32, 0 is reserved). */
const MAX_REQUEST_ID = 0xffff_ffff;

/** A 32-bit FNV-1a hash of `text`, continuing from `h`. */
function fnv1a(text: string, h: number): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x0100_0193);
  }
  return h >>> 0;
}

/** The murmur3 finalizer: spreads every input bit over the output. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The simulated network.
 *
 * @example
 * ```ts ignore
 * const clock = new VirtualClock();
 * const sim = new SimNetwork({ clock, rng: new Rng(1) });
 * const net = sim.add(contact, (from, req) => handle(from, req));
 * const reply = await clock.runUntil(net.request(other, ping, { timeoutMs: 1000 }));
 * ```
 */
export class SimNetwork {
  readonly #clock: VirtualClock;
  readonly #rng: Rng;
  readonly #minMs: number;
  readonly #spanMs: number;
  readonly #loss: number;
  readonly #codec: boolean;
  readonly #seedHash: number;
  readonly #nodes = new Map<string, SimNode>();
  #nextId = 1;
  #requests = 0;
  #answers = 0;
  #lost = 0;
  #toDead = 0;
  #bytes = 0;

  /** Creates an empty network. */
  constructor(options: SimNetworkOptions) {
    const { minMs: min, maxMs: max } = options.latency ?? { minMs: 10, maxMs: 150 };
    if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
      throw new RangeError(`latency range [${min}, ${max}] ms is not a finite range from 0`);
    }
    const minMs = Math.max(1, Math.ceil(min));
    const maxMs = Math.max(minMs, Math.floor(max));
    const loss = options.loss ?? 0;
    if (!(loss >= 0 && loss <= 1)) throw new RangeError(`loss must be in [0, 1], got ${loss}`);
    this.#clock = options.clock;
    this.#rng = options.rng;
    this.#minMs = minMs;
    this.#spanMs = maxMs - minMs + 1;
    this.#loss = loss;
    this.#codec = options.codec ?? true;
    this.#seedHash = mix32(fnv1a(String(options.rng.seed), 0x811c_9dc5));
  }

  /**
   * Registers a node under `contact.address` and returns the network it sends with. An
   * address may be reused once its previous node was killed (a restart).
   */
  add(contact: Contact, handler: SimHandler): DhtNetwork {
    const old = this.#nodes.get(contact.address);
    if (old?.alive) throw new Error(`SimNetwork: ${contact.address} is already registered`);
    const node: SimNode = { contact, handler, alive: true };
    this.#nodes.set(contact.address, node);
    return { request: (target, request, options) => this.#request(node, target, request, options) };
  }

  /** Makes the node at `address` silent without warning. Unknown addresses are ignored. */
  kill(address: string): void {
    const node = this.#nodes.get(address);
    if (node) node.alive = false;
  }

  /** Whether a live node is registered at `address`. */
  isAlive(address: string): boolean {
    return this.#nodes.get(address)?.alive ?? false;
  }

  /** The one-way latency (integer ms) between two addresses; the same both ways. */
  latency(a: string, b: string): number {
    const [lo, hi] = a < b ? [a, b] : [b, a];
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    const h = mix32(fnv1a(hi, fnv1a("\u0000", fnv1a(lo, this.#seedHash))));
    return this.#minMs + (h % this.#spanMs);
  }

  /** Counters since creation or the last {@linkcode SimNetwork.resetStats}. */
  stats(): SimNetworkStats {
    return {
      requests: this.#requests,
      answers: this.#answers,
      lost: this.#lost,
      toDead: this.#toDead,
      bytes: this.#bytes,
    };
  }

  /** Sets every counter back to 0. */
  resetStats(): void {
    this.#requests =
      this.#answers =
      this.#lost =
      this.#toDead =
      this.#bytes =
        0;
  }

  /** True when a message about to be sent is dropped (draws from the rng only when lossy). */
  #drop(): boolean {
    if (this.#loss === 0) return false;
    if (this.#rng.next() >= this.#loss) return false;
    this.#lost++;
    return true;
  }

  /**
   * Puts `msg` on the wire: with the codec, its frame (counted in `bytes`) and a function
   * decoding it at the other end; without, the message itself.
   */
  #send(msg: Message): () => Message {
    if (!this.#codec) return () => msg;
    const frame = encodeMessage(msg);
    this.#bytes += frame.length;
    return () => decodeMessage(frame.subarray(4));
  }

  #request(
    sender: SimNode,
    target: DhtTarget,
    request: DhtRequest,
    options: DhtRequestOptions,
  ): Promise<DhtReply> {
    const { timeoutMs, signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!sender.alive) {
      return Promise.reject(new ConnectError(`sim: ${sender.contact.address} is dead`));
    }
    const requestId = this.#nextId;
    this.#nextId = requestId === MAX_REQUEST_ID ? 1 : requestId + 1;
    let receive: () => Message;
    try {
      receive = this.#send({ ...request, requestId } as Message);
    } catch (err) {
      return Promise.reject(err); // the codec refused it: nothing was sent
    }
    this.#requests++;
    const address = target.address;
    const latency = this.latency(sender.contact.address, address);
    const clock = this.#clock;

    return new Promise<DhtReply>((resolve, reject) => {
      let settled = false;
      const finish = () => {
        settled = true;
        clock.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        if (settled) return;
        finish();
        reject(signal!.reason);
      };
      const timer = clock.setTimeout(() => {
        if (settled) return;
        finish();
        reject(
          new SimTimeoutError(`sim: no answer from ${address} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });

      /** Sends an answer (or a remote error) back from `node`, with loss and latency. */
      const answer = (node: SimNode, outcome: () => DhtReply | Error) => {
        if (!node.alive) {
          this.#toDead++; // it died while handling: its answer vanishes
          return;
        }
        this.#answers++;
        if (this.#drop()) return;
        clock.setTimeout(() => {
          if (!sender.alive) {
            this.#toDead++;
            return;
          }
          if (settled) return; // late: ignored
          const result = outcome();
          finish();
          if (result instanceof Error) reject(result);
          else resolve(result);
        }, latency);
      };

      if (this.#drop()) return;
      clock.setTimeout(() => {
        const node = this.#nodes.get(address);
        if (node === undefined || !node.alive) {
          this.#toDead++;
          return;
        }
        // A codec bug throws here, in a clock callback: VirtualClock.run rethrows it.
        const decoded = receive();
        let handled: Promise<Message>;
        try {
          handled = node.handler(sender.contact, decoded);
        } catch (err) {
          handled = Promise.reject(err);
        }
        handled.then(
          (msg) => {
            let back: () => Message;
            try {
              // As the peer layer does, the answer carries the request's id.
              back = this.#send({ ...msg, requestId });
            } catch (err) {
              const error = new SimRemoteError(
                `sim: ${address} answered with a message the codec refused: ${errorText(err)}`,
                { cause: err },
              );
              answer(node, () => error);
              return;
            }
            answer(node, () => ({ from: node.contact, message: back() }));
          },
          (err) => {
            const error = new SimRemoteError(`sim: ${address} failed: ${errorText(err)}`, {
              cause: err,
            });
            answer(node, () => error);
          },
        );
      }, latency);
    });
  }
}
