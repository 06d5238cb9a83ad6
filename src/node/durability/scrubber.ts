/**
 * The scrubber: re-reads and re-verifies every local content-addressed block at a bounded rate,
 * so that a rotten block is found and restored before someone needs it.
 *
 * A pass lists the store's content-addressed entries (keyed entries such as `file:…`, `name:…`
 * or `tomb:…` are skipped), takes each one's size from a {@linkcode RateLimiter}, and reads it
 * with `readBytes`, which verifies it against its id. A bad block has already been quarantined
 * by the store when the read fails with {@linkcode CorruptBlockError} (it is no longer served);
 * the scrubber then asks `restore` (the node) to fetch a verified copy from a peer, or to
 * reconstruct it, and write it back. A block deleted meanwhile is skipped; any other read error
 * is logged and the pass goes on. The scrubber never serves anything.
 *
 * Passes stream the store's listing and reuse one read buffer, so memory does not grow with the
 * store. In the background ({@linkcode Scrubber.start}), a pass follows the previous one after
 * `pauseBetweenPassesMs`; passes never overlap.
 *
 * Not covered: an entry whose header is unreadable is quarantined by the store's `list()`
 * itself and never reaches the scrubber (its id is unknown), so it is restored by the repair
 * loop, not here.
 *
 * @module
 */

import { errorText, InvalidArgumentError, NotFoundError } from "../../errors.ts";
import type { ContentId } from "../../id/content_id.ts";
import { type Clock, systemClock } from "../../dht/clock.ts";
import { entryFileSize } from "../../store/block_store.ts";
import { CorruptBlockError } from "../../store/errors.ts";
import type { BlockStore } from "../../store/types.ts";
import { PassLoop, throwIfAborted } from "./pass_loop.ts";
import { RateLimiter } from "../../util/rate_limiter.ts";
import type { NodeLogger } from "../options.ts";

/** Default scrub rate: 16 MiB/s. */
export const DEFAULT_SCRUB_BYTES_PER_SECOND = 16 * 1024 * 1024;
/** Default pause between the end of a background pass and the start of the next: 1 h. */
export const DEFAULT_SCRUB_PAUSE_MS = 60 * 60_000;

/** Options of {@linkcode Scrubber}. */
export interface ScrubberOptions {
  /** The store to scrub. */
  readonly store: BlockStore;
  /**
   * Brings back block `id`, which the store just quarantined: fetch a verified copy from a peer
   * or reconstruct it, and write it to the store. Resolves `true` when the block is back,
   * `false` when it could not be restored (a rejection counts as `false` and is logged).
   * `signal` aborts when the scrubber stops.
   */
  readonly restore: (id: ContentId, signal: AbortSignal) => Promise<boolean>;
  /**
   * Read rate in bytes per second (default {@linkcode DEFAULT_SCRUB_BYTES_PER_SECOND});
   * `Infinity`: unthrottled; `0`: background scrubbing off ({@linkcode Scrubber.start} does
   * nothing, and {@linkcode Scrubber.runPass} reads unthrottled). Ignored for the rate when
   * `limiter` is given (but `0` still turns background scrubbing off).
   */
  readonly bytesPerSecond?: number;
  /** A limiter to take the bytes from instead of one built from `bytesPerSecond`. */
  readonly limiter?: RateLimiter;
  /** Pause after each background pass (default {@linkcode DEFAULT_SCRUB_PAUSE_MS}). */
  readonly pauseBetweenPassesMs?: number;
  /** Time and timers (default the wall clock); a simulation passes its virtual clock. */
  readonly clock?: Clock;
  /** Log sink, the node's (default: nothing). */
  readonly log?: NodeLogger;
}

/** What one pass did (counts of content-addressed blocks). */
export interface ScrubPassResult {
  /** Blocks read to the end: good or found corrupt. */
  readonly scanned: number;
  /** Bytes of those blocks. */
  readonly bytes: number;
  /** Blocks that failed verification (quarantined by the store). */
  readonly corrupt: number;
  /** Corrupt blocks `restore` brought back. */
  readonly repaired: number;
  /** Corrupt blocks `restore` could not bring back. */
  readonly failedRepairs: number;
  /** Blocks that could not be read for another reason (logged). */
  readonly errors: number;
}

/** Cumulative counters for `dfs status`. */
export interface ScrubberStats extends ScrubPassResult {
  /** Passes completed. */
  readonly passes: number;
  /** When the last complete pass ended (clock ms), if any did. */
  readonly lastPassEndedAt?: number;
  /** True while background scrubbing is started. */
  readonly running: boolean;
  /** Progress of the pass under way, if one is. */
  readonly currentPass?: { readonly scanned: number; readonly bytes: number };
}

type Counters = { -readonly [K in keyof ScrubPassResult]: number };

const zero = (): Counters => ({
  scanned: 0,
  bytes: 0,
  corrupt: 0,
  repaired: 0,
  failedRepairs: 0,
  errors: 0,
});

/**
 * Background verification of the local blocks (see the module doc).
 *
 * @example One pass over a store
 * ```ts
 * import { Scrubber } from "./scrubber.ts";
 * import { FsBlockStore } from "../../store/block_store.ts";
 * import { MemoryFileSystem } from "../../runtime/memory/fs.ts";
 * const store = await FsBlockStore.open({ fs: new MemoryFileSystem(), root: "/s" });
 * await store.put(new Uint8Array(1000));
 * const scrubber = new Scrubber({ store, restore: () => Promise.resolve(false) });
 * const result = await scrubber.runPass();
 * console.log(result.scanned, result.corrupt); // 1 0
 * ```
 */
