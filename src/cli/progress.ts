/**
 * The progress bar `put` and `get` draw on a terminal: a pure renderer and a throttled writer.
 *
 * @module
 */

import { formatBytes } from "./bytes.ts";

/** What {@linkcode renderProgress} draws. */
export interface ProgressState {
  /** Short label, e.g. `put` or `get`. */
  readonly label: string;
  /** Bytes done so far. */
  readonly bytes: number;
  /** Total bytes, when known. */
  readonly total?: number;
  /** Milliseconds since the transfer started. */
  readonly elapsedMs: number;
  /** Columns available (default 80). */
  readonly width?: number;
  /** Shown instead of the ETA, e.g. `replicating` once every byte was sent. */
  readonly note?: string;
}

/**
 * Formats a duration in seconds for an ETA: `4s`, `1m05s`, `2h03m`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * formatDuration(65); // "1m05s"
 * ```
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Renders one line of progress (no newline, no escape codes), at most `width - 1` columns.
 * With a known total: `label [#####-----]  50%   5.0 MiB / 10.0 MiB     2.5 MiB/s  ETA 2s`;
 * the numbers are padded to fixed widths so the bar does not jitter. Without a total:
 * `label  5.0 MiB  2.5 MiB/s`. Rate and ETA show `--` until some time has passed. A `note`
 * replaces the ETA (and follows the rate when there is no total).
 *
 * @example
 * ```ts
 * import { renderProgress } from "./progress.ts";
 * renderProgress({ label: "get", bytes: 5 * 2 ** 20, total: 10 * 2 ** 20, elapsedMs: 2000, width: 72 });
 * // "get [#######-------]  50%   5.0 MiB / 10.0 MiB     2.5 MiB/s  ETA 2s   "
 * ```
 */
export function renderProgress(state: ProgressState): string {
  const { label, bytes, total, elapsedMs, note } = state;
  const width = state.width ?? 80;
  const rate = elapsedMs >= 100 ? bytes / (elapsedMs / 1000) : 0;
  const rateText = rate > 0 ? `${formatBytes(Math.round(rate))}/s` : "-- B/s";
  if (total === undefined) {
    const suffix = note === undefined ? "" : `  ${note}`;
    return `${label}  ${formatBytes(bytes)}  ${rateText}${suffix}`.slice(0, width - 1);
  }
  const fraction = total > 0 ? Math.min(1, bytes / total) : 1;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const eta = rate > 0 ? formatDuration((total - bytes) / rate) : "--";
  // Fixed-width fields keep the bar from jittering as the numbers change.
  const done = formatBytes(bytes).padStart(formatBytes(total).length);
  const last = note ?? `ETA ${eta.padEnd(5)}`;
  const tail = `${percent}  ${done} / ${formatBytes(total)}  ${rateText.padStart(12)}  ${last}`;
  const barWidth = Math.max(0, Math.min(40, width - 1 - label.length - tail.length - 4));
  if (barWidth < 5) return `${label} ${tail}`.slice(0, width - 1);
  const filled = Math.floor(fraction * barWidth);
  const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
  return `${label} [${bar}] ${tail}`;
}

/** Options for {@linkcode ProgressBar}. */
export interface ProgressBarOptions {
  /** Label shown first. */
  readonly label: string;
  /** Total bytes, when known. */
  readonly total?: number;
  /** Writes text to the terminal (stderr). */
  readonly write: (text: string) => Promise<void>;
  /** Clock in milliseconds (default `performance.now`). */
  readonly now?: () => number;
  /** Minimum time between redraws (default 100 ms: 10 per second). */
  readonly intervalMs?: number;
  /** Columns (default 80). */
  readonly width?: number;
}

/** Options of {@linkcode ProgressBar.update}. */
export interface ProgressUpdateOptions {
  /** Draw even if the last draw is more recent than the interval. */
  readonly force?: boolean;
  /** Shown instead of the ETA. */
  readonly note?: string;
}

/**
 * A throttled progress line: {@linkcode ProgressBar.update} redraws at most every `intervalMs`
 * (with `\r` and erase-to-end-of-line), {@linkcode ProgressBar.finish} erases it. Writes are
 * chained so they never interleave.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./progress.ts";
 * const bar = new ProgressBar({ label: "put", total: 100, write: async () => {} });
 * bar.update(50);
 * await bar.finish();
 * ```
 */
export class ProgressBar {
  #options: ProgressBarOptions;
  #now: () => number;
  #started: number;
  #lastDraw = -Infinity;
  #pending: Promise<void> = Promise.resolve();
  #drawn = false;

  /** Starts the clock. */
  constructor(options: ProgressBarOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#started = this.#now();
  }

  /**
   * Reports `bytes` done; redraws if the last draw is older than the interval, or always with
   * `force` (for the final state, which the throttle must not swallow). `note` replaces the ETA.
   */
  update(bytes: number, options: ProgressUpdateOptions = {}): void {
    const now = this.#now();
    if (!options.force && now - this.#lastDraw < (this.#options.intervalMs ?? 100)) return;
    this.#lastDraw = now;
    const line = renderProgress({
      label: this.#options.label,
      bytes,
      total: this.#options.total,
      elapsedMs: now - this.#started,
      width: this.#options.width,
      note: options.note,
    });
    this.#drawn = true;
    this.#enqueue(`\r${line}\x1b[K`);
  }

  /** Erases the line (if anything was drawn) and waits for pending writes. */
  async finish(): Promise<void> {
    if (this.#drawn) this.#enqueue("\r\x1b[K");
    this.#drawn = false;
    await this.#pending;
  }

  #enqueue(text: string): void {
    this.#pending = this.#pending.then(() => this.#options.write(text)).catch(() => {});
  }
}
