/**
 * The referee of the durability simulation (`durability_sim.ts`): after every change of a file's
 * holders (a node dying, going down or coming back, a repair or a trim landing) it recounts the
 * file's live copies or columns from the model, and keeps
 *
 * - readability: replicas at least one live copy, Reed-Solomon at least k live columns;
 * - episodes below target (replicas below min; Reed-Solomon fewer than k + m columns on distinct
 *   live nodes, as `checkFile` rates them), each held
 *   to the bound {@linkcode boundMs} (stated there);
 * - repair figures: calls, copies or columns re-created, repairs of one file started while
 *   another node's repair of it was under way, repairs of a deficit made only of nodes that are
 *   down for a while (the grace period should stop those), repairs by a node while a holder
 *   closer to the file was up, copies or columns re-created while a node still held them,
 *   bytes lost and moved per policy.
 *
 * @module
 */

import { matchColumns } from "../../src/node/durability/column_rating.ts";
import type { SimFile, SimNode } from "./durability_model.ts";

/** The timing knobs the bound is made of. */
export interface BoundParams {
  /** Repair grace period. */
  readonly graceMs: number;
  /** Repair interval (before its ±25% jitter). */
  readonly intervalMs: number;
  /** The repair loop's tick: it looks for due files this often (min(30 s, interval / 10)). */
  readonly tickMs: number;
  /** Longest one check may take: its provider lookup plus its probes' timeouts. */
  readonly checkMs: number;
  /** Delay of the quick re-check after a repair (min(interval, 60 s)). */
  readonly recheckMs: number;
}

/** One stretch of time a file spent below target. */
export interface Episode {
  /** File index. */
  readonly file: number;
  /** Policy text. */
  readonly policy: string;
  /** When it went below target (virtual ms since the start of the run). */
  readonly start: number;
  /** How long it stayed below (to the end of the run when `open`). */
  readonly ms: number;
  /** Its bound (see {@linkcode boundMs}). */
  readonly boundMs: number;
  /** Holder losses (down or dead) during it. */
  readonly losses: number;
  /** Of those, holders that died (0: an episode of outages only). */
  readonly deaths: number;
  /** Repair calls for the file during it, and their summed virtual time. */
  readonly repairs: number;
  /** Summed virtual time of those repair calls. */
  readonly repairMs: number;
  /** Still below target when the run ended. */
  readonly open: boolean;
}

/** Figures per policy. */
export interface PolicyFigures {
  /** Files. */
  files: number;
  /** Bytes of copies or columns that died with their nodes. */
  bytesLost: number;
  /** Bytes repair moved over the network (reads for rebuilding included). */
  bytesMoved: number;
  /** Bytes of transfers that broke off (a node at one end went away). */
  bytesWasted: number;
  /** Copies or columns re-created. */
  units: number;
  /** Episodes below target. */
  episodes: number;
  /** Longest episode, ms. */
  maxBelowMs: number;
}

interface Below {
  start: number;
  lastLoss: number;
  losses: number;
  deaths: number;
  repairs: number;
  repairMs: number;
}

interface Track {
  below?: Below;
  /** Repairs under way: the node, when it started, and the episode it started in. */
  readonly active: Map<SimNode, { readonly at: number; readonly below?: Below }>;
  unreadable: boolean;
}

/**
 * The bound of one episode, in ms:
 *
 *   t_last − start + grace + 1.25 × interval + 2 × tick + 2 × check + R
 *
 * where t_last is the latest holder loss (a holder going down or dying) during the episode (its
 * start when there was one), and R is the episode's repair time: the summed virtual time of the
 * file's repair calls that started during it, plus (calls − 1) × (re-check + tick + check) for
 * the repair rounds after the first. Why: a holder's first check after a loss comes within
 * 1.25 × interval of its previous one, plus up to a tick before the loop picks it up, plus the
 * check's own time; the file is then below target from the end of that check, and the leader
 * repairs at the first check it runs once the grace has passed (a tick and a check later).
 */
export function boundMs(p: BoundParams, e: Below): number {
  const extra = Math.max(0, e.repairs - 1) * (p.recheckMs + p.tickMs + p.checkMs);
  return (e.lastLoss - e.start) + p.graceMs + 1.25 * p.intervalMs + 2 * p.tickMs +
    2 * p.checkMs + e.repairMs + extra;
}

