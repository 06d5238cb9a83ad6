/**
 * Garbage collection of local blocks: removes the blocks that no indexed file, no put under way
 * and no recent incoming replication refers to, once they have stayed unreferenced for a grace
 * period (default 1 h). That takes out what a SIGKILLed put or an interrupted incoming
 * replication left behind.
 *
 * The collector only proposes. Each pass computes `live()` (every block of every indexed file,
 * from the node), lists the store's content-addressed entries (keyed entries such as `file:…`,
 * `name:…` or `tomb:…` are never considered) and notes, in memory, when it first saw each
 * listed block outside `live()`. A block seen unreferenced at every pass for at least `graceMs`
 * is handed to `deleteIfUnused`, the node's delete that re-checks, under the block's lock,
 * puts under way, recent pushes from peers and indexed files, and refuses when any uses it.
 * A block seen referenced again is forgotten; a refused one starts its grace over.
 *
 * Guarantees and limits:
 * - A block is never removed by the collector itself: only `deleteIfUnused` removes, so the
 *   collector is as safe as that check (a put that starts during the grace, or a file indexed
 *   meanwhile, keeps its blocks even if `live()` was computed before).
 * - "Continuously unreferenced" is sampled at passes: a block used and released again between
 *   two passes is not noticed (the node's check at delete time still protects any current use).
 * - The first-seen times are in memory only: after a restart every block starts its grace
 *   again. This is conservative: a restart delays collection, it never hastens it.
 * - Memory is bounded: only blocks listed in the last pass are tracked (those gone are dropped
 *   every pass), and at most `maxTracked` of them; others are picked up by later passes.
 * - `live()` must fail (reject) rather than under-report: when it cannot list a file's blocks
 *   (a manifest missing or quarantined), the pass is skipped and nothing is proposed.
 *
 * @module
 */

import { errorText, InvalidArgumentError } from "../../errors.ts";
import type { ContentId } from "../../id/content_id.ts";
import { type Clock, systemClock } from "../../dht/clock.ts";
import type { BlockStore } from "../../store/types.ts";
import { PassLoop, throwIfAborted } from "./pass_loop.ts";
import type { NodeLogger } from "../options.ts";

/** Default grace period: a block must stay unreferenced for 1 h before it goes. */
export const DEFAULT_GC_GRACE_MS = 60 * 60_000;
/** Default time between background passes: 10 min. */
export const DEFAULT_GC_INTERVAL_MS = 10 * 60_000;
/** Default bound on the unreferenced blocks tracked at once. */
export const DEFAULT_GC_MAX_TRACKED = 1 << 20;

/** Options of {@linkcode GarbageCollector}. */
export interface GarbageCollectorOptions {
  /** The store to collect. */
  readonly store: BlockStore;
  /**
   * Ids (text form) of the blocks that must stay: every block of every indexed file. Must
   * reject rather than leave out blocks of a file it cannot walk.
   */
  readonly live: () => Promise<ReadonlySet<string>>;
  /**
   * The node's lock-protected delete: removes block `id` unless an indexed file, a put under way
   * or a recent push uses it. Resolves `true` when it removed the block.
   */
  readonly deleteIfUnused: (id: ContentId) => Promise<boolean>;
  /** How long a block must stay unreferenced before it is proposed (default 1 h). */
  readonly graceMs?: number;
  /** Most unreferenced blocks tracked at once (default {@linkcode DEFAULT_GC_MAX_TRACKED}). */
  readonly maxTracked?: number;
  /** Time and timers (default the wall clock); a simulation passes its virtual clock. */
  readonly clock?: Clock;
  /** Log sink, the node's (default: nothing). */
  readonly log?: NodeLogger;
}

/** What one pass did (counts of content-addressed blocks). */
export interface GcPassResult {
  /** Blocks listed. */
  readonly scanned: number;
  /** Of those, blocks outside `live()`. */
  readonly unreferenced: number;
  /** Blocks `deleteIfUnused` removed. */
  readonly removed: number;
  /** Blocks proposed that `deleteIfUnused` kept (their grace starts over). */
  readonly refused: number;
  /** Proposals that failed with an error (logged; retried next pass). */
  readonly errors: number;
}

/** Counters for `dfs status`. */
export interface GcStats {
  /** Passes completed. */
  readonly passes: number;
  /** Blocks removed in all. */
  readonly removed: number;
  /** Proposals refused in all. */
  readonly refused: number;
  /** Unreferenced blocks tracked now (waiting out their grace). */
  readonly tracked: number;
  /** The last complete pass, if any. */
  readonly lastPass?: GcPassResult;
  /** When the last complete pass ended (clock ms), if any did. */
  readonly lastPassEndedAt?: number;
  /** True while background passes are started. */
  readonly running: boolean;
}

/**
 * The collector (see the module doc).
 *
 * @example Wiring it to a node's callbacks
 * ```ts ignore
 * const gc = new GarbageCollector({
 *   store,
 *   live: () => node.liveBlocks(),
 *   deleteIfUnused: (id) => node.deleteIfUnused(id),
 * });
 * gc.start(); // a pass every 10 min
 * await gc.stop();
 * ```
 */
