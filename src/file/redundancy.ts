/**
 * Redundancy policies: how many copies of a file, or how many Reed-Solomon shards, the network
 * keeps. A policy is chosen at put time and recorded in every manifest of the file (manifest
 * version 2), so any node that reads the file knows what to keep.
 *
 * Text forms (CLI `--redundancy`, API `?redundancy=`):
 * - `replicas:N`: N whole copies; repair acts below N and trims above N.
 * - `replicas:MIN-MAX`: a put places MAX copies; repair re-creates copies only below MIN and
 *   trims above MAX (ipfs-cluster's replication_factor_min / _max), so a node that comes back
 *   after a repair does not cause churn.
 * - `rs:K+M`: Reed-Solomon, each stripe of K data blocks gets M parity blocks; any K of the
 *   K + M shards of a stripe rebuild it, so a file survives the loss of any M holders.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Whole copies: at least `min`, at most `max` (1 ≤ min ≤ max ≤ {@linkcode MAX_REPLICAS}). */
export interface ReplicasPolicy {
  /** Scheme tag. */
  readonly kind: "replicas";
  /** Repair re-creates copies below this many. */
  readonly min: number;
  /** A put places this many; repair trims copies above it. */
  readonly max: number;
}

/** Reed-Solomon: `k` data and `m` parity shards per stripe (k + m ≤ {@linkcode MAX_SHARDS}). */
export interface ErasurePolicy {
  /** Scheme tag. */
  readonly kind: "rs";
  /** Data shards per stripe. */
  readonly k: number;
  /** Parity shards per stripe: the number of shard losses a stripe survives. */
  readonly m: number;
}

/** A file's redundancy policy. */
export type Redundancy = ReplicasPolicy | ErasurePolicy;

/** Most copies a replicas policy may ask for. */
export const MAX_REPLICAS = 64;
/** Most shards (k + m) per stripe. */
export const MAX_SHARDS = 64;
/** The default policy: three whole copies. */
export const DEFAULT_REDUNDANCY: Redundancy = Object.freeze({ kind: "replicas", min: 3, max: 3 });

/**
 * Parses a policy's text form (see the module doc). Throws {@linkcode InvalidArgumentError}
 * with the accepted forms on anything else.
 *
 * @example
 * ```ts
 * import { parseRedundancy } from "./redundancy.ts";
 * console.log(parseRedundancy("rs:4+2")); // { kind: "rs", k: 4, m: 2 }
 * console.log(parseRedundancy("replicas:2-4")); // { kind: "replicas", min: 2, max: 4 }
 * ```
 */
export function parseRedundancy(text: string): Redundancy {
  const t = typeof text === "string" ? text.trim().toLowerCase() : "";
  let match = /^replicas:(\d{1,3})(?:-(\d{1,3}))?$/.exec(t);
  if (match) {
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : Number(match[2]);
    return checkRedundancy({ kind: "replicas", min, max });
  }
  match = /^rs:(\d{1,3})\+(\d{1,3})$/.exec(t);
  if (match) return checkRedundancy({ kind: "rs", k: Number(match[1]), m: Number(match[2]) });
  throw new InvalidArgumentError(
    `redundancy must be replicas:N, replicas:MIN-MAX or rs:K+M (e.g. replicas:3, rs:4+2), got ${
      JSON.stringify(text)
    }`,
  );
}

/**
 * Returns `policy` when its numbers are in bounds, else throws {@linkcode InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { checkRedundancy } from "./redundancy.ts";
 * checkRedundancy({ kind: "rs", k: 10, m: 4 }); // fine
 * ```
 */
export function checkRedundancy(policy: Redundancy): Redundancy {
  const problem = redundancyProblem(policy);
  if (problem) throw new InvalidArgumentError(problem);
  return policy;
}

/** What is wrong with `policy`, or `undefined` (shared with the manifest decoder). */
export function redundancyProblem(policy: Redundancy): string | undefined {
  const int = (n: unknown) => typeof n === "number" && Number.isInteger(n);
  if (policy?.kind === "replicas") {
    const { min, max } = policy;
    if (!int(min) || !int(max) || min < 1 || max < min || max > MAX_REPLICAS) {
      return `replicas needs 1 <= min <= max <= ${MAX_REPLICAS}, got ${min}-${max}`;
    }
    return undefined;
  }
  if (policy?.kind === "rs") {
    const { k, m } = policy;
    if (!int(k) || !int(m) || k < 1 || m < 1 || k + m > MAX_SHARDS) {
      return `rs needs k >= 1, m >= 1 and k + m <= ${MAX_SHARDS}, got ${k}+${m}`;
    }
    return undefined;
  }
  return `unknown redundancy kind ${String((policy as { kind?: unknown })?.kind)}`;
}

/**
 * The text form of a policy (`replicas:3`, `replicas:2-4`, `rs:4+2`).
 *
 * @example
 * ```ts
 * import { formatRedundancy } from "./redundancy.ts";
 * console.log(formatRedundancy({ kind: "replicas", min: 3, max: 3 })); // "replicas:3"
 * ```
 */
export function formatRedundancy(policy: Redundancy): string {
  if (policy.kind === "rs") return `rs:${policy.k}+${policy.m}`;
  return policy.min === policy.max
    ? `replicas:${policy.min}`
    : `replicas:${policy.min}-${policy.max}`;
}

/**
 * Nodes a put places the file on: `max` for replicas, `k + m` for Reed-Solomon.
 *
 * @example
 * ```ts
 * import { holdersWanted } from "./redundancy.ts";
 * console.log(holdersWanted({ kind: "rs", k: 4, m: 2 })); // 6
 * ```
 */
export function holdersWanted(policy: Redundancy): number {
  return policy.kind === "rs" ? policy.k + policy.m : policy.max;
}

/** True when two policies are the same. */
export function sameRedundancy(a: Redundancy, b: Redundancy): boolean {
  return formatRedundancy(a) === formatRedundancy(b);
}
