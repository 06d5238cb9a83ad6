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
 * A histogram keyed by one label: `observe` costs a short scan of the bounds and two additions.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram("op", [0.1, 1]);
 * h.observe("get", 0.05);
 * h.observe("get", 3);
 * h.samples()[0].counts; // [1, 0, 1]
 * ```
 */
export class Histogram {
  readonly #label: string;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, { counts: number[]; sum: number }>();

  /** A histogram whose series are told apart by `label`, over ascending `bounds`. */
  constructor(label: string, bounds: readonly number[]) {
    this.#label = label;
    this.#bounds = bounds;
  }

  /** Counts `value` in the series `labelValue`. */
  observe(labelValue: string, value: number): void {
    let s = this.#series.get(labelValue);
    if (!s) {
      s = { counts: new Array(this.#bounds.length + 1).fill(0), sum: 0 };
      this.#series.set(labelValue, s);
    }
    let i = 0;
    while (i < this.#bounds.length && value > this.#bounds[i]) i++;
    s.counts[i]++;
    s.sum += value;
  }

  /** Every series observed so far, sorted by label value. */
  samples(): HistogramSample[] {
    return [...this.#series.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map((
      [value, s],
    ) => ({
      labels: { [this.#label]: value },
      bounds: this.#bounds,
      counts: [...s.counts],
      sum: s.sum,
    }));
  }
}
