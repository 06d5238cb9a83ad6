/**
 * Provider records: "node P holds the content under key K", kept by the nodes closest to K.
 * Each record expires (`ttlMs`, default 48 h) unless its provider announces it again, and the
 * store is bounded three ways so that no peer can grow it without limit: records per key,
 * keys per announcing peer, and records in all.
 *
 * @module
 */

import { toHex } from "../util/hex.ts";
import type { Clock } from "./clock.ts";
import type { Contact } from "./contact.ts";
import { ProviderLimitError } from "./errors.ts";

/** Default lifetime of a provider record: 48 hours. */
export const DEFAULT_PROVIDER_TTL_MS = 48 * 3600_000;

/** Bounds and lifetime of a {@linkcode ProviderStore}. */
export interface ProviderStoreOptions {
  /** Time source. */
  readonly clock: Clock;
  /** Lifetime of a record from its last announce. Default 48 h. */
  readonly ttlMs?: number;
  /** Providers kept per key (the oldest announce gives way). Default 64. */
  readonly maxPerKey?: number;
  /** Keys one peer may be the provider of here. Default 10,000. */
  readonly maxPerProvider?: number;
  /** Records in all. Default 200,000. */
  readonly maxRecords?: number;
}

interface ProviderRecord {
  contact: Contact;
  expires: number;
}

/**
 * The provider records a node keeps for others.
 *
 * @example
 * ```ts
 * import { ProviderStore } from "./providers.ts";
 * import { contactOf } from "./contact.ts";
 * import { systemClock } from "./clock.ts";
 * const store = new ProviderStore({ clock: systemClock });
 * const key = new Uint8Array(32);
 * store.add(key, contactOf(new Uint8Array(32).fill(1), "127.0.0.1:4001"));
 * console.log(store.get(key).length); // 1
 * ```
 */
export class ProviderStore {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxPerKey: number;
  readonly #maxPerProvider: number;
  readonly #maxRecords: number;
  /** key hex -> provider id hex -> record (insertion order = announce order). */
  readonly #byKey = new Map<string, Map<string, ProviderRecord>>();
  /** provider id hex -> number of keys it provides here. */
  readonly #perProvider = new Map<string, number>();
  #records = 0;

  /** An empty store. */
  constructor(options: ProviderStoreOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? DEFAULT_PROVIDER_TTL_MS;
    this.#maxPerKey = options.maxPerKey ?? 64;
    this.#maxPerProvider = options.maxPerProvider ?? 10_000;
    this.#maxRecords = options.maxRecords ?? 200_000;
  }

  /** Records held. */
  get size(): number {
    return this.#records;
  }

  /** Keys with at least one record. */
  get keys(): number {
    return this.#byKey.size;
  }

  /**
   * Records (or renews) `provider` for `key`. A full key drops its oldest announce to make
   * room. Throws {@linkcode ProviderLimitError} when the provider already provides
   * `maxPerProvider` keys here, or the store holds `maxRecords` (after dropping expired ones).
   */
  add(key: Uint8Array, provider: Contact): void {
    const keyHex = toHex(key);
    const now = this.#clock.now();
    let records = this.#byKey.get(keyHex);
    const known = records?.get(provider.idHex);
    if (known) {
      records!.delete(provider.idHex); // re-insert: it is now the newest announce
      records!.set(provider.idHex, { contact: provider, expires: now + this.#ttlMs });
      return;
    }
    const count = this.#perProvider.get(provider.idHex) ?? 0;
    if (count >= this.#maxPerProvider) {
      this.sweep();
      if ((this.#perProvider.get(provider.idHex) ?? 0) >= this.#maxPerProvider) {
        throw new ProviderLimitError(
          `peer ${provider.idHex.slice(0, 16)} already provides ${this.#maxPerProvider} keys here`,
        );
      }
    }
    if (this.#records >= this.#maxRecords) {
      this.sweep();
      if (this.#records >= this.#maxRecords) {
        throw new ProviderLimitError(`provider store is full (${this.#maxRecords} records)`);
      }
    }
    // A sweep above, or dropping the oldest below, may have removed the key's map.
    records = this.#byKey.get(keyHex);
    if (records && records.size >= this.#maxPerKey) {
      const oldest = records.keys().next().value!;
      this.#drop(keyHex, records, oldest);
      records = this.#byKey.get(keyHex);
    }
    if (!records) {
      records = new Map();
      this.#byKey.set(keyHex, records);
    }
    records.set(provider.idHex, { contact: provider, expires: now + this.#ttlMs });
    this.#perProvider.set(provider.idHex, (this.#perProvider.get(provider.idHex) ?? 0) + 1);
    this.#records++;
  }

  /** Up to `max` live providers of `key`, most recent announce first. */
  get(key: Uint8Array, max = 20): Contact[] {
    const keyHex = toHex(key);
    const records = this.#byKey.get(keyHex);
    if (!records) return [];
    const now = this.#clock.now();
    const out: Contact[] = [];
    const expired: string[] = [];
    for (const [id, r] of records) if (r.expires <= now) expired.push(id);
    for (const id of expired) this.#drop(keyHex, records, id);
    const live = [...records.values()];
    for (let i = live.length - 1; i >= 0 && out.length < max; i--) out.push(live[i].contact);
    return out;
  }

  /** Drops every expired record; returns how many. */
  sweep(): number {
    const now = this.#clock.now();
    let dropped = 0;
    for (const [keyHex, records] of [...this.#byKey]) {
      for (const [id, r] of [...records]) {
        if (r.expires <= now) {
          this.#drop(keyHex, records, id);
          dropped++;
        }
      }
    }
    return dropped;
  }

  #drop(keyHex: string, records: Map<string, ProviderRecord>, id: string): void {
    if (!records.delete(id)) return;
    this.#records--;
    const n = (this.#perProvider.get(id) ?? 1) - 1;
    if (n <= 0) this.#perProvider.delete(id);
    else this.#perProvider.set(id, n);
    if (records.size === 0) this.#byKey.delete(keyHex);
  }
}
