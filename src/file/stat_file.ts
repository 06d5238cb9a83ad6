/**
 * `statFile`: describe a file from its manifests alone.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { CorruptFileError } from "./errors.ts";
import type { Manifest } from "./manifest.ts";
import { throwIfAborted } from "./options.ts";
import { loadChild, loadRoot } from "./tree_walker.ts";
import { plaintextSize } from "./block_cipher.ts";
import type { BlockSource, FileStat } from "./types.ts";

/**
 * Reads every manifest of file `id` (never a data block), one at a time, and reports its
 * size, number of data blocks, block size, depth (levels of manifests) and number of
 * manifests, and whether it is encrypted (the size is then the plaintext's, computed from
 * the stored sizes: no key is needed). Checks the tree's consistency on the way. Rejects like
 * {@linkcode import("./read_file.ts").readFile} does when opening a file, and with
 * {@linkcode CorruptFileError} when manifests disagree.
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
  let parityBlocks = 0;
  let stripes = 0;
  let manifests = 1;
  let offset = 0;

  const visit = async (m: Manifest): Promise<void> => {
    if (m.kind === "leaf") {
      blocks += m.children.length;
      parityBlocks += m.parity?.length ?? 0;
      if (m.redundancy?.kind === "rs") stripes += Math.ceil(m.children.length / m.redundancy.k);
      offset += m.size;
      const last = m.children.at(-1);
      // The decoder checked every entry but the last; a short last one must end the file.
      if (last && last.size !== m.blockSize && offset !== root.size) {
        throw new CorruptFileError(
          `data block ${last.id} ends at ${offset} with ${last.size} bytes; only the file's last block may be shorter than ${m.blockSize}`,
        );
      }
      return;
    }
    for (const entry of m.children) {
      throwIfAborted(signal, "stat");
      manifests++;
      await visit(await loadChild(m, entry, source, signal));
    }
  };
  await visit(root);

  return {
    size: root.encrypted ? plaintextSize(root.size, root.blockSize) : root.size,
    ...(root.encrypted ? { encrypted: true as const } : {}),
    blocks,
    blockSize: root.blockSize,
    depth: root.height + 1,
    manifests,
    algorithm: root.algorithm,
    ...(root.redundancy ? { redundancy: root.redundancy } : {}),
    parityBlocks,
    stripes,
  };
}
