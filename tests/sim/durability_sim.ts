/**
 * The durability simulation: N nodes, each running the real repair loop
 * (`src/node/durability/repairer.ts`) with the real health check (`checkFile` of
 * `file_check.ts`) and a real DHT (`src/dht`, on {@linkcode SimNetwork}), on a
 * {@linkcode VirtualClock}, while nodes die for good or go down for a while. The data plane is
 * modeled (`durability_model.ts`): no bytes, each node knows which copies and shard columns it
 * holds, probes are answered from that, and a repair's transfers take bytes / bandwidth of
 * virtual time. The referee (`durability_track.ts`) checks after every change that every file
 * stays readable and that no file stays below target longer than its bound. Used by
 * `durability_sim_test.ts` (small, in CI) and `bench/durability_sim.ts` (200 nodes, 1,000
 * files, a week).
 *
 * What is real and what is modeled:
 * - real: `Repairer` (when to check, grace, who leads, re-checks), `checkFile` (probes, health,
 *   missing columns), `Dht` (joins, provider records and their republishing, lookups),
 *   `readCandidates` / `holderCandidates` (whom a check probes, where a repair pushes),
 *   `rankOf` (where a put places its own shard columns), `RateLimiter` (the repair rate).
 * - modeled, mirroring `upkeep.ts`: a put (the putting node keeps a copy and pushes to the
 *   nodes closest to the file; Reed-Solomon columns as `placeColumns` assigns them), a repair
 *   (replicas: max − live copies to the closest non-holders, further candidates on failure;
 *   Reed-Solomon: each column without a node of its own rebuilt from k columns, data columns
 *   first, and pushed to the next closest node holding none, else to the holder with the
 *   fewest columns), a trim (the farthest holders drop their copies). A push to a node that
 *   already holds what is pushed (a holder the check missed) moves nothing, as the replicator's
 *   HAS round skips held blocks.
 * - simplified: every column of a Reed-Solomon file has shards (no short first stripe); a
 *   transfer that loses a node fails when its window ends; answers to probes land on a 250 ms
 *   grid; to save DHT lookups a node reuses its last provider lookup for a file for
 *   `lookupReuseMs` while the file is healthy (a file found below target or above max is looked
 *   up afresh, as the node always does, so every answer that can lead to a repair or a trim
 *   rests on a fresh lookup); DHT buckets are not refreshed (provider records are republished
 *   every 22 h), and DHT messages skip the wire codec.
 *
 * @module
 */

import process from "node:process";
import { contactOf } from "../../src/dht/contact.ts";
import { Dht } from "../../src/dht/dht.ts";
import { keyOfContentId } from "../../src/dht/key.ts";
import type { DhtNetwork } from "../../src/dht/network.ts";
import { DEFAULT_REPUBLISH_MS } from "../../src/dht/options.ts";
import { formatRedundancy, parseRedundancy } from "../../src/file/redundancy.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { type Discovery, holderCandidates } from "../../src/node/discovery.ts";
import { rankOf } from "../../src/node/durability/put_placement.ts";
import { Repairer, type RepairerOptions } from "../../src/node/durability/repairer.ts";
import { RateLimiter } from "../../src/util/rate_limiter.ts";
import { Rng } from "../util/prng.ts";
import { spread } from "./dht_sim.ts";
import {
  type Config,
  DURABILITY_DEFAULTS,
  type DurabilityConfig,
  type DurabilityReport,
  type RepairLoop,
} from "./durability_config.ts";
import { DataPlane, type SimFile, SimNode, type SimPeer } from "./durability_model.ts";
import { atTarget, type Episode, type PolicyFigures, Tracker } from "./durability_track.ts";
import { SimUpkeep } from "./durability_upkeep.ts";
import { SimNetwork } from "./sim_network.ts";
import { VirtualClock } from "./virtual_clock.ts";

export * from "./durability_config.ts";

const MIB = 1024 * 1024;
const HOUR = 3600_000;
const START = 1_790_000_000_000;
/** Block size of the modeled files (the node's default): a stripe is k blocks. */
const BLOCK = 256 * 1024;

