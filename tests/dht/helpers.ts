/**
 * Small helpers shared by the DHT tests: contacts in a chosen bucket, a deferred promise, and
 * moving a {@linkcode VirtualClock} forward.
 *
 * @module
 */

import { type Contact, contactOf } from "../../src/dht/contact.ts";
import { keyInBucket } from "../../src/dht/key.ts";
import type { Rng } from "../util/prng.ts";
import type { VirtualClock } from "../sim/virtual_clock.ts";

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  /** The promise. */
  readonly promise: Promise<T>;
  /** Resolves it. */
  resolve(value: T): void;
  /** Rejects it. */
  reject(error: unknown): void;
}

/** A promise settled from outside. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A contact whose id falls in bucket `bucket` of `self`'s table. */
export function contactInBucket(
  self: Uint8Array,
  bucket: number,
  rng: Rng,
  address: string,
): Contact {
  return contactOf(keyInBucket(self, bucket, rng.bytes(32)), address);
}

/** Loopback address number `i` (exempt from the subnet rule), unique for i < 65,536. */
export function loopback(i: number): string {
  return `127.0.${(i >> 8) & 255}.${i & 255}:${4000 + (i >> 16)}`;
}

/** Lets every pending promise continuation run (one macrotask). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Moves `clock` forward by `ms`, firing every timer due on the way. (A run with no timer left
 * does not move time, so a no-op timer marks the target.)
 */
export async function advance(clock: VirtualClock, ms: number): Promise<void> {
  const until = clock.now() + ms;
  clock.setTimeout(() => {}, ms);
  await clock.run({ until });
}

/** Ids as hex, for comparing lists of contacts. */
export function hexes(contacts: readonly Contact[]): string[] {
  return contacts.map((c) => c.idHex);
}