export class Scrubber {
  readonly #store: BlockStore;
  readonly #restore: (id: ContentId, signal: AbortSignal) => Promise<boolean>;
  readonly #limiter: RateLimiter | undefined;
  readonly #off: boolean;
  readonly #pauseMs: number;
  readonly #clock: Clock;
  readonly #log: NodeLogger;
  /** Passes run one at a time. */
  /** Aborted by stop(): ends the background loop and every pass under way. */
  readonly #loop: PassLoop<ScrubPassResult>;
  #totals: Counters = zero();
  #passCount = 0;
  #lastPassEndedAt: number | undefined;
  #current: Counters | undefined;

  /** Checks the options; nothing runs until {@linkcode start} or {@linkcode runPass}. */
  constructor(options: ScrubberOptions) {
    const rate = options.bytesPerSecond ?? DEFAULT_SCRUB_BYTES_PER_SECOND;
    if (typeof rate !== "number" || Number.isNaN(rate) || rate < 0) {
      throw new InvalidArgumentError(`bytesPerSecond must be >= 0, got ${rate}`);
    }
    const pause = options.pauseBetweenPassesMs ?? DEFAULT_SCRUB_PAUSE_MS;
    if (typeof pause !== "number" || !Number.isFinite(pause) || pause < 0) {
      throw new InvalidArgumentError(`pauseBetweenPassesMs must be >= 0, got ${pause}`);
    }
    this.#store = options.store;
    this.#restore = options.restore;
    this.#clock = options.clock ?? systemClock;
    this.#off = rate === 0;
    this.#limiter = options.limiter ??
      (rate > 0 ? new RateLimiter({ bytesPerSecond: rate, clock: this.#clock }) : undefined);
    this.#pauseMs = pause;
    this.#log = options.log ?? (() => {});
    this.#loop = new PassLoop({
      name: "scrubber",
      pass: (signal) => this.#pass(signal),
      clock: this.#clock,
      onError: (error) => this.#log("warn", "scrub pass failed", { error }),
    });
  }

  /**
   * Starts background passes (the first one at once), until {@linkcode stop}. Does nothing when
   * already started or when scrubbing is off (`bytesPerSecond: 0`).
   */
  start(): void {
    if (this.#off) return;
    this.#loop.start(this.#pauseMs);
  }

  /**
   * Stops background passes and aborts any pass under way (a `runPass` then rejects with
   * {@linkcode AbortedError}); resolves once the current read and restore settled. The scrubber
   * can be started again afterwards.
   */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /**
   * Runs one whole pass (after the one under way, if any) and resolves with its counts. Rejects
   * with {@linkcode AbortedError} when `signal` aborts or the scrubber stops, and with the
   * store's error when it cannot be listed.
   */
  runPass(signal?: AbortSignal): Promise<ScrubPassResult> {
    return this.#loop.run(signal);
  }

  /** Cumulative counters (blocks of interrupted passes included) and the pass under way. */
  stats(): ScrubberStats {
    const current = this.#current;
    return {
      ...this.#totals,
      passes: this.#passCount,
      ...(this.#lastPassEndedAt !== undefined ? { lastPassEndedAt: this.#lastPassEndedAt } : {}),
      running: this.#loop.running,
      ...(current ? { currentPass: { scanned: current.scanned, bytes: current.bytes } } : {}),
    };
  }

  async #pass(signal: AbortSignal): Promise<ScrubPassResult> {
    throwIfAborted(signal, "scrub");
    const pass = zero();
    this.#current = pass;
    const count = (key: keyof Counters, n = 1) => {
      pass[key] += n;
      this.#totals[key] += n;
    };
    let buffer = new Uint8Array(0);
    try {
      for await (const entry of this.#store.list()) {
        throwIfAborted(signal, "scrub");
        const text = entry.id.toString();
        if (entry.key !== text) continue; // a keyed entry (file:, name:, tomb:...)
        await this.#limiter?.take(entry.size, signal);
        const need = entryFileSize(entry.size);
        if (buffer.length < need) buffer = new Uint8Array(need);
        try {
          await this.#store.readBytes(entry.id, { signal, into: buffer });
          count("scanned");
          count("bytes", entry.size);
        } catch (err) {
          throwIfAborted(signal, "scrub");
          if (err instanceof NotFoundError) continue; // deleted since it was listed
          if (!(err instanceof CorruptBlockError)) {
            count("errors");
            this.#log("warn", "scrub could not read a block", {
              block: text,
              error: errorText(err),
            });
            continue;
          }
          count("scanned");
          count("bytes", entry.size);
          count("corrupt");
          this.#log("warn", "scrub found a corrupt block", { block: text, error: errorText(err) });
          count(await this.#repair(entry.id, signal) ? "repaired" : "failedRepairs");
        }
      }
    } finally {
      this.#current = undefined;
    }
    this.#passCount++;
    this.#lastPassEndedAt = this.#clock.now();
    const level = pass.corrupt > 0 || pass.errors > 0 ? "info" : "debug";
    this.#log(level, "scrub pass done", { ...pass });
    return { ...pass };
  }

  /** Asks `restore` for the block; `false` (logged) when it fails. Rethrows an abort. */
  async #repair(id: ContentId, signal: AbortSignal): Promise<boolean> {
    try {
      const ok = await this.#restore(id, signal);
      if (!ok) this.#log("warn", "scrub could not restore a block", { block: id.toString() });
      return ok === true;
    } catch (err) {
      throwIfAborted(signal, "scrub");
      this.#log("warn", "scrub could not restore a block", {
        block: id.toString(),
        error: errorText(err),
      });
      return false;
    }
  }
}