export class GarbageCollector {
  readonly #store: BlockStore;
  readonly #live: () => Promise<ReadonlySet<string>>;
  readonly #deleteIfUnused: (id: ContentId) => Promise<boolean>;
  readonly #graceMs: number;
  readonly #maxTracked: number;
  readonly #clock: Clock;
  readonly #log: NodeLogger;
  /** Unreferenced block id -> clock time it was first seen so. */
  #since = new Map<string, number>();
  readonly #loop: PassLoop<GcPassResult>;
  #passCount = 0;
  #removed = 0;
  #refused = 0;
  #lastPass: GcPassResult | undefined;
  #lastPassEndedAt: number | undefined;

  /** Checks the options; nothing runs until {@linkcode start} or {@linkcode runPass}. */
  constructor(options: GarbageCollectorOptions) {
    const grace = options.graceMs ?? DEFAULT_GC_GRACE_MS;
    checkNonNegative("graceMs", grace);
    const max = options.maxTracked ?? DEFAULT_GC_MAX_TRACKED;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new InvalidArgumentError(`maxTracked must be an integer >= 1, got ${max}`);
    }
    this.#store = options.store;
    this.#live = options.live;
    this.#deleteIfUnused = options.deleteIfUnused;
    this.#graceMs = grace;
    this.#maxTracked = max;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? (() => {});
    this.#loop = new PassLoop({
      name: "garbage collector",
      pass: (signal) => this.#pass(signal),
      clock: this.#clock,
      onError: (error) => this.#log("warn", "gc pass failed", { error }),
    });
  }

  /**
   * Starts background passes, the first one at once, then one `intervalMs` after the end of
   * each (default {@linkcode DEFAULT_GC_INTERVAL_MS}). Does nothing when already started.
   * Throws {@linkcode InvalidArgumentError} for a negative or non-finite interval.
   */
  start(intervalMs: number = DEFAULT_GC_INTERVAL_MS): void {
    checkNonNegative("intervalMs", intervalMs);
    this.#loop.start(intervalMs);
  }

  /**
   * Stops background passes and aborts any pass under way (a `runPass` then rejects with
   * {@linkcode AbortedError}); resolves once the current proposal settled. Can be started again.
   */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /**
   * Runs one pass (after the one under way, if any). Rejects with {@linkcode AbortedError} when
   * `signal` aborts or the collector stops (the blocks tracked so far are kept), and with the
   * error of `live()` or of the store's listing (nothing is proposed then).
   */
  runPass(signal?: AbortSignal): Promise<GcPassResult> {
    return this.#loop.run(signal);
  }

  /** Counters and the last pass. */
  stats(): GcStats {
    return {
      passes: this.#passCount,
      removed: this.#removed,
      refused: this.#refused,
      tracked: this.#since.size,
      ...(this.#lastPass ? { lastPass: this.#lastPass } : {}),
      ...(this.#lastPassEndedAt !== undefined ? { lastPassEndedAt: this.#lastPassEndedAt } : {}),
      running: this.#loop.running,
    };
  }

  async #pass(signal: AbortSignal): Promise<GcPassResult> {
    throwIfAborted(signal, "gc");
    const live = await this.#live();
    throwIfAborted(signal, "gc");
    const previous = this.#since;
    const next = new Map<string, number>();
    // Blocks tracked before keep their place; new ones fill what is left under maxTracked.
    let room = Math.max(0, this.#maxTracked - previous.size);
    const track = (k: string, at: number) => {
      if (previous.has(k)) {
        next.set(k, at);
      } else if (room > 0) {
        room--;
        next.set(k, at);
      }
    };
    const r = { scanned: 0, unreferenced: 0, removed: 0, refused: 0, errors: 0 };
    for await (const entry of this.#store.list()) {
      throwIfAborted(signal, "gc");
      const k = entry.id.toString();
      if (entry.key !== k) continue; // a keyed entry (file:, name:, tomb:...)
      r.scanned++;
      if (live.has(k)) continue; // referenced: forgotten (not carried into `next`)
      r.unreferenced++;
      const now = this.#clock.now();
      const since = previous.get(k) ?? now;
      if (now - since < this.#graceMs) {
        track(k, since);
        continue;
      }
      try {
        if (await this.#deleteIfUnused(entry.id)) {
          r.removed++;
          continue;
        }
        r.refused++;
        track(k, this.#clock.now()); // the node knows a use: the grace starts over
      } catch (err) {
        r.errors++;
        this.#log("warn", "gc could not remove a block", { block: k, error: errorText(err) });
        track(k, since);
      }
    }
    this.#since = next;
    this.#passCount++;
    this.#removed += r.removed;
    this.#refused += r.refused;
    this.#lastPass = { ...r };
    this.#lastPassEndedAt = this.#clock.now();
    this.#log(r.removed > 0 || r.errors > 0 ? "info" : "debug", "gc pass done", { ...r });
    return { ...r };
  }
}

function checkNonNegative(name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a finite number >= 0, got ${value}`);
  }
}
