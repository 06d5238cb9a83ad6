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
  if (err instanceof UsageError) return EXIT.USAGE;
  if (err instanceof UnreachableError) return EXIT.UNREACHABLE;
  if (err instanceof DfsError && err.code === "NOT_FOUND") return EXIT.NOT_FOUND;
  if (err instanceof DfsError && err.code === "ABORTED") return EXIT.INTERRUPTED;
  return EXIT.ERROR;
}
