/**
 * An in-memory {@linkcode FileSystem}: a tree of maps, for tests and simulations. It follows
 * the same contract as the OS adapters (same errors, same rename and remove semantics), and
 * `readStream` reads a snapshot of the file taken when the stream is opened.
 *
 * @module
 */

import { AlreadyExistsError, FileTooLargeError, IoError, NotFoundError } from "../../errors.ts";
import type {
  CreateOptions,
  FileInfo,
  FileSystem,
  MkdirOptions,
  ReadFileOptions,
  ReadStreamOptions,
  WritableFile,
} from "../types.ts";

const DEFAULT_CHUNK = 64 * 1024;

interface FileNode {
  kind: "file";
  /** Backing buffer; bytes past `size` are spare capacity. */
  data: Uint8Array;
  size: number;
  mtimeMs: number;
  /** The content as of the last `sync` (what survives a power loss). */
  durable: Uint8Array;
  /** Permission bits it was created with (recorded only, for tests). */
  mode: number;
}

interface DirNode {
  kind: "dir";
  children: Map<string, Node>;
  mtimeMs: number;
  /** The entries as of the last `syncDir` (what survives a power loss). */
  durable: Map<string, Node>;
  /** Permission bits it was created with (recorded only, for tests). */
  mode: number;
}

type Node = FileNode | DirNode;

/** Splits a path into its components, resolving `.` and `..`; the tree root is `/`. */
function parts(path: string): string[] {
  const out: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return out;
}

function info(name: string, node: Node): FileInfo {
  return {
    name,
    isFile: node.kind === "file",
    isDirectory: node.kind === "dir",
    size: node.kind === "file" ? node.size : 0,
    mtimeMs: node.mtimeMs,
  };
}

function newDir(mode = 0o777): DirNode {
  return { kind: "dir", children: new Map(), mtimeMs: Date.now(), durable: new Map(), mode };
}

class MemoryWritableFile implements WritableFile {
  #node: FileNode;
  #path: string;
  #fs: MemoryFileSystem;
  #closed = false;

  constructor(node: FileNode, path: string, fs: MemoryFileSystem) {
    this.#node = node;
    this.#path = path;
    this.#fs = fs;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new IoError(`write ${this.#path}: file is closed`));
    const node = this.#node;
    const need = node.size + chunk.length;
    if (need > node.data.length) {
      // Grow into a new buffer so snapshots taken by earlier readStream calls stay intact.
      const grown = new Uint8Array(Math.max(need, node.data.length * 2, 256));
      grown.set(node.data.subarray(0, node.size));
      node.data = grown;
    }
    node.data.set(chunk, node.size);
    node.size = need;
    node.mtimeMs = Date.now();
    return Promise.resolve();
  }

  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(new IoError(`sync ${this.#path}: file is closed`));
    this.#fs.syncCount++;
    // A view is enough: a file only grows (bytes below `size` never change) and growing moves
    // it to a new buffer; a power loss copies what is durable.
    this.#node.durable = this.#node.data.subarray(0, this.#node.size);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

/**
 * A file system held in memory. Paths are `/`-separated; relative paths are taken from the
 * root. Nothing is ever persisted; `sync` and `syncDir` only count their calls.
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./fs.ts";
 * const fs = new MemoryFileSystem();
 * await fs.mkdir("/data/blocks", { recursive: true });
 * const f = await fs.create("/data/blocks/tmp", { exclusive: true });
 * await f.write(new TextEncoder().encode("hello"));
 * await f.close();
 * await fs.rename("/data/blocks/tmp", "/data/blocks/b1");
 * console.log(new TextDecoder().decode(await fs.readFile("/data/blocks/b1"))); // "hello"
 * ```
 */
export class MemoryFileSystem implements FileSystem {
  #root: DirNode = newDir();
  /** Number of {@linkcode WritableFile.sync} calls so far (for tests). */
  syncCount = 0;
  /** Number of {@linkcode MemoryFileSystem.syncDir} calls so far (for tests). */
  syncDirCount = 0;

  /** Finds the node at `path`, or `undefined`. Throws IoError when a parent is a file. */
  #lookup(path: string): Node | undefined {
    let node: Node = this.#root;
    for (const p of parts(path)) {
      if (node.kind !== "dir") throw new IoError(`${path}: a parent is not a directory`);
      const next: Node | undefined = node.children.get(p);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  /** Returns the parent directory of `path` and the last component; the parent must exist. */
  #parent(op: string, path: string): { dir: DirNode; name: string } {
    const ps = parts(path);
    const name = ps.pop();
    if (name === undefined) throw new IoError(`${op} ${path}: not allowed on the root`);
    const dir = this.#lookup("/" + ps.join("/"));
    if (dir === undefined) throw new NotFoundError(`${op} ${path}: parent directory missing`);
    if (dir.kind !== "dir") throw new IoError(`${op} ${path}: parent is not a directory`);
    return { dir, name };
  }

