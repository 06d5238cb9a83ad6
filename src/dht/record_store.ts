/**
 * The name records a node keeps for the network, and the rules for which one it keeps:
 *
 * - a record must be well formed, signed by its public key, not expired, and expire at most
 *   `maxTtlMs` from now;
 * - a higher sequence number replaces a lower one; the same sequence is accepted again only as
 *   the same record with a later expiry (a republish); anything else at the same sequence is
 *   a conflict;
 * - in an open network (`anyKeyMayUpdate` false) only the key of the record held may replace
 *   it: the first key a node saw publish a name owns it there until its record expires. In a
 *   private cluster every member is trusted and any key may update a name.
 *
 * @module
 */

import { fromHex, toHex } from "../util/hex.ts";
import type { Clock } from "./clock.ts";
import { RecordRejectedError } from "./errors.ts";
import { compareDistance, keyOfName } from "./key.ts";
import { bytesEqual, sameRecord, type SignedNameRecord, verifyNameRecord } from "./name_record.ts";

/** Default longest lifetime a record may claim: 7 days. */
export const DEFAULT_MAX_RECORD_TTL_MS = 7 * 24 * 3600_000;

/** Options of a {@linkcode NameRecordStore}. */
export interface NameRecordStoreOptions {
  /** Time source. */
  readonly clock: Clock;
  /** Records kept in all. Default 10,000. */
  readonly maxRecords?: number;
  /** Longest lifetime a record may claim. Default 7 days. */
  readonly maxTtlMs?: number;
  /** Private cluster: any key may update any name. Default false (first key owns a name). */
  readonly anyKeyMayUpdate?: boolean;
  /** Records of one publisher key kept here. Default 100. */
  readonly maxPerPublisher?: number;
  /**
   * This node's id: when the store is full, the record whose key is farthest from it gives way
   * to one closer (names belong at the nodes closest to them). Without it, a full store refuses.
   */
  readonly self?: Uint8Array;
}

/** What {@linkcode NameRecordStore.put} did. */
export type PutOutcome = "stored" | "renewed" | "unchanged";

/**
 * Checks a record on its own: well formed, signed, not expired, not too far in the future.
 * Throws {@linkcode RecordRejectedError}.
 *
 * @example
 * ```ts ignore
 * await checkNameRecord(record, Date.now(), DEFAULT_MAX_RECORD_TTL_MS);
 * ```
 */
export async function checkNameRecord(
  record: SignedNameRecord,
  now: number,
  maxTtlMs: number,
): Promise<void> {
  if (record.expires <= now) {
    throw new RecordRejectedError("EXPIRED", `record for ${JSON.stringify(record.name)} expired`);
  }
  if (record.expires > now + maxTtlMs) {
    throw new RecordRejectedError(
      "TOO_FAR_IN_FUTURE",
      `record for ${JSON.stringify(record.name)} claims to live past the ${maxTtlMs} ms allowed`,
    );
  }
  if (!(await verifyNameRecord(record))) {
    throw new RecordRejectedError(
      "BAD_SIGNATURE",
      `record for ${JSON.stringify(record.name)} is malformed or its signature does not verify`,
    );
  }
}

/**
 * Decides whether `incoming` may replace `held` (both already checked). Returns the outcome,
 * or throws {@linkcode RecordRejectedError} (`NOT_OWNER`, `STALE_SEQUENCE`, `CONFLICT`).
 *
 * @example
 * ```ts ignore
 * const outcome = selectRecord(held, incoming, false); // "stored" | "renewed" | "unchanged"
 * ```
 */
export function selectRecord(
  held: SignedNameRecord | undefined,
  incoming: SignedNameRecord,
  anyKeyMayUpdate: boolean,
): PutOutcome {
  if (!held) return "stored";
  const sameKey = bytesEqual(held.publicKey, incoming.publicKey);
  if (!sameKey && !anyKeyMayUpdate) {
    throw new RecordRejectedError(
      "NOT_OWNER",
      `name ${JSON.stringify(incoming.name)} belongs to another key`,
    );
  }
  if (incoming.seq > held.seq) return "stored";
  if (incoming.seq < held.seq) {
    throw new RecordRejectedError(
      "STALE_SEQUENCE",
      `sequence ${incoming.seq} of ${JSON.stringify(incoming.name)} is below the ${held.seq} held`,
    );
  }
  if (sameRecord(held, incoming)) return "unchanged";
  if (sameKey && bytesEqual(held.value, incoming.value) && incoming.expires > held.expires) {
    return "renewed";
  }
  throw new RecordRejectedError(
    "CONFLICT",
    `another record of ${JSON.stringify(incoming.name)} has sequence ${incoming.seq}`,
  );
}

