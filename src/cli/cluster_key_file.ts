/**
 * Reading `serve`'s cluster key file (`--cluster-key-file PATH`, or `$DFS_CLUSTER_KEY_FILE`).
 *
 * @module
 */

import { DfsError } from "../errors.ts";
import { MAX_CLUSTER_KEY_BYTES, MIN_CLUSTER_KEY_BYTES } from "../peer/cluster_key.ts";
import type { FileSystem } from "../runtime/types.ts";
import { UsageError } from "./errors.ts";

/**
 * Reads the cluster key from `path` through the runtime's file system: the file's raw bytes, all
 * of them (a trailing newline or space is part of the key, nothing is stripped or decoded), read
 * with a bound of 1024 bytes. A missing, unreadable, short (under 16 bytes) or oversized file is a
 * {@linkcode UsageError} of `serve` (exit 2) naming `what` and the path, never the key's bytes.
 *
 * @example
 * ```ts ignore
 * // head -c 32 /dev/urandom > cluster.key && chmod 600 cluster.key
 * const key = await readClusterKeyFile(runtime.fs, "cluster.key", "--cluster-key-file");
 * key.length; // 32
 * ```
 */
export async function readClusterKeyFile(
  fs: Pick<FileSystem, "readFile">,
  path: string,
  what: string,
): Promise<Uint8Array> {
  let key: Uint8Array;
  try {
    key = await fs.readFile(path, { maxBytes: MAX_CLUSTER_KEY_BYTES });
  } catch (err) {
    const code = err instanceof DfsError ? err.code : "";
    if (code === "FILE_TOO_LARGE") {
      throw new UsageError(
        `${what}: ${path} is larger than ${MAX_CLUSTER_KEY_BYTES} bytes; a cluster key is ` +
          `${MIN_CLUSTER_KEY_BYTES}..${MAX_CLUSTER_KEY_BYTES} bytes`,
        "serve",
      );
    }
    const why = code === "NOT_FOUND"
      ? "no such file"
      : (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim();
    throw new UsageError(`${what}: cannot read ${path}: ${why}`, "serve");
  }
  if (key.length < MIN_CLUSTER_KEY_BYTES) {
    throw new UsageError(
      `${what}: ${path} holds ${key.length} bytes; a cluster key needs at least ` +
        `${MIN_CLUSTER_KEY_BYTES} (make one with: head -c 32 /dev/urandom > ${path})`,
      "serve",
    );
  }
  return key;
}
