/**
 * Bytes of a file's block, whatever it takes: the local copy, else a peer's, else (for a
 * Reed-Solomon shard) rebuilt from k other shards of its stripe. Used by repair (to push a
 * lost column to a new holder) and by the scrubber (to restore a rotten local block).
 *
 * @module
 */

import { ContentId } from "../../id/content_id.ts";
import { CorruptFileError } from "../../file/errors.ts";
import { encodeStripe, recoverStripe } from "../../file/stripes.ts";
import type { BlockSource } from "../../file/types.ts";
import type { FileBlock } from "../walk.ts";

/**
 * Makes a reader of a file's blocks: `local` first, then `remote` (verified by its fetcher),
 * then reconstruction. Rebuilt stripes are kept for the next shards of the same stripe (the
 * last two stripes). A rebuilt shard is checked against its id.
 *
 * @example
 * ```ts ignore
 * const read = shardReader(localSource, fetcher);
 * for await (const b of walkFileBlocks(fileId, localSource)) await read(b);
 * ```
 */
export function shardReader(
  local: BlockSource,
  remote: BlockSource,
  options: { readonly tryRemoteFirst?: boolean } = {},
): (block: FileBlock, signal?: AbortSignal) => Promise<Uint8Array> {
  const rebuilt = new Map<string, Promise<Uint8Array[]>>();
  const both: BlockSource = {
    getBlock: async (id, o) => {
      try {
        return await local.getBlock(id, o);
      } catch {
        return await remote.getBlock(id, o);
      }
    },
  };
  return async (block, signal) => {
    try {
      return await local.getBlock(block.id, { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      const { stripe, column } = block;
      if (!stripe || column === undefined || options.tryRemoteFirst) {
        try {
          return await remote.getBlock(block.id, { signal });
        } catch (err2) {
          if (!stripe || column === undefined || signal?.aborted) throw err2;
        }
      }
      let all = rebuilt.get(stripe.key);
      if (!all) {
        all = rebuildStripe(stripe, both, signal);
        all.catch(() => {});
        rebuilt.set(stripe.key, all);
        if (rebuilt.size > 2) rebuilt.delete(rebuilt.keys().next().value!);
      }
      const shards = await all;
      const bytes = shards[column];
      const got = await ContentId.of(bytes, block.id.algorithm);
      if (!got.equals(block.id)) {
        throw new CorruptFileError(`rebuilt shard ${column} of ${stripe.key} hashes to ${got}`);
      }
      return bytes;
    }
  };
}

/** Every shard of a stripe, data (at its own length) then parity. */
async function rebuildStripe(
  stripe: NonNullable<FileBlock["stripe"]>,
  source: BlockSource,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  const data = await recoverStripe(stripe, source, { signal });
  const out: Uint8Array[] = [...data];
  for (let j = data.length; j < stripe.policy.k; j++) out.push(new Uint8Array(0));
  out.push(...encodeStripe(stripe.policy, data));
  return out;
}
