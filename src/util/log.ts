/**
 * The one small logging interface every layer takes: a function of a level, a message, structured
 * fields and the category of the part that logs (`dfs.peer`, `dfs.store`, `dfs.node`, ...).
 * Nothing here writes anywhere: where records go is chosen once, at the edge (the CLI configures
 * sinks; a library user passes a function or configures logtape).
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The levels in order, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * A log sink: a level, a message, structured fields and the category (dot-separated, e.g.
 * `dfs.peer`) of the part that logs. A sink written for three arguments simply ignores the
 * category.
 *
 * @example
 * ```ts
 * import type { Logger } from "./log.ts";
 * const lines: string[] = [];
 * const log: Logger = (level, message, fields, category) =>
 *   lines.push(`${category} ${level} ${message} ${JSON.stringify(fields ?? {})}`);
 * log("warn", "peer silent", { peer: "9f2c" }, "dfs.peer");
 * console.log(lines[0]); // dfs.peer warn peer silent {"peer":"9f2c"}
 * ```
 */
export type Logger = (
  level: LogLevel,
  message: string,
  fields?: Record<string, unknown>,
  category?: string,
) => void;

/** A logger that drops everything. */
export const silentLogger: Logger = () => {};

/**
 * `log` with `category` filled in for records that name none, so a part of the system logs
 * under its own category without knowing it. A category given explicitly (by a part further down
 * that was bound to its own) is kept.
 *
 * @example
 * ```ts
 * import { withCategory } from "./log.ts";
 * const peerLog = withCategory((l, m, f, c) => console.log(c, l, m), "dfs.peer");
 * peerLog("info", "peer connected"); // dfs.peer info peer connected
 * withCategory(peerLog, "dfs.dht")("debug", "lookup"); // dfs.dht debug lookup
 * ```
 */
export function withCategory(log: Logger, category: string): Logger {
  return (level, message, fields, given) => log(level, message, fields, given ?? category);
}

/**
 * The fields that describe an error in a log record: its stable `code` (a {@linkcode DfsError}'s
 * code, `INTERNAL` otherwise) and its one-line `error` text.
 *
 * @example
 * ```ts
 * import { errorFields } from "./log.ts";
 * import { DfsError } from "../errors.ts";
 * console.log(errorFields(new DfsError("CORRUPT_BLOCK", "hash mismatch")));
 * // { code: "CORRUPT_BLOCK", error: "hash mismatch" }
 * ```
 */
export function errorFields(err: unknown): { code: string; error: string } {
  const code = err instanceof DfsError ? err.code : "INTERNAL";
  const error = err instanceof Error ? err.message : String(err);
  return { code, error: error.replace(/\s+/g, " ").trim() };
}
