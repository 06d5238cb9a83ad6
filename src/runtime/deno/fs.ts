/**
 * The Deno {@linkcode FileSystem}: `Deno.open`, `Deno.rename`, `FsFile.sync` and friends, with
 * OS errors mapped to dfs errors.
 *
 * @module
 */

import { AlreadyExistsError, DfsError, IoError, NotFoundError } from "../../errors.ts";
import type { FileInfo, FileSystem, ReadStreamOptions, WritableFile } from "../types.ts";

const DEFAULT_CHUNK = 64 * 1024;

/** Maps a Deno error to a dfs error: NotFound, AlreadyExists, anything else IoError. */
function mapError(op: string, path: string, err: unknown): DfsError {
  if (err instanceof DfsError) return err;
  const msg = `${op} ${path}: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof Deno.errors.NotFound) return new NotFoundError(msg, { cause: err });
  if (err instanceof Deno.errors.AlreadyExists) return new AlreadyExistsError(msg, { cause: err });
  return new IoError(msg, { cause: err });
}

/** Runs `fn`, rethrowing its failure as a dfs error. */
async function wrap<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(op, path, err);
  }
}

function toInfo(name: string, info: Deno.FileInfo): FileInfo {
  return {
    name,
    isFile: info.isFile,
    isDirectory: info.isDirectory,
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
  };
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

class DenoWritableFile implements WritableFile {
  #file: Deno.FsFile;
  #path: string;
  #closed = false;

  constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  async write(chunk: Uint8Array): Promise<void> {
    await wrap("write", this.#path, async () => {
      let done = 0;
      while (done < chunk.length) done += await this.#file.write(chunk.subarray(done));
    });
  }

  sync(): Promise<void> {
    return wrap("sync", this.#path, () => this.#file.sync());
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return wrap("close", this.#path, () => Promise.resolve(this.#file.close()));
  }
}

/**
 * Streams `length` bytes of an already opened file from its current position, in chunks of at
 * most `chunkSize`. The file is closed when the stream ends, errors or is cancelled.
 */
function fileStream(
  file: Deno.FsFile,
  path: string,
  length: number,
  chunkSize: number,
): ReadableStream<Uint8Array> {
  let left = length;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      file.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (left <= 0) {
          close();
          controller.close();
          return;
        }
        const buf = new Uint8Array(Math.min(chunkSize, left));
        const n = await file.read(buf);
        if (n === null || n === 0) {
          close();
          controller.close();
          return;
        }
        left -= n;
        controller.enqueue(n === buf.length ? buf : buf.subarray(0, n));
      } catch (err) {
        close();
        controller.error(mapError("read", path, err));
      }
    },
    cancel() {
      close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Creates the Deno file system adapter. Needs `--allow-read` and `--allow-write`.
 *
 * @example
 * ```ts
 * import { denoFileSystem } from "./fs.ts";
 * const fs = denoFileSystem();
 * const dir = await Deno.makeTempDir();
 * const f = await fs.create(`${dir}/a.bin`, { exclusive: true });
 * await f.write(new Uint8Array([1, 2, 3]));
 * await f.sync();
 * await f.close();
 * await fs.remove(dir, { recursive: true });
 * ```
 */
export function denoFileSystem(): FileSystem {
  return {
    mkdir(path, options) {
      return wrap("mkdir", path, async () => {
        try {
          await Deno.mkdir(path, { recursive: options?.recursive ?? false });
        } catch (err) {
          if (err instanceof Deno.errors.AlreadyExists) {
            const info = await Deno.stat(path).catch(() => null);
            if (info?.isDirectory) return;
          }
          throw err;
        }
      });
    },

    create(path, options) {
      return wrap("create", path, async () => {
        const file = options?.exclusive
          ? await Deno.open(path, { write: true, createNew: true })
          : await Deno.open(path, { write: true, create: true, truncate: true });
        return new DenoWritableFile(file, path);
      });
    },

    readStream(path, options?: ReadStreamOptions) {
      return wrap("open", path, async () => {
        const offset = options?.offset ?? 0;
        const length = options?.length ?? Number.POSITIVE_INFINITY;
        const chunkSize = Math.max(1, options?.chunkSize ?? DEFAULT_CHUNK);
        const file = await Deno.open(path, { read: true });
        try {
          if ((await file.stat()).isDirectory) throw new IoError(`read ${path}: is a directory`);
          if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
        } catch (err) {
          file.close();
          throw err;
        }
        return fileStream(file, path, length, chunkSize);
      });
    },

    readFile(path) {
      return wrap("readFile", path, () => Deno.readFile(path));
    },

    rename(from, to) {
      return wrap("rename", `${from} -> ${to}`, () => Deno.rename(from, to));
    },

    async stat(path) {
      try {
        return toInfo(baseName(path), await Deno.stat(path));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return null;
        throw mapError("stat", path, err);
      }
    },

    async remove(path, options) {
      try {
        await Deno.remove(path, { recursive: options?.recursive ?? false });
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return;
        throw mapError("remove", path, err);
      }
    },

    async *readDir(path) {
      let entries: AsyncIterable<Deno.DirEntry>;
      try {
        entries = Deno.readDir(path);
      } catch (err) {
        throw mapError("readDir", path, err);
      }
      try {
        for await (const entry of entries) {
          let info: Deno.FileInfo;
          try {
            info = await Deno.lstat(joinPath(path, entry.name));
          } catch (err) {
            if (err instanceof Deno.errors.NotFound) continue; // removed while listing
            throw err;
          }
          yield toInfo(entry.name, info);
        }
      } catch (err) {
        throw mapError("readDir", path, err);
      }
    },

    syncDir(path) {
      // Windows cannot open a directory as a file; there this is a no-op.
      if (Deno.build.os === "windows") return Promise.resolve();
      return wrap("syncDir", path, async () => {
        const dir = await Deno.open(path, { read: true });
        try {
          await dir.sync();
        } finally {
          dir.close();
        }
      });
    },
  };
}
