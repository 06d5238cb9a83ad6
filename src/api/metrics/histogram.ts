/**
 * {@linkcode Histogram}: observations counted into fixed buckets, one series per label value.
 *
 * @module
 */

import type { HistogramSample } from "./exposition.ts";

/** Latency buckets in seconds: 1 ms to 2 minutes. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
]);

/**
 * A histogram keyed by a fixed list of labels: `observe` costs a short scan of the bounds and
 * two additions.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram(["op", "method"], [0.1, 1]);
 * h.observe(["get", "GET"], 0.05);
 * h.observe(["get", "GET"], 3);
 * h.samples()[0].counts; // [1, 0, 1]
 * h.samples()[0].labels; // { op: "get", method: "GET" }
 * ```
 */
export class Histogram {
  readonly #labels: readonly string[];
  readonly #bounds: readonly number[];
  readonly #series = new Map<
    string,
    { values: readonly string[]; counts: number[]; sum: number }
  >();

  /** A histogram whose series are told apart by `labels`, over ascending `bounds`. */
  constructor(labels: readonly string[], bounds: readonly number[]) {
    this.#labels = [...labels];
    this.#bounds = bounds;
  }

  /** Counts `value` in the series whose label values are `values` (in the order of the labels). */
  observe(values: readonly string[], value: number): void {
    const key = values.join("\u0000");
    let s = this.#series.get(key);
    if (!s) {
      s = { values: [...values], counts: new Array(this.#bounds.length + 1).fill(0), sum: 0 };
      this.#series.set(key, s);
    }
    let i = 0;
    while (i < this.#bounds.length && value > this.#bounds[i]) i++;
    s.counts[i]++;
    s.sum += value;
  }

  /** Every series observed so far, sorted by label values. */
  samples(): HistogramSample[] {
    return [...this.#series.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map((
      [, s],
    ) => ({
      labels: Object.fromEntries(this.#labels.map((name, i) => [name, s.values[i] ?? ""])),
      bounds: this.#bounds,
      counts: [...s.counts],
      sum: s.sum,
    }));
  }
}