/** Live copies (replicas) or distinct live columns (Reed-Solomon) of `file`. */
export function liveUnits(file: SimFile, counts: (n: SimNode) => boolean): number {
  if (file.policy.kind === "replicas") {
    let n = 0;
    for (const h of file.holders) if (counts(h) && h.holdings.get(file.hex)?.root) n++;
    return n;
  }
  const cols = new Set<number>();
  for (const h of file.holders) {
    if (!counts(h)) continue;
    for (const c of h.holdings.get(file.hex)?.columns ?? []) cols.add(c);
  }
  return cols.size;
}

/**
 * Whether `file` is at target counting the holders `counts` accepts: replicas at least min
 * copies; Reed-Solomon all k + m columns on distinct nodes (a maximum matching of holders to
 * columns, as `checkFile` rates them: a node holding two columns counts once).
 */
export function atTarget(file: SimFile, counts: (n: SimNode) => boolean): boolean {
  if (file.policy.kind === "replicas") return liveUnits(file, counts) >= file.policy.min;
  const held: number[][] = [];
  for (const h of file.holders) {
    if (counts(h)) held.push([...(h.holdings.get(file.hex)?.columns ?? [])]);
  }
  const columns = Array.from({ length: targetOf(file) }, (_, c) => c);
  return matchColumns(held, columns).size >= columns.length;
}

/** The target a file is held to: replicas min, Reed-Solomon k + m. */
export function targetOf(file: SimFile): number {
  return file.policy.kind === "replicas" ? file.policy.min : file.policy.k + file.policy.m;
}

/** Fewest live units that still read the file: one copy, or k columns. */
export function readableAt(file: SimFile): number {
  return file.policy.kind === "replicas" ? 1 : file.policy.k;
}

const up = (n: SimNode) => n.state === "up";
const notDead = (n: SimNode) => n.state !== "dead";

/** The referee (see the module doc). */
export class Tracker {
  readonly #now: () => number;
  readonly #start: number;
  readonly #p: BoundParams;
  readonly #tracks = new Map<SimFile, Track>();
  /** Every episode that ended, in order. */
  readonly episodes: Episode[] = [];
  /** Files found unreadable: file index and virtual time (ms since the start). */
  readonly unreadable: { file: number; at: number }[] = [];
  /** Per policy text. */
  readonly byPolicy = new Map<string, PolicyFigures>();
  /** Repair calls. */
  repairCalls = 0;
  /** Repair calls started while another node's repair of the same file was under way. */
  concurrentStarts = 0;
  /** Repair calls during an episode of outages only (no holder died): the grace failed. */
  graceBreaks = 0;
  /** Repair calls of a file that was at target (a check missed a live holder). */
  phantomRepairs = 0;
  /** Repair calls of a file at target counting the nodes that were only down (not dead). */
  outageOnlyRepairs = 0;
  /** Repair calls by a node while a holder closer to the file was up (a wrong leader). */
  notClosest = 0;
  /** Copies or columns re-created while a node that was up still held them. */
  extraWhileUp = 0;
  /** Repair pushes to a node that held the copy or column already (the check missed it). */
  unseenHolders = 0;
  /** Copies or columns re-created while a node that was only down (not dead) held them. */
  extraWhileDown = 0;
  /** Copies trimmed. */
  trims = 0;

  /** A referee on `now` (virtual ms) from `start`, with the bound's knobs. */
  constructor(now: () => number, start: number, params: BoundParams) {
    this.#now = now;
    this.#start = start;
    this.#p = params;
  }

  /** What looked wrong (the first 50): virtual time (ms since the start), file, what. */
  readonly notes: { readonly at: number; readonly file: number; readonly what: string }[] = [];

