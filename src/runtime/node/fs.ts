/**
 * The Node {@linkcode FileSystem}, on `node:fs/promises` file handles. Bun uses it too: Bun
 * implements `node:fs` natively, while its own `Bun.file` API has no fsync and no rename.
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";
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

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Maps a Node error to a dfs error: ENOENT, EEXIST, anything else IoError. */
const mapError = fsErrorMapper((err) => {
  const code = codeOf(err);
  return code === "ENOENT" ? "not-found" : code === "EEXIST" ? "exists" : "other";
});

/** Runs `fn`, rethrowing its failure as a dfs error. */
function wrap<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
  return mapFailure(mapError, op, path, fn);
}

function toInfo(name: string, st: Stats): FileInfo {
  return {
    name,
    isFile: st.isFile(),
    isDirectory: st.isDirectory(),
    size: st.size,
    mtimeMs: st.mtimeMs,
  };
}

class NodeWritableFile implements WritableFile {
  #handle: FileHandle;
  #path: string;
  #closed = false;

  constructor(handle: FileHandle, path: string) {
    this.#handle = handle;
    this.#path = path;
  }

  write(chunk: Uint8Array): Promise<void> {
    return wrap("write", this.#path, async () => {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await this.#handle.write(chunk, done, chunk.length - done, null);
        done += bytesWritten;
      }
    });
  }

  sync(): Promise<void> {
    // fdatasync: the bytes and what is needed to read them back (the size), not the times.
    return wrap("sync", this.#path, () => this.#handle.datasync());
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return wrap("close", this.#path, () => this.#handle.close());
  }
}

/**
 * A pull-based stream over `length` bytes of an open handle from `offset`: one positioned read
 * per pull. The handle is closed at the end, on error and on cancel.
 */
function handleStream(
  handle: FileHandle,
  path: string,
  offset: number,
  length: number,
  chunkSize: number,
): ReadableStream<Uint8Array> {
  let position = offset;
  const source = {
    async read(buf: Uint8Array): Promise<number> {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      position += bytesRead;
      return bytesRead;
    },
    close: () => handle.close().catch(() => {}),
  };
  return chunkedReadStream(source, path, length, chunkSize, mapError);
}

/**
 * Creates the Node file system adapter (also used under Bun).
 *
 * @example
 * ```ts ignore
 * import { nodeFileSystem } from "./fs.ts";
 * const fs = nodeFileSystem();
 * await fs.mkdir("/tmp/dfs-example", { recursive: true });
 * const f = await fs.create("/tmp/dfs-example/a.bin");
 * await f.write(new Uint8Array([1, 2, 3]));
 * await f.close();
 * ```
 */
export function nodeFileSystem(): FileSystem {
  return {
    mkdir(path, options) {
      return wrap("mkdir", path, async () => {
        try {
          await fsp.mkdir(path, {
            recursive: options?.recursive ?? false,
            ...(options?.mode !== undefined ? { mode: options.mode } : {}),
          });
        } catch (err) {
          if (codeOf(err) === "EEXIST") {
            const st = await fsp.stat(path).catch(() => null);
            if (st?.isDirectory()) return;
          }
          throw err;
        }
      });
    },

    create(path, options) {
      return wrap("create", path, async () => {
        const handle = await fsp.open(path, options?.exclusive ? "wx" : "w", options?.mode);
        return new NodeWritableFile(handle, path);
      });
    },

    readStream(path, options?: ReadStreamOptions) {
      return wrap("open", path, async () => {
        const offset = Math.max(0, options?.offset ?? 0);
        const length = options?.length ?? Number.POSITIVE_INFINITY;
        const chunkSize = Math.max(1, options?.chunkSize ?? DEFAULT_CHUNK);
        const handle = await fsp.open(path, "r");
        try {
          if ((await handle.stat()).isDirectory()) {
            throw new IoError(`read ${path}: is a directory`);
          }
        } catch (err) {
          await handle.close().catch(() => {});
          throw err;
        }
        return handleStream(handle, path, offset, length, chunkSize);
      });
    },

    readFile(path, options) {
      const maxBytes = options?.maxBytes ?? Number.POSITIVE_INFINITY;
      const into = options?.buffer;
      return wrap("readFile", path, async () => {
        if (options?.maxBytes === undefined && into === undefined) {
          const buf = await fsp.readFile(path);
          return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        }
        const handle = await fsp.open(path, "r");
        try {
          const st = await handle.stat(); // the open file's size: no race with a rename
          if (st.isDirectory()) throw new IoError(`readFile ${path}: is a directory`);
          let position = 0;
          const source = {
            async read(buf: Uint8Array): Promise<number> {
              const { bytesRead } = await handle.read(buf, 0, buf.length, position);
              position += bytesRead;
              return bytesRead;
            },
          };
          return await readBounded(source, path, st.size, maxBytes, into);
        } finally {
          await handle.close().catch(() => {});
        }
      });
    },

    rename(from, to) {
      return wrap("rename", `${from} -> ${to}`, () => fsp.rename(from, to));
    },

    async stat(path) {
      try {
        return toInfo(baseName(path), await fsp.stat(path));
      } catch (err) {
        if (codeOf(err) === "ENOENT") return null;
        throw mapError("stat", path, err);
      }
    },

    remove(path, options) {
      return wrap("remove", path, async () => {
        let st: Stats;
        try {
          st = await fsp.lstat(path);
        } catch (err) {
          if (codeOf(err) === "ENOENT") return;
          throw err;
        }
        try {
          if (!st.isDirectory()) await fsp.unlink(path);
          else if (options?.recursive) await fsp.rm(path, { recursive: true, force: true });
          else await fsp.rmdir(path);
        } catch (err) {
          if (codeOf(err) !== "ENOENT") throw err; // removed concurrently: fine
        }
      });
    },

    async *readDir(path) {
      let dir: import("node:fs").Dir;
      try {
        dir = await fsp.opendir(path);
      } catch (err) {
        throw mapError("readDir", path, err);
      }
      try {
        for await (const entry of dir) {
          let st: Stats;
          try {
            st = await fsp.lstat(joinPath(path, entry.name));
          } catch (err) {
            if (codeOf(err) === "ENOENT") continue; // removed while listing
            throw err;
          }
          yield toInfo(entry.name, st);
        }
      } catch (err) {
        throw mapError("readDir", path, err);
      }
    },

    syncDir(path) {
      // Windows cannot fsync a directory handle; there this is a no-op.
      if (globalThis.process?.platform === "win32") return Promise.resolve();
      return wrap("syncDir", path, async () => {
        const handle = await fsp.open(path, "r");
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
    },
  };
}