  /** Creates a directory; with `recursive`, its missing parents too. Existing directories are fine. */
  mkdir(path: string, options?: MkdirOptions): Promise<void> {
    try {
      if (options?.recursive) {
        let node: DirNode = this.#root;
        for (const p of parts(path)) {
          let next = node.children.get(p);
          if (next === undefined) {
            next = newDir(options.mode);
            node.children.set(p, next);
            node.mtimeMs = Date.now();
          } else if (next.kind !== "dir") {
            throw new AlreadyExistsError(`mkdir ${path}: ${p} is a file`);
          }
          node = next;
        }
        return Promise.resolve();
      }
      const existing = this.#lookup(path);
      if (existing?.kind === "dir") return Promise.resolve();
      if (existing !== undefined) throw new AlreadyExistsError(`mkdir ${path}: is a file`);
      const { dir, name } = this.#parent("mkdir", path);
      dir.children.set(name, newDir(options?.mode));
      dir.mtimeMs = Date.now();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Creates (or truncates, unless `exclusive`) a file and opens it for writing. */
  create(path: string, options?: CreateOptions): Promise<WritableFile> {
    try {
      const { dir, name } = this.#parent("create", path);
      const existing = dir.children.get(name);
      if (existing !== undefined) {
        if (options?.exclusive) throw new AlreadyExistsError(`create ${path}: already exists`);
        if (existing.kind === "dir") throw new IoError(`create ${path}: is a directory`);
      }
      // A fresh node: streams opened on the old file keep reading the old bytes.
      const node: FileNode = {
        kind: "file",
        data: new Uint8Array(0),
        size: 0,
        mtimeMs: Date.now(),
        durable: new Uint8Array(0),
        mode: existing?.kind === "file" ? existing.mode : options?.mode ?? 0o666,
      };
      dir.children.set(name, node);
      dir.mtimeMs = Date.now();
      return Promise.resolve(new MemoryWritableFile(node, path, this));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #file(op: string, path: string): FileNode {
    const node = this.#lookup(path);
    if (node === undefined) throw new NotFoundError(`${op} ${path}: no such file`);
    if (node.kind !== "file") throw new IoError(`${op} ${path}: is a directory`);
    return node;
  }

  /** Streams a snapshot of the file's bytes as they are now. */
  readStream(path: string, options?: ReadStreamOptions): Promise<ReadableStream<Uint8Array>> {
    try {
      const node = this.#file("read", path);
      const start = Math.min(options?.offset ?? 0, node.size);
      const end = Math.min(node.size, start + (options?.length ?? Number.POSITIVE_INFINITY));
      // Writes never modify bytes below `size` in place, so this view is a stable snapshot.
      const snapshot = node.data.subarray(start, end);
      const chunkSize = Math.max(1, options?.chunkSize ?? DEFAULT_CHUNK);
      let pos = 0;
      return Promise.resolve(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pos >= snapshot.length) {
              controller.close();
              return;
            }
            const n = Math.min(chunkSize, snapshot.length - pos);
            controller.enqueue(snapshot.slice(pos, pos + n));
            pos += n;
          },
        }, { highWaterMark: 0 }),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Returns a copy of the file's bytes; with `maxBytes`, a larger file is refused with
   * {@linkcode FileTooLargeError} and not copied. With `buffer`, a file that fits is copied
   * into its start and the result is a view of it.
   */
  readFile(path: string, options?: ReadFileOptions): Promise<Uint8Array> {
    try {
      const node = this.#file("readFile", path);
      const maxBytes = options?.maxBytes;
      if (maxBytes !== undefined && node.size > maxBytes) {
        throw new FileTooLargeError(path, node.size, maxBytes);
      }
      const into = options?.buffer;
      if (into !== undefined && node.size <= into.length) {
        into.set(node.data.subarray(0, node.size));
        return Promise.resolve(into.subarray(0, node.size));
      }
      return Promise.resolve(node.data.slice(0, node.size));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Moves `from` to `to`, replacing a file (or an empty directory) at `to`. */
  rename(from: string, to: string): Promise<void> {
    try {
      const src = this.#parent("rename", from);
      const node = src.dir.children.get(src.name);
      if (node === undefined) throw new NotFoundError(`rename ${from}: no such file`);
      const dst = this.#parent("rename", to);
      const target = dst.dir.children.get(dst.name);
      if (target === node) return Promise.resolve();
      if (target !== undefined) {
        if (node.kind === "file" && target.kind === "dir") {
          throw new IoError(`rename ${from} -> ${to}: target is a directory`);
        }
        if (node.kind === "dir" && target.kind === "file") {
          throw new IoError(`rename ${from} -> ${to}: target is not a directory`);
        }
        if (target.kind === "dir" && target.children.size > 0) {
          throw new IoError(`rename ${from} -> ${to}: target directory is not empty`);
        }
      }
      if (node.kind === "dir" && this.#contains(node, dst.dir)) {
        throw new IoError(`rename ${from} -> ${to}: cannot move a directory into itself`);
      }
      src.dir.children.delete(src.name);
      dst.dir.children.set(dst.name, node);
      src.dir.mtimeMs = dst.dir.mtimeMs = Date.now();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** True when `inner` is `outer` or lies somewhere below it. */
  #contains(outer: DirNode, inner: DirNode): boolean {
    if (outer === inner) return true;
    for (const child of outer.children.values()) {
      if (child.kind === "dir" && this.#contains(child, inner)) return true;
    }
    return false;
  }

  /** Describes `path`, or returns `null` when it does not exist. */
  stat(path: string): Promise<FileInfo | null> {
    try {
      const node = this.#lookup(path);
      const ps = parts(path);
      return Promise.resolve(node === undefined ? null : info(ps[ps.length - 1] ?? "/", node));
    } catch {
      return Promise.resolve(null);
    }
  }

  /**
   * The permission bits `path` was created with (the `mode` given to `create` or `mkdir`,
   * default `0o666` for files and `0o777` for directories; no umask), or `undefined` when it
   * does not exist. Memory-only, for tests.
   */
  modeOf(path: string): number | undefined {
    try {
      return this.#lookup(path)?.mode;
    } catch {
      return undefined;
    }
  }

  /** Removes a file or directory; a non-empty directory needs `recursive`. Missing is fine. */
  remove(path: string, options?: { readonly recursive?: boolean }): Promise<void> {
    try {
      if (this.#lookup(path) === undefined) return Promise.resolve();
      const { dir, name } = this.#parent("remove", path);
      const node = dir.children.get(name);
      if (node?.kind === "dir" && node.children.size > 0 && !options?.recursive) {
        throw new IoError(`remove ${path}: directory is not empty`);
      }
      dir.children.delete(name);
      dir.mtimeMs = Date.now();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Lists a directory's entries (a snapshot taken when iteration starts). */
  async *readDir(path: string): AsyncIterable<FileInfo> {
    const node = this.#lookup(path);
    if (node === undefined) throw new NotFoundError(`readDir ${path}: no such directory`);
    if (node.kind !== "dir") throw new IoError(`readDir ${path}: not a directory`);
    for (const [name, child] of [...node.children]) yield info(name, child);
  }

  /** Counts the call; fails like the OS adapters when the directory is missing. */
  syncDir(path: string): Promise<void> {
    try {
      const node = this.#lookup(path);
      if (node === undefined) throw new NotFoundError(`syncDir ${path}: no such directory`);
      this.syncDirCount++;
      if (node.kind === "dir") node.durable = new Map(node.children);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Returns the disk as a power loss right now would leave it: each file holds the bytes of
   * its last `sync` (empty if never synced), and each directory the entries of its last
   * `syncDir`, so a forgotten fsync shows up as lost data. With
   * `keepUnsyncedEntries`, directory entries are kept as they are and only file contents
   * roll back. This file system is not changed.
   *
   * @example
   * ```ts
   * import { MemoryFileSystem } from "./fs.ts";
   * const fs = new MemoryFileSystem();
   * const f = await fs.create("/a");
   * await f.write(new Uint8Array([1]));
   * await f.sync();
   * await fs.syncDir("/");
   * await f.write(new Uint8Array([2])); // not synced
   * const after = fs.powerLoss();
   * console.log(await after.readFile("/a")); // Uint8Array [1]
   * ```
   */
  powerLoss(options?: { readonly keepUnsyncedEntries?: boolean }): MemoryFileSystem {
    const keep = options?.keepUnsyncedEntries ?? false;
    const copy = (dir: DirNode): DirNode => {
      const out = newDir(dir.mode);
      for (const [name, child] of keep ? dir.children : dir.durable) {
        const node: Node = child.kind === "dir" ? copy(child) : {
          kind: "file",
          data: child.durable.slice(),
          size: child.durable.length,
          mtimeMs: child.mtimeMs,
          durable: child.durable.slice(),
          mode: child.mode,
        };
        out.children.set(name, node);
      }
      out.durable = new Map(out.children);
      return out;
    };
    const fs = new MemoryFileSystem();
    fs.#root = copy(this.#root);
    return fs;
  }
}
