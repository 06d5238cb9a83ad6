/**
 * The routing table: one k-bucket per common-prefix length with this node's id (256 buckets,
 * most of them empty), kept as the Kademlia paper says — a full bucket keeps its long-lived
 * entries and pings the least recently seen one before letting a newcomer in; contacts that
 * stop answering make room for the replacements met meanwhile; at most `maxPerSubnet`
 * entries of a bucket come from one /24 or /48 (`subnet.ts`).
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { Contact } from "./contact.ts";
import { type BucketEntry, KBucket } from "./k_bucket.ts";
import { commonPrefixLength, compareDistance, KEY_BITS } from "./key.ts";
import { contactSubnet } from "./subnet.ts";

/** Options of a {@linkcode RoutingTable}. */
export interface RoutingTableOptions {
  /** This node's id (32 bytes). */
  readonly self: Uint8Array;
  /** Bucket capacity (Kademlia's k). Default 20. */
  readonly k?: number;
  /** Entries of one bucket from one /24 (IPv4) or /48 (IPv6). Default 2. */
  readonly maxPerSubnet?: number;
  /** Failed requests in a row after which a contact is dropped. Default 2. */
  readonly maxFailures?: number;
  /** Time source. */
  readonly clock: Clock;
  /** Pings a contact: resolves true when it answered (never rejects). */
  readonly ping: (contact: Contact) => Promise<boolean>;
}

/** What {@linkcode RoutingTable.seen} did with a contact. */
export type SeenOutcome =
  | "self"
  | "updated"
  | "added"
  | "pinging"
  | "cached"
  | "subnet-full";

/** Per-bucket counts, for `dfs peers` and the API. */
export interface BucketCount {
  /** Bucket index: the number of leading bits its contacts share with this node. */
  readonly index: number;
  /** Contacts in it. */
  readonly size: number;
  /** Replacements remembered. */
  readonly replacements: number;
}

/**
 * A Kademlia routing table.
 *
 * @example
 * ```ts
 * import { RoutingTable } from "./routing_table.ts";
 * import { contactOf } from "./contact.ts";
 * import { systemClock } from "./clock.ts";
 * const table = new RoutingTable({
 *   self: new Uint8Array(32),
 *   clock: systemClock,
 *   ping: () => Promise.resolve(true),
 * });
 * const id = new Uint8Array(32);
 * id[0] = 0x80;
 * table.seen(contactOf(id, "127.0.0.1:4001")); // "added"
 * console.log(table.size); // 1
 * ```
 */
export class RoutingTable {
  /** This node's id. */
  readonly self: Uint8Array;
  /** Bucket capacity. */
  readonly k: number;
  /** Buckets by common prefix length, made when first needed (most stay empty). */
  readonly #buckets: (KBucket | undefined)[] = new Array(KEY_BITS);
  /** When a lookup last targeted each bucket's range (ms). */
  readonly #lastUsed = new Float64Array(KEY_BITS);
  readonly #maxPerSubnet: number;
  readonly #maxFailures: number;
  readonly #clock: Clock;
  readonly #ping: (contact: Contact) => Promise<boolean>;
  #size = 0;

  /** An empty table. */
  constructor(options: RoutingTableOptions) {
    this.self = options.self;
    this.k = options.k ?? 20;
    this.#maxPerSubnet = options.maxPerSubnet ?? 2;
    this.#maxFailures = options.maxFailures ?? 2;
    this.#clock = options.clock;
    this.#ping = options.ping;
    this.#lastUsed.fill(this.#clock.now());
  }

  /** Contacts in the table. */
  get size(): number {
    return this.#size;
  }

  /** The bucket index a key or id falls in (its common prefix length with this node's id). */
  bucketOf(id: Uint8Array): number {
    return commonPrefixLength(this.self, id);
  }

  /** The contact with id `idHex`, if in the table. */
  get(idHex: string, id: Uint8Array): Contact | undefined {
    const b = this.bucketOf(id);
    if (b >= KEY_BITS) return undefined;
    const bucket = this.#buckets[b];
    const i = bucket ? bucket.indexOf(idHex) : -1;
    return i >= 0 ? bucket!.entries[i].contact : undefined;
  }

