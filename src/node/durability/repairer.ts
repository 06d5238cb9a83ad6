/**
 * The repair loop: when to check a file, when to act, and who acts.
 *
 * Every node checks each file it holds about once per `intervalMs` (jittered ±25%, so checks
 * spread out) through the `check` callback, which probes the file's holders. A file below its
 * target is remembered with the time it was first seen so; once it has stayed below target for
 * `graceMs` (a node restarting for an upgrade must not set off a copy storm), the node that
 * acts is the one of the file's live holders closest to the file id (Kademlia's metric): every
 * holder tracks the grace, only that one repairs, so repairs do not stampede, and when it dies
 * the next closest takes over at its next check. A file above a replicas policy's max is
 * trimmed the same way. Tombstones found by a check go to `onTombstones` before anything else:
 * repair never re-creates a deleted file.
 *
 * The grace clocks travel with the probes: each holder answers a check with the units it sees
 * missing and how long ago it first saw each ({@linkcode Repairer.missingAges}), and a checker
 * starts its own clock of a unit it sees missing no later than the oldest age reported (capped
 * at {@linkcode MAX_PEER_AGE_MS}), so a leader that restarts, or that was down when the loss
 * began, does not wait a whole new grace period. A peer can only hurry the repair of a loss the
 * checker sees itself, never set one off.
 *
 * Due files are checked `concurrency` at a time (default 8) from one queue; each tick adds the
 * files that became due without waiting for the checks still under way (a slow check or a long
 * repair does not hold the others back), and a file is never checked twice at once.
 *
 * The decisions are here; the actions (probing, copying, rebuilding, trimming) are callbacks
 * the node supplies, so the loop runs unchanged on a virtual clock in simulations.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../../dht/clock.ts";
import { systemClock } from "../../dht/clock.ts";
import { ContentId } from "../../id/content_id.ts";
import { compareDistance, xorDistance } from "../placement.ts";
import { fromHex } from "../../util/hex.ts";
import type { NodeLogger } from "../options.ts";
import type { FileCheck } from "./file_check.ts";

/** What a check of one file returns to the loop. */
export interface CheckedFile extends FileCheck {
  /** Whether the file is above a replicas policy's max (trim candidates). */
  readonly above: boolean;
}

/** What the loop needs from the node. */
export interface RepairerOptions {
  /** This node's id, hex. */
  readonly selfId: string;
  /** The files this node holds (ids). */
  readonly files: () => Iterable<string>;
  /** Probes a file's holders. Resolves `undefined` when the file is no longer held here. */
  readonly check: (id: ContentId, signal: AbortSignal) => Promise<CheckedFile | undefined>;
  /** Tombstones a check found: resolves `true` when the file is gone here (stop checking it). */
  readonly onTombstones: (id: ContentId, check: CheckedFile) => Promise<boolean>;
  /** Re-creates what is missing; resolves with copies or columns re-created and bytes pushed. */
  readonly repair: (
    id: ContentId,
    check: CheckedFile,
    signal: AbortSignal,
  ) => Promise<{ readonly repaired: number; readonly bytes: number }>;
  /** Removes copies above a replicas policy's max; resolves with the number removed. */
  readonly trim: (id: ContentId, check: CheckedFile, signal: AbortSignal) => Promise<number>;
  /** Time between two checks of a file, before jitter. */
  readonly intervalMs: number;
  /** How long a file must stay below target before it is repaired. */
  readonly graceMs: number;
  /** Files checked (and repaired) at once (default {@linkcode DEFAULT_REPAIR_CONCURRENCY}). */
  readonly concurrency?: number;
  /** Time source (default the wall clock). */
  readonly clock?: Clock;
  /** Randomness in [0, 1) for jitter (default `Math.random`). */
  readonly random?: () => number;
  /** Log sink. */
  readonly log?: NodeLogger;
}

