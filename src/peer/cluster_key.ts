/**
 * The cluster key: a secret shared by the nodes of a private cluster. A node configured with one
 * completes a handshake only with nodes holding the same key (see `handshake.ts`); without one the
 * cluster is open. This module holds its size bounds and the check every entry point runs.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Fewest bytes a cluster key may have (128 bits). */
export const MIN_CLUSTER_KEY_BYTES = 16;

/** Most bytes a cluster key may have. */
export const MAX_CLUSTER_KEY_BYTES = 1024;

/**
 * Checks `key` is a `Uint8Array` of {@linkcode MIN_CLUSTER_KEY_BYTES}..
 * {@linkcode MAX_CLUSTER_KEY_BYTES} bytes and returns a private copy of it (so a caller that
 * later overwrites its buffer does not change the key in use). `undefined` passes through. Throws
 * {@linkcode InvalidArgumentError} otherwise; the message gives the length, never the bytes.
 *
 * @example
 * ```ts
 * import { checkClusterKey } from "./cluster_key.ts";
 * const key = checkClusterKey(crypto.getRandomValues(new Uint8Array(32)));
 * console.log(key?.length); // 32
 * try {
 *   checkClusterKey(new Uint8Array(8));
 * } catch (err) {
 *   console.log((err as Error).message); // clusterKey must be 16..1024 bytes, got 8
 * }
 * ```
 */
export function checkClusterKey(key: unknown, what = "clusterKey"): Uint8Array | undefined {
  if (key === undefined) return undefined;
  if (!(key instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what} must be a Uint8Array`);
  }
  if (key.length < MIN_CLUSTER_KEY_BYTES || key.length > MAX_CLUSTER_KEY_BYTES) {
    throw new InvalidArgumentError(
      `${what} must be ${MIN_CLUSTER_KEY_BYTES}..${MAX_CLUSTER_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  return key.slice();
}
