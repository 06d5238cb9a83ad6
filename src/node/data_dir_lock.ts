/**
 * The data directory lock: `<dataDir>/LOCK`, created exclusively, holding the owner's pid, its
 * start time and a random token, so that two nodes never share one data directory (same node
 * id, one store's temporary files emptied under the other's writes).
 *
 * A lock whose pid is no longer alive is stale and taken over, but only when the runtime can
 * tell (`ProcessHost.isProcessAlive`); without it an existing lock is held, and the error says
 * how to remove it. The takeover is serialized by a second exclusive file (`LOCK.takeover`),
 * so that two processes finding the same stale lock do not both end up holding it; a takeover
 * file older than {@linkcode TAKEOVER_STALE_MS} is left over from a crash and removed.
 *
 * @module
 */

import { AlreadyExistsError, NotFoundError } from "../errors.ts";
import type { FileSystem } from "../runtime/types.ts";
import { toHex } from "../util/hex.ts";
import { DataDirLockedError } from "./errors.ts";

/** Name of the lock file inside the data directory. */
export const LOCK_FILE = "LOCK";

/** Age (ms) after which a leftover `LOCK.takeover` file is considered abandoned. */
export const TAKEOVER_STALE_MS = 10_000;

/** What a `LOCK` file holds (JSON). */
export interface LockContent {
  /** Process id of the holder (0 when the runtime has no process, e.g. in memory). */
  readonly pid: number;
  /** When the holder took the lock (ISO 8601). */
  readonly startedAt: string;
  /** Random token that tells this holder's lock from a later one with the same pid. */
  readonly token: string;
}

/** What {@linkcode acquireDataDirLock} needs to know about the process. */
export interface LockOptions {
  /** Our pid (default 0: no process). */
  readonly pid?: number;
  /** Liveness probe; without it any existing lock counts as held. */
  readonly isProcessAlive?: (pid: number) => boolean;
}

/** A held data directory lock. */
export interface DataDirLock {
  /** Path of the `LOCK` file. */
  readonly path: string;
  /** What we wrote into it. */
  readonly content: LockContent;
  /** Removes the lock if it is still ours. Idempotent; never throws. */
  release(): Promise<void>;
}

/**
 * Takes `<dir>/LOCK` (creating `dir` with mode 0o700 if needed). Rejects with
 * {@linkcode DataDirLockedError} when a live holder has it, or when liveness cannot be checked.
 *
 * @example
 * ```ts
 * import { acquireDataDirLock } from "./data_dir_lock.ts";
 * import { MemoryFileSystem } from "../runtime/memory/fs.ts";
 * const fs = new MemoryFileSystem();
 * const lock = await acquireDataDirLock(fs, "/data", { pid: 42 });
 * await acquireDataDirLock(fs, "/data", { pid: 43 }).catch((e) => console.log(e.code)); // DATA_DIR_LOCKED
 * await lock.release();
 * ```
 */
export async function acquireDataDirLock(
  fs: FileSystem,
  dir: string,
  options: LockOptions = {},
): Promise<DataDirLock> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  const content: LockContent = {
    pid: options.pid ?? 0,
    startedAt: new Date().toISOString(),
    token: toHex(crypto.getRandomValues(new Uint8Array(8))),
  };
  if (await tryCreate(fs, path, content)) return held(fs, path, content);
  const existing = await readLock(fs, path);
  if (existing === "missing") {
    // Released between our create and our read: one more try, no loop.
    if (await tryCreate(fs, path, content)) return held(fs, path, content);
    throw lockedError(dir, path, await readLock(fs, path), options);
  }
  const alive = options.isProcessAlive;
  if (existing === "unreadable" || alive === undefined || alive(existing.pid)) {
    throw lockedError(dir, path, existing, options);
  }
  // Stale: take it over under the takeover lock.
  const takeover = `${path}.takeover`;
  if (!(await tryCreate(fs, takeover, content))) {
    const info = await fs.stat(takeover);
    if (info === null || Date.now() - info.mtimeMs < TAKEOVER_STALE_MS) {
      throw lockedError(dir, path, existing, options, "another process is taking over the lock");
    }
    await fs.remove(takeover);
    if (!(await tryCreate(fs, takeover, content))) {
      throw lockedError(dir, path, existing, options, "another process is taking over the lock");
    }
  }
  try {
    const again = await readLock(fs, path);
    if (again === "missing" || (typeof again === "object" && again.token === existing.token)) {
      await fs.remove(path);
      if (await tryCreate(fs, path, content)) return held(fs, path, content);
    }
    throw lockedError(dir, path, await readLock(fs, path), options);
  } finally {
    await fs.remove(takeover).catch(() => {});
  }
}

function held(fs: FileSystem, path: string, content: LockContent): DataDirLock {
  let released: Promise<void> | undefined;
  return {
    path,
    content,
    release() {
      released ??= (async () => {
        try {
          const now = await readLock(fs, path);
          if (typeof now === "object" && now.token === content.token) await fs.remove(path);
        } catch {
          // Best effort: a lock we cannot remove is stale once we exit.
        }
      })();
      return released;
    },
  };
}

/** Creates `path` exclusively with `content`; false when it exists. */
async function tryCreate(fs: FileSystem, path: string, content: LockContent): Promise<boolean> {
  let file;
  try {
    file = await fs.create(path, { exclusive: true, mode: 0o600 });
  } catch (err) {
    if (err instanceof AlreadyExistsError) return false;
    throw err;
  }
  try {
    await file.write(new TextEncoder().encode(JSON.stringify(content) + "\n"));
    await file.sync();
  } finally {
    await file.close();
  }
  return true;
}

/**
 * Reads a lock file: its content, `"missing"`, or `"unreadable"` (empty or not ours: a holder
 * between its create and its write, or a foreign file).
 */
async function readLock(
  fs: FileSystem,
  path: string,
): Promise<LockContent | "missing" | "unreadable"> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    if (err instanceof NotFoundError) return "missing";
    throw err;
  }
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (
      typeof v === "object" && v !== null && Number.isInteger(v.pid) &&
      typeof v.token === "string" && typeof v.startedAt === "string"
    ) {
      return { pid: v.pid, startedAt: v.startedAt, token: v.token };
    }
  } catch {
    // not JSON
  }
  return "unreadable";
}

function lockedError(
  dir: string,
  path: string,
  existing: LockContent | "missing" | "unreadable",
  options: LockOptions,
  why?: string,
): DataDirLockedError {
  const holder = typeof existing === "object" ? existing : undefined;
  const who = holder === undefined
    ? "an unknown holder"
    : holder.pid === 0
    ? `a node without a process id since ${holder.startedAt}`
    : `process ${holder.pid}${
      holder.pid === options.pid ? " (this process)" : ""
    } since ${holder.startedAt}`;
  const hint = `; if no dfs node is running there, remove ${path}`;
  return new DataDirLockedError(
    dir,
    holder?.pid,
    `data directory ${dir} is in use by ${who}${why ? ` (${why})` : ""}${hint}`,
  );
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