/** Deadline of one DHT lookup (the DHT's default): part of a check's time. */
const LOOKUP_DEADLINE_MS = 30_000;

/** Runs one simulation. Deterministic for a given config (wall time and RSS aside). */
export async function runDurabilitySimulation(config: DurabilityConfig): Promise<DurabilityReport> {
  const { progress, makeRepairer, ...given } = config;
  const cfg = { ...DURABILITY_DEFAULTS, ...given } as Config;
  const make = makeRepairer ?? ((o: RepairerOptions) => new Repairer(o));
  return await new DurabilitySim(cfg, progress ?? (() => {}), make).run();
}

class DurabilitySim {
  readonly cfg: Config;
  readonly log: (line: string) => void;
  readonly clock = new VirtualClock(START);
  readonly rng: Rng;
  readonly net: SimNetwork;
  readonly plane: DataPlane;
  readonly tracker: Tracker;
  readonly nodes: SimNode[] = [];
  readonly byId = new Map<string, SimNode>();
  readonly files: SimFile[] = [];
  readonly byHex = new Map<string, SimFile>();
  readonly nets: DhtNetwork[] = [];
  readonly discoveries = new Map<SimNode, Discovery>();
  readonly repairers: RepairLoop[] = [];
  readonly makeRepairer: (options: RepairerOptions) => RepairLoop;
  readonly upkeep: SimUpkeep;
  killed = 0;
  outages = 0;
  peakRss = 0;

  constructor(
    cfg: Config,
    log: (line: string) => void,
    makeRepairer: (options: RepairerOptions) => RepairLoop,
  ) {
    this.cfg = cfg;
    this.log = log;
    this.makeRepairer = makeRepairer;
    this.rng = new Rng(cfg.seed);
    this.net = new SimNetwork({
      clock: this.clock,
      rng: new Rng(cfg.seed ^ 0x5eed),
      latency: cfg.latency,
      codec: false,
    });
    this.plane = new DataPlane({
      clock: this.clock,
      latency: (a, b) => this.net.latency(a, b),
      linkBytesPerSecond: cfg.linkBytesPerSecond,
      onChange: (file) => this.tracker.changed(file),
    });
    const interval = cfg.intervalMs;
    this.tracker = new Tracker(() => this.clock.now(), START, {
      graceMs: cfg.graceMs,
      intervalMs: interval,
      tickMs: Math.max(100, Math.min(30_000, interval / 10)),
      // A check: a provider lookup and a round of probes; a below-target answer from a reused
      // lookup adds another of each.
      checkMs: LOOKUP_DEADLINE_MS + 2 * cfg.probeTimeoutMs,
      recheckMs: Math.min(interval, 60_000),
    });
    this.upkeep = new SimUpkeep({
      clock: this.clock,
      plane: this.plane,
      tracker: this.tracker,
      files: this.byHex,
      discovery: (node) => this.discoveries.get(node)!,
      probeTimeoutMs: cfg.probeTimeoutMs,
      lookupReuseMs: cfg.lookupReuseMs,
      checkLookup: cfg.checkLookup,
      repairBytesPerSecond: cfg.repairBytesPerSecond,
    });
  }

