/**
 * The base error class and the errors shared by every layer. Each layer defines its own
 * specific errors (e.g. `src/store/errors.ts`) as subclasses of {@linkcode DfsError}.
 *
 * @module
 */

/**
 * Base class of every error dfs throws. `code` is stable and machine-readable
 * (`"CORRUPT_BLOCK"`, `"FRAME_TOO_LARGE"`, ...); `message` is for people.
 *
 * @example Telling errors apart by code
 * ```ts
 * import { DfsError, NotFoundError } from "./errors.ts";
 * const err: unknown = new NotFoundError("no such block: 1220ab");
 * if (err instanceof DfsError && err.code === "NOT_FOUND") console.log(err.message);
 * ```
 */
export class DfsError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;
  /** Creates an error with a code, a message and an optional cause. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A path, block, file, name or peer that must exist does not. Code `NOT_FOUND`. */
export class NotFoundError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("NOT_FOUND", message, options);
  }
}

/** An exclusive create found the path taken. Code `ALREADY_EXISTS`. */
export class AlreadyExistsError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("ALREADY_EXISTS", message, options);
  }
}

/** An operating-system I/O failure not covered by a more specific error. Code `IO`. */
export class IoError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("IO", message, options);
  }
}

/** A connection could not be opened (refused, unreachable, aborted). Code `CONNECT_FAILED`. */
export class ConnectError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONNECT_FAILED", message, options);
  }
}

/** An operation ran out of time. Code `TIMEOUT`. */
export class TimeoutError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("TIMEOUT", message, options);
  }
}

/** An operation was cancelled through its `AbortSignal`. Code `ABORTED`. */
export class AbortedError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("ABORTED", message, options);
  }
}

/** An argument or option is invalid. Code `INVALID_ARGUMENT`. */
export class InvalidArgumentError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_ARGUMENT", message, options);
  }
}

/**
 * A file is larger than the caller allowed (`FileSystem.readFile` with `maxBytes`), and was
 * not read. Code `FILE_TOO_LARGE`.
 */
export class FileTooLargeError extends DfsError {
  /** The path of the file. */
  readonly path: string;
  /** The file's size in bytes when it was refused (at least `limit + 1`). */
  readonly size: number;
  /** The largest size the caller accepted. */
  readonly limit: number;
  /** Creates the error. */
  constructor(path: string, size: number, limit: number, options?: { cause?: unknown }) {
    super("FILE_TOO_LARGE", `${path}: ${size} bytes, over the limit of ${limit}`, options);
    this.path = path;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The message of an error, or the text of anything else thrown: for logs and error lines.
 *
 * @example
 * ```ts
 * import { errorText } from "./errors.ts";
 * errorText(new Error("boom")); // "boom"
 * errorText("plain"); // "plain"
 * ```
 */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
