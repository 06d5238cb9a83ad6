/**
 * The repair callbacks of the durability simulation (`durability_sim.ts`): what
 * `src/node/durability/upkeep.ts` gives the real `Repairer` — the check (`readCandidates` from
 * the real DHT, then the real `checkFile`), the repair and the trim — with the data plane of
 * `durability_model.ts` in place of stores and block transfers.
 *
 * @module
 */

import { keyOfContentId } from "../../src/dht/key.ts";
import type { ContentId } from "../../src/id/content_id.ts";
import { type Discovery, holderCandidates, readCandidates } from "../../src/node/discovery.ts";
import { checkFile } from "../../src/node/durability/file_check.ts";
import type { CheckedFile } from "../../src/node/durability/repairer.ts";
import { compareDistance, xorDistance } from "../../src/node/placement.ts";
import type { RemotePeer } from "../../src/node/remote.ts";
import { fromHex } from "../../src/util/hex.ts";
import type { VirtualClock } from "./virtual_clock.ts";
import type { DataPlane, Leg, SimFile, SimNode, SimPeer } from "./durability_model.ts";
import { liveUnits, type Tracker } from "./durability_track.ts";

/** What the callbacks need of the simulation. */
export interface UpkeepContext {
  /** The clock. */
  readonly clock: VirtualClock;
  /** The data plane. */
  readonly plane: DataPlane;
  /** The referee. */
  readonly tracker: Tracker;
  /** Files by id (hex). */
  readonly files: ReadonlyMap<string, SimFile>;
  /** A node's view of the DHT for `discovery.ts`. */
  readonly discovery: (node: SimNode) => Discovery;
  /** Time a check allows a probe, ms. */
  readonly probeTimeoutMs: number;
  /** How long a node reuses a provider lookup for a file, ms. */
  readonly lookupReuseMs: number;
  /** Repair rate per node, bytes per second. */
  readonly repairBytesPerSecond: number;
  /** Whom a check probes (see `DurabilityConfig.checkLookup`). */
  readonly checkLookup: "node" | "complete";
}

/** Providers asked for by a complete lookup: more than a key can have (64 records). */
const COMPLETE_COUNT = 256;

/** The callbacks (see the module doc). */
export class SimUpkeep {
  readonly #c: UpkeepContext;
  /** Provider lookups the checks ran. */
  lookups = 0;

  /** Callbacks over `context`. */
  constructor(context: UpkeepContext) {
    this.#c = context;
  }

  /**
   * As `Upkeep.#check`: the file's providers and closest nodes (`readCandidates`), probed by
   * `checkFile`. To save DHT lookups, a node reuses its last lookup for a file for
   * `lookupReuseMs` while the file is healthy; a file whose last check was below target or above
   * max is looked up afresh first, as the node always does, and an answer from a reused lookup
   * that finds it so is checked again after a fresh lookup. So every answer that can lead to a
   * repair or a trim rests on a fresh lookup.
   */
  async check(
    node: SimNode,
    id: ContentId,
    signal: AbortSignal,
  ): Promise<CheckedFile | undefined> {
    const file = this.#c.files.get(id.toString());
    if (!file || !node.holdings.get(file.hex)?.root) return undefined;
    const cached = node.candidates.get(file.hex);
    const reuse = cached !== undefined && !cached.off &&
      this.#c.clock.now() - cached.at < this.#c.lookupReuseMs;
    let peers = reuse ? cached.peers : await this.#lookup(node, file, signal);
    let check = await this.#probe(node, file, peers, signal);
    const off = check.below || check.above;
    if (reuse && off) {
      peers = await this.#lookup(node, file, signal);
      check = await this.#probe(node, file, peers, signal);
    }
    const entry = node.candidates.get(file.hex);
    if (entry) entry.off = check.below || check.above;
    return check;
  }