  async run(): Promise<DurabilityReport> {
    const wallStart = performance.now();
    this.sampleRss();
    const wall = () => `${((performance.now() - wallStart) / 1000).toFixed(1)} s wall`;
    for (let i = 0; i < this.cfg.nodes; i++) this.addNode(i);
    for (let i = 1; i < this.nodes.length; i++) {
      const via = this.nodes[this.rng.int(i)];
      await this.clock.runUntil(this.nodes[i].dht.join([{ address: via.contact.address }]));
    }
    this.log(`${this.nodes.length} nodes joined (${wall()})`);
    await this.putFiles();
    this.log(`${this.files.length} files placed and announced (${wall()})`);

    const t0 = this.clock.now();
    for (const node of this.nodes) {
      this.startRepairer(node);
      this.every(node, node.rng.next() * DEFAULT_REPUBLISH_MS, DEFAULT_REPUBLISH_MS, () => {
        if (node.state === "up") node.dht.republish().catch(() => {});
      });
    }
    this.scheduleChurn(t0);
    const end = t0 + this.cfg.churnMs + this.cfg.tailMs;
    const report = () => {
      this.sampleRss();
      const s = this.repairStats();
      this.log(
        `t=${((this.clock.now() - t0) / HOUR).toFixed(0)} h: ${this.killed} killed, ` +
          `${s.checks} checks, ${this.tracker.repairCalls} repairs, ` +
          `${this.tracker.episodes.length} episodes, ${this.net.stats().requests} DHT messages ` +
          `(${wall()}, ${(this.peakRss / MIB).toFixed(0)} MiB)`,
      );
    };
    const tick = () => {
      report();
      if (this.clock.now() + 6 * HOUR < end) this.clock.setTimeout(tick, 6 * HOUR);
    };
    this.clock.setTimeout(tick, 6 * HOUR);
    await this.clock.run({ until: end, maxEvents: Number.MAX_SAFE_INTEGER });
    this.tracker.finish();
    const stops = this.nodes.map((n) => n.repairer?.stop());
    await this.clock.runUntil(Promise.all(stops), { maxEvents: 10_000_000 });
    this.sampleRss();
    return this.report(wallStart, end - t0);
  }

  // ---------------------------------------------------------------- nodes

  addNode(i: number): void {
    const contact = contactOf(
      this.rng.bytes(32),
      `44.${(i >> 8) & 255}.${i & 255}.1:4001`, // one /24 per node: the subnet rule never bites
    );
    const node = new SimNode(i, contact, new Rng((this.cfg.seed * 7919 + i) >>> 0));
    const dhtRng = new Rng((this.cfg.seed * 104_729 + i) >>> 0);
    node.dht = new Dht({
      self: contact,
      // The node's network object changes when it comes back from an outage.
      network: { request: (t, r, o) => this.nets[i].request(t, r, o) },
      clock: this.clock,
      random: (n) => dhtRng.bytes(n),
    });
    node.limiter = new RateLimiter({
      bytesPerSecond: this.cfg.repairBytesPerSecond,
      clock: this.clock,
    });
    this.nets[i] = this.net.add(contact, (from, request) => node.dht.handle(from, request));
    this.discoveries.set(node, {
      dht: node.dht,
      connect: (c) => {
        const to = this.byId.get(c.idHex);
        if (!to) return Promise.reject(new Error(`sim: unknown node ${c.idHex}`));
        return Promise.resolve(this.plane.peer(node, to));
      },
      selfId: node.idHex,
      log: () => {},
    });
    this.nodes.push(node);
    this.byId.set(node.idHex, node);
  }

  startRepairer(node: SimNode): void {
    const repairer = this.makeRepairer({
      selfId: node.idHex,
      files: () => node.fileIds(),
      check: (id, signal) => this.upkeep.check(node, id, signal),
      onTombstones: () => Promise.resolve(false),
      repair: (id, check, signal) => this.upkeep.repair(node, id, check, signal),
      trim: (id, check, signal) => this.upkeep.trim(node, id, check, signal),
      intervalMs: this.cfg.intervalMs,
      graceMs: this.cfg.graceMs,
      clock: this.clock,
      random: () => node.rng.next(),
    });
    node.repairer = repairer;
    this.repairers.push(repairer);
    repairer.start();
  }

  /** Runs `fn` at `first` ms from now, then every `ms`, until the node is dead. */
  every(node: SimNode, first: number, ms: number, fn: () => void): void {
    this.clock.setTimeout(() => {
      if (node.state === "dead") return;
      fn();
      this.every(node, ms, ms, fn);
    }, first);
  }

  /** Announces `node` as a provider of `file`, in the background (as `provideSoon`). */
  announce(node: SimNode, file: SimFile): void {
    node.dht.provide(keyOfContentId(file.id)).catch(() => {});
  }

