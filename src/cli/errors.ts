/**
 * Errors of the command line, each with the exit code it ends the program with.
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/** Exit codes of the `dfs` command. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** Any other error. */
  ERROR: 1,
  /** Bad arguments (a short usage is printed). */
  USAGE: 2,
  /** The file or name exists on no reachable node. */
  NOT_FOUND: 3,
  /** The node's HTTP API could not be reached. */
  UNREACHABLE: 4,
  /** Interrupted by SIGINT/SIGTERM. */
  INTERRUPTED: 130,
} as const;

/** Bad command-line arguments. Code `USAGE`; exit code 2. */
export class UsageError extends DfsError {
  /** The command whose usage to print (`undefined` for the top level). */
  readonly command: string | undefined;
  /** Creates the error. */
  constructor(message: string, command?: string) {
    super("USAGE", message);
    this.command = command;
  }
}

/** The node's HTTP API did not answer (connection refused, bad host). Code `UNREACHABLE`. */
export class UnreachableError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("UNREACHABLE", message, options);
  }
}

/**
 * The node answered with an API error. `code` is the API's error code (`NOT_FOUND`,
 * `INVALID_ID`, ...); `status` the HTTP status.
 */
export class ApiResponseError extends DfsError {
  /** HTTP status. */
  readonly status: number;
  /** Creates the error. */
  constructor(code: string, message: string, status: number) {
    super(code, message);
    this.status = status;
  }
}

/** The exit code for anything thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError) return EXIT.USAGE;
  if (err instanceof UnreachableError) return EXIT.UNREACHABLE;
  if (err instanceof DfsError && err.code === "NOT_FOUND") return EXIT.NOT_FOUND;
  if (err instanceof DfsError && err.code === "ABORTED") return EXIT.INTERRUPTED;
  return EXIT.ERROR;
}

/**
 * A bad configuration: a config file that cannot be read or is not JSON, an unknown key, or a
 * value of the wrong type or out of range. The message names the key, where it came from (the
 * file's path, the environment variable) and what was expected. Code `CONFIG`; exit code 2.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * const err = new ConfigError('/srv/dfs/dfs.json: unknown key "listn"', { key: "listn", path: "/srv/dfs/dfs.json" });
 * console.log(err.code, err.key); // "CONFIG" "listn"
 * ```
 */
export class ConfigError extends DfsError {
  /** The key at fault, when one is. */
  readonly key: string | undefined;
  /** The config file at fault, when it is one. */
  readonly path: string | undefined;
  /** Creates the error. */
  constructor(message: string, at: { key?: string; path?: string; cause?: unknown } = {}) {
    super("CONFIG", message, at.cause !== undefined ? { cause: at.cause } : undefined);
    this.key = at.key;
    this.path = at.path;
  }
}
