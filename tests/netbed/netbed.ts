/**
 * A multi-host network test bed: N hosts as Linux network namespaces around a hub namespace,
 * with a one-way delay per link (a user-space delaying relay), random loss and partitions
 * (nftables), and an optional bandwidth cap per host (`tc` token bucket on both ends of the
 * host's veth). Needs root (or CAP_NET_ADMIN), iproute2, nftables and /dev/net/tun. Used by the
 * scenarios in this directory and by `bench/netbed_bench.ts`; docs/netbed.md explains it.
 *
 * Topology (a run's subnet is 10.A.B.0/24, A and B derived from the test's pid):
 *
 * ```
 *   host ns h1          host ns h2     ...   host ns hN          root ns (the test)
 *   eth0 10.A.B.1/32    eth0 10.A.B.2/32     eth0 10.A.B.N/32    nb<pid>m 10.A.B.250/32
 *     |  veth              |  veth              |  veth             |  veth
 *   +-v1-------------------v2-------------------vN--+             mgmt 10.A.B.249/32
 *   |  br0 10.A.B.126/25       (bridge, hub ns)     |               |
 *   +------------------------------------------------+---- hub ns --+
 *          |  ip rule: from br0 -> table 100: 10.A.B.0/25 dev tun0
 *        tun0 <-> delay_relay.ts (holds each packet for its link's delay, writes it back)
 *          |  back from tun0: main table -> br0 -> destination host
 *          nft forward: loss (numgen random) and partition drops on packets leaving tun0
 *   with rateMbit: tbf on eth0 (host ns, egress) and on vI (hub ns, egress toward host I)
 * ```
 *
 * Hosts have /32 addresses and reach every other host through the hub (10.A.B.126), so no
 * host-to-host packet can bypass the relay: the hub forwards br0 -> tun0 and tun0 -> br0 only.
 * The test (root namespace) reaches every node's HTTP API through `mgmt`, undelayed and
 * lossless. Namespace names carry the pid (`dfsnb<pid>-hub`, `dfsnb<pid>-h<i>`); `close()`
 * kills what it started (by pid) and deletes the namespaces (which removes the veths).
 *
 * @module
 */

import {
  type NodeProcess,
  type PutAnswer,
  type ServeProcessOptions,
  sha256Stream,
  spawnUntil,
  startServeProcess,
} from "../e2e/node_harness.ts";
import { Rng } from "../util/prng.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = `${ROOT}node_modules/.bin/deno`;
const RELAY = `${ROOT}tests/netbed/delay_relay.ts`;
/**
 * The probes' priority: behind the relay (-10), ahead of everything else, so that a busy machine
 * does not starve a copy's ends and pass their slowness off as the link's (`nice` execs, so a
 * probe server's pid is still the probe's).
 */
const PROBE_NICE = ["nice", "-n", "-5"] as const;
const PROBE = `${ROOT}tests/netbed/probe.ts`;

/** What went wrong building or driving the bed. */
export class NetBedError extends Error {
  /** `NETNS_REFUSED` (no permission for namespaces), `COMMAND_FAILED`, `RELAY_FAILED`. */
  readonly code: "NETNS_REFUSED" | "COMMAND_FAILED" | "RELAY_FAILED";
  constructor(code: NetBedError["code"], message: string) {
    super(message);
    this.name = "NetBedError";
    this.code = code;
  }
}

/** Options of {@linkcode NetBed.create}. */
export interface NetBedOptions {
  /** Number of hosts (1..100). */
  readonly hosts: number;
  /** One-way delay of each link in ms: a fixed value, or `[min, max]` drawn per link. */
  readonly delayMs: number | readonly [number, number];
  /** Percent of packets dropped at random on every hop through the relay (0..100). */
  readonly lossPercent: number;
  /** Seed of the per-link delays. */
  readonly seed: number;
  /**
   * Bandwidth cap in Mbit/s (10^6 bit/s, counted on Ethernet frames): one value for every
   * host, or one per host (`[h1, h2, ...]`; `undefined` or a missing entry leaves that host
   * uncapped). A capped host's uploads and downloads are each held to the rate, with `tbf` on
   * both ends of its veth (see {@linkcode NetBed.rate}). Omitted: no host is capped.
   */
  readonly rateMbit?: number | readonly (number | undefined)[];
}