/** Cumulative figures of the loop. */
export interface RepairStats {
  /** Files checked in all. */
  readonly checks: number;
  /** Files below target now (waiting out the grace period, or being repaired). */
  readonly queue: number;
  /** Files being repaired right now. */
  readonly active: number;
  /** Copies or columns re-created. */
  readonly repaired: number;
  /** Copies trimmed. */
  readonly trimmed: number;
  /** Bytes pushed by repairs. */
  readonly bytes: number;
  /** Repairs or trims that failed. */
  readonly failed: number;
}

/** Files a {@linkcode Repairer} checks at once unless told otherwise. */
export const DEFAULT_REPAIR_CONCURRENCY = 8;

/** The oldest age of a missing unit a checker believes from a peer: 30 days. */
export const MAX_PEER_AGE_MS = 30 * 24 * 3600_000;

interface FileState {
  nextAt: number;
  /** Missing copies or columns (see `deficitUnits`), with when each was first seen missing. */
  below: Map<string, number>;
  aboveSince?: number;
}

/**
 * What a file lacks, one name per missing unit: `c<column>` for a Reed-Solomon column without
 * a node of its own, `r<i>` for the i-th copy missing below a replicas policy's min.
 */
function deficitUnits(check: CheckedFile): string[] {
  if (!check.below) return [];
  if (check.policy.kind === "rs") return check.missingColumns.map((c) => `c${c}`);
  return Array.from({ length: Math.max(0, check.target - check.live) }, (_, i) => `r${i}`);
}

/**
 * The oldest age (ms, at most {@linkcode MAX_PEER_AGE_MS}) the other answering holders report
 * per missing unit.
 */
function reportedAges(check: CheckedFile, selfId: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of check.answers) {
    if (!a.root || !a.ages || a.nodeId === selfId) continue;
    for (const [unit, ms] of a.ages) {
      if (!(ms > 0)) continue; // NaN, negative or zero: nothing to learn
      out.set(unit, Math.max(out.get(unit) ?? 0, Math.min(ms, MAX_PEER_AGE_MS)));
    }
  }
  return out;
}

/**
 * `check` narrowed to the units whose grace period is over: the columns due (Reed-Solomon), or
 * as many missing copies as are due — all the way to the policy's max once every missing copy
 * is due (replicas).
 */
function dueOnly(check: CheckedFile, due: readonly string[]): CheckedFile {
  const policy = check.policy;
  if (policy.kind === "rs") {
    const cols = new Set(due.map((u) => Number(u.slice(1))));
    return {
      ...check,
      missingColumns: check.missingColumns.filter((c) => cols.has(c)),
      absentColumns: check.absentColumns.filter((c) => cols.has(c)),
    };
  }
  const missing = check.target - check.live;
  // `repair` restores max - live copies: present it a `live` that asks for the due ones only.
  const want = due.length >= missing ? policy.max - check.live : due.length;
  return { ...check, live: policy.max - want };
}

/**
 * The loop (see the module doc).
 *
 * @example
 * ```ts ignore
 * const repairer = new Repairer({ selfId, files, check, onTombstones, repair, trim,
 *   intervalMs: 600_000, graceMs: 900_000 });
 * repairer.start();
 * await repairer.stop();
 * ```
 */
export class Repairer {
  readonly #o: RepairerOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #files = new Map<string, FileState>();
  #timer: TimerHandle | undefined;
  /** Rounds (`runDue` from the timer) not settled yet. */
  readonly #rounds = new Set<Promise<void>>();
  /** Files waiting for a worker, in order. */
  readonly #queue: string[] = [];
  /** Files queued or being checked, each with what settles once its check is over. */
  readonly #pending = new Map<string, { done: Promise<void>; settle: () => void }>();
  #workers = 0;
  #stop = new AbortController();
  #started = false;
  #checks = 0;
  #active = 0;
  #repaired = 0;
  #trimmed = 0;
  #bytes = 0;
  #failed = 0;

  /** Creates the loop; nothing runs before {@linkcode Repairer.start}. */
  constructor(options: RepairerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** Starts checking in the background. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#stop.signal.aborted) this.#stop = new AbortController();
    this.#schedule(this.#tickMs());
  }

