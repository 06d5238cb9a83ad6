/**
 * Per-peer bounds of the P2P port: how many requests per second one connection may open (a
 * token bucket) and how many connections one remote host may hold. Past either, the peer is
 * answered ERROR LIMIT and everyone else is served as before. The bytes a peer may have this
 * node store are bounded by the node (`src/node/peer_store_quota.ts`).
 *
 * @module
 */

import { type ErrorMessage, MessageType, WireErrorCode } from "../wire/messages.ts";

/** A clock in milliseconds (tests pass a fake one). */
export type MillisClock = () => number;

/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up (it starts full).
 * {@linkcode TokenBucket.take} spends one, or says there is none.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./peer_limits.ts";
 * let now = 0;
 * const bucket = new TokenBucket(10, 2, () => now);
 * bucket.take(); // true
 * bucket.take(); // true
 * bucket.take(); // false: the burst is spent
 * now += 100; // a tenth of a second: one token back
 * bucket.take(); // true
 * ```
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: MillisClock;
  #tokens: number;
  #at: number;

  /** Creates a full bucket refilled at `ratePerSecond`, holding at most `burst` tokens. */
  constructor(ratePerSecond: number, burst: number, now: MillisClock = Date.now) {
    this.#rate = ratePerSecond;
    this.#burst = Math.max(1, burst);
    this.#now = now;
    this.#tokens = this.#burst;
    this.#at = now();
  }

  /** Spends one token: `true` when there was one, `false` (nothing spent) when empty. */
  take(): boolean {
    const now = this.#now();
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * The request budget of one connection: `maxRequestsPerSecond` a second with a burst of twice
 * that (a second's worth, at least 1). Returns the bucket a connection checks every request
 * from its peer against.
 *
 * @example
 * ```ts
 * import { requestBucket } from "./peer_limits.ts";
 * const bucket = requestBucket({ maxRequestsPerSecond: 1000 });
 * bucket.take(); // true
 * ```
 */
export function requestBucket(
  options: { readonly maxRequestsPerSecond: number },
  now: MillisClock = Date.now,
): TokenBucket {
  const rate = options.maxRequestsPerSecond;
  if (!(rate > 0)) return new TokenBucket(Infinity, Infinity, now); // not set: no bound
  return new TokenBucket(rate, Math.max(1, Math.ceil(rate * REQUEST_BURST_SECONDS)), now);
}

/** Seconds of requests a connection may send at once before the rate applies. */
export const REQUEST_BURST_SECONDS = 2;

/**
 * The ERROR LIMIT answer to request `requestId`, over the connection's request rate.
 *
 * @example
 * ```ts
 * import { overRateAnswer } from "./peer_limits.ts";
 * overRateAnswer(7, { maxRequestsPerSecond: 1000 }).message; // "more than 1000 requests per second"
 * ```
 */
export function overRateAnswer(
  requestId: number,
  options: { readonly maxRequestsPerSecond: number },
): ErrorMessage {
  const message = `more than ${options.maxRequestsPerSecond} requests per second`;
  return { type: MessageType.ERROR, requestId, code: WireErrorCode.LIMIT, message };
}

/** What {@linkcode hostAtLimit} needs to know of a connection. */
export interface HostedConnection {
  /** The authenticated peer, with the host its connection came from. */
  readonly remote: { readonly observedHost?: string };
  /** False once closed. */
  readonly isOpen: boolean;
}

/**
 * Whether `host` already holds `max` connections (open ones in `connections`, plus `pending`
 * inbound handshakes from it): a new inbound connection from it is then refused with LIMIT.
 * Loopback hosts are never at the limit (tests and local clusters run many nodes on one).
 *
 * @example
 * ```ts
 * import { hostAtLimit } from "./peer_limits.ts";
 * const c = { remote: { observedHost: "10.0.0.7" }, isOpen: true };
 * hostAtLimit([c, c], "10.0.0.7", 0, 2); // true
 * hostAtLimit([c, c], "10.0.0.8", 0, 2); // false
 * hostAtLimit([c, c], "127.0.0.1", 9, 2); // false: loopback is exempt
 * ```
 */
export function hostAtLimit(
  connections: Iterable<HostedConnection>,
  host: string,
  pending: number,
  max: number,
): boolean {
  if (isLoopbackHost(host)) return false;
  let n = pending;
  for (const c of connections) {
    if (c.isOpen && c.remote.observedHost === host && ++n >= max) return true;
  }
  return n >= max;
}

/**
 * True for a loopback host: `127.0.0.0/8`, `::1`, `localhost`, or an IPv4-mapped `127.x`.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./peer_limits.ts";
 * isLoopbackHost("127.0.0.2"); // true
 * isLoopbackHost("0.0.0.0"); // false
 * isLoopbackHost("[::1]"); // true
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h.startsWith("127.") || h === "::1" || h === "localhost" || h.startsWith("::ffff:127.");
}
