/**
 * A file's health, from one round of probes: every candidate holder is asked (FILE_PROBE) which
 * of the file's root and first-stripe shards it holds, and whether it keeps a tombstone for it.
 *
 * The probe is cheap on purpose: a holder that has a file's root has its part of everything
 * under it (blocks travel root last, and each holder's scrubber keeps its own blocks whole), so
 * the root tells whether a node holds a replica, and the shards of the first stripe tell which
 * columns of a Reed-Solomon file it holds.
 *
 * @module
 */

import type { ContentId } from "../../id/content_id.ts";
import type { Manifest } from "../../file/manifest.ts";
import type { Redundancy } from "../../file/redundancy.ts";
import { loadChild } from "../../file/tree_walker.ts";
import type { BlockSource } from "../../file/types.ts";
import type { WireTombstone } from "../../wire/messages.ts";
import type { FileHealth, HealthWord } from "../types.ts";
import type { RemotePeer } from "../remote.ts";
import { rateColumns } from "./column_rating.ts";
import { fromWireAges } from "./grace_ages.ts";

/** The first stripe of a Reed-Solomon file: the ids probed for, per column. */
export interface SampleStripe {
  /** Shard id per column; `undefined` for the data columns a short stripe lacks (all zeros). */
  readonly columns: readonly (ContentId | undefined)[];
}

/** One node's answer. */
export interface HolderState {
  /** Node id, hex. */
  readonly nodeId: string;
  /** The peer (absent for the local node). */
  readonly peer?: RemotePeer;
  /** True when it holds the file's root (so all of its part of the file). */
  readonly root: boolean;
  /** Reed-Solomon: the columns it holds (root held too); replicas: `[]`. */
  readonly columns: readonly number[];
  /**
   * The copies or columns its repair loop sees missing (`c<column>`, `r<i>`), with how long ago
   * (ms, at most 30 days) it first saw each missing; absent when it reported none.
   */
  readonly ages?: ReadonlyMap<string, number>;
  /** The tombstone or revival it answered with (unverified), if any. */
  readonly tombstone?: WireTombstone;
}

/** What {@linkcode checkFile} found. */
export interface FileCheck extends FileHealth {
  /** The file's policy. */
  readonly policy: Redundancy;
  /** Every node that answered, holders or not. */
  readonly answers: readonly HolderState[];
  /** Peers that did not answer. */
  readonly silent: readonly RemotePeer[];
  /** Tombstones and revivals the answers carried (unverified: the caller checks them). */
  readonly tombstones: readonly WireTombstone[];
  /** Below target: replicas under min, or Reed-Solomon columns not each on a node of its own. */
  readonly below: boolean;
  /** Reed-Solomon: columns without a node of their own (each node counts for one column). */
  readonly missingColumns: readonly number[];
  /** Reed-Solomon: columns no node holds at all. */
  readonly absentColumns: readonly number[];
  /** Reed-Solomon: the columns that hold shards (all k + m unless the first stripe is short). */
  readonly realColumns: readonly number[];
}

/** Options of {@linkcode checkFile}. */
export interface CheckFileOptions {
  /** The file. */
  readonly fileId: ContentId;
  /** Its policy. */
  readonly policy: Redundancy;
  /** Reed-Solomon: the first stripe's shard ids (see {@linkcode sampleStripe}). */
  readonly sample?: SampleStripe;
  /** The local node: its id and which ids it holds. */
  readonly self: { readonly nodeId: string; has(ids: readonly ContentId[]): Promise<boolean[]> };
  /** Nodes to ask. */
  readonly peers: readonly RemotePeer[];
  /** Time allowed per probe. */
  readonly timeoutMs: number;
  /** Cancels the probes. */
  readonly signal?: AbortSignal;
}

/**
 * Probes the local node and `peers` (in parallel) and rates the file's health.
 *
 * @example
 * ```ts ignore
 * const check = await checkFile({ fileId, policy, self, peers, timeoutMs: 5000 });
 * console.log(check.health, check.live, check.target);
 * ```
 */