  /** Notes an anomaly of `file`. */
  note(file: SimFile, what: string): void {
    if (this.notes.length < 50) {
      this.notes.push({ at: this.#now() - this.#start, file: file.index, what });
    }
  }

  /** Starts tracking `file` (after its initial placement). */
  add(file: SimFile): void {
    this.#tracks.set(file, { active: new Map(), unreadable: false });
    this.policy(file).files++;
    this.changed(file);
  }

  /** The figures of `file`'s policy. */
  policy(file: SimFile): PolicyFigures {
    let f = this.byPolicy.get(file.label);
    if (!f) {
      f = {
        files: 0,
        bytesLost: 0,
        bytesMoved: 0,
        bytesWasted: 0,
        units: 0,
        episodes: 0,
        maxBelowMs: 0,
      };
      this.byPolicy.set(file.label, f);
    }
    return f;
  }

  /** A holder of `file` went down (`dead` false) or died. */
  lost(file: SimFile, dead: boolean): void {
    const t = this.#tracks.get(file);
    const before = t?.below;
    this.changed(file);
    if (before && t?.below === before) {
      before.lastLoss = this.#now();
      before.losses++;
    }
    if (dead && t?.below) t.below.deaths++;
  }

  /** Recounts `file` after its holders or their states changed. */
  changed(file: SimFile): void {
    const t = this.#tracks.get(file);
    if (!t) return;
    const now = this.#now();
    const live = liveUnits(file, up);
    const unreadable = live < readableAt(file);
    if (unreadable && !t.unreadable) {
      this.unreadable.push({ file: file.index, at: now - this.#start });
    }
    t.unreadable = unreadable;
    const below = !atTarget(file, up);
    if (below && !t.below) {
      t.below = { start: now, lastLoss: now, losses: 1, deaths: 0, repairs: 0, repairMs: 0 };
    } else if (!below && t.below) {
      this.#close(file, t, false);
    }
  }

  /** Node `node` starts a repair of `file`; `notClosest`: a closer holder is up. */
  repairStarted(file: SimFile, node: SimNode, notClosest: boolean): void {
    const t = this.#tracks.get(file)!;
    this.repairCalls++;
    if (notClosest) {
      this.notClosest++;
      this.note(file, `repair by node ${node.index} while a closer holder is up`);
    }
    if (t.active.size > 0) {
      this.concurrentStarts++;
      const other = [...t.active.keys()][0].index;
      this.note(file, `repair by node ${node.index} while node ${other} repairs`);
    }
    t.active.set(node, { at: this.#now(), below: t.below });
    if (t.below && t.below.deaths === 0) {
      this.graceBreaks++;
      this.note(file, `repair by node ${node.index} in an episode of outages only`);
    }
    if (t.below) t.below.repairs++;
    if (atTarget(file, up)) {
      this.phantomRepairs++;
      this.note(file, `repair by node ${node.index} of a file at target`);
    } else if (atTarget(file, notDead)) {
      this.outageOnlyRepairs++;
      this.note(file, `repair by node ${node.index} of a deficit of down nodes only`);
    }
  }

  /** Node `node`'s repair of `file` ended. */
  repairEnded(file: SimFile, node: SimNode): void {
    const t = this.#tracks.get(file)!;
    const r = t.active.get(node);
    t.active.delete(node);
    // A repair counts toward the episode it started in, up to when that episode ended.
    if (r?.below && r.below === t.below) t.below.repairMs += this.#now() - r.at;
  }

  /** Ends the run: closes the open episodes at the current time. */
  finish(): void {
    for (const [file, t] of this.#tracks) if (t.below) this.#close(file, t, true);
  }

  /** Episodes (ended or open at the end) longer than their bound. */
  violations(): Episode[] {
    return this.episodes.filter((e) => e.ms > e.boundMs);
  }

  #close(file: SimFile, t: Track, open: boolean): void {
    const b = t.below!;
    const now = this.#now();
    for (const r of t.active.values()) if (r.below === b) b.repairMs += now - r.at;
    const ms = now - b.start;
    const episode: Episode = {
      file: file.index,
      policy: file.label,
      start: b.start - this.#start,
      ms,
      boundMs: boundMs(this.#p, b),
      losses: b.losses,
      deaths: b.deaths,
      repairs: b.repairs,
      repairMs: b.repairMs,
      open,
    };
    this.episodes.push(episode);
    const f = this.policy(file);
    f.episodes++;
    f.maxBelowMs = Math.max(f.maxBelowMs, ms);
    t.below = undefined;
  }
}
