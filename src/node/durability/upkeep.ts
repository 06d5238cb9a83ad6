/**
 * A node's upkeep: the repair loop, the scrubber, garbage collection and tombstones, wired to
 * the node through the narrow {@linkcode UpkeepHost} interface. The node creates one at start
 * and closes it first on close.
 *
 * @module
 */

import { ContentId } from "../../id/content_id.ts";
import { decodeManifest } from "../../file/manifest.ts";
import type { Redundancy } from "../../file/redundancy.ts";
import type { BlockSource } from "../../file/types.ts";
import type { BlockStore } from "../../store/types.ts";
import { RateLimiter } from "../../util/rate_limiter.ts";
import type { WireTombstone } from "../../wire/messages.ts";
import { holderCandidates } from "../discovery.ts";
import type { FileIndex } from "../file_index.ts";
import type { NodeLogger } from "../options.ts";
import type { RemotePeer } from "../remote.ts";
import type { DrainReport, FileHealth, UpkeepFigures } from "../types.ts";
import { type FileBlock, walkFileBlocks } from "../walk.ts";
import { compareDistance, xorDistance } from "../placement.ts";
import { fromHex } from "../../util/hex.ts";
import { checkFile, sampleStripe } from "./file_check.ts";
import { rateColumns } from "./column_rating.ts";
import { GarbageCollector } from "./gc.ts";
import { RESTORE_ATTEMPTS, type UpkeepOptions } from "./options.ts";
import { type PlacementContext, pushTo, replicateCopies } from "./put_placement.ts";
import type { PushBytes } from "../replicator.ts";
import { type CheckedFile, Repairer } from "./repairer.ts";
import { Scrubber } from "./scrubber.ts";
import { checkTombstoneOwner } from "./tombstone_owner.ts";
import { shardReader } from "./shard_source.ts";
import {
  fromWireTombstone,
  signRevival,
  signTombstone,
  type Tombstone,
  type TombstoneSigner,
  toWireTombstone,
  validateTombstone,
} from "./tombstone.ts";
import type { TombstoneStore } from "./tombstone_store.ts";
import { sleep } from "../../util/sleep.ts";

/** `check` as it would read with node `selfId` gone. */
function withoutSelf(check: CheckedFile, selfId: string): CheckedFile {
  const answers = check.answers.filter((a) => a.nodeId !== selfId);
  const holders = check.holders.filter((h) => h.nodeId !== selfId);
  const policy = check.policy;
  if (policy.kind === "replicas" || check.realColumns.length === 0) {
    const live = policy.kind === "replicas"
      ? holders.length
      : Math.min(holders.length, check.target);
    return { ...check, answers, holders, live, below: live < check.target };
  }
  const r = rateColumns(holders.map((h) => h.columns ?? []), check.realColumns, policy.k, policy.m);
  return {
    ...check,
    answers,
    holders,
    live: r.live,
    spread: r.spread,
    survives: r.survives,
    below: r.spread < check.target,
    missingColumns: r.unspread,
    absentColumns: r.absent,
  };
}

/** What upkeep needs of the node. */
export interface UpkeepHost {
  /** Node id, hex. */
  readonly selfId: string;
  /** Signs tombstones. */
  readonly signer: TombstoneSigner;
  /** The local store. */
  readonly store: BlockStore;
  /** The local file index. */
  readonly index: FileIndex;
  /** The tombstones kept here. */
  readonly tombstones: TombstoneStore;
  /** True in a private cluster (a cluster key): every member may delete any file. */
  readonly privateCluster: boolean;
  /** The policy of a file that records none (version 1 manifests). */
  readonly defaultPolicy: Redundancy;
  /** The knobs. */
  readonly options: UpkeepOptions;
  /** Time allowed for one remote request. */
  readonly timeoutMs: number;
  /** Log sink. */
  readonly log: NodeLogger;
  /** Context for pushing files to other nodes. */
  placement(): PlacementContext;
  /** Peers that may hold file `id` (providers, the nodes closest to it, connected peers). */
  candidates(id: ContentId, signal?: AbortSignal): Promise<RemotePeer[]>;
  /** A verified block source over the local store and `peers`. */
  fetcher(peers: readonly RemotePeer[]): BlockSource;
  /** Removes this node's copy of a file (index entry and blocks no other file uses). */
  dropLocalCopy(id: ContentId): Promise<boolean>;
  /** GC's lock-protected delete (see `gc.ts`). */
  deleteIfUnused(id: ContentId): Promise<boolean>;
  /** Every block of every indexed file. */
  liveBlocks(): Promise<ReadonlySet<string>>;
}

