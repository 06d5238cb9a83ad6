/**
 * An adaptive request timeout, computed as TCP computes its retransmission timeout (RFC 6298):
 * a smoothed round-trip time and its variation from the answers seen, timeout = srtt + 4 x
 * rttvar, kept between a floor and the configured request timeout. A dead contact then costs
 * a few round trips of waiting, not the full request timeout.
 *
 * @module
 */

/**
 * Round-trip estimator.
 *
 * @example
 * ```ts
 * import { RttEstimator } from "./rtt.ts";
 * const rtt = new RttEstimator(1_000, 5_000);
 * console.log(rtt.timeoutMs()); // 5000 before any sample
 * for (let i = 0; i < 20; i++) rtt.sample(100);
 * console.log(rtt.timeoutMs()); // 1000: the floor
 * ```
 */
export class RttEstimator {
  readonly #min: number;
  readonly #max: number;
  #srtt: number | undefined;
  #rttvar = 0;

  /** An estimator whose timeouts stay within `minMs`..`maxMs` (`maxMs` until a sample). */
  constructor(minMs: number, maxMs: number) {
    this.#min = Math.min(minMs, maxMs);
    this.#max = maxMs;
  }

  /** Takes one measured round trip, ms. */
  sample(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.#srtt === undefined) {
      this.#srtt = ms;
      this.#rttvar = ms / 2;
      return;
    }
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - ms);
    this.#srtt = 0.875 * this.#srtt + 0.125 * ms;
  }

  /** The smoothed round trip, ms (undefined before any sample). */
  get srttMs(): number | undefined {
    return this.#srtt;
  }

  /** The timeout to use for the next request, ms. */
  timeoutMs(): number {
    if (this.#srtt === undefined) return this.#max;
    return Math.round(Math.min(this.#max, Math.max(this.#min, this.#srtt + 4 * this.#rttvar)));
  }
}
