/**
 * A strict parser of the Prometheus text exposition format 0.0.4 for the tests: every line must
 * be a HELP, TYPE or sample line; samples of a family are contiguous and after its TYPE; no
 * series twice; histograms cumulative, ending in `le="+Inf"` equal to `_count`.
 *
 * @module
 */

/** One parsed sample line. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A parsed scrape. */
export interface ParsedScrape {
  /** TYPE per family name. */
  readonly types: Map<string, string>;
  /** HELP per family name (unescaped). */
  readonly help: Map<string, string>;
  readonly samples: ParsedSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_NAME = "[a-zA-Z_][a-zA-Z0-9_]*";
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const LABEL = `${LABEL_NAME}=${LABEL_VALUE}`;
const VALUE = "(?:[+-]?Inf|NaN|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL}(?:,${LABEL})*)?,?)\\})? (${VALUE})(?: -?\\d+)?$`,
);
const HELP = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const ONE_LABEL = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, "g");

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
}

function value(text: string): number {
  if (/^\+?Inf$/.test(text)) return Infinity;
  if (text === "-Inf") return -Infinity;
  return text === "NaN" ? NaN : Number(text);
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && types.get(base) === "histogram") return base;
  }
  throw new Error(`sample ${name} has no TYPE line before it`);
}

/** Parses `text`; throws with the line number on anything the format does not allow. */
export function parseExposition(text: string): ParsedScrape {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the text does not end with \\n");
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: ParsedSample[] = [];
  const series = new Set<string>();
  const closed = new Set<string>();
  let current = "";
  const lines = text === "" ? [] : text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1} ${JSON.stringify(line)}`;
    let m: RegExpExecArray | null;
    if ((m = HELP.exec(line))) {
      if (help.has(m[1])) throw new Error(`${where}: second HELP`);
      help.set(m[1], unescape(m[2]));
    } else if ((m = TYPE.exec(line))) {
      if (types.has(m[1])) throw new Error(`${where}: second TYPE`);
      if (samples.some((s) => s.name === m![1])) throw new Error(`${where}: TYPE after samples`);
      types.set(m[1], m[2]);
    } else if ((m = SAMPLE.exec(line))) {
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? "").matchAll(ONE_LABEL)) {
        if (l[1] in labels) throw new Error(`${where}: label ${l[1]} twice`);
        labels[l[1]] = unescape(l[2].slice(1, -1));
      }
      const family = familyOf(m[1], types);
      if (family !== current) {
        if (closed.has(family)) throw new Error(`${where}: family ${family} is not contiguous`);
        if (current) closed.add(current);
        current = family;
      }
      const key = m[1] + JSON.stringify(Object.entries(labels).sort());
      if (series.has(key)) throw new Error(`${where}: series written twice`);
      series.add(key);
      samples.push({ name: m[1], labels, value: value(m[3]) });
    } else if (!line.startsWith("#") || /^#\s*(HELP|TYPE)\b/.test(line)) {
      throw new Error(`${where}: not a line of the exposition format`);
    }
  });
  for (const [name, type] of types) {
    if (type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name}`);
    if (type === "histogram") checkHistogram(name, samples);
  }
  return { types, help, samples };
}

function checkHistogram(name: string, samples: readonly ParsedSample[]): void {
  const groups = new Map<string, ParsedSample[]>();
  const keyOf = (s: ParsedSample) => {
    const { le: _le, ...rest } = s.labels;
    return JSON.stringify(Object.entries(rest).sort());
  };
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    if (!("le" in s.labels)) throw new Error(`${name}_bucket without le`);
    const list = groups.get(keyOf(s)) ?? [];
    list.push(s);
    groups.set(keyOf(s), list);
  }
  for (const [key, buckets] of groups) {
    let last = -Infinity, lastCount = 0;
    for (const b of buckets) {
      const le = value(b.labels.le);
      if (!(le > last)) throw new Error(`${name}${key}: le ${b.labels.le} does not ascend`);
      if (b.value < lastCount) throw new Error(`${name}${key}: buckets not cumulative`);
      last = le;
      lastCount = b.value;
    }
    if (last !== Infinity) throw new Error(`${name}${key}: no le="+Inf" bucket last`);
    const count = samples.find((s) => s.name === `${name}_count` && keyOf(s) === key);
    const sum = samples.find((s) => s.name === `${name}_sum` && keyOf(s) === key);
    if (!count || !sum) throw new Error(`${name}${key}: _count or _sum missing`);
    if (count.value !== lastCount) throw new Error(`${name}${key}: +Inf != _count`);
  }
}

/** The value of series `name` with exactly `labels` (`undefined` when absent). */
export function valueOf(
  scrape: ParsedScrape,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return scrape.samples.find((s) =>
    s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want
  )?.value;
}
