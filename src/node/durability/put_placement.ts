/**
 * Placing a new file on other nodes after a put: whole copies for a replicas policy, shard
 * columns for Reed-Solomon (see `shard_placement.ts`). Both push with the replicator, each
 * manifest after the blocks under it and the root last, so a node that holds a file's root
 * holds its part of everything under it.
 *
 * @module
 */

import { errorFields } from "../../util/log.ts";
import type { BlockSource } from "../../file/types.ts";
import type { ContentId } from "../../id/content_id.ts";
import { compareDistance, xorDistance } from "../placement.ts";
import { fromHex } from "../../util/hex.ts";
import { type Discovery, holderCandidates } from "../discovery.ts";
import type { NodeLogger } from "../options.ts";
import type { RemotePeer } from "../remote.ts";
import { type PushBytes, replicateFile } from "../replicator.ts";
import { type FileBlock, walkFileBlocks } from "../walk.ts";
import { type ColumnPlacement, placeColumns } from "./shard_placement.ts";

/** What placing a file needs of the node. */
export interface PlacementContext {
  /** DHT access for finding the nodes closest to a file. */
  readonly discovery: Discovery;
  /** Connected peers. */
  readonly remotes: readonly RemotePeer[];
  /** Reads a block to push (verified). */
  readonly readBlock: (id: ContentId, signal?: AbortSignal) => Promise<Uint8Array>;
  /**
   * Reads a block to push without verifying it, for targets that verify pushes on arrival
   * (with `recheck`; see `replicator.ts`). Absent: pushes read with `readBlock`.
   */
  readonly readUnverified?: (block: FileBlock, signal?: AbortSignal) => Promise<PushBytes>;
  /**
   * Checks the local copy of a block a target refused as corrupt (`recheckCopy` in
   * `bad_block_reports.ts`, at the node's bad-block rates).
   */
  readonly recheck?: (id: ContentId, from: string) => Promise<boolean>;
  /** Where manifests are read from when listing the file's blocks. */
  readonly manifests: BlockSource;
  /** Blocks in flight per push. */
  readonly concurrency: number;
  /** Time allowed for one remote request. */
  readonly timeoutMs: number;
  /** Log sink. */
  readonly log: NodeLogger;
}

/**
 * Pushes whole copies of file `id` to up to `want` of the nodes closest to it, trying further
 * candidates when one fails. Resolves with the number of copies confirmed.
 *
 * @example
 * ```ts ignore
 * const copies = 1 + await replicateCopies(ctx, fileId, 2);
 * ```
 */
export async function replicateCopies(
  ctx: PlacementContext,
  id: ContentId,
  want: number,
  signal?: AbortSignal,
  exclude: ReadonlySet<string> = new Set(),
): Promise<number> {
  if (want <= 0) return 0;
  const ordered = (await holderCandidates(ctx.discovery, id, ctx.remotes, signal))
    .filter((p) => !exclude.has(p.nodeId));
  let confirmed = 0;
  let next = 0;
  while (confirmed < want && next < ordered.length) {
    const targets = ordered.slice(next, next + want - confirmed);
    next += targets.length;
    confirmed += await pushTo(ctx, id, targets, undefined, signal);
  }
  return confirmed;
}

/**
 * Places the k + m shard columns of Reed-Solomon file `id` on the nodes closest to it (see
 * `shard_placement.ts`). Resolves with where each column went.
 *
 * @example
 * ```ts ignore
 * const placement = await placeShards(ctx, fileId, 6);
 * ```
 */
export async function placeShards(
  ctx: PlacementContext,
  id: ContentId,
  columns: number,
  signal?: AbortSignal,
): Promise<ColumnPlacement> {
  const candidates = await holderCandidates(ctx.discovery, id, ctx.remotes, signal);
  return await placeColumns({
    columns,
    candidates,
    selfRank: rankOf(ctx.discovery.selfId, id, candidates),
    push: async (peer, cols) => (await pushTo(ctx, id, [peer], cols, signal)) === 1,
  });
}

/** How many of `candidates` are closer to file `id` than node `selfId`. */
export function rankOf(selfId: string, id: ContentId, candidates: readonly RemotePeer[]): number {
  const self = fromHex(selfId);
  if (!self) return candidates.length;
  const mine = xorDistance(self, id.digest);
  let rank = 0;
  for (const c of candidates) {
    const other = fromHex(c.nodeId);
    if (other && compareDistance(xorDistance(other, id.digest), mine) < 0) rank++;
  }
  return rank;
}

/**
 * Pushes file `id` to `targets`: every block, or with `columns` the manifests and the shards of
 * those columns. Resolves with the number of targets that confirmed.
 */
export async function pushTo(
  ctx: PlacementContext,
  id: ContentId,
  targets: readonly RemotePeer[],
  columns: ReadonlySet<number> | undefined,
  signal?: AbortSignal,
  readBlock: (block: FileBlock, signal?: AbortSignal) => Promise<Uint8Array> = (b, s) =>
    ctx.readBlock(b.id, s),
): Promise<number> {
  // The replicator asks for bytes by id: remember what each id listed was (bounded by the
  // replicator's batches, which read the blocks just listed).
  const listed = new Map<string, FileBlock>();
  const blockOf = (b: ContentId): FileBlock =>
    listed.get(b.toString()) ?? { id: b, manifest: false };
  const result = await replicateFile({
    fileId: id,
    blockIds: async function* () {
      for await (const b of walkFileBlocks(id, ctx.manifests, signal)) {
        if (columns && b.column !== undefined && !columns.has(b.column)) continue;
        listed.set(b.id.toString(), b);
        if (listed.size > 8192) listed.delete(listed.keys().next().value!);
        yield b.id;
      }
    },
    readBlock: (b, s) => readBlock(blockOf(b), s),
    ...(ctx.readUnverified && ctx.recheck && {
      readUnverified: (b: ContentId, s?: AbortSignal) => ctx.readUnverified!(blockOf(b), s),
      recheck: ctx.recheck,
    }),
    targets,
    concurrency: ctx.concurrency,
    timeoutMs: ctx.timeoutMs,
    signal,
  });
  for (const o of result.outcomes) {
    if (!o.ok) {
      ctx.log("warn", "replication to peer failed", {
        id: id.toString(),
        peer: o.peer.nodeId,
        ...errorFields(o.error),
      });
    }
  }
  return result.confirmed.length;
}
