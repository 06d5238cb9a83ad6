/**
 * Defaults and bounds of the file layer's options, filled in one place.
 *
 * @module
 */

import { DEFAULT_HASH, type HashAlgorithm } from "../id/content_id.ts";
import { AbortedError, InvalidArgumentError } from "../errors.ts";
import {
  DEFAULT_BLOCK_SIZE,
  isBlockSize,
  MANIFEST_HEADER_SIZE,
  MANIFEST_HEADER_SIZE_V2,
  manifestEntrySize,
  MAX_BLOCK_SIZE,
  MAX_FANOUT,
  MIN_BLOCK_SIZE,
} from "./manifest.ts";
import type { PutFileOptions } from "./types.ts";
import { checkRedundancy, type ErasurePolicy, type Redundancy } from "./redundancy.ts";

/** Default number of blocks hashed and stored at once by `putFile`. */
export const DEFAULT_PUT_CONCURRENCY = 4;
/** Default number of data blocks fetched ahead by `readFile`. */
export const DEFAULT_READ_CONCURRENCY = 8;
/** Upper bound of both concurrency options. */
export const MAX_CONCURRENCY = 64;

/** `putFile` options with every default filled in. */
export interface ResolvedPutOptions {
  /** Data block size. */
  readonly blockSize: number;
  /** Hash algorithm. */
  readonly algorithm: HashAlgorithm;
  /** Children per manifest at most. */
  readonly fanout: number;
  /** Blocks in flight at most. */
  readonly concurrency: number;
  /** The policy recorded in the manifests (absent: a version 1 manifest, no policy). */
  readonly redundancy?: Redundancy;
  /** Data blocks per leaf manifest (equals `fanout` except for Reed-Solomon). */
  readonly leafFanout: number;
}

/**
 * The largest fan-out whose manifest still fits in one block of `blockSize`, capped at
 * {@linkcode MAX_FANOUT}: 4096 for 256 KiB SHA-256 blocks, 23 for 1 KiB ones.
 *
 * @example
 * ```ts
 * import { defaultFanout } from "./options.ts";
 * console.log(defaultFanout(256 * 1024, "sha-256")); // 4096
 * ```
 */
export function defaultFanout(
  blockSize: number,
  algorithm: HashAlgorithm,
  versioned = false,
): number {
  const header = versioned ? MANIFEST_HEADER_SIZE_V2 : MANIFEST_HEADER_SIZE;
  const fit = Math.floor((blockSize - header) / manifestEntrySize(algorithm));
  return Math.min(MAX_FANOUT, fit);
}

/**
 * Data blocks per leaf manifest of a Reed-Solomon file: whole stripes only, as many as fit in
 * one block with their parity ids and at most `fanout`. Throws {@linkcode InvalidArgumentError}
 * when not even one stripe fits.
 *
 * @example
 * ```ts
 * import { erasureLeafFanout } from "./options.ts";
 * console.log(erasureLeafFanout(256 * 1024, "sha-256", { kind: "rs", k: 4, m: 2 }, 4096)); // 4096
 * ```
 */
export function erasureLeafFanout(
  blockSize: number,
  algorithm: HashAlgorithm,
  policy: ErasurePolicy,
  fanout: number,
): number {
  const entry = manifestEntrySize(algorithm);
  const perStripe = policy.k * entry + policy.m * (entry - 8);
  const stripes = Math.min(
    Math.floor((blockSize - MANIFEST_HEADER_SIZE_V2) / perStripe),
    Math.floor(fanout / policy.k),
  );
  if (stripes < 1) {
    throw new InvalidArgumentError(
      `rs:${policy.k}+${policy.m} does not fit: one stripe's manifest entries need ${
        MANIFEST_HEADER_SIZE_V2 + perStripe
      } bytes with ${blockSize}-byte blocks and fan-out ${fanout}`,
    );
  }
  return stripes * policy.k;
}

/**
 * Fills in defaults and checks bounds. Throws {@linkcode InvalidArgumentError} on a block
 * size outside 1 KiB..4 MiB, an unknown algorithm, a fan-out outside 2..4096 or too large for
 * one block, or a concurrency outside 1..64.
 */
export function resolvePutOptions(options: PutFileOptions = {}): ResolvedPutOptions {
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!isBlockSize(blockSize)) {
    throw new InvalidArgumentError(
      `blockSize must be an integer in ${MIN_BLOCK_SIZE}..${MAX_BLOCK_SIZE}, got ${blockSize}`,
    );
  }
  const algorithm = options.algorithm ?? DEFAULT_HASH;
  if (algorithm !== "sha-256" && algorithm !== "sha-1") {
    throw new InvalidArgumentError(`unknown hash algorithm ${String(algorithm)}`);
  }
  const redundancy = options.redundancy === undefined
    ? undefined
    : checkRedundancy(options.redundancy);
  const most = defaultFanout(blockSize, algorithm, redundancy !== undefined);
  const fanout = options.fanout ?? most;
  if (!Number.isInteger(fanout) || fanout < 2 || fanout > most) {
    throw new InvalidArgumentError(
      `fanout must be an integer in 2..${most} for ${blockSize}-byte ${algorithm} blocks, got ${fanout}`,
    );
  }
  const concurrency = checkConcurrency(options.concurrency, DEFAULT_PUT_CONCURRENCY);
  const leafFanout = redundancy?.kind === "rs"
    ? erasureLeafFanout(blockSize, algorithm, redundancy, fanout)
    : fanout;
  return {
    blockSize,
    algorithm,
    fanout,
    concurrency,
    leafFanout,
    ...(redundancy ? { redundancy } : {}),
  };
}

/** Returns `value` (or `fallback`) after checking it is an integer in 1..64. */
export function checkConcurrency(value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new InvalidArgumentError(
      `concurrency must be an integer in 1..${MAX_CONCURRENCY}, got ${n}`,
    );
  }
  return n;
}

/** Throws {@linkcode AbortedError} when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(`${what} aborted`, { cause: signal.reason });
}