/**
 * The upkeep loops of one node (see the module doc).
 *
 * @example
 * ```ts ignore
 * const upkeep = new Upkeep(host);
 * upkeep.start();
 * await upkeep.close();
 * ```
 */
export class Upkeep {
  readonly #h: UpkeepHost;
  readonly #limiter: RateLimiter;
  readonly #repairer: Repairer;
  readonly #scrubber: Scrubber | undefined;
  readonly #gc: GarbageCollector;
  readonly #local: BlockSource;
  #scrubTimer: ReturnType<typeof setTimeout> | undefined;
  #expiryTimer: ReturnType<typeof setInterval> | undefined;
  /** Restores under way ({@linkcode Upkeep.restoreSoon}), by block id. */
  readonly #restoring = new Map<string, Promise<void>>();
  /** Stops those restores at close. */
  readonly #stop = new AbortController();

  /** Wires the loops; nothing runs before {@linkcode Upkeep.start}. */
  constructor(host: UpkeepHost) {
    this.#h = host;
    const o = host.options;
    this.#local = { getBlock: (id, opts) => host.store.readBytes(id, { signal: opts?.signal }) };
    this.#limiter = new RateLimiter({ bytesPerSecond: o.repairBytesPerSecond });
    this.#repairer = new Repairer({
      selfId: host.selfId,
      files: () => host.index.list().map((f) => f.id),
      check: (id, signal) => this.#check(id, signal),
      onTombstones: (id, check) => this.#onTombstones(id, check.tombstones, check),
      repair: (id, check, signal) => this.#repair(id, check, signal),
      trim: (id, check, signal) => this.#trim(id, check, signal),
      intervalMs: o.repairIntervalMs,
      graceMs: o.repairGraceMs,
      // A check mostly waits on probes (a dead holder costs a whole timeout) and repairs share
      // the rate limiter: 8 at once keep a file whose grace ended from waiting behind the others.
      concurrency: 8,
      log: host.log,
    });
    this.#scrubber = o.scrubBytesPerSecond > 0
      ? new Scrubber({
        store: host.store,
        bytesPerSecond: o.scrubBytesPerSecond,
        pauseBetweenPassesMs: o.scrubPauseMs,
        restore: (id, signal) => this.#scrubRestore(id, signal),
        log: host.log,
      })
      : undefined;
    this.#gc = new GarbageCollector({
      store: host.store,
      live: () => host.liveBlocks(),
      deleteIfUnused: (id) => host.deleteIfUnused(id),
      graceMs: o.gcGraceMs,
      log: host.log,
    });
  }

  /** Starts the loops the options turn on (the scrubber after `scrubStartDelayMs`). */
  start(): void {
    if (this.#h.options.repair) this.#repairer.start();
    if (this.#scrubber) {
      const scrubber = this.#scrubber;
      this.#scrubTimer = setTimeout(() => {
        this.#scrubTimer = undefined;
        scrubber.start();
      }, this.#h.options.scrubStartDelayMs);
    }
    this.#gc.start(this.#h.options.gcIntervalMs);
    this.#expiryTimer = setInterval(() => {
      this.#h.tombstones.expire(Date.now()).catch((err) =>
        this.#h.log("warn", "could not expire tombstones", { error: String(err) })
      );
    }, this.#h.options.gcIntervalMs);
  }

  /** Stops every loop; resolves once the work under way settled. */
  async close(): Promise<void> {
    if (this.#scrubTimer !== undefined) clearTimeout(this.#scrubTimer);
    if (this.#expiryTimer !== undefined) clearInterval(this.#expiryTimer);
    this.#stop.abort();
    await Promise.all([
      this.#repairer.stop(),
      this.#scrubber?.stop(),
      this.#gc.stop(),
      ...this.#restoring.values(),
    ]);
  }

  /** The repairer (tests and `dfs repair` drive it directly). */
  get repairer(): Repairer {
    return this.#repairer;
  }

  /** The scrubber, when scrubbing is on. */
  get scrubber(): Scrubber | undefined {
    return this.#scrubber;
  }

  /** The garbage collector. */
  get gc(): GarbageCollector {
    return this.#gc;
  }

  /** Runs one pass of a loop now and resolves with its figures. */
  async runPass(kind: "repair" | "scrub" | "gc"): Promise<Record<string, number>> {
    if (kind === "repair") return { checked: await this.#repairer.checkAll() };
    if (kind === "gc") {
      const expired = await this.#h.tombstones.expire(Date.now());
      return { ...(await this.#gc.runPass()), tombstonesExpired: expired };
    }
    if (!this.#scrubber) {
      // Scrubbing is off in the background; a pass asked for runs unpaced.
      const once = new Scrubber({
        store: this.#h.store,
        bytesPerSecond: Infinity,
        restore: (id, signal) => this.#scrubRestore(id, signal),
        log: this.#h.log,
      });
      return { ...(await once.runPass()) };
    }
    return { ...(await this.#scrubber.runPass()) };
  }

  /** Figures for `status()`. */
  stats(): UpkeepFigures {
    const s = this.#scrubber?.stats();
    const g = this.#gc.stats();
    return {
      repair: this.#repairer.stats(),
      ...(s
        ? {
          scrub: {
            passes: s.passes,
            scanned: s.scanned,
            bytes: s.bytes,
            corrupt: s.corrupt,
            repaired: s.repaired,
            passBytes: s.currentPass?.bytes ?? 0,
            ...(s.lastPassEndedAt !== undefined ? { lastPassEndedAt: s.lastPassEndedAt } : {}),
          },
        }
        : {}),
      gc: { passes: g.passes, removed: g.removed, pending: g.tracked },
      tombstones: this.#h.tombstones.size,
    };
  }

  /** The health of file `id` as its holders answer now (for `stat`). */
  async health(id: ContentId, root: Uint8Array, source: BlockSource): Promise<FileHealth> {
    const manifest = decodeManifest(root);
    const policy = manifest.redundancy ?? this.#h.defaultPolicy;
    const check = await checkFile({
      fileId: id,
      policy,
      sample: await sampleStripe(manifest, source),
      self: this.#self(),
      peers: await this.#h.candidates(id),
      timeoutMs: Math.min(this.#h.timeoutMs, 10_000),
    });
    const {
      policy: _p,
      answers: _a,
      silent: _s,
      tombstones: _t,
      below: _b,
      missingColumns: _m,
      absentColumns: _x,
      realColumns: _r,
      ...health
    } = check;
    return health;
  }

  /**
   * Hands off this node's part of every file before it leaves: for each file, the holders are
   * checked as if this node were gone, and what that would lose is re-created on other nodes
   * (copies, or this node's shard columns), without a grace period. Stops the repair loop
   * first. Resolves with what it did; a file it could not hand off is counted in `failed`.
   */
  async drain(signal?: AbortSignal): Promise<DrainReport> {
    await this.#repairer.stop();
    const stop = signal ?? new AbortController().signal;
    let files = 0;
    let handedOff = 0;
    let failed = 0;
    let bytes = 0;
    for (const entry of this.#h.index.list()) {
      stop.throwIfAborted();
      files++;
      const id = ContentId.parse(entry.id);
      try {
        const check = await this.#check(id, stop);
        if (!check) continue;
        const without = withoutSelf(check, this.#h.selfId);
        if (!without.below) continue;
        const r = await this.#repair(id, without, stop);
        bytes += r.bytes;
        const needed = without.policy.kind === "replicas"
          ? without.target - without.live
          : without.missingColumns.length;
        if (r.repaired >= needed) handedOff++;
        else failed++;
      } catch (err) {
        if (stop.aborted) throw err;
        failed++;
        this.#h.log("warn", "drain: could not hand a file off", {
          id: entry.id,
          error: String(err),
        });
      }
    }
    this.#h.log("info", "drained", { files, handedOff, failed, bytes });
    return { files, handedOff, failed, bytes };
  }

  // ---------------------------------------------------------------- tombstones

  /**
   * Deletes file `id` for good: signs a tombstone, keeps it, and offers it to `peers` (the
   * file's holders and the nodes closest to it), which drop their copies and keep it too.
   * Resolves with the tombstone and the number of peers that took it.
   */
  async tombstone(
    id: ContentId,
    peers: readonly RemotePeer[],
  ): Promise<{ tombstone: Tombstone; told: number; tookIt: ReadonlySet<string> }> {
    const t = await signTombstone(this.#h.signer, id, { ttlMs: this.#h.options.tombstoneTtlMs });
    await this.#h.tombstones.add(t);
    // A push that landed here while the delete ran (after its local part, before the tombstone
    // was kept) goes too; one landing from now on is refused (`applyHeldTombstone`).
    if (this.#h.index.has(id.toString())) await this.#h.dropLocalCopy(id);
    const tookIt = await this.#offer(toWireTombstone(t), peers);
    return { tombstone: t, told: tookIt.size, tookIt };
  }

  /**
   * The owner puts file `id` again after a delete: when a tombstone of the file is held here,
   * signs a revival (which supersedes it), keeps it, and offers it to `peers()` (the nodes the
   * copies go to and those closest to the file, looked up only then), so that their tombstones no longer drop the
   * copies pushed next. Resolves with the revival, or `undefined` when no tombstone is held.
   */
  async revive(
    id: ContentId,
    peers: () => Promise<readonly RemotePeer[]>,
  ): Promise<Tombstone | undefined> {
    const held = this.#h.tombstones.get(id);
    if (!held || held.revival) return undefined;
    const r = await this.#signRevival(id, held);
    await this.#offer(toWireTombstone(r), await peers());
    return r;
  }

  /** Signs and keeps a revival newer than tombstone `over`. */
  async #signRevival(id: ContentId, over: Tombstone): Promise<Tombstone> {
    const r = await signRevival(this.#h.signer, id, {
      now: Math.max(Date.now(), over.deletedAt + 1),
      ttlMs: this.#h.options.tombstoneTtlMs,
    });
    await this.#h.tombstones.add(r);
    this.#h.log("info", "file revived: a put after its delete", { id: id.toString() });
    return r;
  }

  /**
   * A tombstone or revival offered by a peer (or found by a check): verifies and keeps it. A
   * tombstone then drops the local copy unless a newer revival is held here, or the copy was
   * put here (not pushed by a peer) after the delete. Throws `InvalidTombstoneError`. Resolves
   * `true` when the local copy was dropped.
   */
  async acceptTombstone(wire: WireTombstone): Promise<boolean> {
    const t = fromWireTombstone(wire);
    await validateTombstone(t, Date.now());
    await checkTombstoneOwner(this.#h.store, t, this.#h.privateCluster);
    await this.#h.tombstones.add(t);
    if (t.revival) return false;
    const held = this.#h.tombstones.get(t.fileId);
    if (held?.revival && held.deletedAt >= t.deletedAt) return false; // superseded
    return await this.#applyTombstone(t);
  }

  /**
   * A file root just arrived from a peer (a push): when a tombstone held here applies to it,
   * drops the copy at once, so a repair push that crossed a delete does not bring the file
   * back. Resolves `true` when the copy was dropped.
   */
  async applyHeldTombstone(id: ContentId): Promise<boolean> {
    const held = this.#h.tombstones.get(id);
    if (!held || held.revival) return false;
    return await this.#applyTombstone(held);
  }

  /** Drops the local copy of `t`'s file unless it was put here after the delete. */
  async #applyTombstone(t: Tombstone): Promise<boolean> {
    const text = t.fileId.toString();
    const entry = this.#h.index.get(text);
    if (!entry) return false;
    // A copy that came by a push has no put time of its own (indexedAt 0): any tombstone wins.
    if ((entry.indexedAt ?? 0) >= t.deletedAt) {
      // Put here after the delete, but the put did not know of it: revive the file, so that
      // the tombstone stops dropping its other copies (a revival travels as tombstones do).
      if (await this.#mayRevive(t)) await this.#signRevival(t.fileId, t);
      return false;
    }
    this.#h.log("info", "file deleted by a tombstone", { id: text });
    return await this.#h.dropLocalCopy(t.fileId);
  }

  /** True when this node's revival of `t`'s file would be taken (the owner's rule). */
  async #mayRevive(t: Tombstone): Promise<boolean> {
    try {
      await checkTombstoneOwner(
        this.#h.store,
        { ...t, issuer: this.#h.signer.publicKey },
        this.#h.privateCluster,
      );
      return true;
    } catch {
      return false;
    }
  }

  async #onTombstones(
    id: ContentId,
    tombstones: readonly WireTombstone[],
    check: CheckedFile,
  ): Promise<boolean> {
    let dropped = false;
    let valid: WireTombstone | undefined;
    for (const w of tombstones) {
      try {
        dropped = (await this.acceptTombstone(w)) || dropped;
        if (!w.revival) valid = w;
      } catch (err) {
        this.#h.log("debug", "ignored a bad tombstone", { id: id.toString(), error: String(err) });
      }
    }
    if (valid && dropped) {
      // Tell the other holders that still answer with the file.
      const holders = check.answers.filter((a) => a.root && a.peer).map((a) => a.peer!);
      await this.#offer(valid, holders);
    }
    const held = this.#h.tombstones.get(id);
    if (held?.revival && !dropped) {
      // Peers that still answer with an older tombstone learn of the revival.
      const stale = check.answers.filter((a) =>
        a.peer && a.tombstone && !a.tombstone.revival && a.tombstone.deletedAt < held.deletedAt
      ).map((a) => a.peer!);
      if (stale.length) await this.#offer(toWireTombstone(held), stale);
    }
    return dropped;
  }

  /** Offers `t` to `peers`; resolves with the node ids of those that took it. */
  async #offer(t: WireTombstone, peers: readonly RemotePeer[]): Promise<Set<string>> {
    const told = await Promise.all(peers.map(async (p) => {
      try {
        await p.sendTombstone(t, { timeoutMs: this.#h.timeoutMs });
        return p.nodeId;
      } catch (err) {
        this.#h.log("debug", "a peer did not take a tombstone", {
          peer: p.nodeId,
          error: String(err),
        });
        return undefined;
      }
    }));
    return new Set(told.filter((n): n is string => n !== undefined));
  }

  // ---------------------------------------------------------------- repair

  #self() {
    const store = this.#h.store;
    return {
      nodeId: this.#h.selfId,
      has: (ids: readonly ContentId[]) => Promise.all(ids.map((i) => store.has(i))),
    };
  }

  /**
   * Checks file `id` now (as the repair loop does): its holders, its health, whether it is above
   * a replicas policy's max. `undefined` when the file is not indexed here.
   */
  checkNow(id: ContentId, signal?: AbortSignal): Promise<CheckedFile | undefined> {
    return this.#check(id, signal ?? new AbortController().signal);
  }

  async #check(id: ContentId, signal: AbortSignal): Promise<CheckedFile | undefined> {
    const text = id.toString();
    if (!this.#h.index.has(text)) return undefined;
    let root;
    try {
      root = decodeManifest(await this.#h.store.readBytes(id, { signal }));
    } catch (err) {
      // The scrubber restores a rotten root; a vanished one means the file left the index.
      this.#h.log("debug", "repair check: local root unreadable", { id: text, error: String(err) });
      return undefined;
    }
    const policy = root.redundancy ?? this.#h.defaultPolicy;
    const check = await checkFile({
      fileId: id,
      policy,
      sample: await sampleStripe(root, this.#local, signal),
      self: this.#self(),
      peers: await this.#h.candidates(id, signal),
      timeoutMs: Math.min(this.#h.timeoutMs, 10_000),
      signal,
    });
    const local = this.#h.tombstones.get(id);
    const tombstones = local ? [...check.tombstones, toWireTombstone(local)] : check.tombstones;
    return {
      ...check,
      tombstones,
      above: policy.kind === "replicas" && check.live > policy.max,
    };
  }

  /** A reader of the file's blocks that counts and paces the bytes repair pushes. */
  #pacedReader(peers: readonly RemotePeer[], counter: { bytes: number }) {
    const read = shardReader(this.#local, this.#h.fetcher(peers));
    return async (block: FileBlock, signal?: AbortSignal) => {
      const bytes = await read(block, signal);
      await this.#limiter.take(bytes.length, signal);
      counter.bytes += bytes.length;
      return bytes;
    };
  }

  /**
   * Like {@linkcode Upkeep.#pacedReader}'s reader, but the local copy is read without hashing
   * it (for targets that verify pushes on arrival; see `replicator.ts`); a block not readable
   * here comes through `read` (fetched or rebuilt, verified, and pushed as verified bytes).
   */
  #pacedUnverified(
    read: (block: FileBlock, signal?: AbortSignal) => Promise<Uint8Array>,
    counter: { bytes: number },
  ) {
    return async (block: FileBlock, signal?: AbortSignal): Promise<PushBytes> => {
      let bytes: Uint8Array;
      try {
        bytes = await this.#h.store.readBytes(block.id, { signal, verify: false });
      } catch (err) {
        if (signal?.aborted) throw err;
        return { bytes: await read(block, signal), verified: true };
      }
      await this.#limiter.take(bytes.length, signal);
      counter.bytes += bytes.length;
      return { bytes, verified: false };
    };
  }

  async #repair(
    id: ContentId,
    check: CheckedFile,
    signal: AbortSignal,
  ): Promise<{ repaired: number; bytes: number }> {
    const root = decodeManifest(await this.#h.store.readBytes(id, { signal }));
    const policy = root.redundancy ?? this.#h.defaultPolicy;
    const counter = { bytes: 0 };
    const peers = check.answers.filter((a) => a.peer).map((a) => a.peer!);
    const read = this.#pacedReader(peers, counter);
    const base = this.#h.placement();
    const ctx: PlacementContext = {
      ...base,
      readBlock: (b, s) => read({ id: b, manifest: false }, s),
      ...(base.recheck && { readUnverified: this.#pacedUnverified(read, counter) }),
    };
    const holding = new Set(check.holders.map((h) => h.nodeId));
    if (policy.kind === "replicas") {
      const want = policy.max - check.live;
      const repaired = await replicateCopies(ctx, id, want, signal, holding);
      return { repaired, bytes: counter.bytes };
    }
    // Each column without a node of its own goes to a node holding nothing of the file, closest
    // first. With no such node left, a column nobody holds at all still goes to the holder with
    // the fewest columns: a doubled-up column survives more than a missing one.
    const candidates = (await holderCandidates(ctx.discovery, id, ctx.remotes, signal))
      .filter((p) => !holding.has(p.nodeId));
    let repaired = 0;
    let next = 0;
    const left: number[] = [];
    for (const column of check.missingColumns) {
      let placed = false;
      while (!placed && next < candidates.length) {
        placed = (await pushTo(ctx, id, [candidates[next++]], new Set([column]), signal, read)) ===
          1;
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
      if ((await pushTo(ctx, id, [to.peer!], new Set([column]), signal, read)) === 1) {
        repaired++;
        fallback.splice(fallback.indexOf(to), 1);
        fallback.push(to);
      }
    }
    if (left.length > 0) {
      this.#h.log("debug", "repair: fewer nodes than columns; some share a node", {
        id: id.toString(),
        columns: left.length,
      });
    }
    return { repaired, bytes: counter.bytes };
  }

  /** Asks the holders farthest from the file to drop their copies, down to the policy's max. */
  async #trim(id: ContentId, check: CheckedFile, signal: AbortSignal): Promise<number> {
    const root = decodeManifest(await this.#h.store.readBytes(id, { signal }));
    const policy = root.redundancy ?? this.#h.defaultPolicy;
    if (policy.kind !== "replicas") return 0;
    const extra = check.live - policy.max;
    const far = check.answers
      .filter((a) => a.root && a.peer)
      .map((a) => ({
        peer: a.peer!,
        d: xorDistance(fromHex(a.nodeId) ?? new Uint8Array(), id.digest),
      }))
      .sort((x, y) => compareDistance(y.d, x.d));
    let trimmed = 0;
    for (const { peer } of far) {
      if (trimmed >= extra) break;
      try {
        await peer.deleteBlock(id, { timeoutMs: this.#h.timeoutMs, signal });
        trimmed++;
      } catch (err) {
        if (signal.aborted) throw err;
      }
    }
    return trimmed;
  }

  // ---------------------------------------------------------------- scrub

  /**
   * Restores local block `id` in the background (see {@linkcode Upkeep.restoreBlock}), after a
   * check of the copy a peer refused or reported (`by` "recheck") or the scrubber (`by` "scrub")
   * found it rotten (the store quarantined it). A restore that finds no good copy is tried again
   * after `restoreRetryMs`, doubled each time, {@linkcode RESTORE_ATTEMPTS} tries in all: once
   * the entry is out of service nothing else would see that this node lacks it (a file check
   * probes a sample of the blocks). A block already being restored is not restored twice at
   * once; close stops the waits, and nothing starts after it.
   */
  restoreSoon(id: ContentId, by: "scrub" | "recheck" = "recheck", tried = 0): void {
    const key = id.toString();
    const signal = this.#stop.signal;
    if (signal.aborted || this.#restoring.has(key)) return;
    const done = (async () => {
      for (let attempt = tried; attempt < RESTORE_ATTEMPTS; attempt++) {
        if (attempt > 0) {
          const wait = this.#h.options.restoreRetryMs * 2 ** (attempt - 1);
          if (!(await sleep(wait, signal).then(() => true, () => false))) return; // closed
        }
        // restoreBlock logs each outcome
        if (await this.restoreBlock(id, signal, by).catch(() => signal.aborted)) return;
      }
      this.#h.log("warn", `${by}: gave up restoring a corrupt block`, {
        block: key,
        attempts: RESTORE_ATTEMPTS,
      });
    })().finally(() => this.#restoring.delete(key));
    this.#restoring.set(key, done);
  }

  /** The scrubber's restore: one try now, and the later tries of `restoreSoon` if it fails. */
  async #scrubRestore(id: ContentId, signal: AbortSignal): Promise<boolean> {
    const ok = await this.restoreBlock(id, signal);
    if (!ok && !signal.aborted) this.restoreSoon(id, "scrub", 1);
    return ok;
  }

  /**
   * Restores local block `id` after the scrubber (or, with `by` "recheck", a check of a copy a
   * peer refused) found it corrupt (the store quarantined it): finds an indexed file that lists
   * it, then reads a good copy from a peer or rebuilds the shard from its stripe, and writes it
   * back. Resolves `false` when no file lists it or no good copy could be had.
   */
  async restoreBlock(
    id: ContentId,
    signal: AbortSignal,
    by: "scrub" | "recheck" = "scrub",
  ): Promise<boolean> {
    const found = await this.#findBlock(id, signal);
    if (!found) return false;
    const peers = await this.#h.candidates(found.file, signal);
    const read = shardReader(this.#local, this.#h.fetcher(peers), { tryRemoteFirst: true });
    try {
      const bytes = await read(found.block, signal);
      await this.#h.store.write(id, bytes, { hashed: id });
      this.#h.log("info", `${by}: restored a corrupt block`, { block: id.toString() });
      return true;
    } catch (err) {
      this.#h.log("warn", `${by}: could not restore a corrupt block`, {
        block: id.toString(),
        error: String(err),
      });
      return false;
    }
  }

  async #findBlock(
    id: ContentId,
    signal: AbortSignal,
  ): Promise<{ file: ContentId; block: FileBlock } | undefined> {
    for (const f of this.#h.index.list()) {
      const file = ContentId.parse(f.id);
      if (file.equals(id)) return { file, block: { id, manifest: true } };
      // Walks read manifests from this node and, when one of them is the rotten block, from
      // the file's holders.
      try {
        for await (const b of walkFileBlocks(file, this.#local, signal)) {
          if (b.id.equals(id)) return { file, block: b };
        }
        continue;
      } catch {
        if (signal.aborted) return undefined;
      }
      try {
        const source = this.#h.fetcher(await this.#h.candidates(file, signal));
        for await (const b of walkFileBlocks(file, source, signal)) {
          if (b.id.equals(id)) return { file, block: b };
        }
      } catch {
        // Gone everywhere: try the next file.
      }
    }
    return undefined;
  }
}
