/**
 * The DHT's knobs and their defaults, filled in one place.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { type Clock, systemClock } from "./clock.ts";
import { DEFAULT_PROVIDER_TTL_MS } from "./providers.ts";
import { DEFAULT_MAX_RECORD_TTL_MS } from "./record_store.ts";

/** Tunable behaviour of a {@linkcode Dht}; every field has a default. */
export interface DhtTuning {
  /** Bucket size and contacts per answer (Kademlia's k). Default 20. */
  readonly k?: number;
  /** Requests in flight per lookup. Default 3. */
  readonly alpha?: number;
  /**
   * Longest timeout of one request, ms. Default 5,000. The timeout in use adapts to the round
   * trips seen (`rtt.ts`), between `minRequestTimeoutMs` and this.
   */
  readonly requestTimeoutMs?: number;
  /** Shortest adaptive request timeout, ms. Default 1,000. */
  readonly minRequestTimeoutMs?: number;
  /** A lookup request unanswered this long no longer holds an alpha slot, ms. Default 1,000. */
  readonly stallMs?: number;
  /** Deadline of a whole lookup, ms. Default 30,000. */
  readonly lookupDeadlineMs?: number;
  /** Lifetime of provider records held for others, ms. Default 48 h. */
  readonly providerTtlMs?: number;
  /** How often this node re-announces what it provides, ms. Default 22 h. */
  readonly republishMs?: number;
  /** A bucket not used for this long is refreshed, ms. Default 1 h. */
  readonly refreshMs?: number;
  /** Lifetime this node gives the name records it publishes, ms. Default 48 h. */
  readonly nameTtlMs?: number;
  /** Longest lifetime a received name record may claim, ms. Default 7 days. */
  readonly maxNameTtlMs?: number;
  /** Entries per bucket from one /24 or /48. Default 2. */
  readonly maxPerSubnet?: number;
  /** Provider records kept per key. Default 64. */
  readonly maxProvidersPerKey?: number;
  /** Keys one peer may announce here. Default 10,000. */
  readonly maxKeysPerProvider?: number;
  /** Provider records in all (about 420 bytes each). Default 200,000. */
  readonly maxProviderRecords?: number;
  /** Name records kept for others. Default 10,000. */
  readonly maxNameRecords?: number;
  /** Private cluster: any member may update any name. Default false. */
  readonly anyKeyMayUpdate?: boolean;
  /** Time source. Default the wall clock. */
  readonly clock?: Clock;
  /** `n` random bytes (refresh targets). Default `crypto.getRandomValues`. */
  readonly random?: (n: number) => Uint8Array;
}

/** {@linkcode DhtTuning} with every default filled in. */
export type ResolvedDhtTuning = { readonly [K in keyof DhtTuning]-?: NonNullable<DhtTuning[K]> };

/** Default provider re-announce interval: 22 hours. */
export const DEFAULT_REPUBLISH_MS = 22 * 3600_000;

/** The numeric knobs of {@linkcode DhtTuning}: each a positive integer. */
type NumericKnob = Exclude<keyof DhtTuning, "anyKeyMayUpdate" | "clock" | "random">;

/** Defaults of the numeric knobs (documented on {@linkcode DhtTuning}). */
const NUMERIC_DEFAULTS: Readonly<Record<NumericKnob, number>> = {
  k: 20,
  alpha: 3,
  requestTimeoutMs: 5_000,
  minRequestTimeoutMs: 1_000,
  stallMs: 1_000,
  lookupDeadlineMs: 30_000,
  providerTtlMs: DEFAULT_PROVIDER_TTL_MS,
  republishMs: DEFAULT_REPUBLISH_MS,
  refreshMs: 3600_000,
  nameTtlMs: DEFAULT_PROVIDER_TTL_MS,
  maxNameTtlMs: DEFAULT_MAX_RECORD_TTL_MS,
  maxPerSubnet: 2,
  maxProvidersPerKey: 64,
  maxKeysPerProvider: 10_000,
  maxProviderRecords: 200_000,
  maxNameRecords: 10_000,
};

/**
 * Fills in defaults and checks ranges. Throws {@linkcode InvalidArgumentError} for a value that
 * is not a positive integer (or a republish interval not below the record lifetime).
 *
 * @example
 * ```ts
 * import { resolveDhtTuning } from "./options.ts";
 * console.log(resolveDhtTuning({}).k); // 20
 * ```
 */
export function resolveDhtTuning(t: DhtTuning): ResolvedDhtTuning {
  const numbers = {} as Record<NumericKnob, number>;
  for (const key of Object.keys(NUMERIC_DEFAULTS) as NumericKnob[]) {
    const v = t[key] ?? NUMERIC_DEFAULTS[key];
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new InvalidArgumentError(`dht.${key} must be a positive integer, got ${v}`);
    }
    numbers[key] = v;
  }
  const r: ResolvedDhtTuning = {
    ...numbers,
    anyKeyMayUpdate: t.anyKeyMayUpdate ?? false,
    clock: t.clock ?? systemClock,
    random: t.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
  };
  if (r.republishMs >= r.providerTtlMs) {
    throw new InvalidArgumentError(
      `dht.republishMs (${r.republishMs}) must be below dht.providerTtlMs (${r.providerTtlMs})`,
    );
  }
  if (r.nameTtlMs > r.maxNameTtlMs) {
    throw new InvalidArgumentError(
      `dht.nameTtlMs (${r.nameTtlMs}) must not exceed dht.maxNameTtlMs (${r.maxNameTtlMs})`,
    );
  }
  return r;
}