/** The `tbf` parameters of one capped host (both directions), from {@linkcode tbfParams}. */
export interface TbfParams {
  /** Rate in bit/s. */
  readonly rateBit: number;
  /** Bucket size in bytes. */
  readonly burstBytes: number;
  /** Most time a packet may wait in the shaper's queue, in ms (sets its byte limit). */
  readonly latencyMs: number;
}

/** Ethernet frame of a full 1500-byte IP packet (what the bucket must always be able to pass). */
const FRAME_BYTES = 1514;

/**
 * The token bucket of a host capped at `rateMbit`, whose longest link has a one-way delay of
 * `maxDelayMs`:
 *
 * - burst: 10 ms of the rate, and never under 4 full frames. The bucket must hold at least one
 *   frame or tbf drops every frame (or, for a GSO packet, cuts it into frames first); and tbf
 *   sends again when a timer fires, so when the timer fires late (a loaded machine) the tokens
 *   that came in meanwhile beyond the bucket are lost and the link falls below the rate. Measured
 *   here: a 5 ms bucket gave 18.2-18.4 Mbit/s of TCP payload at a 20 Mbit/s cap (2 runs, load
 *   10-13), 10 ms gave 18.9-19.0 (3 runs, load 4-10), the 19.1 that 1448 bytes of payload per 1514-byte frame allow. A
 *   bigger bucket lets a burst go out at line speed after an idle spell: 10 ms of the rate is
 *   25 KB at 20 Mbit/s, nothing next to a transfer.
 * - latency (the queue): one round trip of the host's longest link, and at least 50 ms. The
 *   queue is where a TCP sender's excess waits; a tail-drop queue of about one bandwidth-delay
 *   product lets one connection keep the link busy after it halves its window on a drop, where
 *   a shorter one would leave the link below the cap. It adds up to that much delay when full,
 *   as a real router's buffer does.
 */
export function tbfParams(rateMbit: number, maxDelayMs: number): TbfParams {
  if (!(rateMbit > 0) || !Number.isFinite(rateMbit)) {
    throw new RangeError(`rateMbit must be a positive number, got ${rateMbit}`);
  }
  const rateBit = Math.round(rateMbit * 1e6);
  const burstBytes = Math.max(4 * FRAME_BYTES, Math.ceil(rateBit / 8 * 0.010));
  const latencyMs = Math.max(50, Math.ceil(2 * maxDelayMs));
  return { rateBit, burstBytes, latencyMs };
}

/** One host of the bed. */
export interface Host {
  /** 1-based index (the last octet of its address). */
  readonly index: number;
  /** Network namespace name. */
  readonly ns: string;
  /** IPv4 address. */
  readonly address: string;
}

/** Result of a command run to completion. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`); throws unless it exits 0. */
export async function run(cmd: readonly string[], timeoutMs = 30_000): Promise<Ran> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  const ran = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  if (ran.code !== 0) {
    throw new NetBedError(
      "COMMAND_FAILED",
      `${cmd.join(" ")}: exit ${ran.code}: ${ran.stderr.trim()}`,
    );
  }
  return ran;
}

/**
 * Whether this process may build namespaces: tries `ip netns add` / `del` of a throwaway one.
 * Answers the reason when it may not (not root, EPERM, no `ip`).
 */