  /**
   * Notes that `contact` is alive (it answered us, or sent us a request over a connection that
   * proved its id). A known contact moves to the tail of its bucket (its address updated); a
   * new one is added when its bucket has room and its subnet group is not full there. When the
   * bucket is full, the least recently seen entry is pinged (one ping per bucket at a time):
   * if it answers it stays and the newcomer is remembered as a replacement; if not, it is
   * dropped and the newcomer takes its place.
   */
  seen(contact: Contact): SeenOutcome {
    const b = this.bucketOf(contact.id);
    if (b >= KEY_BITS) return "self";
    const bucket = this.#buckets[b] ??= new KBucket(this.k);
    const now = this.#clock.now();
    const i = bucket.indexOf(contact.idHex);
    const subnet = contactSubnet(contact);
    if (i >= 0) {
      const entry = bucket.touch(i, now);
      if (entry.contact.address !== contact.address || entry.subnet !== subnet) {
        // A new address is held to the subnet rule too (the entry itself not counted).
        const others = subnet === null
          ? 0
          : bucket.countSubnet(subnet) - (entry.subnet === subnet ? 1 : 0);
        if (others < this.#maxPerSubnet) {
          entry.contact = contact;
          entry.subnet = subnet;
        }
      }
      return "updated";
    }
    if (subnet !== null && bucket.countSubnet(subnet) >= this.#maxPerSubnet) return "subnet-full";
    const entry: BucketEntry = { contact, addedAt: now, lastSeen: now, failures: 0, subnet };
    if (!bucket.full) {
      bucket.entries.push(entry);
      this.#size++;
      return "added";
    }
    bucket.remember(entry);
    if (bucket.pinging) return "cached";
    this.#pingHead(bucket);
    return "pinging";
  }

  /**
   * Notes that a request to `contact` failed. After `maxFailures` failures in a row (or one,
   * when a replacement is waiting) the contact leaves the table and the freshest replacement
   * takes its place.
   */
  failed(contact: Contact): void {
    const b = this.bucketOf(contact.id);
    const bucket = this.#buckets[b];
    if (!bucket) return;
    const i = bucket.indexOf(contact.idHex);
    if (i < 0) return;
    const entry = bucket.entries[i];
    entry.failures++;
    if (entry.failures >= this.#maxFailures || bucket.replacements.length > 0) {
      this.#evict(bucket, i);
    }
  }

  /** Removes the contact with id `id`, if present. */
  remove(id: Uint8Array, idHex: string): boolean {
    const b = this.bucketOf(id);
    const bucket = this.#buckets[b];
    if (!bucket) return false;
    const i = bucket.indexOf(idHex);
    if (i < 0) return false;
    this.#evict(bucket, i);
    return true;
  }

  /**
   * The `count` contacts closest to `key` by XOR distance, closest first, without `exclude`
   * (hex ids). Reads only as many buckets as it needs: the key's own bucket holds the closest
   * contacts, then the deeper buckets, then the shallower ones in order.
   */
  closest(key: Uint8Array, count: number, exclude?: ReadonlySet<string>): Contact[] {
    const out: Contact[] = [];
    const b = this.bucketOf(key);
    const take = (from: (KBucket | undefined)[]) => {
      const group: Contact[] = [];
      for (const bucket of from) {
        if (!bucket) continue;
        for (const e of bucket.entries) {
          if (!exclude?.has(e.contact.idHex)) group.push(e.contact);
        }
      }
      group.sort((x, y) => compareDistance(key, x.id, y.id));
      for (const c of group) {
        if (out.length >= count) return;
        out.push(c);
      }
    };
    if (b < KEY_BITS) take([this.#buckets[b]]);
    if (out.length < count) take(this.#buckets.slice(Math.min(b + 1, KEY_BITS)));
    for (let j = Math.min(b, KEY_BITS) - 1; j >= 0 && out.length < count; j--) {
      take([this.#buckets[j]]);
    }
    return out;
  }

  /** Every contact in the table. */
  contacts(): Contact[] {
    return this.#buckets.flatMap((bucket) => bucket ? bucket.entries.map((e) => e.contact) : []);
  }

  /** Non-empty buckets with their counts, shallowest first. */
  bucketCounts(): BucketCount[] {
    const out: BucketCount[] = [];
    this.#buckets.forEach((bucket, index) => {
      if (bucket && (bucket.size > 0 || bucket.replacements.length > 0)) {
        out.push({ index, size: bucket.size, replacements: bucket.replacements.length });
      }
    });
    return out;
  }

  /** Marks the bucket `key` falls in as used now (a lookup targeted it). */
  used(key: Uint8Array): void {
    const b = this.bucketOf(key);
    if (b < KEY_BITS) this.#lastUsed[b] = this.#clock.now();
  }

  /**
   * Buckets not used for `intervalMs` that are worth refreshing: those from 0 up to one past
   * the deepest non-empty bucket (deeper ones cover key ranges no other node is likely in).
   */
  staleBuckets(intervalMs: number): number[] {
    let deepest = -1;
    for (let i = KEY_BITS - 1; i >= 0; i--) {
      if ((this.#buckets[i]?.size ?? 0) > 0) {
        deepest = i;
        break;
      }
    }
    const now = this.#clock.now();
    const out: number[] = [];
    for (let i = 0; i <= Math.min(deepest + 1, KEY_BITS - 1); i++) {
      if (now - this.#lastUsed[i] >= intervalMs) out.push(i);
    }
    return out;
  }

  #evict(bucket: KBucket, i: number): void {
    bucket.entries.splice(i, 1);
    this.#size--;
    let next = bucket.takeReplacement();
    while (
      next && next.subnet !== null && bucket.countSubnet(next.subnet) >= this.#maxPerSubnet
    ) next = bucket.takeReplacement();
    if (next) {
      next.lastSeen = this.#clock.now();
      bucket.entries.push(next);
      this.#size++;
    }
  }

  #pingHead(bucket: KBucket): void {
    const head = bucket.entries[0];
    bucket.pinging = true;
    void this.#ping(head.contact).then((alive) => {
      bucket.pinging = false;
      const i = bucket.indexOf(head.contact.idHex);
      if (i < 0) return; // already gone
      if (alive) bucket.touch(i, this.#clock.now());
      else this.#evict(bucket, i);
    });
  }
}