  async #lookup(node: SimNode, file: SimFile, signal: AbortSignal): Promise<RemotePeer[]> {
    this.lookups++;
    const d = this.#c.discovery(node);
    // "node" is what the node does now (`ClusterAccess.candidates`: a provider lookup of 256
    // that runs to its end); "complete" the same through this module's own code.
    const peers = this.#c.checkLookup === "node"
      ? await readCandidates(d, file.id, signal, COMPLETE_COUNT)
      : await completeCandidates(d, node, file.id, signal);
    node.candidates.set(file.hex, { at: this.#c.clock.now(), peers, off: false });
    return peers;
  }

  async #probe(
    node: SimNode,
    file: SimFile,
    peers: readonly RemotePeer[],
    signal: AbortSignal,
  ): Promise<CheckedFile> {
    const plane = this.#c.plane;
    const check = await checkFile({
      fileId: file.id,
      policy: file.policy,
      sample: file.sample,
      self: { nodeId: node.idHex, has: (ids) => Promise.resolve(plane.has(node, ids)) },
      peers,
      timeoutMs: this.#c.probeTimeoutMs,
      signal,
    });
    const p = file.policy;
    return { ...check, above: p.kind === "replicas" && check.live > p.max };
  }

  /** As `Upkeep.#repair`, with the referee told when it starts and ends. */
  async repair(
    node: SimNode,
    id: ContentId,
    check: CheckedFile,
    signal: AbortSignal,
  ): Promise<{ repaired: number; bytes: number }> {
    const file = this.#c.files.get(id.toString())!;
    this.#c.tracker.repairStarted(file, node, closerHolderUp(file, node));
    try {
      return file.policy.kind === "replicas"
        ? await this.#repairCopies(node, file, check, signal)
        : await this.#repairColumns(node, file, check, signal);
    } finally {
      this.#c.tracker.repairEnded(file, node);
    }
  }

