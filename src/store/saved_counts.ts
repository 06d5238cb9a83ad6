/**
 * The entry counts a block store keeps across a clean close (`counts.json` in its root), so that
 * the next open need not walk every entry: saved at close, and taken (read, then removed before
 * anything else is written) at open, so that a crash leaves no file with stale counts to trust.
 *
 * @module
 */

import { NotFoundError } from "../errors.ts";
import type { FileSystem } from "../runtime/types.ts";

/** The name of the saved counts in a store's root. */
export const COUNTS_FILE = "counts.json";

/** Entries and their bytes (bodies). */
export interface EntryCounts {
  /** Entries. */
  count: number;
  /** Their bytes. */
  bytes: number;
}

/**
 * Reads and removes the counts a clean close saved in `root`; `undefined` when absent or
 * unusable. Throws when the file cannot be removed: it could outlive a crash with stale counts.
 */
export async function takeSavedCounts(
  fs: FileSystem,
  root: string,
  fsync: boolean,
): Promise<EntryCounts | undefined> {
  const path = `${root}/${COUNTS_FILE}`;
  let text = "";
  try {
    text = new TextDecoder().decode(await fs.readFile(path, { maxBytes: 256 }));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    // Unreadable (too large, an I/O error): not used, and removed below all the same.
  }
  // Removed before anything is written: a crash from now on leaves no file to trust.
  await fs.remove(path);
  if (fsync) await fs.syncDir(root);
  try {
    const v = JSON.parse(text);
    if (
      v?.version === 1 && Number.isSafeInteger(v.count) && v.count >= 0 &&
      Number.isSafeInteger(v.bytes) && v.bytes >= 0
    ) {
      return { count: v.count, bytes: v.bytes };
    }
  } catch {
    // unreadable: count afresh
  }
  return undefined;
}

/**
 * Saves `counts` in `root` for the next open: written to `tmp`, then renamed into place. A
 * failure leaves no file (the next open counts afresh).
 */
export async function saveCounts(
  fs: FileSystem,
  root: string,
  tmp: string,
  counts: EntryCounts,
  fsync: boolean,
): Promise<void> {
  const text = JSON.stringify({ version: 1, ...counts });
  try {
    const file = await fs.create(tmp);
    try {
      await file.write(new TextEncoder().encode(text));
      if (fsync) await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(tmp, `${root}/${COUNTS_FILE}`);
    if (fsync) await fs.syncDir(root);
  } catch {
    await fs.remove(tmp).catch(() => {});
  }
}