  /** Takes `node` off the network: its repair loop stops, its transfers fail. */
  #leave(node: SimNode, state: "down" | "dead"): void {
    node.state = state;
    node.epoch++;
    node.changedAt = this.clock.now();
    this.net.kill(node.contact.address);
    node.repairer?.stop().catch(() => {});
    node.repairer = undefined;
    for (const hex of node.holdings.keys()) {
      this.tracker.lost(this.byHex.get(hex)!, state === "dead");
    }
  }

  kill(node: SimNode): void {
    this.killed++;
    if (node.state !== "dead") this.#leave(node, "dead");
    for (const [hex, h] of node.holdings) {
      const file = this.byHex.get(hex)!;
      const bytes = file.policy.kind === "replicas" ? file.size : h.columns.size * file.unitBytes;
      this.tracker.policy(file).bytesLost += bytes;
    }
  }

  /** An outage of `ms`: the node is back afterwards with its data, a fresh repair loop. */
  outage(node: SimNode, ms: number): void {
    this.outages++;
    this.#leave(node, "down");
    this.clock.setTimeout(() => {
      if (node.state !== "down") return;
      node.state = "up";
      node.changedAt = this.clock.now();
      node.candidates.clear();
      this.nets[node.index] = this.net.add(
        node.contact,
        (from, request) => node.dht.handle(from, request),
      );
      this.startRepairer(node);
      for (const hex of node.holdings.keys()) {
        const file = this.byHex.get(hex)!;
        this.announce(node, file); // a node announces what it holds when it starts
        this.tracker.changed(file);
      }
    }, ms);
  }

  scheduleChurn(t0: number): void {
    const rng = new Rng((this.cfg.seed ^ 0xc4a7) >>> 0);
    const span = this.cfg.churnMs;
    const kills = Math.floor(this.cfg.killFraction * this.nodes.length);
    for (let i = 0; i < kills; i++) {
      this.clock.setTimeout(() => {
        const candidates = this.nodes.filter((n) => n.state !== "dead");
        if (candidates.length > 0) this.kill(rng.pick(candidates));
      }, t0 + rng.next() * span - this.clock.now());
    }
    const { min, max } = this.cfg.outageMs;
    for (let i = 0; i < this.cfg.outages; i++) {
      const ms = min + rng.next() * (max - min);
      this.clock.setTimeout(() => {
        const candidates = this.nodes.filter((n) => n.state === "up");
        if (candidates.length > 0) this.outage(rng.pick(candidates), ms);
      }, t0 + rng.next() * span - this.clock.now());
    }
  }

  // ---------------------------------------------------------------- files

  /** Makes the files and places each as a put from a random node does. */
  async putFiles(): Promise<void> {
    const { mix, sizeBytes } = this.cfg;
    const n = this.cfg.files;
    const labels: string[] = [];
    for (const { policy, share } of mix) {
      for (let i = 0; i < Math.floor(share * n); i++) labels.push(policy);
    }
    while (labels.length < n) labels.push(mix[0].policy);
    for (let i = labels.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [labels[i], labels[j]] = [labels[j], labels[i]];
    }
    const lnMin = Math.log(sizeBytes.min);
    const lnMax = Math.log(sizeBytes.max);
    for (let i = 0; i < n; i++) {
      const policy = parseRedundancy(labels[i]);
      const size = Math.round(Math.exp(lnMin + this.rng.next() * (lnMax - lnMin)));
      const id = ContentId.fromDigest("sha-256", this.rng.bytes(32));
      const rs = policy.kind === "rs";
      const file: SimFile = {
        index: i,
        id,
        hex: id.toString(),
        policy,
        label: formatRedundancy(policy),
        size,
        unitBytes: rs ? Math.ceil(size / policy.k) : size,
        stripes: rs ? Math.ceil(size / (policy.k * BLOCK)) : 0,
        ...(rs
          ? {
            sample: {
              columns: Array.from(
                { length: policy.k + policy.m },
                () => ContentId.fromDigest("sha-256", this.rng.bytes(32)),
              ),
            },
          }
          : {}),
        holders: new Set(),
      };
      this.files.push(file);
      this.byHex.set(file.hex, file);
      this.plane.register(file);
    }
    const batch = 50;
    for (let i = 0; i < n; i += batch) {
      const slice = this.files.slice(i, i + batch);
      await this.clock.runUntil(Promise.all(slice.map((f) => this.put(f))));
    }
    for (const file of this.files) this.tracker.add(file);
  }

  async put(file: SimFile): Promise<void> {
    const putter = this.rng.pick(this.nodes);
    const candidates = (await holderCandidates(this.discoveries.get(putter)!, file.id, []))
      .map((p) => (p as SimPeer).node);
    const holders: SimNode[] = [putter];
    this.plane.give(putter, file);
    if (file.policy.kind === "replicas") {
      for (const n of candidates.slice(0, file.policy.max - 1)) {
        this.plane.give(n, file);
        holders.push(n);
      }
    } else {
      // As `placeColumns`: the putter takes its rank among the candidates; column c goes to
      // slot c (wrapping when there are fewer slots than columns).
      const slots: SimNode[] = [...candidates];
      const peers = candidates.map((n) => this.plane.peer(putter, n));
      slots.splice(rankOf(putter.idHex, file.id, peers), 0, putter);
      const columns = file.policy.k + file.policy.m;
      const used = Math.min(columns, slots.length);
      for (let c = 0; c < columns; c++) {
        this.plane.give(slots[c % used], file, c);
        if (!holders.includes(slots[c % used])) holders.push(slots[c % used]);
      }
    }
    await Promise.all(
      holders.map((h) => h.dht.provide(keyOfContentId(file.id)).catch(() => {})),
    );
  }

  // ---------------------------------------------------------------- figures

  sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
  }

  repairStats() {
    let checks = 0;
    let failed = 0;
    for (const r of this.repairers) {
      const s = r.stats();
      checks += s.checks;
      failed += s.failed;
    }
    return { checks, failed };
  }

  report(wallStart: number, virtualMs: number): DurabilityReport {
    const t = this.tracker;
    const s = this.repairStats();
    const episodes = t.episodes;
    const violations = t.violations();
    let worst = -Infinity;
    let boundOfWorst = 0;
    for (const e of episodes) {
      if (e.ms - e.boundMs > worst) {
        worst = e.ms - e.boundMs;
        boundOfWorst = e.boundMs;
      }
    }
    const byPolicy: Record<string, PolicyFigures> = {};
    let lost = 0;
    let moved = 0;
    let wasted = 0;
    let units = 0;
    for (const [label, f] of [...t.byPolicy].sort()) {
      byPolicy[label] = { ...f };
      lost += f.bytesLost;
      moved += f.bytesMoved;
      wasted += f.bytesWasted;
      units += f.units;
    }
    return {
      config: this.cfg,
      nodes: {
        killed: this.killed,
        outages: this.outages,
        upAtEnd: this.nodes.filter((n) => n.state === "up").length,
      },
      filesAtTarget: this.files.filter((f) => atTarget(f, (n) => n.state === "up")).length,
      unreadable: t.unreadable,
      episodes: episodes.length,
      belowMs: spread(episodes.map((e) => e.ms)),
      worstMarginMs: episodes.length ? worst : 0,
      boundOfWorstMs: boundOfWorst,
      longest: episodes.reduce<Episode | undefined>(
        (a, e) => (a && a.ms >= e.ms ? a : e),
        undefined,
      ),
      violations: { count: violations.length, first: violations.slice(0, 20) },
      repair: {
        checks: s.checks,
        lookups: this.upkeep.lookups,
        calls: t.repairCalls,
        units,
        failed: s.failed,
        concurrentStarts: t.concurrentStarts,
        graceBreaks: t.graceBreaks,
        phantom: t.phantomRepairs,
        outageOnly: t.outageOnlyRepairs,
        notClosest: t.notClosest,
        extraWhileUp: t.extraWhileUp,
        unseenHolders: t.unseenHolders,
        extraWhileDown: t.extraWhileDown,
        trims: t.trims,
      },
      notes: t.notes,
      bytes: { lost, moved, wasted },
      byPolicy,
      dhtMessages: this.net.stats().requests,
      wallMs: Math.round(performance.now() - wallStart),
      peakRssBytes: this.peakRss,
      virtualMs,
    };
  }
}
