/**
 * A {@linkcode FileSystem} wrapper that writes the order of the operations that matter for
 * durability to a trace (one line per event, written synchronously so that a SIGKILL loses at
 * most the line being written), and {@linkcode checkTrace}, which checks from such a trace the
 * store's two durability rules however its flushes were batched:
 *
 * 1. a file is renamed into place only after a flush of its last bytes completed (nothing is
 *    made visible before it is on disk);
 * 2. a write is acknowledged only after its rename and then a flush of the entry's directory
 *    that started after that rename completed (nothing is acknowledged before it is durable).
 *
 * Trace lines: `<event> <op> <path...>`, where `op` numbers the operation (begin and end of
 * one operation share it): `write`, `sync-b`, `sync-e`, `rename-b` (from, to), `rename-e`,
 * `syncdir-b` (dir), `syncdir-e`; and `ack <path>` written by the test's writer.
 *
 * @module
 */

import type { FileSystem } from "../../src/runtime/types.ts";

/** Wraps `inner` so that every write, sync, rename and directory sync is traced with `emit`. */
export function tracingFileSystem(inner: FileSystem, emit: (line: string) => void): FileSystem {
  let op = 0;
  const traced = async (begin: string, end: string, fn: () => Promise<void>): Promise<void> => {
    const n = ++op;
    emit(`${begin.replace(" ", ` ${n} `)}`);
    await fn();
    emit(`${end} ${n}`);
  };
  return {
    mkdir: (p, o) => inner.mkdir(p, o),
    readStream: (p, o) => inner.readStream(p, o),
    readFile: (p, o) => inner.readFile(p, o),
    stat: (p) => inner.stat(p),
    remove: (p, o) => inner.remove(p, o),
    readDir: (p) => inner.readDir(p),
    async create(path, options) {
      const file = await inner.create(path, options);
      return {
        write: (chunk) => traced(`write ${path}`, "write-e", () => file.write(chunk)),
        sync: () => traced(`sync-b ${path}`, "sync-e", () => file.sync()),
        close: () => file.close(),
      };
    },
    rename: (from, to) =>
      traced(`rename-b ${from} ${to}`, "rename-e", () => inner.rename(from, to)),
    syncDir: (dir) => traced(`syncdir-b ${dir}`, "syncdir-e", () => inner.syncDir(dir)),
  };
}

/** What {@linkcode checkTrace} found. */
export interface TraceReport {
  /** Breaches of the two rules, as sentences (empty when the trace is sound). */
  readonly problems: string[];
  /** Acknowledged writes checked. */
  readonly acks: number;
  /** Renames checked. */
  readonly renames: number;
  /** Most renames one directory flush covered (more than 1 shows flushes were shared). */
  readonly widestDirFlush: number;
}

/**
 * Checks a trace (see the module doc) against the two rules. A last line cut short by a kill
 * is ignored; operations that never ended count as not done.
 */
export function checkTrace(text: string): TraceReport {
  const lines = text.split("\n");
  lines.pop(); // empty, or a line cut by the kill
  const problems: string[] = [];
  const begun = new Map<number, { kind: string; args: string[]; seq: number }>();
  /** Per temp file: sequence number of its last write's start, and of its last flushed state. */
  const lastWrite = new Map<string, number>();
  const flushedAt = new Map<string, number>();
  /** Per entry path: sequence numbers at which a rename into it completed. */
  const renamedInto = new Map<string, number[]>();
  /** Per directory: completed flushes as [start, end] sequence numbers. */
  const dirFlushes = new Map<string, [number, number][]>();
  let acks = 0;
  let renames = 0;
  lines.forEach((line, seq) => {
    const [kind, ...rest] = line.split(" ");
    if (kind === "ack") {
      acks++;
      const path = rest[0];
      const dir = path.slice(0, path.lastIndexOf("/"));
      const flushes = dirFlushes.get(dir) ?? [];
      const covered = (renamedInto.get(path) ?? []).some((r) =>
        flushes.some(([start, end]) => start > r && end < seq)
      );
      if (!covered) {
        problems.push(
          `line ${seq + 1}: ${path} acknowledged without a rename into it followed by a ` +
            `completed flush of ${dir} started after that rename`,
        );
      }
      return;
    }
    const n = Number(rest[0]);
    if (kind === "write" || kind === "sync-b" || kind === "rename-b" || kind === "syncdir-b") {
      begun.set(n, { kind, args: rest.slice(1), seq });
      if (kind === "write") lastWrite.set(rest[1], seq);
      if (kind === "rename-b") {
        renames++;
        const from = rest[1];
        const wrote = lastWrite.get(from);
        const flushed = flushedAt.get(from);
        if (wrote !== undefined && (flushed === undefined || flushed < wrote)) {
          problems.push(
            `line ${seq + 1}: ${from} renamed to ${rest[2]} before a flush of its last bytes ` +
              `completed`,
          );
        }
      }
      return;
    }
    const started = begun.get(n);
    if (!started) {
      problems.push(`line ${seq + 1}: end of an operation ${n} that never began`);
      return;
    }
    begun.delete(n);
    if (kind === "sync-e") {
      // The flush covers the bytes written before it started.
      const path = started.args[0];
      const wrote = lastWrite.get(path) ?? -1;
      if (wrote < started.seq) flushedAt.set(path, seq);
    } else if (kind === "rename-e") {
      const to = started.args[1];
      const list = renamedInto.get(to) ?? [];
      list.push(seq);
      renamedInto.set(to, list);
    } else if (kind === "syncdir-e") {
      const dir = started.args[0];
      const list = dirFlushes.get(dir) ?? [];
      list.push([started.seq, seq]);
      dirFlushes.set(dir, list);
    }
  });
  // How many renames the widest directory flush covered (since the previous one of that dir).
  let widest = 0;
  for (const [dir, flushes] of dirFlushes) {
    let prev = -1;
    for (const [start] of flushes) {
      let covered = 0;
      for (const [to, at] of renamedInto) {
        if (to.slice(0, to.lastIndexOf("/")) !== dir) continue;
        covered += at.filter((r) => r > prev && r < start).length;
      }
      widest = Math.max(widest, covered);
      prev = start;
    }
  }
  return { problems, acks, renames, widestDirFlush: widest };
}

/**
 * The crash test's path transform: entries spread over four directories only, so that many
 * renames land in one directory between two of its flushes (the default spreads over 256).
 */
export function fourDirs(key: string): string[] {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return [`d${h % 4}`, key.startsWith("1220") ? key : `k-${key}`];
}
