/**
 * The runtime-neutral half of the disk file system adapters (Deno and Node; Bun uses Node's):
 * mapping OS failures to dfs errors, path helpers, and the pull-based chunked read stream.
 * Each adapter supplies only what names its runtime (how to classify an OS error, how to read
 * and close an open file).
 *
 * @module
 */

import {
  AlreadyExistsError,
  DfsError,
  FileTooLargeError,
  IoError,
  NotFoundError,
} from "../errors.ts";
import { concatBytes } from "../util/concat.ts";

/** Chunk size of `readStream` when the caller gives none. */
export const DEFAULT_CHUNK = 64 * 1024;

/** What an adapter recognises in an OS error: a missing path, an existing one, or neither. */
export type FsErrorKind = "not-found" | "exists" | "other";

/** Turns `(op, path, err)` into a dfs error. */
export type FsErrorMapper = (op: string, path: string, err: unknown) => DfsError;

/**
 * Builds an adapter's error mapper from its classifier: a dfs error passes through; "not-found"
 * becomes {@linkcode NotFoundError}, "exists" {@linkcode AlreadyExistsError}, anything else
 * {@linkcode IoError}. The message names the operation, the path and the OS message; the OS
 * error is the `cause`.
 *
 * @example
 * ```ts
 * import { fsErrorMapper } from "./fs_common.ts";
 * const mapError = fsErrorMapper((err) =>
 *   (err as { code?: string }).code === "ENOENT" ? "not-found" : "other"
 * );
 * mapError("open", "/x", Object.assign(new Error("gone"), { code: "ENOENT" })).code; // "NOT_FOUND"
 * ```
 */
export function fsErrorMapper(classify: (err: unknown) => FsErrorKind): FsErrorMapper {
  return (op, path, err) => {
    if (err instanceof DfsError) return err;
    const msg = `${op} ${path}: ${err instanceof Error ? err.message : String(err)}`;
    const kind = classify(err);
    if (kind === "not-found") return new NotFoundError(msg, { cause: err });
    if (kind === "exists") return new AlreadyExistsError(msg, { cause: err });
    return new IoError(msg, { cause: err });
  };
}

/** Runs `fn`, rethrowing its failure through `mapError`. */
export async function mapFailure<T>(
  mapError: FsErrorMapper,
  op: string,
  path: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(op, path, err);
  }
}

/** The last segment of a `/`-separated path (trailing slashes ignored). */
export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/** `dir/name`, without doubling a trailing slash of `dir`. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** An open file as {@linkcode chunkedReadStream} reads it. */
export interface ChunkSource {
  /** Reads into `buf` from the current position; the byte count, 0 or `null` at the end. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Closes the file; called once. */
  close(): void | Promise<void>;
}

/**
 * A pull-based stream of at most `length` bytes of `source`, in chunks of at most `chunkSize`:
 * one read per pull, so a slow consumer slows the reads. The source is closed when the stream
 * ends, errors (the error goes through `mapError` as a "read") or is cancelled.
 */
export function chunkedReadStream(
  source: ChunkSource,
  path: string,
  length: number,
  chunkSize: number,
  mapError: FsErrorMapper,
): ReadableStream<Uint8Array> {
  let left = length;
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await source.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (left <= 0) {
          await close();
          controller.close();
          return;
        }
        const buf = new Uint8Array(Math.min(chunkSize, left));
        const n = await source.read(buf);
        if (n === null || n === 0) {
          await close();
          controller.close();
          return;
        }
        left -= n;
        controller.enqueue(n === buf.length ? buf : buf.subarray(0, n));
      } catch (err) {
        await close().catch(() => {});
        controller.error(mapError("read", path, err));
      }
    },
    cancel() {
      return close();
    },
  }, { highWaterMark: 0 });
}

/** What {@linkcode readBounded} needs of an open file: sequential reads from the start. */
export interface BoundedSource {
  /** Reads into `buf` from the current position; the byte count, 0 or `null` at the end. */
  read(buf: Uint8Array): Promise<number | null>;
}

/**
 * The body of `readFile` with `maxBytes`, on a file already opened and `fstat`ed (the size
 * comes from the handle, so it is the file actually read). A size over `maxBytes` rejects
 * with {@linkcode FileTooLargeError} before anything is read. A regular file of known size is
 * read into one buffer of exactly that size, stopping there or at an earlier end (a file that
 * grows meanwhile is read as of the size seen). A size of 0 (empty, or a special file such as
 * one under `/proc` whose size is unknown) is read to its end in chunks, but never more than
 * `maxBytes + 1` bytes: one byte over is refused the same way. With `into`, a file of known
 * size that fits in it is read into its start and the result is a view of it (no allocation);
 * a larger one, or one of unknown size, is read as without it and `into` is not written to.
 * The caller closes the file.
 *
 * @example
 * ```ts
 * import { readBounded } from "./fs_common.ts";
 * const data = new Uint8Array([1, 2, 3]);
 * let at = 0;
 * const source = {
 *   read(buf: Uint8Array) {
 *     const n = Math.min(buf.length, data.length - at);
 *     buf.set(data.subarray(at, at + n));
 *     at += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * await readBounded(source, "/x", 3, 8); // Uint8Array [1, 2, 3]
 * ```
 */
export async function readBounded(
  source: BoundedSource,
  path: string,
  size: number,
  maxBytes: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  if (size > maxBytes) throw new FileTooLargeError(path, size, maxBytes);
  if (size > 0) {
    const buf = into !== undefined && size <= into.length
      ? into.subarray(0, size)
      : new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = await source.read(buf.subarray(done));
      if (n === null || n === 0) return buf.subarray(0, done);
      done += n;
    }
    return buf;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const cap = maxBytes + 1;
  while (total < cap) {
    const buf = new Uint8Array(Math.min(DEFAULT_CHUNK, cap - total));
    const n = await source.read(buf);
    if (n === null || n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  if (total > maxBytes) throw new FileTooLargeError(path, total, maxBytes);
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks, total);
}
