/**
 * One k-bucket: up to `k` contacts that share the same number of leading bits with this node,
 * least recently seen first, and a small cache of replacements met while it was full.
 *
 * @module
 */

import type { Contact } from "./contact.ts";

/** A contact in a bucket, with what the table knows of it. */
export interface BucketEntry {
  /** The contact. */
  contact: Contact;
  /** When it was added (ms, the DHT's clock). Long-lived entries are kept. */
  readonly addedAt: number;
  /** When it last answered or sent a request (ms). */
  lastSeen: number;
  /** Requests to it that failed in a row since it last answered. */
  failures: number;
  /** Its subnet group (`subnet.ts`), or null when exempt. */
  subnet: string | null;
}

/** Largest number of replacements a bucket remembers. */
export const REPLACEMENT_CACHE_SIZE = 8;

/**
 * A k-bucket. Entries are kept least recently seen first: the head is the one to ping when the
 * bucket is full, the tail the freshest.
 *
 * @example
 * ```ts
 * import { KBucket } from "./k_bucket.ts";
 * const b = new KBucket(20);
 * console.log(b.full, b.size); // false 0
 * ```
 */
export class KBucket {
  /** Entries, least recently seen first. */
  readonly entries: BucketEntry[] = [];
  /** Contacts met while the bucket was full, most recent last (bounded). */
  readonly replacements: BucketEntry[] = [];
  /** A ping of the head is in flight. */
  pinging = false;
  readonly #k: number;

  /** An empty bucket of capacity `k`. */
  constructor(k: number) {
    this.#k = k;
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.length;
  }

  /** The bucket holds `k` entries. */
  get full(): boolean {
    return this.entries.length >= this.#k;
  }

  /** Index of the entry for `idHex`, or -1. */
  indexOf(idHex: string): number {
    return this.entries.findIndex((e) => e.contact.idHex === idHex);
  }

  /** Number of entries in subnet group `subnet`. */
  countSubnet(subnet: string): number {
    let n = 0;
    for (const e of this.entries) if (e.subnet === subnet) n++;
    return n;
  }

  /** Moves entry `i` to the tail (most recently seen). */
  touch(i: number, now: number): BucketEntry {
    const [entry] = this.entries.splice(i, 1);
    entry.lastSeen = now;
    entry.failures = 0;
    this.entries.push(entry);
    return entry;
  }

  /** Remembers `entry` as a replacement (dropping the oldest beyond the cache size). */
  remember(entry: BucketEntry): void {
    const i = this.replacements.findIndex((e) => e.contact.idHex === entry.contact.idHex);
    if (i >= 0) this.replacements.splice(i, 1);
    this.replacements.push(entry);
    if (this.replacements.length > REPLACEMENT_CACHE_SIZE) this.replacements.shift();
  }

  /** Takes the most recent replacement, or undefined. */
  takeReplacement(): BucketEntry | undefined {
    return this.replacements.pop();
  }
}
