/**
 * Walks every block of a file (manifests and data) in post-order: each manifest comes after
 * all the blocks under it, so the root manifest comes last. The replicator sends blocks in this
 * order, which lets a receiver treat "a manifest whose parent has not arrived" as a file root
 * (see `file_index.ts`), and means a peer that holds a manifest holds everything below it.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { decodeManifest, type Manifest } from "../file/manifest.ts";
import type { BlockSource } from "../file/types.ts";
import { CorruptFileError } from "../file/errors.ts";
import { formatRedundancy } from "../file/redundancy.ts";
import type { StripeRef } from "../file/stripes.ts";

function policyText(m: Manifest): string {
  return m.redundancy ? formatRedundancy(m.redundancy) : "none";
}

/** One block of a file, as {@linkcode walkFileBlocks} yields it. */
export interface FileBlock {
  /** The block id. */
  readonly id: ContentId;
  /** True for a manifest, false for a data or parity block. */
  readonly manifest: boolean;
  /**
   * Reed-Solomon files: the shard's position in its stripe (0..k-1 data, k..k+m-1 parity),
   * which is the column of holders it is placed on. Absent for manifests and replicated files.
   */
  readonly column?: number;
  /** Reed-Solomon shards: the stripe they belong to (shared by the shards of one stripe). */
  readonly stripe?: StripeRef;
}

/**
 * Yields every block id of file `root` in post-order (see the module doc). Manifests are read
 * from `source`; data blocks are not read. Rejects with the source's errors, or with
 * `InvalidManifestError` / `CorruptFileError` when a manifest is malformed or disagrees with its
 * parent.
 *
 * @example
 * ```ts ignore
 * for await (const b of walkFileBlocks(fileId, localSource)) console.log(b.id, b.manifest);
 * ```
 */
export async function* walkFileBlocks(
  root: ContentId,
  source: BlockSource,
  signal?: AbortSignal,
): AsyncGenerator<FileBlock> {
  const top = decodeManifest(await source.getBlock(root, { signal }));
  if (top.algorithm !== root.algorithm) {
    throw new CorruptFileError(`root manifest ${root} lists ${top.algorithm} ids`);
  }
  yield* walkUnder(root, top, source, signal);
}

async function* walkUnder(
  id: ContentId,
  manifest: Manifest,
  source: BlockSource,
  signal?: AbortSignal,
): AsyncGenerator<FileBlock> {
  const rs = manifest.redundancy?.kind === "rs" ? manifest.redundancy : undefined;
  const stripes: StripeRef[] = [];
  const stripeOf = (s: number): StripeRef =>
    stripes[s] ??= {
      key: `${id}/${s}`,
      policy: rs!,
      data: manifest.children.slice(s * rs!.k, (s + 1) * rs!.k),
      parity: (manifest.parity ?? []).slice(s * rs!.m, (s + 1) * rs!.m),
      algorithm: manifest.algorithm,
    };
  for (let i = 0; i < manifest.children.length; i++) {
    const child = manifest.children[i];
    signal?.throwIfAborted();
    if (manifest.kind === "leaf") {
      yield rs
        ? {
          id: child.id,
          manifest: false,
          column: i % rs.k,
          stripe: stripeOf(Math.floor(i / rs.k)),
        }
        : { id: child.id, manifest: false };
      continue;
    }
    const sub = decodeManifest(await source.getBlock(child.id, { signal }));
    if (
      sub.height !== manifest.height - 1 || sub.size !== child.size ||
      sub.blockSize !== manifest.blockSize || sub.algorithm !== manifest.algorithm ||
      policyText(sub) !== policyText(manifest)
    ) {
      throw new CorruptFileError(`manifest ${child.id} disagrees with its parent ${id}`);
    }
    yield* walkUnder(child.id, sub, source, signal);
  }
  const parity = manifest.parity ?? [];
  for (let i = 0; i < parity.length; i++) {
    const stripe = stripeOf(Math.floor(i / rs!.m));
    yield { id: parity[i], manifest: false, column: rs!.k + (i % rs!.m), stripe };
  }
  yield { id, manifest: true };
}