export async function checkFile(options: CheckFileOptions): Promise<FileCheck> {
  const { fileId, policy, sample } = options;
  const shardIds = (sample?.columns ?? []).filter((c): c is ContentId => c !== undefined);
  const ids = [fileId, ...shardIds];
  const tombstones: WireTombstone[] = [];
  const silent: RemotePeer[] = [];
  const toState = (nodeId: string, has: readonly boolean[], peer?: RemotePeer): HolderState => {
    const root = has[0] === true;
    const columns: number[] = [];
    if (root && sample) {
      let at = 1;
      sample.columns.forEach((c, col) => {
        if (c !== undefined && has[at++] === true) columns.push(col);
      });
    }
    return peer ? { nodeId, peer, root, columns } : { nodeId, root, columns };
  };
  const local = toState(options.self.nodeId, await options.self.has(ids));
  const remote = await Promise.all(options.peers.map(async (peer) => {
    try {
      const r = await peer.probe(fileId, ids, {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
      if (r.tombstone) tombstones.push(r.tombstone);
      const probed = toState(peer.nodeId, r.has, peer);
      const state = r.tombstone ? { ...probed, tombstone: r.tombstone } : probed;
      return r.ages?.length ? { ...state, ages: fromWireAges(r.ages) } : state;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      silent.push(peer);
      return undefined;
    }
  }));
  const answers = [local, ...remote.filter((r): r is HolderState => r !== undefined)];
  const columnsKnown = (sample?.columns.length ?? 0) > 0;
  // Without a first stripe (an empty file) a Reed-Solomon file is its manifests: every node
  // with the root holds all of it.
  const holders = answers.filter((a) =>
    a.root && (policy.kind === "replicas" || a.columns.length > 0 || !columnsKnown)
  );
  let live: number;
  let target: number;
  let survives: number;
  let below: boolean;
  let spread: number | undefined;
  let missingColumns: readonly number[] = [];
  let absentColumns: readonly number[] = [];
  const real: number[] = [];
  if (policy.kind === "replicas") {
    live = holders.length;
    target = policy.min;
    survives = live - 1;
    below = live < policy.min;
  } else {
    target = policy.k + policy.m;
    const columns = sample?.columns ?? [];
    // A column a short (or absent) first stripe lacks is zeros: nothing to lose.
    for (let c = 0; c < target; c++) {
      if (columns.length > 0 && columns[c] !== undefined) real.push(c);
    }
    if (real.length === 0) {
      // No stripe (an empty file): its manifests are all of it, on every holder.
      live = spread = Math.min(target, holders.length) > 0 ? target : 0;
      survives = holders.length - 1;
      below = holders.length < target;
    } else {
      const r = rateColumns(holders.map((h) => h.columns), real, policy.k, policy.m);
      live = r.live;
      spread = r.spread;
      survives = r.survives;
      below = r.spread < target;
      missingColumns = r.unspread;
      absentColumns = r.absent;
    }
  }
  const deletes = tombstones.filter((t) => !t.revival);
  const deletedAt = deletes.length ? Math.min(...deletes.map((t) => t.deletedAt)) : undefined;
  return {
    policy,
    health: healthWord(policy, live, survives, spread),
    live,
    target,
    ...(spread !== undefined ? { spread } : {}),
    survives: Math.max(-1, survives),
    holders: holders.map((h) =>
      policy.kind === "rs" ? { nodeId: h.nodeId, columns: h.columns } : { nodeId: h.nodeId }
    ),
    unreachable: silent.length,
    ...(deletedAt !== undefined ? { deletedAt } : {}),
    answers,
    silent,
    tombstones,
    below,
    missingColumns,
    absentColumns,
    realColumns: real,
  };
}

/**
 * The health word of a file: `live` copies (replicas) or shards per stripe held (Reed-Solomon),
 * how many more holder losses it `survives`, and (Reed-Solomon) how many columns sit on
 * distinct nodes (`spread`). Without `survives`, each copy or column is taken to be on its own
 * node.
 *
 * @example
 * ```ts
 * import { healthWord } from "./file_check.ts";
 * console.log(healthWord({ kind: "rs", k: 4, m: 2 }, 4)); // "at risk"
 * console.log(healthWord({ kind: "rs", k: 4, m: 2 }, 6, 1, 5)); // "degraded"
 * ```
 */
export function healthWord(
  policy: Redundancy,
  live: number,
  survives?: number,
  spread?: number,
): HealthWord {
  if (policy.kind === "replicas") {
    if (live >= policy.min) return "healthy";
    return live >= 2 ? "degraded" : live === 1 ? "at risk" : "lost";
  }
  const { k, m } = policy;
  if (live < k) return "lost";
  if ((spread ?? live) >= k + m) return "healthy";
  const more = survives ?? live - k;
  return more >= 1 ? "degraded" : "at risk";
}

/**
 * The first stripe of a Reed-Solomon file whose root manifest is `root`, walking down the first
 * child of each manifest (from `source`, normally the local store). `undefined` for a file
 * without stripes (an empty file) or a replicated one.
 *
 * @example
 * ```ts ignore
 * const sample = await sampleStripe(root, localSource);
 * ```
 */
export async function sampleStripe(
  root: Manifest,
  source: BlockSource,
  signal?: AbortSignal,
): Promise<SampleStripe | undefined> {
  const policy = root.redundancy;
  if (policy?.kind !== "rs") return undefined;
  let m = root;
  while (m.kind === "inner") m = await loadChild(m, m.children[0], source, signal);
  if (m.children.length === 0) return undefined;
  const columns: (ContentId | undefined)[] = [];
  for (let j = 0; j < policy.k; j++) columns.push(m.children[j]?.id);
  for (let j = 0; j < policy.m; j++) columns.push(m.parity?.[j]);
  return { columns };
}

export { matchColumns } from "./column_rating.ts";
