/**
 * The DHT simulation: N nodes running the real `src/dht` code on a {@linkcode SimNetwork}
 * (seeded latency and loss, every message through the real wire codec) and a
 * {@linkcode VirtualClock}, so one seed gives the same figures on every run and timeouts cost
 * no wall time. Used by `dht_sim_test.ts` (small, in CI) and `bench/dht_sim.ts` (1,000 to
 * 10,000 nodes).
 *
 * Phases: every node joins through one random earlier node; `publishers` nodes announce
 * `keysPerPublisher` keys each; then random-key lookups (success: the result holds the key's
 * closest live node, found by brute force) and provider lookups (success: a live provider of
 * the key found). Then nodes die without warning, and the lookups run again before and after
 * the publishers republish.
 *
 * @module
 */

import process from "node:process";
import { type Contact, contactOf } from "../../src/dht/contact.ts";
import { Dht } from "../../src/dht/dht.ts";
import { compareDistance } from "../../src/dht/key.ts";
import type { LookupResult } from "../../src/dht/lookup.ts";
import type { DhtTuning } from "../../src/dht/options.ts";
import { Rng } from "../util/prng.ts";
import { SimNetwork } from "./sim_network.ts";
import { VirtualClock } from "./virtual_clock.ts";

/** Parameters of a simulation run. */
export interface SimConfig {
  /** Number of nodes. */
  readonly nodes: number;
  /** Seed of everything random. */
  readonly seed: number;
  /** Random-key lookups per phase. */
  readonly lookups: number;
  /** Nodes that announce keys (never killed). */
  readonly publishers: number;
  /** Keys each publisher announces. */
  readonly keysPerPublisher: number;
  /** Provider lookups per phase. */
  readonly providerLookups: number;
  /** Fractions of all nodes dead after each kill step, cumulative (e.g. [0.1, 0.3]). */
  readonly kills: readonly number[];
  /** One-way latency range per link, ms. Default 10-150. */
  readonly latency?: { readonly minMs: number; readonly maxMs: number };
  /** Message loss probability. Default 0. */
  readonly loss?: number;
  /** DHT tuning overrides. */
  readonly tuning?: DhtTuning;
  /** Progress lines (e.g. console.error). */
  readonly progress?: (line: string) => void;
}

/** Median, p95 and p99 of a series. */
export interface Spread {
  /** Median. */
  readonly p50: number;
  /** 95th percentile. */
  readonly p95: number;
  /** 99th percentile. */
  readonly p99: number;
  /** Largest. */
  readonly max: number;
}

/** The figures of one phase. */
export interface PhaseFigures {
  /** What was measured, e.g. "random lookups, 10% dead". */
  readonly phase: string;
  /** Lookups run. */
  readonly count: number;
  /** Fraction that succeeded. */
  readonly success: number;
  /** Hops per lookup. */
  readonly rounds: Spread;
  /** Requests per lookup. */
  readonly messages: Spread;
  /** Virtual ms per lookup. */
  readonly latencyMs: Spread;
  /** Lookups that hit their deadline. */
  readonly timedOut: number;
  /** Wall ms since the run started, when this phase ended. */
  readonly wallMsAt: number;
}

/** Everything a run reports. */
export interface SimReport {
  /** The configuration. */
  readonly config: Omit<SimConfig, "progress">;
  /** Per-phase figures. */
  readonly phases: PhaseFigures[];
  /** Join phase: messages per join (its self-lookup included). */
  readonly join: { readonly messages: Spread; readonly rounds: Spread; readonly tableSize: Spread };
  /** Wall time of the whole run, ms. */
  readonly wallMs: number;
  /** Peak resident set size seen, bytes. */
  readonly peakRssBytes: number;
  /** Messages the network carried. */
  readonly networkMessages: number;
  /** Virtual time the run took, ms. */
  readonly virtualMs: number;
}

