/**
 * The CLI's log pipeline: configures logtape (the only place that does) so that every `dfs.*`
 * record at `--log-level` and above is redacted, rate-limited per (peer, error code), formatted
 * (`--log-format text|json`) and written to stderr.
 *
 * @module
 */

import { configure, type LogRecord, reset } from "@logtape/logtape";
import type { Logger, LogLevel } from "../../util/log.ts";
import { logtapeLogger } from "../../node/logtape_logger.ts";
import { formatLogLine, type LogFormat, type LogLine } from "./format.ts";
import { LogRateLimiter, type LogRateLimitOptions } from "./rate_limit.ts";
import { Redactor } from "./redact.ts";

/** Options of {@linkcode startLogging}. */
export interface LoggingOptions {
  /** Lowest level written. */
  readonly level: LogLevel;
  /** Line format. */
  readonly format: LogFormat;
  /** Writes one or more whole lines (stderr). */
  readonly write: (text: string) => void;
  /** Rate limit per (peer, error code) (defaults of {@linkcode LogRateLimiter}). */
  readonly rateLimit?: LogRateLimitOptions;
  /** How often suppressed counts are reported, in ms (default 60000). */
  readonly flushEveryMs?: number;
}

/** The running pipeline. */
export interface CliLogging {
  /** Secrets registered here are never written (the API token, the cluster key). */
  readonly redactor: Redactor;
  /** Logs through the pipeline (category `dfs.cli` unless given). */
  readonly log: Logger;
  /** Writes a line for every key with suppressed records now. */
  flush(): void;
  /** Flushes, stops the periodic flush and removes the configuration (logtape writes nothing). */
  close(): Promise<void>;
}

const LEVEL_OF: Record<string, LogLevel> = {
  trace: "debug",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  fatal: "error",
};

const LOGTAPE_LEVEL = { debug: "debug", info: "info", warn: "warning", error: "error" } as const;

/**
 * Builds the sink of the pipeline (redact, rate-limit, format, write) without touching logtape's
 * global configuration: {@linkcode startLogging} installs it; tests call it with a fake clock.
 *
 * @example
 * ```ts
 * import { logSink } from "./setup.ts";
 * const out: string[] = [];
 * const sink = logSink({ level: "info", format: "json", write: (t) => out.push(t) });
 * sink.write({ timestamp: 0, level: "warn", category: "dfs.peer", message: "bad frame", fields: { peer: "9f2c", code: "BAD_FRAME" } });
 * console.log(JSON.parse(out[0]).category); // "dfs.peer"
 * ```
 */
export function logSink(options: LoggingOptions): {
  redactor: Redactor;
  write(line: LogLine): void;
  flush(): void;
} {
  const redactor = new Redactor();
  const limiter = new LogRateLimiter<LogLine>(options.rateLimit);
  const out = (line: LogLine) => options.write(formatLogLine(line, options.format));
  const summary = (sample: LogLine, count: number): LogLine => ({
    timestamp: options.rateLimit?.now?.() ?? Date.now(),
    level: sample.level,
    category: sample.category,
    message: `suppressed ${count} similar message${count === 1 ? "" : "s"}`,
    fields: {
      peer: sample.fields.peer ?? sample.fields.host ?? sample.fields.remote,
      ...(sample.fields.code !== undefined ? { code: sample.fields.code } : {}),
      suppressed: count,
      last: sample.message,
    },
  });
  return {
    redactor,
    write(raw) {
      const line: LogLine = {
        ...raw,
        message: redactor.text(raw.message),
        fields: redactor.fields(raw.fields),
      };
      const peer = line.fields.peer ?? line.fields.host ?? line.fields.remote;
      if (typeof peer === "string" && peer !== "") {
        const code = typeof line.fields.code === "string" ? line.fields.code : line.message;
        const r = limiter.admit(`${line.category}|${peer}|${code}`, line);
        if (!r.ok) return;
        if (r.suppressed) out(summary(r.suppressed.sample, r.suppressed.count));
      }
      out(line);
    },
    flush() {
      for (const s of limiter.flush()) out(summary(s.sample, s.count));
    },
  };
}

/**
 * Configures logtape for the `dfs` process: the `dfs` categories at `level` and above go through
 * {@linkcode logSink}; logtape's own warnings (`logtape.meta`) too. Replaces any earlier
 * configuration. Call {@linkcode CliLogging.close} at exit.
 *
 * @example
 * ```ts ignore
 * const logging = await startLogging({ level: "info", format: "json", write: (t) => ctx.err(t) });
 * logging.redactor.add(apiToken);
 * // ... run the node ...
 * await logging.close();
 * ```
 */
export async function startLogging(options: LoggingOptions): Promise<CliLogging> {
  const sink = logSink(options);
  await configure({
    reset: true,
    sinks: {
      dfs: (record: LogRecord) =>
        sink.write({
          timestamp: record.timestamp,
          level: LEVEL_OF[record.level] ?? "error",
          category: record.category.join("."),
          message: typeof record.rawMessage === "string"
            ? record.rawMessage
            : record.message.map(String).join(""),
          fields: record.properties,
        }),
    },
    loggers: [
      { category: ["dfs"], lowestLevel: LOGTAPE_LEVEL[options.level], sinks: ["dfs"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["dfs"] },
    ],
  });
  const timer = setInterval(() => sink.flush(), options.flushEveryMs ?? 60_000);
  let closed = false;
  return {
    redactor: sink.redactor,
    log: (level, message, fields, category = "dfs.cli") =>
      logtapeLogger(level, message, fields, category),
    flush: () => sink.flush(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      sink.flush();
      await reset();
    },
  };
}