export async function netnsRefusal(): Promise<string | undefined> {
  const name = `dfsnb${Deno.pid}-probe`;
  try {
    await run(["ip", "netns", "add", name]);
  } catch (err) {
    return (err as Error).message;
  }
  await run(["ip", "netns", "del", name]).catch(() => {});
  try {
    await run(["test", "-c", "/dev/net/tun"]);
  } catch {
    return "no /dev/net/tun (the delaying relay needs a TUN device)";
  }
  for (const tool of ["nft", "ip", "tc"]) {
    try {
      await run(["sh", "-c", `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed (apt-get install nftables iproute2)`;
    }
  }
  return undefined;
}

/**
 * Whether the bed's tests run here: `true` when namespaces work; when they are refused, it
 * prints a loud message and answers `false` (the test is then ignored), except with
 * `DFS_REQUIRE_NETNS=1` (CI as root), where the refusal is an error.
 */
export async function netbedAvailable(what: string): Promise<boolean> {
  const refusal = await netnsRefusal();
  if (refusal === undefined) return true;
  if (Deno.env.get("DFS_REQUIRE_NETNS") === "1") {
    throw new NetBedError(
      "NETNS_REFUSED",
      `${what}: DFS_REQUIRE_NETNS=1 but network namespaces are refused: ${refusal}`,
    );
  }
  console.error(
    `\n!!! ${what}: SKIPPED — network namespaces are refused here (${refusal}).\n` +
      `!!! Run as root with iproute2 and nftables (DFS_REQUIRE_NETNS=1 makes this an error).\n`,
  );
  return false;
}

/**
 * Removes what beds of test processes that no longer run left behind: a run killed outright
 * (SIGKILL) cannot clean up, so its `dfsnb<pid>-*` namespaces stay. A namespace is removed only
 * when the process named in it is gone and nothing runs inside it any more (a node still running
 * there is left alone, and so is its namespace). Answers the names removed.
 */
export async function removeStaleBeds(): Promise<string[]> {
  const listed = (await run(["ip", "netns", "list"])).stdout;
  const removed: string[] = [];
  for (const line of listed.split("\n")) {
    const name = line.trim().split(/\s+/)[0];
    const m = /^dfsnb(\d+)-[a-z0-9]+$/.exec(name ?? "");
    if (!m || Number(m[1]) === Deno.pid) continue;
    const alive = await Deno.stat(`/proc/${m[1]}`).then(() => true, () => false);
    if (alive) continue;
    const inside = (await run(["ip", "netns", "pids", name]).catch(() => ({ stdout: "?" }))).stdout;
    if (inside.trim() !== "") continue;
    await run(["ip", "netns", "del", name]).catch(() => {});
    removed.push(name);
  }
  return removed;
}

/** A running bed. */
export class NetBed {
  /** The hosts, index 1..N at `hosts[0..N-1]`. */
  readonly hosts: readonly Host[];
  /** The hub namespace. */
  readonly hub: string;
  readonly #prefix: string;
  readonly #delays: Map<string, number>;
  readonly #rates: (number | undefined)[];
  readonly #mgmtLink: string;
  readonly #namespaces: string[] = [];
  readonly #procs: NodeProcess[] = [];
  readonly #kills: (() => Promise<void>)[] = [];
  #relayStderr: () => string = () => "";
  #tokenDir = "";
  /** The API token every node of the bed requires (their APIs are not on loopback). */
  readonly token: string = crypto.randomUUID().replaceAll("-", "");

  private constructor(
    prefix: string,
    hosts: Host[],
    delays: Map<string, number>,
    rates: (number | undefined)[],
  ) {
    this.#prefix = prefix;
    this.hosts = hosts;
    this.hub = `dfsnb${Deno.pid}-hub`;
    this.#delays = delays;
    this.#rates = rates;
    this.#mgmtLink = `nb${Deno.pid}m`;
  }

  /** The one-way delay of the link between hosts `a` and `b` (1-based), in ms. */
  delay(a: number, b: number): number {
    return this.#delays.get(`${Math.min(a, b)}-${Math.max(a, b)}`) ?? 0;
  }

  /**
   * Host `i`'s bandwidth cap (1-based), in Mbit/s, or `undefined` when it is uncapped. It holds
   * each direction on its own: what leaves the host (`tbf` on `eth0` in its namespace) and what
   * the hub sends to it (`tbf` on `v<i>` in the hub), so a transfer between two hosts is held
   * to the smaller cap of the two. Traffic with the management link is not capped.
   */
  rate(i: number): number | undefined {
    return this.#rates[i - 1];
  }

  /** The `tc -s qdisc` statistics of host `i`'s two shapers (host egress, hub egress). */
  async shaperStats(i: number): Promise<{ host: string; hub: string }> {
    const h = this.hosts[i - 1];
    const host = await run([
      "ip",
      "netns",
      "exec",
      h.ns,
      "tc",
      "-s",
      "qdisc",
      "show",
      "dev",
      "eth0",
    ]);
    const hub = await run([
      "ip",
      "netns",
      "exec",
      this.hub,
      "tc",
      "-s",
      "qdisc",
      "show",
      "dev",
      `v${i}`,
    ]);
    return { host: host.stdout, hub: hub.stdout };
  }

  /** The node processes started with {@linkcode startNode} (by host index - 1; may be holes). */
  get nodes(): readonly NodeProcess[] {
    return this.#procs;
  }

  /**
   * Builds the bed. On any failure it tears down what it built and rethrows.
   */
  static async create(options: NetBedOptions): Promise<NetBed> {
    if (options.hosts < 1 || options.hosts > 100) throw new RangeError("hosts must be 1..100");
    await removeStaleBeds(); // a killed earlier run's namespaces (and subnet) go first
    const prefix = await freeSubnet();
    const hosts: Host[] = [];
    for (let i = 1; i <= options.hosts; i++) {
      hosts.push({ index: i, ns: `dfsnb${Deno.pid}-h${i}`, address: `${prefix}.${i}` });
    }
    const rng = new Rng(options.seed);
    const delays = new Map<string, number>();
    for (let a = 1; a <= options.hosts; a++) {
      for (let b = a + 1; b <= options.hosts; b++) {
        const d = typeof options.delayMs === "number"
          ? options.delayMs
          : options.delayMs[0] + rng.int(options.delayMs[1] - options.delayMs[0] + 1);
        delays.set(`${a}-${b}`, d);
      }
    }
    const rates: (number | undefined)[] = [];
    for (let i = 0; i < options.hosts; i++) {
      const r = typeof options.rateMbit === "number" ? options.rateMbit : options.rateMbit?.[i];
      if (r !== undefined) tbfParams(r, 0); // validates before anything is built
      rates.push(r);
    }
    const bed = new NetBed(prefix, hosts, delays, rates);
    try {
      await bed.#build(options.lossPercent);
    } catch (err) {
      await bed.close();
      throw err;
    }
    return bed;
  }

  async #build(lossPercent: number): Promise<void> {
    const p = this.#prefix, hub = this.hub;
    this.#tokenDir = await Deno.makeTempDir({ prefix: "dfsnb-token-" });
    await Deno.writeTextFile(`${this.#tokenDir}/api-token`, this.token, { mode: 0o600 });
    const sh = (ns: string, script: string) => run(["ip", "netns", "exec", ns, "sh", "-c", script]);
    await this.#addNs(hub);
    await run(["ip", "-n", hub, "link", "set", "lo", "up"]);
    // Sysctls are per namespace; the tun device created later inherits `default`.
    await sh(
      hub,
      "echo 1 > /proc/sys/net/ipv4/ip_forward; " +
        "for k in all default; do echo 0 > /proc/sys/net/ipv4/conf/$k/rp_filter; " +
        "echo 0 > /proc/sys/net/ipv4/conf/$k/send_redirects; done",
    );
    await run(["ip", "-n", hub, "link", "add", "br0", "type", "bridge"]);
    await run(["ip", "-n", hub, "addr", "add", `${p}.126/25`, "dev", "br0"]);
    await run(["ip", "-n", hub, "link", "set", "br0", "up"]);
    for (const h of this.hosts) {
      await this.#addNs(h.ns);
      await run([
        "ip",
        "link",
        "add",
        "eth0",
        "netns",
        h.ns,
        "type",
        "veth",
        "peer",
        "name",
        `v${h.index}`,
        "netns",
        hub,
      ]);
      await run(["ip", "-n", hub, "link", "set", `v${h.index}`, "master", "br0", "up"]);
      await run(["ip", "-n", h.ns, "link", "set", "lo", "up"]);
      await run(["ip", "-n", h.ns, "addr", "add", `${h.address}/32`, "dev", "eth0"]);
      await run(["ip", "-n", h.ns, "link", "set", "eth0", "up"]);
      await run(["ip", "-n", h.ns, "route", "add", `${p}.126/32`, "dev", "eth0"]);
      await run(["ip", "-n", h.ns, "route", "add", `${p}.0/24`, "via", `${p}.126`, "dev", "eth0"]);
      await sh(h.ns, "echo 0 > /proc/sys/net/ipv4/conf/all/accept_redirects");
    }
    // The management link from the root namespace (the test) to the hub.
    const m = this.#mgmtLink;
    await run(["ip", "link", "add", m, "type", "veth", "peer", "name", "mgmt", "netns", hub]);
    await run(["ip", "addr", "add", `${p}.250/32`, "dev", m]);
    await run(["ip", "link", "set", m, "up"]);
    await run(["ip", "-n", hub, "addr", "add", `${p}.249/32`, "dev", "mgmt"]);
    await run(["ip", "-n", hub, "link", "set", "mgmt", "up"]);
    await run(["ip", "-n", hub, "route", "add", `${p}.250/32`, "dev", "mgmt"]);
    await run(["ip", "route", "add", `${p}.249/32`, "dev", m]);
    await run(["ip", "route", "add", `${p}.0/25`, "via", `${p}.249`, "dev", m]);

    // The delaying relay owns tun0; everything arriving from br0 for a host goes through it.
    const delayArgs: string[] = [];
    for (const [k, d] of this.#delays) delayArgs.push("--delay", `${k}=${d}`);
    const relay = await spawnUntil(
      // Ahead of the nodes for the CPU (nice -10; nice execs, so the pid is the relay's): a
      // starved relay would release packets late, i.e. add delay nobody asked for.
      ["ip", "netns", "exec", hub, "nice", "-n", "-10", DENO, "run", "-A", RELAY, "--tun", "tun0"]
        .concat(delayArgs),
      (out) => out.includes("ready\n"),
      20_000,
      "delay relay",
    ).catch((err) => {
      throw new NetBedError("RELAY_FAILED", (err as Error).message);
    });
    this.#relayStderr = relay.stderr;
    this.#kills.push(async () => {
      relay.kill("SIGTERM");
      const t = setTimeout(() => relay.kill("SIGKILL"), 3000);
      await relay.status.catch(() => {});
      clearTimeout(t);
    });
    await run(["ip", "-n", hub, "link", "set", "tun0", "up"]);
    await run(["ip", "-n", hub, "route", "add", `${p}.0/25`, "dev", "tun0", "table", "100"]);
    await run(["ip", "-n", hub, "rule", "add", "iif", "br0", "lookup", "100"]);

    for (const h of this.hosts) {
      const rate = this.#rates[h.index - 1];
      if (rate === undefined) continue;
      let maxDelay = 0;
      for (const o of this.hosts) {
        if (o !== h) maxDelay = Math.max(maxDelay, this.delay(h.index, o.index));
      }
      const tbf = tbfParams(rate, maxDelay);
      await this.#shape(h.ns, "eth0", tbf);
      await this.#shape(hub, `v${h.index}`, tbf);
    }

    // Loss (on every packet leaving the relay), partitions (two sets), and no bypass.
    const per10k = Math.round(lossPercent * 100);
    const ruleset = `
table inet netbed {
  set side_a { type ipv4_addr; }
  set side_b { type ipv4_addr; }
  chain relay_only {
    type filter hook forward priority 0; policy drop;
    iifname "br0" oifname "tun0" accept
    iifname "tun0" oifname "br0" ip saddr @side_a ip daddr @side_b counter drop
    iifname "tun0" oifname "br0" ip saddr @side_b ip daddr @side_a counter drop
    iifname "tun0" oifname "br0" numgen random mod 10000 < ${per10k} counter drop
    iifname "tun0" oifname "br0" counter accept
    iifname "mgmt" oifname "br0" accept
    iifname "br0" oifname "mgmt" accept
  }
}
`;
    const file = await Deno.makeTempFile({ prefix: "dfsnb-nft-" });
    try {
      await Deno.writeTextFile(file, ruleset);
      await run(["ip", "netns", "exec", hub, "nft", "-f", file]);
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  }

  /**
   * Caps what leaves `dev` in `ns` with a token bucket. Every host-to-host packet crosses two
   * such egresses (the sender's `eth0`, then the hub's `v<dst>` after the relay and nftables),
   * so the cap composes with the delay and loss: a packet is delayed by the relay, may be
   * dropped by nftables, and then waits its turn in the receiver's shaper (a sender's shaper
   * comes before the relay). The kernel has no `prio` qdisc, so the tree is an `htb` root used
   * only to classify: its class 1:20 (everything, by default) is not limited by htb (10 Gbit/s)
   * and has the `tbf` as its qdisc, which does the shaping; class 1:10 takes the management
   * link's packets (10.A.B.248/29, by u32 filters on source and destination) and is not shaped,
   * as that link is neither delayed nor lossy either. (htb logs `tbf qdisc 20: is
   * non-work-conserving?` to the kernel log once per shaper: it is, that is what a shaper is.)
   */
  async #shape(ns: string, dev: string, tbf: TbfParams): Promise<void> {
    // One tc command per line, words split on spaces (none of the values has one).
    const tc = (line: string) => run(["ip", "netns", "exec", ns, "tc", ...line.split(" ")]);
    const mgmt = `${this.#prefix}.248/29`;
    await tc(`qdisc add dev ${dev} root handle 1: htb default 20`);
    // quantum: htb's default (rate / r2q) is absurd at 10 Gbit/s and draws a warning.
    await tc(`class add dev ${dev} parent 1: classid 1:10 htb rate 10gbit quantum 60000`);
    await tc(`class add dev ${dev} parent 1: classid 1:20 htb rate 10gbit quantum 60000`);
    await tc(
      `qdisc add dev ${dev} parent 1:20 handle 20: tbf rate ${tbf.rateBit}bit ` +
        `burst ${tbf.burstBytes}b latency ${tbf.latencyMs}ms`,
    );
    for (const dir of ["src", "dst"]) {
      await tc(
        `filter add dev ${dev} parent 1: protocol ip prio 1 u32 match ip ${dir} ${mgmt} flowid 1:10`,
      );
    }
  }

  async #addNs(name: string): Promise<void> {
    try {
      await run(["ip", "netns", "add", name]);
    } catch (err) {
      throw new NetBedError("NETNS_REFUSED", (err as Error).message);
    }
    this.#namespaces.push(name);
  }

  /** The relay's stderr so far (its `stats` line once stopped). */
  relayStderr(): string {
    return this.#relayStderr();
  }

  /** Runs a command in host `i`'s namespace (1-based) to completion. */
  exec(i: number, cmd: readonly string[], timeoutMs = 30_000): Promise<Ran> {
    return run(["ip", "netns", "exec", this.hosts[i - 1].ns, ...cmd], timeoutMs);
  }

  /**
   * Runs `probe.ts MODE ...` in host `i` and parses the JSON line it prints. Probes run at
   * {@linkcode PROBE_NICE} so that they measure the links, not the machine's other load.
   */
  async probe<T>(i: number, args: readonly string[], timeoutMs = 60_000): Promise<T> {
    const ran = await this.exec(i, [
      ...PROBE_NICE,
      DENO,
      "run",
      "-A",
      PROBE,
      ...args,
      "--timeout-ms",
      String(timeoutMs),
    ], timeoutMs + 10_000);
    return JSON.parse(ran.stdout.trim().split("\n").pop()!) as T;
  }

  /** Starts `probe.ts serve` on host `i` at `port`; stopped by `close()` or the returned stop. */
  async probeServer(i: number, port: number): Promise<() => Promise<void>> {
    const h = this.hosts[i - 1];
    const s = await spawnUntil(
      [
        "ip",
        "netns",
        "exec",
        h.ns,
        ...PROBE_NICE,
        DENO,
        "run",
        "-A",
        PROBE,
        "serve",
        "--listen",
        `${h.address}:${port}`,
      ],
      (out) => out.includes("ready\n"),
      20_000,
      "probe server",
    );
    const stop = async () => {
      s.kill("SIGKILL");
      await s.status.catch(() => {});
    };
    this.#kills.push(stop);
    return stop;
  }

  /**
   * Starts `dfs serve` on host `i` (listening on its address, P2P port 3000 and API port 5000
   * unless `extraArgs` say otherwise) and waits for its banner.
   */
  async startNode(
    i: number,
    options: Omit<ServeProcessOptions, "listen" | "api" | "prefix">,
  ): Promise<NodeProcess> {
    const h = this.hosts[i - 1];
    const p = await startServeProcess({
      startTimeoutMs: 30_000,
      ...options,
      extraArgs: [...(options.extraArgs ?? []), "--api-token-file", `${this.#tokenDir}/api-token`],
      listen: `${h.address}:3000`,
      api: `${h.address}:5000`,
      prefix: ["ip", "netns", "exec", h.ns],
    });
    this.#procs[i - 1] = p;
    return p;
  }

  /**
   * Splits the hosts into two sides (1-based indices): packets between the sides are dropped
   * in the hub. {@linkcode heal} lifts it.
   */
  async partition(sideA: readonly number[], sideB: readonly number[]): Promise<void> {
    const addr = (xs: readonly number[]) => xs.map((i) => this.hosts[i - 1].address).join(", ");
    const nft = (...a: string[]) => run(["ip", "netns", "exec", this.hub, "nft", ...a]);
    await nft("add", "element", "inet", "netbed", "side_a", `{ ${addr(sideA)} }`);
    await nft("add", "element", "inet", "netbed", "side_b", `{ ${addr(sideB)} }`);
  }

  /** Lifts a partition. */
  async heal(): Promise<void> {
    const nft = (...a: string[]) => run(["ip", "netns", "exec", this.hub, "nft", ...a]);
    await nft("flush", "set", "inet", "netbed", "side_a");
    await nft("flush", "set", "inet", "netbed", "side_b");
  }

  /**
   * Packets the hub passed from the relay to a host, and those it dropped at random (the loss
   * rule), from the nftables counters.
   */
  async lossCounters(): Promise<{ passed: number; lost: number }> {
    const text = await this.counters();
    const lost = /numgen random[^\n]*counter packets (\d+)/.exec(text);
    const passed = /oifname "br0" counter packets (\d+)[^\n]*accept/.exec(text);
    if (!lost || !passed) throw new NetBedError("COMMAND_FAILED", `no counters in:\n${text}`);
    return { passed: Number(passed[1]), lost: Number(lost[1]) };
  }

  /** The hub's nftables counters (`nft list table`), for diagnostics. */
  async counters(): Promise<string> {
    return (await run(["ip", "netns", "exec", this.hub, "nft", "list", "table", "inet", "netbed"]))
      .stdout;
  }

  /**
   * Kills every process it started (nodes first, by pid), then deletes its namespaces (their
   * veths go with them) and the management link. Never throws.
   */
  async close(): Promise<void> {
    for (const p of this.#procs) p?.kill("SIGKILL");
    await Promise.all(this.#procs.map((p) => p?.exited.catch(() => {})));
    for (const k of this.#kills.splice(0).reverse()) await k().catch(() => {});
    await run(["ip", "link", "del", this.#mgmtLink]).catch(() => {});
    for (const ns of this.#namespaces.splice(0).reverse()) {
      await run(["ip", "netns", "del", ns]).catch(() => {});
    }
    if (this.#tokenDir) await Deno.remove(this.#tokenDir, { recursive: true }).catch(() => {});
  }

  /** Fetches JSON from host `i`'s node API, with the token (bounded); throws on non-2xx. */
  async api<T>(i: number, path: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<T> {
    const res = await this.request(i, path, init, timeoutMs);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Puts bytes through host `i`'s node (plaintext id unless `query` sets `encrypt`). */
  put(i: number, body: Uint8Array, query = "", timeoutMs = 60_000): Promise<PutAnswer> {
    const q = /[?&]encrypt=/.test(query) ? query : `${query}${query ? "&" : "?"}encrypt=0`;
    return this.api<PutAnswer>(i, `/files${q}`, {
      method: "POST",
      body: body as BodyInit,
      headers: { "content-type": "application/octet-stream" },
    }, timeoutMs);
  }

  /** Gets a file through host `i`'s node, hashing it as it streams. */
  async getHash(
    i: number,
    id: string,
    timeoutMs = 60_000,
  ): Promise<{ digest: string; bytes: number }> {
    const res = await this.request(i, `/files/${id}`, {}, timeoutMs);
    if (!res.ok || !res.body) {
      throw new Error(`GET ${id} via h${i}: ${res.status} ${await res.text()}`);
    }
    return await sha256Stream(res.body);
  }

  /** Waits until host `i`'s node reports at least `n` connected peers (bounded). */
  async waitForPeers(i: number, n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const s = await this.api<{ peers: number }>(i, "/status", {}, 5000);
        if (s.peers >= n) return;
        last = `${s.peers} peers`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`h${i} did not reach ${n} peers in ${timeoutMs} ms (last: ${last})`);
  }

  /** A request to host `i`'s node API (`/api/v1` + `path`), with the token (bounded). */
  request(i: number, path: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<Response> {
    const node = this.#procs[i - 1];
    if (!node) throw new RangeError(`no node on h${i}`);
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.token}`);
    return fetch(`${node.info.apiUrl}/api/v1${path}`, {
      ...init,
      headers,
      signal: init.signal ?? AbortSignal.timeout(timeoutMs),
    });
  }
}

/**
 * A /24 for this run, 10.A.B.0/24 from the pid, moved on while the root namespace already
 * routes it (another bed running at the same time).
 */
async function freeSubnet(): Promise<string> {
  const routes = (await run(["ip", "-4", "route", "show"])).stdout;
  const addrs = (await run(["ip", "-4", "addr", "show"])).stdout;
  for (let k = 0; k < 256; k++) {
    const n = (Deno.pid + k * 7919) % (64 * 256);
    const prefix = `10.${192 + (n >> 8)}.${n & 255}`;
    if (!routes.includes(`${prefix}.`) && !addrs.includes(`${prefix}.`)) return prefix;
  }
  throw new NetBedError("COMMAND_FAILED", "no free 10.x.y.0/24 subnet for the test bed");
}