  /** As `Upkeep.#repair` for replicas: `replicateCopies` of max − live copies. */
  async #repairCopies(node: SimNode, file: SimFile, check: CheckedFile, signal: AbortSignal) {
    const p = file.policy;
    if (p.kind !== "replicas") throw new Error("not a replicas policy");
    const holding = new Set(check.holders.map((h) => h.nodeId));
    const want = p.max - check.live;
    const ordered = (await holderCandidates(this.#c.discovery(node), file.id, [], signal))
      .filter((peer) => !holding.has(peer.nodeId)) as SimPeer[];
    let confirmed = 0;
    let next = 0;
    let bytes = 0;
    while (confirmed < want && next < ordered.length) {
      const targets = ordered.slice(next, next + want - confirmed);
      next += targets.length;
      // The replicator offers every block with HAS first: a target that holds the file (a
      // holder the check did not see) takes nothing and confirms.
      const pushed: SimPeer[] = [];
      for (const t of targets) {
        if (!t.node.holdings.get(file.hex)?.root) pushed.push(t);
        else if (await this.#has(t, file.id, signal)) {
          confirmed++;
          this.#unseen(t.node, file);
        }
      }
      if (pushed.length === 0) continue;
      // The paced reader reads (and the limiter counts) each block once for all targets.
      await node.limiter.take(file.size, signal);
      bytes += file.size;
      const legs = pushed.map((t): Leg => ({ from: node, to: t.node, bytes: file.size }));
      const out = await this.#c.plane.window(legs, this.#paceMs(file.size), signal);
      out.forEach((o, i) => {
        this.#moved(file, o.moved, o.ok);
        if (!o.ok) return;
        confirmed++;
        this.#landed(legs[i].to, file);
      });
    }
    return { repaired: confirmed, bytes };
  }

  /**
   * As `Upkeep.#repair` for Reed-Solomon: each column without a node of its own
   * (`missingColumns`), rebuilt from k columns (data columns first, a local one free), goes to
   * the next closest node holding nothing of the file; with no such node left, a column nobody
   * holds (`absentColumns`) goes to the holder with the fewest columns. The reader keeps the
   * last two rebuilt stripes, so a file of at most two stripes is read once for all its
   * columns, and a longer one once per column pushed.
   */
  async #repairColumns(node: SimNode, file: SimFile, check: CheckedFile, signal: AbortSignal) {
    const p = file.policy;
    if (p.kind !== "rs") throw new Error("not a Reed-Solomon policy");
    const holding = new Set(check.holders.map((h) => h.nodeId));
    const candidates = (await holderCandidates(this.#c.discovery(node), file.id, [], signal))
      .filter((peer) => !holding.has(peer.nodeId)) as SimPeer[];
    const counter = { bytes: 0, rebuilt: false };
    let repaired = 0;
    let next = 0;
    const left: number[] = [];
    for (const column of check.missingColumns) {
      let placed = false;
      while (!placed && next < candidates.length) {
        const to = candidates[next++];
        placed = await this.#pushColumn(node, file, check, to, column, counter, signal);
      }
      if (placed) repaired++;
      else left.push(column);
    }
    const absent = new Set(check.absentColumns);
    const fallback = check.answers
      .filter((a) => a.peer && a.root)
      .sort((a, b) => a.columns.length - b.columns.length);
    for (const column of left.filter((c) => absent.has(c))) {
      const to = fallback.find((a) => !a.columns.includes(column));
      if (!to) continue;
      const peer = to.peer as SimPeer;
      if (await this.#pushColumn(node, file, check, peer, column, counter, signal)) {
        repaired++;
        fallback.splice(fallback.indexOf(to), 1);
        fallback.push(to);
      }
    }
    return { repaired, bytes: counter.bytes };
  }

  /** `pushTo` of one column to `peer` (rebuilt from k others); true once it holds it. */
  async #pushColumn(
    node: SimNode,
    file: SimFile,
    check: CheckedFile,
    peer: SimPeer,
    column: number,
    counter: { bytes: number; rebuilt: boolean },
    signal: AbortSignal,
  ): Promise<boolean> {
    const target = peer.node;
    if (target.holdings.get(file.hex)?.columns.has(column)) {
      // A holder the check did not see: HAS says it has every block, nothing is sent.
      if (!(await this.#has(peer, file.id, signal))) return false;
      this.#unseen(target, file, column);
      return true;
    }
    const sources = this.#sources(node, file, check);
    if (sources === undefined) return false; // fewer than k columns answer: nothing to rebuild
    const legs: Leg[] = [];
    if (!(counter.rebuilt && file.stripes <= 2)) {
      for (const s of sources) legs.push({ from: s, to: node, bytes: file.unitBytes });
    }
    const reads = legs.length;
    legs.push({ from: node, to: target, bytes: file.unitBytes });
    await node.limiter.take(file.unitBytes, signal);
    counter.bytes += file.unitBytes;
    const out = await this.#c.plane.window(legs, this.#paceMs(file.unitBytes), signal);
    out.forEach((o) => this.#moved(file, o.moved, o.ok));
    if (out.slice(0, reads).every((o) => o.ok)) counter.rebuilt = true;
    if (!out.every((o) => o.ok)) return false;
    this.#landed(target, file, column);
    return true;
  }

  /** One HAS round trip to `peer` (true when it answered). */
  async #has(peer: SimPeer, id: ContentId, signal: AbortSignal): Promise<boolean> {
    try {
      await peer.has([id], { timeoutMs: 30_000, signal });
      return true;
    } catch (err) {
      if (signal.aborted) throw err;
      return false;
    }
  }

  /** The remote nodes `node` reads k columns of `file` from (data columns first), or none. */
  #sources(node: SimNode, file: SimFile, check: CheckedFile): SimNode[] | undefined {
    const p = file.policy;
    if (p.kind !== "rs") return undefined;
    const mine = node.holdings.get(file.hex)?.columns ?? new Set<number>();
    const remote: SimNode[] = [];
    let found = 0;
    for (let c = 0; c < p.k + p.m && found < p.k; c++) {
      if (mine.has(c)) {
        found++;
        continue;
      }
      // The fetcher falls back from a holder that went away to another: only live ones serve.
      const a = check.answers.find((x) =>
        x.peer && x.columns.includes(c) && (x.peer as SimPeer).node.state === "up"
      );
      if (!a) continue;
      found++;
      remote.push((a.peer as SimPeer).node);
    }
    return found < p.k ? undefined : remote;
  }

  /** As `Upkeep.#trim`: the holders farthest from the file drop their copies, down to max. */
  async trim(node: SimNode, id: ContentId, check: CheckedFile, signal: AbortSignal) {
    const file = this.#c.files.get(id.toString())!;
    if (file.policy.kind !== "replicas") return 0;
    const extra = check.live - file.policy.max;
    const far = check.answers
      .filter((a) => a.root && a.peer)
      .map((a) => ({ peer: a.peer!, d: xorDistance(fromHex(a.nodeId)!, id.digest) }))
      .sort((x, y) => compareDistance(y.d, x.d));
    let trimmed = 0;
    for (const { peer } of far) {
      if (trimmed >= extra) break;
      try {
        await peer.deleteBlock(id, { timeoutMs: 30_000, signal });
        trimmed++;
        this.#c.tracker.trims++;
      } catch (err) {
        if (signal.aborted) throw err;
      }
    }
    void node;
    return trimmed;
  }

  /** A repair's copy or column arrived at `to`: it holds it and announces it. */
  #landed(to: SimNode, file: SimFile, column?: number): void {
    const t = this.#c.tracker;
    t.policy(file).units++;
    // Re-created although a node still holds it: up (a wrong view) or only down for a while.
    let heldBy: "up" | "down" | undefined;
    if (file.policy.kind === "replicas") {
      if (liveUnits(file, (n) => n.state === "up") >= file.policy.max) heldBy = "up";
      else if (liveUnits(file, (n) => n.state !== "dead") >= file.policy.max) heldBy = "down";
    } else {
      for (const h of file.holders) {
        if (h.state === "dead" || !h.holdings.get(file.hex)?.columns.has(column!)) continue;
        heldBy = h.state === "up" ? "up" : heldBy ?? "down";
      }
    }
    if (heldBy === "up") t.extraWhileUp++;
    if (heldBy === "down") t.extraWhileDown++;
    if (heldBy) {
      const what = column === undefined ? "a copy" : `column ${column}`;
      t.note(file, `${what} re-created on node ${to.index} while a node ${heldBy} holds it`);
    }
    this.#c.plane.give(to, file, column);
    to.dht.provide(keyOfContentId(file.id)).catch(() => {});
  }

  /** A repair "re-created" what `to` held all along (the check did not see it): no bytes. */
  #unseen(to: SimNode, file: SimFile, column?: number): void {
    const t = this.#c.tracker;
    t.unseenHolders++;
    const what = column === undefined ? "a copy" : `column ${column}`;
    t.note(file, `${what} pushed to node ${to.index}, which held it (unseen by the check)`);
  }

