/**
 * Only a file's owner deletes it. A put records the putting node's Ed25519 key in the file's
 * root manifest (`owner`, `docs/file-format.md`); a holder takes a tombstone for the file only
 * when that key issued it. In a private cluster every member may delete (the cluster key admits
 * members only). A node without the file's root keeps a tombstone unchecked: it only passes it
 * on, and each holder checks it against its own root. A file put before owners were recorded
 * (no owner in its root) takes any valid tombstone.
 *
 * @module
 */

import { decodeManifest } from "../../file/manifest.ts";
import type { BlockStore } from "../../store/types.ts";
import { InvalidTombstoneError, type Tombstone } from "./tombstone.ts";
import { bytesEqual } from "../../util/bytes_equal.ts";

/**
 * Throws {@linkcode InvalidTombstoneError} (`NOT_OWNER`) when `store` holds the root of the
 * tombstone's file and that root names an owner other than the tombstone's issuer (see the
 * module doc); resolves otherwise.
 *
 * @example
 * ```ts ignore
 * await checkTombstoneOwner(store, tombstone, false); // throws NOT_OWNER for a stranger's delete
 * ```
 */
export async function checkTombstoneOwner(
  store: Pick<BlockStore, "has" | "readBytes">,
  t: Tombstone,
  privateCluster: boolean,
): Promise<void> {
  if (privateCluster || !(await store.has(t.fileId))) return;
  let owner: Uint8Array | undefined;
  try {
    owner = decodeManifest(await store.readBytes(t.fileId)).owner;
  } catch {
    return; // not a manifest here (a bare block, or rotten: the scrubber's business)
  }
  if (owner && !bytesEqual(owner, t.issuer)) {
    throw new InvalidTombstoneError(
      "NOT_OWNER",
      `file ${t.fileId} is owned by another key; only its owner deletes it`,
    );
  }
}
