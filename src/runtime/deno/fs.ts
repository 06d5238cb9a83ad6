/**
 * The Deno {@linkcode FileSystem}: `Deno.open`, `Deno.rename`, `FsFile.sync` and friends, with
 * OS errors mapped to dfs errors.
 *
 * @module
 */

import { IoError } from "../../errors.ts";
import {
  baseName,
  chunkedReadStream,
  DEFAULT_CHUNK,
  fsErrorMapper,
  joinPath,
  mapFailure,
  readBounded,
} from "../fs_common.ts";
import type { FileInfo, FileSystem, ReadStreamOptions, WritableFile } from "../types.ts";

/** Maps a Deno error to a dfs error: NotFound, AlreadyExists, anything else IoError. */
const mapError = fsErrorMapper((err) =>
  err instanceof Deno.errors.NotFound
    ? "not-found"
    : err instanceof Deno.errors.AlreadyExists
    ? "exists"
    : "other"
);

/** Runs `fn`, rethrowing its failure as a dfs error. */
function wrap<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
  return mapFailure(mapError, op, path, fn);
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
    // fdatasync: the bytes and what is needed to read them back (the size), not the times.
    return wrap("sync", this.#path, () => this.#file.syncData());
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return wrap("close", this.#path, () => Promise.resolve(this.#file.close()));
  }
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
          await Deno.mkdir(path, {
            recursive: options?.recursive ?? false,
            ...(options?.mode !== undefined ? { mode: options.mode } : {}),
          });
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
        const mode = options?.mode !== undefined ? { mode: options.mode } : {};
        const file = options?.exclusive
          ? await Deno.open(path, { write: true, createNew: true, ...mode })
          : await Deno.open(path, { write: true, create: true, truncate: true, ...mode });
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
        return chunkedReadStream(
          { read: (buf) => file.read(buf), close: () => file.close() },
          path,
          length,
          chunkSize,
          mapError,
        );
      });
    },

    readFile(path, options) {
      const maxBytes = options?.maxBytes ?? Number.POSITIVE_INFINITY;
      const into = options?.buffer;
      if (options?.maxBytes === undefined && into === undefined) {
        return wrap("readFile", path, () => Deno.readFile(path));
      }
      return wrap("readFile", path, async () => {
        const file = await Deno.open(path, { read: true });
        try {
          const info = await file.stat(); // the open file's size: no race with a rename
          if (info.isDirectory) throw new IoError(`readFile ${path}: is a directory`);
          return await readBounded(file, path, info.size, maxBytes, into);
        } finally {
          file.close();
        }
      });
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