  /** Stops the loop; resolves once the checks under way settled. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#stop.abort();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.all([...this.#rounds]);
  }

  /**
   * The units of `fileId` this loop sees missing now (`c<column>`, `r<i>`), with how long ago
   * (ms) it first saw each missing: what a probe of the file is answered with. `undefined` when
   * the loop tracks no loss of the file.
   */
  missingAges(fileId: string): ReadonlyMap<string, number> | undefined {
    const below = this.#files.get(fileId)?.below;
    if (!below?.size) return undefined;
    const now = this.#clock.now();
    return new Map([...below].map(([unit, since]) => [unit, Math.max(0, now - since)]));
  }

  /** The loop's figures. */
  stats(): RepairStats {
    let queue = 0;
    for (const s of this.#files.values()) if (s.below.size > 0) queue++;
    return {
      checks: this.#checks,
      queue,
      active: this.#active,
      repaired: this.#repaired,
      trimmed: this.#trimmed,
      bytes: this.#bytes,
      failed: this.#failed,
    };
  }

  /**
   * Checks (and, when due and this node leads, repairs) every file due now; resolves once they
   * were checked. A file already queued or being checked is not queued again.
   */
  async runDue(): Promise<void> {
    const now = this.#clock.now();
    const held = new Set<string>();
    const due: string[] = [];
    for (const id of this.#o.files()) {
      held.add(id);
      let state = this.#files.get(id);
      if (!state) {
        // A file new to the loop is first checked within one interval, at a random point.
        state = { nextAt: now + this.#random() * this.#o.intervalMs, below: new Map() };
        this.#files.set(id, state);
      }
      if (state.nextAt <= now) due.push(id);
    }
    for (const id of this.#files.keys()) if (!held.has(id)) this.#files.delete(id);
    // The longest overdue first.
    due.sort((a, b) => this.#files.get(a)!.nextAt - this.#files.get(b)!.nextAt);
    await this.#enqueue(due);
  }

  /** Checks every file now, due or not (for `dfs repair` and tests). Resolves with the count. */
  async checkAll(): Promise<number> {
    const ids = [...this.#o.files()];
    await this.#enqueue(ids);
    return ids.length;
  }

  /**
   * Queues the files of `ids` not queued or under way yet, keeps up to `concurrency` workers on
   * the queue, and resolves once each of `ids` was checked (or skipped: the loop stopped).
   */
  #enqueue(ids: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const id of ids) {
      let entry = this.#pending.get(id);
      if (!entry) {
        let settle!: () => void;
        const done = new Promise<void>((resolve) => settle = resolve);
        entry = { done, settle };
        this.#pending.set(id, entry);
        this.#queue.push(id);
      }
      waits.push(entry.done);
    }
    const max = Math.max(1, this.#o.concurrency ?? DEFAULT_REPAIR_CONCURRENCY);
    while (this.#workers < max && this.#queue.length > 0) {
      this.#workers++;
      this.#work();
    }
    return Promise.all(waits).then(() => {});
  }

  /** One worker: checks queued files until the queue is empty (skips them once stopped). */
  async #work(): Promise<void> {
    try {
      for (let id = this.#queue.shift(); id !== undefined; id = this.#queue.shift()) {
        try {
          if (!this.#stop.signal.aborted) await this.checkFile(id);
        } catch (err) {
          this.#log("warn", "repair check failed", { id, err });
        } finally {
          this.#pending.get(id)?.settle();
          this.#pending.delete(id);
        }
      }
    } finally {
      this.#workers--;
    }
  }

  /** Checks one file now and acts on what it finds (see the module doc). */
  async checkFile(text: string): Promise<void> {
    const signal = this.#stop.signal;
    const id = ContentId.tryParse(text);
    if (!id) {
      this.#log("warn", "repair: not a file id, skipped", { id: text });
      this.#files.delete(text);
      return;
    }
    const state: FileState = this.#files.get(text) ?? { nextAt: 0, below: new Map() };
    this.#files.set(text, state);
    const interval = this.#o.intervalMs;
    state.nextAt = this.#clock.now() + interval * (0.75 + this.#random() * 0.5);
    let check: CheckedFile | undefined;
    try {
      check = await this.#o.check(id, signal);
      this.#checks++;
      if (!check) {
        this.#files.delete(text);
        return;
      }
      if (check.tombstones.length > 0 && await this.#o.onTombstones(id, check)) {
        this.#files.delete(text);
        return;
      }
    } catch (err) {
      if (!signal.aborted) this.#log("warn", "repair check failed", { id: text, err });
      return;
    }
    const now = this.#clock.now();
    // The grace period runs per missing copy or column, not per file: a second holder that goes
    // down while an earlier loss is still being repaired gets its own grace period.
    // The holders' own clocks can only start a unit's clock earlier, and only for a unit this
    // node sees missing too.
    const units = deficitUnits(check);
    const reported = reportedAges(check, this.#o.selfId);
    for (const u of state.below.keys()) if (!units.includes(u)) state.below.delete(u);
    for (const u of units) {
      const since = Math.min(state.below.get(u) ?? now, now - (reported.get(u) ?? 0));
      state.below.set(u, since);
    }
    state.aboveSince = check.above ? state.aboveSince ?? now : undefined;
    const due = units.filter((u) => state.below.get(u)! + this.#o.graceMs <= now);
    let firstEnd = Infinity;
    for (const since of state.below.values()) {
      if (since + this.#o.graceMs > now) firstEnd = Math.min(firstEnd, since + this.#o.graceMs);
    }
    const trimDue = state.aboveSince !== undefined && state.aboveSince + this.#o.graceMs <= now;
    if (state.aboveSince !== undefined && !trimDue) {
      firstEnd = Math.min(firstEnd, state.aboveSince + this.#o.graceMs);
    }
    // Come back right after a grace period ends rather than a whole interval later.
    if (firstEnd < state.nextAt) state.nextAt = firstEnd;
    const below = due.length > 0;
    if ((!below && !trimDue) || !this.#leads(id, check)) return;
    if (below) check = dueOnly(check, due);
    this.#active++;
    try {
      if (below) {
        const r = await this.#o.repair(id, check, signal);
        this.#repaired += r.repaired;
        this.#bytes += r.bytes;
        if (r.repaired > 0) this.#log("info", "repaired", { id: text, ...r });
        // Look again soon: confirm the repair, or finish it.
        state.nextAt = Math.min(state.nextAt, this.#clock.now() + Math.min(interval, 60_000));
      } else if (trimDue) {
        this.#trimmed += await this.#o.trim(id, check, signal);
        state.aboveSince = undefined;
      }
    } catch (err) {
      if (!signal.aborted) {
        this.#failed++;
        this.#log("warn", "repair failed", { id: text, err });
      }
    } finally {
      this.#active--;
    }
  }

  /** True when this node is the live holder closest to the file (or no holder is live). */
  #leads(id: ContentId, check: CheckedFile): boolean {
    const self = fromHex(this.#o.selfId);
    if (!self) return false;
    const mine = xorDistance(self, id.digest);
    for (const a of check.answers) {
      if (!a.root || a.nodeId === this.#o.selfId) continue;
      const other = fromHex(a.nodeId);
      if (other && compareDistance(xorDistance(other, id.digest), mine) < 0) return false;
    }
    return true;
  }

  #tickMs(): number {
    return Math.max(100, Math.min(30_000, this.#o.intervalMs / 10));
  }

  #schedule(ms: number): void {
    if (!this.#started) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      // The next tick does not wait for this round: files that become due meanwhile join the
      // queue while earlier checks (slow probes, long repairs) are still under way.
      const round: Promise<void> = this.runDue().catch((err) => {
        this.#log("warn", "repair round failed", { err });
      }).finally(() => this.#rounds.delete(round));
      this.#rounds.add(round);
      this.#schedule(this.#tickMs());
    }, ms);
  }

  #log(level: "info" | "warn", message: string, fields: Record<string, unknown>): void {
    const { err, ...rest } = fields;
    this.#o.log?.(level, message, err === undefined ? rest : { ...rest, error: String(err) });
  }
}