/**
 * A node's name records, keyed by the DHT key of their name.
 *
 * @example
 * ```ts ignore
 * const store = new NameRecordStore({ clock: systemClock });
 * await store.put(record); // throws RecordRejectedError when refused
 * store.get(await keyOfName(record.name)); // the record
 * ```
 */
export class NameRecordStore {
  readonly #clock: Clock;
  readonly #maxRecords: number;
  readonly #maxTtlMs: number;
  readonly #anyKeyMayUpdate: boolean;
  readonly #records = new Map<string, SignedNameRecord>();
  readonly #maxPerPublisher: number;
  readonly #self: Uint8Array | undefined;
  /** Records held per publisher key (hex). */
  readonly #perPublisher = new Map<string, number>();

  /** An empty store. */
  constructor(options: NameRecordStoreOptions) {
    this.#clock = options.clock;
    this.#maxRecords = options.maxRecords ?? 10_000;
    this.#maxTtlMs = options.maxTtlMs ?? DEFAULT_MAX_RECORD_TTL_MS;
    this.#anyKeyMayUpdate = options.anyKeyMayUpdate ?? false;
    this.#maxPerPublisher = options.maxPerPublisher ?? 100;
    this.#self = options.self;
  }

  /** Records held (expired ones included until they are next touched or swept). */
  get size(): number {
    return this.#records.size;
  }

  /** Checks `record` and keeps it when it wins over the one held. */
  async put(record: SignedNameRecord): Promise<PutOutcome> {
    await checkNameRecord(record, this.#clock.now(), this.#maxTtlMs);
    const keyHex = toHex(await keyOfName(record.name));
    const held = this.#live(keyHex);
    const outcome = selectRecord(held, record, this.#anyKeyMayUpdate);
    if (outcome === "unchanged") return outcome;
    const publisher = toHex(record.publicKey);
    const sameOwner = held !== undefined && toHex(held.publicKey) === publisher;
    if (!sameOwner && (this.#perPublisher.get(publisher) ?? 0) >= this.#maxPerPublisher) {
      throw new RecordRejectedError(
        "FULL",
        `this node holds ${this.#maxPerPublisher} name records of that publisher key`,
      );
    }
    if (!held && this.#records.size >= this.#maxRecords) {
      this.sweep();
      if (this.#records.size >= this.#maxRecords && !this.#evictFarther(keyHex)) {
        throw new RecordRejectedError("FULL", `this node holds ${this.#maxRecords} name records`);
      }
    }
    this.#set(keyHex, record);
    return outcome;
  }

  /** Drops the record whose key is farthest from this node, if farther than `keyHex`. */
  #evictFarther(keyHex: string): boolean {
    const self = this.#self;
    const key = fromHex(keyHex);
    if (!self || !key) return false;
    let worst: { hex: string; key: Uint8Array } | undefined;
    for (const hex of this.#records.keys()) {
      const k = fromHex(hex)!;
      if (!worst || compareDistance(self, k, worst.key) > 0) worst = { hex, key: k };
    }
    if (!worst || compareDistance(self, key, worst.key) >= 0) return false;
    this.#delete(worst.hex);
    return true;
  }

  #set(keyHex: string, record: SignedNameRecord): void {
    this.#delete(keyHex);
    this.#records.set(keyHex, record);
    const p = toHex(record.publicKey);
    this.#perPublisher.set(p, (this.#perPublisher.get(p) ?? 0) + 1);
  }

  #delete(keyHex: string): void {
    const old = this.#records.get(keyHex);
    if (!old) return;
    this.#records.delete(keyHex);
    const p = toHex(old.publicKey);
    const n = (this.#perPublisher.get(p) ?? 1) - 1;
    if (n <= 0) this.#perPublisher.delete(p);
    else this.#perPublisher.set(p, n);
  }

  /** The live record under `key` (32 bytes), or null. */
  get(key: Uint8Array): SignedNameRecord | null {
    return this.#live(toHex(key)) ?? null;
  }

  /** Drops expired records; returns how many. */
  sweep(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const [k, r] of [...this.#records]) {
      if (r.expires <= now) {
        this.#delete(k);
        n++;
      }
    }
    return n;
  }

  #live(keyHex: string): SignedNameRecord | undefined {
    const r = this.#records.get(keyHex);
    if (r && r.expires <= this.#clock.now()) {
      this.#delete(keyHex);
      return undefined;
    }
    return r;
  }
}