  #moved(file: SimFile, bytes: number, ok: boolean): void {
    const f = this.#c.tracker.policy(file);
    f.bytesMoved += bytes;
    if (!ok) f.bytesWasted += bytes;
  }

  /** Virtual ms the repair rate allows for `bytes`. */
  #paceMs(bytes: number): number {
    return (bytes / this.#c.repairBytesPerSecond) * 1000;
  }
}

/**
 * The proposed fix of the check's candidates: `findProviders` asked for more providers than a
 * key can have, so its lookup runs until the k closest nodes answered; the providers it met and
 * those closest nodes, as `readCandidates` builds them.
 */
async function completeCandidates(
  d: Discovery,
  node: SimNode,
  id: ContentId,
  signal: AbortSignal,
): Promise<RemotePeer[]> {
  try {
    const { providers, lookup } = await d.dht!.findProviders(keyOfContentId(id), {
      signal,
      count: COMPLETE_COUNT,
    });
    const seen = new Set<string>([node.idHex]);
    const out: RemotePeer[] = [];
    for (const c of [...providers, ...lookup.closest]) {
      if (seen.has(c.idHex)) continue;
      seen.add(c.idHex);
      out.push(await d.connect!(c));
    }
    return out;
  } catch (err) {
    if (signal.aborted) throw err;
    return [];
  }
}

/** Whether a holder of `file` closer to it than `node` is up (then `node` should not lead). */
function closerHolderUp(file: SimFile, node: SimNode): boolean {
  const mine = xorDistance(node.contact.id, file.id.digest);
  for (const h of file.holders) {
    if (h === node || h.state !== "up" || !h.holdings.get(file.hex)?.root) continue;
    if (compareDistance(xorDistance(h.contact.id, file.id.digest), mine) < 0) return true;
  }
  return false;
}
