/**
 * Placement: which peers should hold a file. Today it is the N-1 connected peers whose node ids
 * are closest to the file id by XOR distance (Kademlia's metric), so that the DHT, when it
 * lands, picks the same holders from the whole network instead of from the connected set.
 *
 * @module
 */

import { fromHex } from "../util/hex.ts";
import { InvalidArgumentError } from "../errors.ts";

/**
 * XOR distance between two byte strings, as bytes (big-endian). The shorter input is padded
 * with zero bytes on the right, so ids of different lengths (SHA-1 vs SHA-256 digests) compare.
 *
 * @example
 * ```ts
 * import { xorDistance } from "./placement.ts";
 * xorDistance(new Uint8Array([1, 2]), new Uint8Array([3, 2])); // Uint8Array [2, 0]
 * ```
 */
export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const n = Math.max(a.length, b.length);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** Compares two distances as big-endian unsigned numbers: negative when `a` is closer. */
export function compareDistance(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A candidate holder: anything with a hex node id. */
export interface PlacementCandidate {
  /** Node id, hex. */
  readonly nodeId: string;
}

/**
 * Picks the `count` candidates closest to `key` (a file id's digest, or any bytes) by XOR
 * distance to their node ids, closest first. Ties (equal ids) keep input order. Candidates whose
 * node id is not hex are ignored.
 *
 * Throws {@linkcode InvalidArgumentError} when `count` is negative or not an integer.
 *
 * @example Pick two holders for a file
 * ```ts
 * import { closestPeers } from "./placement.ts";
 * const peers = [{ nodeId: "ff00" }, { nodeId: "0f00" }, { nodeId: "0100" }];
 * closestPeers(new Uint8Array([0x00, 0x00]), peers, 2).map((p) => p.nodeId); // ["0100", "0f00"]
 * ```
 */
export function closestPeers<T extends PlacementCandidate>(
  key: Uint8Array,
  candidates: Iterable<T>,
  count: number,
): T[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new InvalidArgumentError(`placement count must be a non-negative integer, got ${count}`);
  }
  if (count === 0) return [];
  const scored: { peer: T; distance: Uint8Array; index: number }[] = [];
  let index = 0;
  for (const peer of candidates) {
    const id = fromHex(peer.nodeId);
    if (!id) continue;
    scored.push({ peer, distance: xorDistance(id, key), index: index++ });
  }
  scored.sort((x, y) => compareDistance(x.distance, y.distance) || x.index - y.index);
  return scored.slice(0, count).map((s) => s.peer);
}
