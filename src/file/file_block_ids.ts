/**
 * `fileBlockIds` and `fileBlocks`: every block of a file, manifests and data, for
 * replication and deletion.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import type { Manifest } from "./manifest.ts";
import { throwIfAborted } from "./options.ts";
import { loadChild, loadRoot } from "./tree_walker.ts";
import type { BlockSource } from "./types.ts";

/** One block of a file, as listed by {@linkcode fileBlocks}. */
export interface FileBlock {
  /** Content id of the block. */
  readonly id: ContentId;
  /**
   * `"manifest"` for the root and inner manifests, `"data"` for file bytes, `"parity"` for the
   * parity shards of a Reed-Solomon file.
   */
  readonly kind: "manifest" | "data" | "parity";
}

/**
 * Yields every block of file `id` with its kind, depth first in file order: each manifest
 * before its children, the root first; a Reed-Solomon leaf's parity ids after its data blocks. Fetches manifests only (one at a time). A block
 * that occurs several times in the file (repeated content) is yielded each time; callers
 * that need a set dedupe. Rejects like `statFile` when a manifest is missing or malformed.
 *
 * @example Count a file's manifests
 * ```ts ignore
 * let manifests = 0;
 * for await (const block of fileBlocks(fileId, source)) if (block.kind === "manifest") manifests++;
 * ```
 */
export async function* fileBlocks(
  id: ContentId,
  source: BlockSource,
  options: { readonly signal?: AbortSignal } = {},
): AsyncGenerator<FileBlock, void, undefined> {
  const { signal } = options;
  throwIfAborted(signal, "listing blocks");
  const root = await loadRoot(id, source, signal);
  yield { id, kind: "manifest" };

  async function* walk(m: Manifest): AsyncGenerator<FileBlock, void, undefined> {
    for (const entry of m.children) {
      throwIfAborted(signal, "listing blocks");
      if (m.kind === "leaf") {
        yield { id: entry.id, kind: "data" };
      } else {
        const child = await loadChild(m, entry, source, signal);
        yield { id: entry.id, kind: "manifest" };
        yield* walk(child);
      }
    }
    for (const id of m.parity ?? []) yield { id, kind: "parity" };
  }
  yield* walk(root);
}

/**
 * Yields the id of every block of file `id`, manifests and data: {@linkcode fileBlocks}
 * without the kinds. Same order, repeats and errors.
 *
 * @example Delete a file's blocks
 * ```ts ignore
 * for await (const blockId of fileBlockIds(fileId, source)) await store.delete(blockId);
 * ```
 */
export async function* fileBlockIds(
  id: ContentId,
  source: BlockSource,
  options: { readonly signal?: AbortSignal } = {},
): AsyncGenerator<ContentId, void, undefined> {
  for await (const block of fileBlocks(id, source, options)) yield block.id;
}
