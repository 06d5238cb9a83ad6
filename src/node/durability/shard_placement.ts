/**
 * Where the shards of a Reed-Solomon file go. The k + m shards of every stripe sit in k + m
 * columns (shard position j of every stripe is column j); each column goes to one node, the
 * k + m nodes closest to the file id taking one column each, closest first. With fewer nodes
 * than columns, columns wrap around (a node holds several, and the file survives fewer
 * losses: `docs/node.md`). A node that fails to take its column is replaced by the next
 * candidate; a column nobody else took stays with the putting node.
 *
 * @module
 */

import type { RemotePeer } from "../remote.ts";

/** Options of {@linkcode placeColumns}. */
export interface PlaceColumnsOptions {
  /** Number of columns: k + m. */
  readonly columns: number;
  /** Candidate holders, closest to the file first (the local node not among them). */
  readonly candidates: readonly RemotePeer[];
  /** How many candidates are closer to the file than the local node (its rank among them). */
  readonly selfRank: number;
  /** Pushes `columns` of the file (and its manifests, root last) to `peer`; true once confirmed. */
  readonly push: (peer: RemotePeer, columns: ReadonlySet<number>) => Promise<boolean>;
}

/** Where each column ended up. */
export interface ColumnPlacement {
  /** Column -> node id of its holder (`"self"` for the local node). */
  readonly holders: ReadonlyMap<number, string>;
  /** The columns the local node keeps. */
  readonly local: ReadonlySet<number>;
  /** Distinct nodes holding at least one column. */
  readonly nodes: number;
}

/**
 * Places the columns (see the module doc). Never rejects because a peer failed; every column
 * ends up somewhere, the local node being the last resort.
 *
 * @example
 * ```ts ignore
 * const placement = await placeColumns({ columns: 6, candidates, selfRank: 2, push });
 * ```
 */
export async function placeColumns(options: PlaceColumnsOptions): Promise<ColumnPlacement> {
  const { columns, candidates } = options;
  const slots: (RemotePeer | "self")[] = [...candidates];
  slots.splice(Math.max(0, Math.min(options.selfRank, slots.length)), 0, "self");
  const used = Math.min(columns, slots.length);
  const holders = new Map<number, string>();
  const local = new Set<number>();
  const bySlot = new Map<number, Set<number>>();
  for (let c = 0; c < columns; c++) {
    const slot = c % used;
    const set = bySlot.get(slot) ?? new Set<number>();
    set.add(c);
    bySlot.set(slot, set);
  }
  let spare = used; // next candidate beyond the first `used` slots
  const nextSpare = (): RemotePeer | undefined => {
    while (spare < slots.length) {
      const s = slots[spare++];
      if (s !== "self") return s;
    }
    return undefined;
  };
  await Promise.all([...bySlot].map(async ([slot, cols]) => {
    let target: RemotePeer | "self" | undefined = slots[slot];
    while (target !== undefined) {
      if (target === "self") break;
      if (await options.push(target, cols).catch(() => false)) {
        for (const c of cols) holders.set(c, target.nodeId);
        return;
      }
      target = nextSpare();
    }
    for (const c of cols) {
      holders.set(c, "self");
      local.add(c);
    }
  }));
  return { holders, local, nodes: new Set(holders.values()).size };
}
