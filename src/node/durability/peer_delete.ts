/**
 * What a node does when a peer asks it to DELETE a block: it never deletes on a peer's word.
 *
 * A delete of a file travels as a signed tombstone (`tombstone.ts`), never as DELETE. The one
 * DELETE a node still sends is the repair leader's trim: "your copy of file F is one too many".
 * The receiver checks that itself before it drops anything: it probes the file's holders as its
 * own repair check does, and drops its copy only when the file is replicated, stays at or above
 * its policy's max without this copy, and the copy is not the last one. Anything else (a block
 * that is not an indexed file's root, a Reed-Solomon file, a file not above its max) is refused
 * with `PeerDeleteRefusedError` (wire BAD_REQUEST), and nothing is removed.
 *
 * @module
 */

import { DfsError } from "../../errors.ts";
import type { ContentId } from "../../id/content_id.ts";
import type { CheckedFile } from "./repairer.ts";

/** A peer's DELETE was refused; nothing was removed. Code `PEER_DELETE_REFUSED`. */
export class PeerDeleteRefusedError extends DfsError {
  /** Creates the error. */
  constructor(message: string) {
    super("PEER_DELETE_REFUSED", message);
  }
}

/** What answering a peer's DELETE needs of the node. */
export interface PeerDeleteHost {
  /** True when `id` is the root of a file indexed here. */
  isIndexedFile(id: ContentId): boolean;
  /** Checks the file's holders now (the repair loop's check); `undefined` when not indexed. */
  checkNow(id: ContentId): Promise<CheckedFile | undefined>;
  /** Removes this node's copy of a file. Resolves `true` when a copy was removed. */
  dropLocalCopy(id: ContentId): Promise<boolean>;
}

/**
 * Answers a peer's DELETE of `id` (see the module doc): resolves (`true` when a copy was removed)
 * once this node's copy is gone (a verified trim), rejects with {@linkcode PeerDeleteRefusedError} otherwise.
 *
 * @example
 * ```ts ignore
 * await answerPeerDelete(host, id); // throws PeerDeleteRefusedError unless `id` is a trimmable copy
 * ```
 */
export async function answerPeerDelete(host: PeerDeleteHost, id: ContentId): Promise<boolean> {
  if (!host.isIndexedFile(id)) {
    throw new PeerDeleteRefusedError(
      "unsigned deletes are refused: a file is deleted by its signed tombstone",
    );
  }
  const check = await host.checkNow(id);
  if (!check) throw new PeerDeleteRefusedError(`file ${id} is not held here`);
  const policy = check.policy;
  if (policy.kind !== "replicas") {
    throw new PeerDeleteRefusedError(`file ${id} is erasure-coded: its shards are never trimmed`);
  }
  // `live` counts this node's copy: without it the file must still have `max` copies.
  if (check.live - 1 < policy.max) {
    throw new PeerDeleteRefusedError(
      `file ${id} has ${check.live} live copies, not above its max of ${policy.max}: kept`,
    );
  }
  return await host.dropLocalCopy(id);
}
