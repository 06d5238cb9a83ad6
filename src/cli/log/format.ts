/**
 * The two line formats of the CLI's log: text for a terminal, JSON lines for machines.
 *
 * @module
 */

import type { LogLevel } from "../../util/log.ts";

/** Log formats of `--log-format`. */
export type LogFormat = "text" | "json";

/** The formats, the default first. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** One record, redacted, ready to write. */
export interface LogLine {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** Level. */
  readonly level: LogLevel;
  /** Category, dot-separated (`dfs.peer`). */
  readonly category: string;
  /** The message. */
  readonly message: string;
  /** Structured fields. */
  readonly fields: Record<string, unknown>;
}

const RESERVED = new Set(["timestamp", "level", "category", "message"]);

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * `line` as one line of text (`TIME LEVEL category: message key=value ...`) or JSON (an object
 * with `timestamp` (ISO 8601), `level`, `category`, `message` and the fields beside them; a field
 * named like one of those four is written as `field_<name>`), newline included.
 *
 * @example
 * ```ts
 * import { formatLogLine } from "./format.ts";
 * const line = { timestamp: 0, level: "warn" as const, category: "dfs.peer", message: "peer silent", fields: { peer: "9f2c" } };
 * console.log(formatLogLine(line, "text")); // 1970-01-01T00:00:00.000Z WARN  dfs.peer: peer silent peer=9f2c
 * console.log(formatLogLine(line, "json")); // {"timestamp":"1970-01-01T00:00:00.000Z","level":"warn",...,"peer":"9f2c"}
 * ```
 */
export function formatLogLine(line: LogLine, format: LogFormat): string {
  const time = new Date(line.timestamp).toISOString();
  if (format === "json") {
    const out: Record<string, unknown> = {
      timestamp: time,
      level: line.level,
      category: line.category,
      message: line.message,
    };
    for (const [k, v] of Object.entries(line.fields)) {
      if (v !== undefined) out[RESERVED.has(k) ? `field_${k}` : k] = v;
    }
    return JSON.stringify(out, jsonSafe) + "\n";
  }
  let text = `${time} ${line.level.toUpperCase().padEnd(5)} ${line.category}: ${
    line.message.replace(/\s+/g, " ")
  }`;
  for (const [k, v] of Object.entries(line.fields)) {
    if (v === undefined) continue;
    const value = typeof v === "string" ? v : JSON.stringify(v, jsonSafe) ?? String(v);
    text += ` ${k}=${/[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value}`;
  }
  return text + "\n";
}
