/**
 * Prometheus text exposition format 0.0.4: metric families (name, help, type, samples) as the
 * text a Prometheus server scrapes. No dependency; see
 * https://prometheus.io/docs/instrumenting/exposition_formats/.
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";

/** The content type of a scrape answer in format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names to values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One counter or gauge series. */
export interface Sample {
  /** Its labels (none: the family's only series). */
  readonly labels?: Labels;
  /** Its value. */
  readonly value: number;
}

/** One histogram series: per-bucket counts (not cumulative) over ascending upper bounds. */
export interface HistogramSample {
  /** Its labels, without `le`. */
  readonly labels?: Labels;
  /** Upper bounds of the buckets, ascending, finite (`+Inf` is added). */
  readonly bounds: readonly number[];
  /** Observations per bucket: `bounds.length + 1` numbers, the last one above every bound. */
  readonly counts: readonly number[];
  /** Sum of the observations. */
  readonly sum: number;
}

/** A counter or gauge family. */
export interface ScalarFamily {
  /** Metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`; a counter's ends in `_total`). */
  readonly name: string;
  /** One line of help text. */
  readonly help: string;
  /** `counter` or `gauge`. */
  readonly type: "counter" | "gauge";
  /** Its series (none: only HELP and TYPE are written). */
  readonly samples: readonly Sample[];
}

/** A histogram family. */
export interface HistogramFamily {
  /** Metric name (`_bucket`, `_sum` and `_count` are appended). */
  readonly name: string;
  /** One line of help text. */
  readonly help: string;
  /** `histogram`. */
  readonly type: "histogram";
  /** Its series. */
  readonly samples: readonly HistogramSample[];
}

/** One metric family. */
export type MetricFamily = ScalarFamily | HistogramFamily;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Writes `families` in the text format 0.0.4: for each family a `# HELP` and a `# TYPE` line,
 * then its samples; a histogram's buckets are cumulative and end with `le="+Inf"` (equal to
 * its `_count`). Label values are escaped (`\\`, `\"`, `\n`), help text too (`\\`, `\n`).
 * Throws `InvalidArgumentError` for a bad metric or label name, a family named twice, two
 * series with the same labels, a counter not ending in `_total`, or a malformed histogram.
 *
 * @example
 * ```ts
 * import { writeExposition } from "./exposition.ts";
 * const text = writeExposition([
 *   { name: "dfs_puts_total", help: "Puts.", type: "counter", samples: [{ value: 3 }] },
 * ]);
 * console.log(text); // "# HELP dfs_puts_total Puts.\n# TYPE dfs_puts_total counter\ndfs_puts_total 3\n"
 * ```
 */
export function writeExposition(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  const names = new Set<string>();
  for (const f of families) {
    if (!NAME.test(f.name)) throw new InvalidArgumentError(`bad metric name ${f.name}`);
    if (names.has(f.name)) throw new InvalidArgumentError(`metric ${f.name} written twice`);
    names.add(f.name);
    if (f.type === "counter" && !f.name.endsWith("_total")) {
      throw new InvalidArgumentError(`counter ${f.name} does not end in _total`);
    }
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const series = new Set<string>();
    for (const s of f.samples) {
      const key = labelText(s.labels);
      if (series.has(key)) throw new InvalidArgumentError(`metric ${f.name}${key} written twice`);
      series.add(key);
      if (f.type === "histogram") writeHistogram(out, f.name, s as HistogramSample);
      else out.push(`${f.name}${key} ${formatValue((s as Sample).value)}`);
    }
  }
  return out.length === 0 ? "" : out.join("\n") + "\n";
}

function writeHistogram(out: string[], name: string, s: HistogramSample): void {
  if (s.counts.length !== s.bounds.length + 1) {
    throw new InvalidArgumentError(`histogram ${name}: ${s.bounds.length + 1} counts expected`);
  }
  let cumulative = 0;
  for (let i = 0; i <= s.bounds.length; i++) {
    const bound = s.bounds[i];
    if (i < s.bounds.length && (!Number.isFinite(bound) || (i > 0 && bound <= s.bounds[i - 1]))) {
      throw new InvalidArgumentError(`histogram ${name}: bounds must ascend and be finite`);
    }
    cumulative += s.counts[i];
    const le = i < s.bounds.length ? formatValue(bound) : "+Inf";
    out.push(`${name}_bucket${labelText({ ...s.labels, le })} ${formatValue(cumulative)}`);
  }
  const labels = labelText(s.labels);
  out.push(`${name}_sum${labels} ${formatValue(s.sum)}`);
  out.push(`${name}_count${labels} ${formatValue(cumulative)}`);
}

/** `{a="x",b="y"}` in the given order, or "" without labels. */
function labelText(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL.test(k) || k.startsWith("__")) throw new InvalidArgumentError(`bad label ${k}`);
    parts.push(`${k}="${escapeLabelValue(v)}"`);
  }
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/**
 * Escapes a label value: backslash, double quote and line feed.
 *
 * @example
 * ```ts
 * import { escapeLabelValue } from "./exposition.ts";
 * escapeLabelValue('a "b"\n'); // 'a \\"b\\"\\n'
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : "\\" + c);
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value: an integer or a float as JavaScript writes it; `+Inf`, `-Inf`, `NaN`. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
