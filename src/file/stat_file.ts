/**
 * `statFile`: describe a file from its manifests alone.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { throwIfAborted } from "./options.ts";
import { loadRoot, walkDataBlocks } from "./tree_walker.ts";
import type { BlockSource, FileStat } from "./types.ts";

/**
 * Reads every manifest of file `id` (never a data block) and reports its size, number of
 * data blocks, block size, depth (levels of manifests) and number of manifests. Checks the
 * tree's consistency on the way. Rejects like {@linkcode import("./read_file.ts").readFile}
 * does when opening a file, and with `CorruptFileError` when manifests disagree.
 *
 * @example
 * ```ts ignore
 * const stat = await statFile(fileId, source);
 * console.log(stat.size, stat.blocks, stat.depth);
 * ```
 */
export async function statFile(
  id: ContentId,
  source: BlockSource,
  options: { readonly signal?: AbortSignal } = {},
): Promise<FileStat> {
  const { signal } = options;
  throwIfAborted(signal, "stat");
  const root = await loadRoot(id, source, signal);
  let blocks = 0;
  let manifests = 1;
  const walk = walkDataBlocks(root, source, { signal, onManifest: () => manifests++ });
  for await (const _ of walk) blocks++;
  return {
    size: root.size,
    blocks,
    blockSize: root.blockSize,
    depth: root.height + 1,
    manifests,
    algorithm: root.algorithm,
  };
}