/** A sorted series' percentiles. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] };
}

interface SimNode {
  readonly contact: Contact;
  readonly dht: Dht;
  alive: boolean;
}

const START = 1_790_000_000_000;

/** Runs one simulation and returns its figures. Deterministic for a given config. */
export async function runDhtSimulation(config: SimConfig): Promise<SimReport> {
  const wallStart = performance.now();
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const log = config.progress ?? (() => {});
  const rng = new Rng(config.seed);
  const clock = new VirtualClock(START);
  const net = new SimNetwork({
    clock,
    rng: new Rng(config.seed ^ 0x5eed),
    latency: config.latency,
    loss: config.loss ?? 0,
  });
  const usedAddresses = new Set<string>();
  const nodes: SimNode[] = [];
  for (let i = 0; i < config.nodes; i++) {
    const contact = contactOf(rng.bytes(32), publicAddress(rng, usedAddresses));
    const dht: Dht = new Dht({
      ...config.tuning,
      self: contact,
      network: net.add(contact, (from, request) => dht.handle(from, request)),
      clock,
      random: (n) => rng.bytes(n),
    });
    nodes.push({ contact, dht, alive: true });
  }

  // Join: node i through one random earlier node.
  const joinMessages: number[] = [];
  const joinRounds: number[] = [];
  for (let i = 1; i < nodes.length; i++) {
    const via = nodes[rng.int(i)];
    const result = await clock.runUntil(nodes[i].dht.join([{ address: via.contact.address }]));
    joinMessages.push(result.messages + 1);
    joinRounds.push(result.rounds);
    if (i % 1000 === 0) {
      sampleRss();
      log(`joined ${i}/${nodes.length} (${Math.round(performance.now() - wallStart)} ms)`);
    }
  }
  const tableSize = spread(nodes.map((n) => n.dht.table.size));

  // Publish: each publisher announces its keys.
  const publishers = pickDistinct(rng, nodes.length, Math.min(config.publishers, nodes.length));
  const published: { key: Uint8Array; provider: SimNode }[] = [];
  for (const p of publishers) {
    for (let j = 0; j < config.keysPerPublisher; j++) {
      const key = rng.bytes(32);
      await clock.runUntil(nodes[p].dht.provide(key));
      published.push({ key, provider: nodes[p] });
    }
  }
  sampleRss();
  log(`published ${published.length} keys (${Math.round(performance.now() - wallStart)} ms)`);

  const phases: PhaseFigures[] = [];
  const measure = async (label: string) => {
    phases.push(await randomLookups(`random lookups, ${label}`, wallStart));
    phases.push(await providerLookups(`provider lookups, ${label}`, wallStart));
    sampleRss();
    log(`${label} (${Math.round(performance.now() - wallStart)} ms)`);
  };

  const liveNodes = () => nodes.filter((n) => n.alive);
  const randomLookups = async (phase: string, t0: number): Promise<PhaseFigures> => {
    const results: { r: LookupResult; ok: boolean }[] = [];
    const live = liveNodes();
    for (let i = 0; i < config.lookups; i++) {
      const from = rng.pick(live);
      const key = rng.bytes(32);
      const r = await clock.runUntil(from.dht.findNode(key));
      const truth = closestLive(live, key, from);
      results.push({ r, ok: r.closest.some((c) => c.idHex === truth.contact.idHex) });
    }
    return figures(phase, results, t0);
  };
  const providerLookups = async (phase: string, t0: number): Promise<PhaseFigures> => {
    const results: { r: LookupResult; ok: boolean }[] = [];
    const live = liveNodes();
    for (let i = 0; i < config.providerLookups; i++) {
      const { key, provider } = published[i % published.length];
      let from = rng.pick(live);
      while (from === provider) from = rng.pick(live);
      const { providers, lookup } = await clock.runUntil(
        from.dht.findProviders(key, { count: 1 }),
      );
      results.push({ r: lookup, ok: providers.some((p) => p.idHex === provider.contact.idHex) });
    }
    return figures(phase, results, t0);
  };

  await measure("all alive");
  const publisherSet = new Set(publishers);
  let dead = 0;
  for (const fraction of config.kills) {
    const target = Math.floor(fraction * nodes.length);
    const candidates = nodes.map((_, i) => i).filter((i) => nodes[i].alive && !publisherSet.has(i));
    while (dead < target && candidates.length > 0) {
      const [i] = candidates.splice(rng.int(candidates.length), 1);
      nodes[i].alive = false;
      net.kill(nodes[i].contact.address);
      dead++;
    }
    const pct = `${Math.round(fraction * 100)}% dead`;
    await measure(`${pct}, before republish`);
    for (const p of publishers) await clock.runUntil(nodes[p].dht.republish());
    await measure(`${pct}, after republish`);
  }

  const { progress: _progress, ...rest } = config;
  return {
    config: rest,
    phases,
    join: { messages: spread(joinMessages), rounds: spread(joinRounds), tableSize },
    wallMs: Math.round(performance.now() - wallStart),
    peakRssBytes: peakRss,
    networkMessages: net.stats().requests,
    virtualMs: clock.now() - START,
  };
}

function figures(
  phase: string,
  results: { r: LookupResult; ok: boolean }[],
  t0: number,
): PhaseFigures {
  return {
    phase,
    count: results.length,
    success: results.filter((x) => x.ok).length / Math.max(1, results.length),
    rounds: spread(results.map((x) => x.r.rounds)),
    messages: spread(results.map((x) => x.r.messages)),
    latencyMs: spread(results.map((x) => x.r.durationMs)),
    timedOut: results.filter((x) => x.r.timedOut).length,
    wallMsAt: Math.round(performance.now() - t0),
  };
}

/** The live node closest to `key`, other than `asker` (whose lookup never returns itself). */
function closestLive(live: readonly SimNode[], key: Uint8Array, asker: SimNode): SimNode {
  let best: SimNode | undefined;
  for (const n of live) {
    if (n === asker) continue;
    if (!best || compareDistance(key, n.contact.id, best.contact.id) < 0) best = n;
  }
  return best!;
}

function pickDistinct(rng: Rng, n: number, count: number): number[] {
  const picked = new Set<number>();
  while (picked.size < count) picked.add(rng.int(n));
  return [...picked];
}

/** A random public IPv4 address (not loopback or private), port 4001, unique in `used`. */
function publicAddress(rng: Rng, used: Set<string>): string {
  for (;;) {
    const a = 1 + rng.int(223);
    if (a === 10 || a === 127 || a === 100 || a === 169 || a === 172 || a === 192) continue;
    const address = `${a}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}:4001`;
    if (!used.has(address)) {
      used.add(address);
      return address;
    }
  }
}
