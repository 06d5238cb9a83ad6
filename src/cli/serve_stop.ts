/**
 * When and how `dfs serve` stops: on the first SIGINT/SIGTERM, or once the API drained the node;
 * with `--drain`, a SIGTERM first hands the node's data off, and a second signal cancels that
 * hand-off (the node still closes cleanly); a signal after that exits at once.
 *
 * @module
 */

import { AbortedError } from "../errors.ts";
import type { DrainReport } from "../node/types.ts";
import type { ProcessHost } from "../runtime/types.ts";
import { EXIT } from "./errors.ts";

/** Why `serve` stops. */
export type StopReason =
  | { readonly kind: "signal"; readonly signal: "SIGINT" | "SIGTERM" }
  | { readonly kind: "drained"; readonly report: DrainReport };

/**
 * Tracks the signals of a running `serve` (hooked on construction, unhooked by `dispose`).
 *
 * @example
 * ```ts ignore
 * const stop = new StopControl(ctx.process, { drainOnSigterm: true });
 * const reason = await stop.stopped;
 * if (stop.drainSignal) await node.drain(stop.drainSignal); // a 2nd signal aborts it
 * stop.endDrain(); // from here a signal exits at once (130)
 * ```
 */
export class StopControl {
  /** Resolves with the first reason to stop. */
  readonly stopped: Promise<StopReason>;
  #resolve!: (reason: StopReason) => void;
  #process: ProcessHost;
  #drainOnSigterm: boolean;
  #stopping = false;
  #drain: AbortController | undefined;
  #offs: (() => void)[];

  /** Hooks SIGINT and SIGTERM of `process`. */
  constructor(process: ProcessHost, options: { readonly drainOnSigterm?: boolean } = {}) {
    this.#process = process;
    this.#drainOnSigterm = options.drainOnSigterm ?? false;
    this.stopped = new Promise((resolve) => this.#resolve = resolve);
    this.#offs = [
      process.onSignal("SIGINT", () => this.#onSignal("SIGINT")),
      process.onSignal("SIGTERM", () => this.#onSignal("SIGTERM")),
    ];
  }

  /** True once a reason to stop came. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * The signal of the drain before exit (`--drain` and a SIGTERM), aborted by a further signal;
   * `undefined` when the node stops without draining.
   */
  get drainSignal(): AbortSignal | undefined {
    return this.#drain?.signal;
  }

  /** The API drained the node (`onDrained`): stop, without draining again. */
  drained(report: DrainReport): void {
    this.#stop({ kind: "drained", report });
  }

  /** The drain before exit is over: from now on a signal exits at once. */
  endDrain(): void {
    this.#drain = undefined;
  }

  /** Unhooks the signals. */
  dispose(): void {
    for (const off of this.#offs) off();
    this.#offs = [];
  }

  #stop(reason: StopReason): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#resolve(reason);
  }

  #onSignal(signal: "SIGINT" | "SIGTERM"): void {
    if (!this.#stopping) {
      if (signal === "SIGTERM" && this.#drainOnSigterm) this.#drain = new AbortController();
      this.#stop({ kind: "signal", signal });
    } else if (this.#drain && !this.#drain.signal.aborted) {
      this.#drain.abort(new AbortedError(`drain cancelled (${signal})`));
    } else {
      this.#process.exit(EXIT.INTERRUPTED);
    }
  }
}

/**
 * Settles like `promise`, or rejects with `signal`'s reason as soon as it aborts (`promise` is
 * then left to finish on its own, its failure ignored).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
