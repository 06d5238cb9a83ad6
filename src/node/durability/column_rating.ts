/**
 * How well the holders of a Reed-Solomon file's shard columns protect it: how many shards per
 * stripe are held at all (`live`), how many columns sit on distinct nodes (`spread`, a maximum
 * matching of nodes to columns), and how many more holder losses the file survives. A node
 * that holds two columns (too few nodes, or shards with equal bytes such as zeros) takes both
 * with it when it dies, so it counts once towards `spread`.
 *
 * @module
 */

/** What {@linkcode rateColumns} finds. */
export interface ColumnRating {
  /** Shards per stripe held by some node (all-zero columns of a short stripe included). */
  readonly live: number;
  /** Columns on distinct nodes (all-zero columns included): k + m at target. */
  readonly spread: number;
  /** Further holder losses the file survives now (-1 when it is already unreadable). */
  readonly survives: number;
  /** Columns without a node of their own (unmatched): repair gives each one a new node. */
  readonly unspread: readonly number[];
  /** Columns no node holds at all: repair re-creates them wherever it can. */
  readonly absent: readonly number[];
}

/** Holder sets above this size get a greedy (upper-bound) loss count instead of an exact one. */
const EXACT_LIMIT = 20;

/**
 * Rates the columns of one file (see the module doc). `held[i]` lists holder i's columns;
 * `real` the columns that hold shards (the others are all zeros); `k` and `m` the policy.
 *
 * @example
 * ```ts
 * import { rateColumns } from "./column_rating.ts";
 * // rs:2+1 on two nodes: one holds columns 0 and 1, the other column 2.
 * const r = rateColumns([[0, 1], [2]], [0, 1, 2], 2, 1);
 * console.log(r.live, r.spread, r.survives); // 3 2 0
 * ```
 */
export function rateColumns(
  held: readonly (readonly number[])[],
  real: readonly number[],
  k: number,
  m: number,
): ColumnRating {
  const zeros = k + m - real.length;
  const wanted = new Set(real);
  const sets = held.map((h) => h.filter((c) => wanted.has(c)));
  const union = new Set(sets.flat());
  const matched = matchColumns(sets, real);
  const live = zeros + union.size;
  return {
    live,
    spread: zeros + matched.size,
    survives: live < k ? -1 : lossesToBreak(sets, zeros, k, m) - 1,
    unspread: real.filter((c) => !matched.has(c)),
    absent: real.filter((c) => !union.has(c)),
  };
}

/**
 * Fewest holders whose loss leaves fewer than k shards per stripe (searched up to m + 2, and
 * greedily beyond {@linkcode EXACT_LIMIT} holders).
 */
function lossesToBreak(sets: readonly number[][], zeros: number, k: number, m: number): number {
  const n = sets.length;
  const unionWithout = (gone: ReadonlySet<number>) => {
    const u = new Set<number>();
    for (let i = 0; i < n; i++) if (!gone.has(i)) { for (const c of sets[i]) u.add(c); }
    return zeros + u.size;
  };
  const most = Math.min(n, m + 2);
  if (n > EXACT_LIMIT) {
    // Greedy: drop the holder whose loss removes the most columns, until the file breaks.
    const gone = new Set<number>();
    while (gone.size < n) {
      let best = -1;
      let bestLive = Infinity;
      for (let i = 0; i < n; i++) {
        if (gone.has(i)) continue;
        gone.add(i);
        const l = unionWithout(gone);
        gone.delete(i);
        if (l < bestLive) [best, bestLive] = [i, l];
      }
      gone.add(best);
      if (bestLive < k) return gone.size;
    }
    return n + 1;
  }
  for (let t = 1; t <= most; t++) {
    const pick: number[] = [];
    const search = (from: number): boolean => {
      if (pick.length === t) return unionWithout(new Set(pick)) < k;
      for (let i = from; i <= n - (t - pick.length); i++) {
        pick.push(i);
        if (search(i + 1)) return true;
        pick.pop();
      }
      return false;
    };
    if (search(0)) return t;
  }
  return most + 1;
}

/**
 * A maximum matching of holders to columns (Kuhn's augmenting paths; at most 64 columns):
 * returns the columns matched, each to a distinct holder. `held[i]` lists holder i's columns.
 *
 * @example
 * ```ts
 * import { matchColumns } from "./column_rating.ts";
 * console.log([...matchColumns([[0, 1], [0]], [0, 1])].sort()); // [0, 1]
 * ```
 */
export function matchColumns(
  held: readonly (readonly number[])[],
  columns: readonly number[],
): Set<number> {
  const wanted = new Set(columns);
  const owner = new Map<number, number>(); // column -> holder index
  const tryHolder = (i: number, seen: Set<number>): boolean => {
    for (const c of held[i]) {
      if (!wanted.has(c) || seen.has(c)) continue;
      seen.add(c);
      const other = owner.get(c);
      if (other === undefined || tryHolder(other, seen)) {
        owner.set(c, i);
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < held.length; i++) tryHolder(i, new Set());
  return new Set(owner.keys());
}
