/**
 * The DHT of one node: a routing table, provider and name record stores, the request handlers,
 * and the lookups built on them (find the closest nodes, announce and find providers, publish
 * and resolve names), kept fresh by bucket refresh and republishing. It holds no algorithm of
 * its own: each part is its own module, this class wires them to a {@linkcode DhtNetwork}.
 *
 * @module
 */

import { type Message, MessageType } from "../wire/messages.ts";
import { toHex } from "../util/hex.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { Contact } from "./contact.ts";
import { InvalidArgumentError } from "../errors.ts";
import {
  NoPeersError,
  PeerBusyError,
  RecordRejectedError,
  type RecordRejection,
} from "./errors.ts";
import { KeyedMutex } from "../util/keyed_mutex.ts";
import { AnnounceQueue } from "./announce_queue.ts";
import { DHT_HANDLERS, type HandlerContext } from "./handlers/mod.ts";
import { badRequest } from "./handlers/errors.ts";
import { keyInBucket, keyOfName } from "./key.ts";
import { iterativeLookup, type LookupResult, type QueryAnswer } from "./lookup.ts";
import {
  bytesEqual,
  type RecordSigner,
  type SignedNameRecord,
  signNameRecord,
} from "./name_record.ts";
import { pickRecord } from "./name_resolution.ts";
import type { DhtNetwork, DhtTarget } from "./network.ts";
import { type DhtTuning, type ResolvedDhtTuning, resolveDhtTuning } from "./options.ts";
import { ProviderStore } from "./providers.ts";
import {
  type Ask,
  expectType,
  findNodeQuery,
  getProvidersQuery,
  getValueQuery,
  type HeldRecord,
} from "./queries.ts";
import { checkNameRecord, NameRecordStore } from "./record_store.ts";
import { type BucketCount, RoutingTable } from "./routing_table.ts";
import { RttEstimator } from "./rtt.ts";
import { fromWirePeers } from "./wire_peers.ts";
import { MAX_DHT_PEERS } from "../wire/limits.ts";

/** A lookup starts from this many times k contacts of the table (at most its candidate bound). */
const SEED_FACTOR = 4;

/** `findProviders` returns at most this many times the count asked for. */
const PROVIDERS_KEPT_FACTOR = 4;

/** Announces (and re-announces) running at once. */
const ANNOUNCE_CONCURRENCY = 4;

/** Requests to each bootstrap node before `join` gives up on it. */
const JOIN_ATTEMPTS = 3;

/** Log sink of the DHT: level, message, fields. */
export type DhtLogger = (
  level: "debug" | "info" | "warn",
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** What a {@linkcode Dht} needs. */
export interface DhtInit extends DhtTuning {
  /** This node. */
  readonly self: Contact;
  /** How requests reach other nodes. */
  readonly network: DhtNetwork;
  /** Signs the name records this node publishes (its identity). */
  readonly signer?: RecordSigner;
  /** Log sink. */
  readonly log?: DhtLogger;
  /** Called with each record this node signs (a publish or a republish), e.g. to keep it on disk. */
  readonly onPublished?: (record: SignedNameRecord) => void | Promise<void>;
}

/** Options of the lookups. */
export interface DhtCallOptions {
  /** Cancels the lookup. */
  readonly signal?: AbortSignal;
}

/** Figures of a DHT, for `dfs status`, `dfs peers` and the API. */
export interface DhtStats {
  /** Contacts in the routing table. */
  readonly tableSize: number;
  /** Non-empty buckets. */
  readonly buckets: BucketCount[];
  /** Lookups run since start. */
  readonly lookups: number;
  /** Requests those lookups sent. */
  readonly lookupMessages: number;
  /** Rounds (hops) those lookups took, in all. */
  readonly lookupRounds: number;
  /** Lookups that hit their deadline. */
  readonly lookupsTimedOut: number;
  /** Requests served for other nodes. */
  readonly requestsServed: number;
  /** Provider records held for others. */
  readonly providerRecords: number;
  /** Keys with provider records held for others. */
  readonly providerKeys: number;
  /** Keys this node announces itself. */
  readonly providing: number;
  /** Name records held for others. */
  readonly nameRecords: number;
  /** Names this node publishes (and republishes). */
  readonly publishing: number;
}

/** The outcome of an announce or a publish: how many of the closest nodes took it. */
export interface StoreResult {
  /** Nodes that accepted the record. */
  readonly stored: number;
  /** Nodes asked (the closest found). */
  readonly asked: number;
  /** Why the others refused or failed (their error messages; at most `asked`). */
  readonly refusals: string[];
  /** The lookup that found them. */
  readonly lookup: LookupResult;
}

/** The outcome of {@linkcode Dht.findProviders}. */
export interface ProvidersResult {
  /** Providers met, in the order met (at most 4 x the count asked for). */
  readonly providers: Contact[];
  /** The lookup. */
  readonly lookup: LookupResult;
}

/** The outcome of {@linkcode Dht.resolveName}. */
export interface ResolveResult {
  /** The record believed, or null. */
  readonly record: SignedNameRecord | null;
  /** The lookup. */
  readonly lookup: LookupResult;
}

/**
 * A Kademlia DHT node.
 *
 * @example Two nodes on a network, one joins through the other
 * ```ts ignore
 * const a = new Dht({ self: contactA, network: netA });
 * const b = new Dht({ self: contactB, network: netB });
 * await b.join([{ address: contactA.address }]);
 * await b.provide(key);
 * (await a.findProviders(key)).providers; // [contactB]
 * ```
 */
export class Dht {
  /** This node. */
  readonly self: Contact;
  /** The routing table. */
  readonly table: RoutingTable;
  /** The tuning in effect. */
  readonly tuning: ResolvedDhtTuning;
  readonly #network: DhtNetwork;
  readonly #clock: Clock;
  readonly #providers: ProviderStore;
  readonly #records: NameRecordStore;
  readonly #signer: RecordSigner | undefined;
  readonly #log: DhtLogger;
  readonly #onPublished: (record: SignedNameRecord) => void | Promise<void>;
  readonly #ctx: HandlerContext;
  /** Keys this node provides (hex -> key). */
  readonly #provided = new Map<string, Uint8Array>();
  /** Names this node publishes (name key hex -> its latest record). */
  readonly #published = new Map<string, SignedNameRecord>();
  readonly #rtt: RttEstimator;
  #timers: TimerHandle[] = [];
  /** Background announces (deduplicated, a few at a time), running while the DHT runs. */
  readonly #announces = new AnnounceQueue(
    (key) =>
      this.provide(key).catch((err) =>
        this.#log("debug", "announce failed", { error: String(err) })
      ),
    ANNOUNCE_CONCURRENCY,
  );
  /** One publish per name at a time. */
  readonly #nameLocks = new KeyedMutex();
  #running = false;
  /** Bumped by `stop()`: upkeep loops of an earlier `start()` end. */
  #generation = 0;
  #lookups = 0;
  #lookupMessages = 0;
  #lookupRounds = 0;
  #lookupsTimedOut = 0;
  #served = 0;

  /** A DHT with an empty table. Throws `InvalidArgumentError` for bad tuning. */
  constructor(init: DhtInit) {
    this.self = init.self;
    this.tuning = resolveDhtTuning(init);
    this.#network = init.network;
    this.#clock = this.tuning.clock;
    this.#signer = init.signer;
    this.#log = init.log ?? (() => {});
    this.#onPublished = init.onPublished ?? (() => {});
    this.#rtt = new RttEstimator(this.tuning.minRequestTimeoutMs, this.tuning.requestTimeoutMs);
    this.table = new RoutingTable({
      self: init.self.id,
      k: this.tuning.k,
      maxPerSubnet: this.tuning.maxPerSubnet,
      clock: this.#clock,
      ping: (c) => this.#ping(c),
    });
    this.#providers = new ProviderStore({
      clock: this.#clock,
      ttlMs: this.tuning.providerTtlMs,
      maxPerKey: this.tuning.maxProvidersPerKey,
      maxPerProvider: this.tuning.maxKeysPerProvider,
      maxRecords: this.tuning.maxProviderRecords,
    });
    this.#records = new NameRecordStore({
      clock: this.#clock,
      maxRecords: this.tuning.maxNameRecords,
      maxTtlMs: this.tuning.maxNameTtlMs,
      anyKeyMayUpdate: this.tuning.anyKeyMayUpdate,
      self: init.self.id,
    });
    this.#ctx = {
      self: this.self,
      k: this.tuning.k,
      table: this.table,
      providers: this.#providers,
      records: this.#records,
      providesLocally: (keyHex) => this.#provided.has(keyHex),
    };
  }

  /**
   * Answers a request from another node. `from` is the sender when it proved its id and
   * listens for connections (it is then noted in the routing table), else null. A request of
   * a type the DHT does not serve is answered ERROR BAD_REQUEST; never throws for bad input.
   */
  async handle(from: Contact | null, request: Message): Promise<Message> {
    if (from && from.idHex !== this.self.idHex) this.table.seen(from);
    const handler = DHT_HANDLERS.get(request.type);
    if (!handler) {
      return badRequest(request, `the DHT does not serve type 0x${request.type.toString(16)}`);
    }
    this.#served++;
    return await handler(this.#ctx, from, request);
  }

  /**
   * Joins the network: asks each bootstrap node for the contacts closest to this node, then
   * looks this node up to fill its table. Throws {@linkcode NoPeersError} when no bootstrap node
   * answered and the table is still empty.
   */
  async join(bootstrap: readonly DhtTarget[], options: DhtCallOptions = {}): Promise<LookupResult> {
    const seeds: Contact[] = [];
    await Promise.all(bootstrap.map(async (target) => {
      // A lost request or answer must not leave a node outside the network: a few tries.
      for (let attempt = 1; attempt <= JOIN_ATTEMPTS; attempt++) {
        try {
          const reply = await this.#network.request(
            target,
            { type: MessageType.FIND_NODE, key: this.self.id },
            { timeoutMs: this.tuning.requestTimeoutMs, signal: options.signal },
          );
          if (reply.from.idHex === this.self.idHex) return;
          const nodes = expectType(reply.message, MessageType.NODES, "FIND_NODE");
          this.table.seen(reply.from);
          seeds.push(...fromWirePeers(nodes.peers, MAX_DHT_PEERS));
          return;
        } catch (err) {
          if (options.signal?.aborted) throw err;
          this.#log(attempt === JOIN_ATTEMPTS ? "warn" : "debug", "bootstrap node did not answer", {
            address: target.address,
            attempt,
            error: String(err),
          });
        }
      }
    }));
    if (this.table.size === 0 && seeds.length === 0) {
      throw new NoPeersError(
        `no bootstrap node answered (${
          bootstrap.map((t) => t.address).join(", ") || "none given"
        })`,
      );
    }
    return await this.#lookup(this.self.id, findNodeQuery(this.#ask, this.self.id), options, seeds);
  }

  /** The k nodes closest to `key` that answered, closest first (an iterative FIND_NODE lookup). */
  findNode(key: Uint8Array, options: DhtCallOptions = {}): Promise<LookupResult> {
    return this.#lookup(key, findNodeQuery(this.#ask, key), options);
  }

  /**
   * Announces that this node provides `key`: finds the k closest nodes and sends each an
   * ADD_PROVIDER; remembers the key to re-announce it every `republishMs`.
   */
  async provide(key: Uint8Array, options: DhtCallOptions = {}): Promise<StoreResult> {
    this.#provided.set(toHex(key), key);
    return await this.#storeAtClosest(key, { type: MessageType.ADD_PROVIDER, key }, options);
  }

  /**
   * Announces `key` in the background (deduplicated, at most a few announces at a time): for
   * files a node takes in from peers and, at start, for every file it holds. Failures are
   * logged; the key is re-announced every `republishMs` anyway.
   */
  provideSoon(key: Uint8Array): void {
    const hex = toHex(key);
    this.#provided.set(hex, key);
    this.#announces.add(hex, key);
  }

  /** Stops announcing `key` (records already held elsewhere expire by themselves). */
  unprovide(key: Uint8Array): void {
    const hex = toHex(key);
    this.#provided.delete(hex);
    this.#announces.delete(hex);
  }

  /**
   * Finds up to `count` providers of `key` (default 20): the records this node holds first,
   * then an iterative GET_PROVIDERS lookup that stops once it has `count`.
   */
  async findProviders(
    key: Uint8Array,
    options: DhtCallOptions & { readonly count?: number } = {},
  ): Promise<ProvidersResult> {
    const count = options.count ?? this.tuning.k;
    const found = new Map<string, Contact>();
    for (const p of this.#providers.get(key, count)) found.set(p.idHex, p);
    // One answer is credited with at most a third (alpha) of the count.
    const perAnswer = Math.max(1, Math.ceil(count / this.tuning.alpha));
    const query = getProvidersQuery(this.#ask, key, found, count, perAnswer);
    const lookup = await this.#lookup(key, query, options);
    // All met (bounded): a reader that finds the first ones dead or lying tries the next.
    return { providers: [...found.values()].slice(0, PROVIDERS_KEPT_FACTOR * count), lookup };
  }

  /**
   * Publishes `name` -> `value` signed by this node's key: the sequence is one above the
   * highest this node knows for the name (from its own publishes and a lookup), the record
   * lives `nameTtlMs` and is re-signed and republished every `republishMs`. Throws
   * `InvalidArgumentError` without a signer, and `RecordRejectedError` when the closest
   * nodes all refused it (another key owns the name).
   */
  async publishName(
    name: string,
    value: Uint8Array,
    options: DhtCallOptions = {},
  ): Promise<StoreResult & { record: SignedNameRecord }> {
    const signer = this.#signer;
    if (!signer) {
      throw new InvalidArgumentError("this DHT has no signer to publish names with");
    }
    // One publish of a name at a time: two at once would sign the same sequence.
    return await this.#nameLocks.run(name, () => this.#publish(signer, name, value, options));
  }

  async #publish(
    signer: RecordSigner,
    name: string,
    value: Uint8Array,
    options: DhtCallOptions,
  ): Promise<StoreResult & { record: SignedNameRecord }> {
    const key = await keyOfName(name);
    const known = this.#published.get(toHex(key));
    const current = await this.resolveName(name, options);
    const owner = current.record?.publicKey;
    if (owner && !this.tuning.anyKeyMayUpdate && !bytesEqual(owner, signer.publicKey)) {
      throw new RecordRejectedError(
        "NOT_OWNER",
        `name ${JSON.stringify(name)} belongs to another key (first published by node ${
          toHex(owner).slice(0, 16)
        }...): in an open network only that key may update it`,
      );
    }
    const seq = Math.max(known?.seq ?? 0, current.record?.seq ?? 0) + 1;
    const record = await signNameRecord(signer, {
      name,
      value,
      seq,
      expires: this.#clock.now() + this.tuning.nameTtlMs,
    });
    const result = await this.putRecord(record, options);
    if (result.asked > 0 && result.stored === 0) {
      // No node took it: nothing is published, this node does not adopt it. A refusal (the
      // reason most of them gave) is final; busy or silent nodes only mean "try again".
      const counts = new Map<RecordRejection, number>();
      for (const text of result.refusals) {
        const reason = /: ([A-Z_]+): /.exec(text)?.[1] as RecordRejection | undefined;
        if (reason) counts.set(reason, (counts.get(reason) ?? 0) + 1);
      }
      const top = [...counts].sort((a, b) => b[1] - a[1])[0];
      const what = `no node took the record of ${JSON.stringify(name)} (${result.asked} asked)`;
      if (!top) throw new NoPeersError(`${what}: ${result.refusals[0] ?? "no answer"}`);
      throw new RecordRejectedError(top[0], `${what}: ${top[1]} refused it with ${top[0]}`);
    }
    this.#published.set(toHex(key), record);
    await this.#onPublished(record);
    return { ...result, record };
  }

  /**
   * Stores a signed record at the k nodes closest to its name (and in this node's own store).
   * Throws `RecordRejectedError` when the record fails its own checks.
   */
  async putRecord(record: SignedNameRecord, options: DhtCallOptions = {}): Promise<StoreResult> {
    await checkNameRecord(record, this.#clock.now(), this.tuning.maxNameTtlMs);
    const key = await keyOfName(record.name);
    await this.#records.put(record).catch(() => {});
    return await this.#storeAtClosest(key, { type: MessageType.PUT_VALUE, record }, options);
  }

  /** Finds the k nodes closest to `key` and sends each `request`; counts those answering OK. */
  async #storeAtClosest(
    key: Uint8Array,
    request:
      | { readonly type: typeof MessageType.ADD_PROVIDER; readonly key: Uint8Array }
      | { readonly type: typeof MessageType.PUT_VALUE; readonly record: SignedNameRecord },
    options: DhtCallOptions,
  ): Promise<StoreResult> {
    const lookup = await this.findNode(key, options);
    const what = request.type === MessageType.ADD_PROVIDER ? "ADD_PROVIDER" : "PUT_VALUE";
    const answers = await Promise.allSettled(
      lookup.closest.map((c) =>
        this.#ask(c, { ...request, requestId: 0 } as Message, options.signal)
          .then((m) => expectType(m, MessageType.OK, what))
      ),
    );
    const stored = answers.filter((a) => a.status === "fulfilled").length;
    const refusals = answers.flatMap((a) => a.status === "rejected" ? [String(a.reason)] : []);
    return { stored, asked: lookup.closest.length, refusals, lookup };
  }

  /**
   * Resolves `name`: asks the nodes closest to its key, checks every record they return
   * (signature, expiry, name), and believes the one `pickRecord` chooses. Holders found with
   * an older record are sent the believed one.
   */
  async resolveName(name: string, options: DhtCallOptions = {}): Promise<ResolveResult> {
    const key = await keyOfName(name);
    const held: HeldRecord[] = [];
    const now = () => this.#clock.now();
    const accept = async (r: SignedNameRecord) => {
      if (r.name !== name) return false;
      try {
        await checkNameRecord(r, now(), this.tuning.maxNameTtlMs);
        return true;
      } catch {
        return false;
      }
    };
    const local = this.#records.get(key);
    const own = this.#published.get(toHex(key));
    const lookup = await this.#lookup(key, getValueQuery(this.#ask, key, held, accept), options);
    const records = held.flatMap((h) => (h.record ? [h.record] : []));
    if (local) records.push(local);
    if (own && own.expires > now() && own.name === name) records.push(own);
    const record = pickRecord(records, this.tuning.anyKeyMayUpdate);
    if (record) {
      // Only the nodes the name belongs at are sent the record believed.
      const closest = new Set(lookup.closest.map((c) => c.idHex));
      for (const h of held) {
        if (!closest.has(h.holder.idHex)) continue;
        if (!h.record || h.record.seq < record.seq) {
          void this.#ask(h.holder, { type: MessageType.PUT_VALUE, requestId: 0, record }).catch(
            () => {},
          );
        }
      }
    }
    return { record, lookup };
  }

  /**
   * Takes a record this node published before (kept on disk across restarts) back into its
   * republishing set, so its sequence continues and it stays alive. Records of other keys are
   * ignored.
   */
  keepPublished(record: SignedNameRecord, key: Uint8Array): void {
    if (!this.#signer || !bytesEqual(record.publicKey, this.#signer.publicKey)) return;
    const k = toHex(key);
    const held = this.#published.get(k);
    if (!held || held.seq < record.seq) this.#published.set(k, record);
  }

  /** The latest record this node published for `name`'s key, if any. */
  published(key: Uint8Array): SignedNameRecord | undefined {
    return this.#published.get(toHex(key));
  }

  /** Starts the refresh and republish timers. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const every = (slot: number, ms: number, fn: () => Promise<unknown>) => {
      const generation = this.#generation;
      const tick = () => {
        if (!this.#running || generation !== this.#generation) return;
        fn().catch((err) => this.#log("debug", "dht upkeep failed", { error: String(err) }))
          .finally(() => {
            if (this.#running && generation === this.#generation) {
              this.#timers[slot] = this.#clock.setTimeout(tick, ms);
            }
          });
      };
      this.#timers[slot] = this.#clock.setTimeout(tick, ms);
    };
    every(0, Math.max(1, Math.floor(this.tuning.refreshMs / 4)), () => this.refresh());
    every(1, this.tuning.republishMs, () => this.republish());
    this.#announces.resume();
  }

  /** Stops the timers (lookups under way finish by their deadline). */
  stop(): void {
    this.#running = false;
    this.#generation++;
    this.#announces.pause();
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#timers = [];
  }

  /** Refreshes every bucket not used for `refreshMs`: a lookup of a random key in its range. */
  async refresh(options: DhtCallOptions = {}): Promise<number> {
    const stale = this.table.staleBuckets(this.tuning.refreshMs);
    for (const b of stale) {
      await this.findNode(keyInBucket(this.self.id, b, this.tuning.random(32)), options);
    }
    this.#providers.sweep();
    this.#records.sweep();
    return stale.length;
  }

  /**
   * Re-announces every key this node provides, and re-signs (same sequence, new expiry) and
   * re-stores every name it publishes. Returns how many keys and names it republished.
   */
  async republish(options: DhtCallOptions = {}): Promise<number> {
    let n = 0;
    const keys = [...this.#provided.values()];
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++];
        if (!this.#provided.has(toHex(key))) continue; // unprovided meanwhile
        await this.provide(key, options).catch((err) => {
          if (options.signal?.aborted) throw err;
          this.#log("debug", "re-announce failed", { error: String(err) });
        });
        n++;
      }
    };
    await Promise.all(Array.from({ length: ANNOUNCE_CONCURRENCY }, worker));
    const signer = this.#signer;
    if (signer) {
      for (const [k, first] of [...this.#published]) {
        // Under the name's lock, from the latest record: a publish meanwhile is not undone.
        await this.#nameLocks.run(first.name, async () => {
          const old = this.#published.get(k);
          if (!old) return;
          const record = await signNameRecord(signer, {
            name: old.name,
            value: old.value,
            seq: old.seq,
            expires: this.#clock.now() + this.tuning.nameTtlMs,
          });
          this.#published.set(k, record);
          await this.#onPublished(record);
          await this.putRecord(record, options);
          n++;
        });
      }
    }
    return n;
  }

  /** The DHT's figures. */
  stats(): DhtStats {
    return {
      tableSize: this.table.size,
      buckets: this.table.bucketCounts(),
      lookups: this.#lookups,
      lookupMessages: this.#lookupMessages,
      lookupRounds: this.#lookupRounds,
      lookupsTimedOut: this.#lookupsTimedOut,
      requestsServed: this.#served,
      providerRecords: this.#providers.size,
      providerKeys: this.#providers.keys,
      providing: this.#provided.size,
      nameRecords: this.#records.size,
      publishing: this.#published.size,
    };
  }

  /** Sends one request; notes the contact as alive or failed in the routing table. */
  readonly #ask: Ask = async (contact, request, signal) => {
    const sent = this.#clock.now();
    try {
      const reply = await this.#network.request(contact, request, {
        timeoutMs: this.#rtt.timeoutMs(),
        signal,
      });
      this.#rtt.sample(this.#clock.now() - sent);
      if (reply.from.idHex === contact.idHex) this.table.seen(reply.from);
      return reply.message;
    } catch (err) {
      // A busy node (no connection slot) is alive: only a silent or failing one counts.
      if (!signal?.aborted && !(err instanceof PeerBusyError)) this.table.failed(contact);
      throw err;
    }
  };

  async #ping(contact: Contact): Promise<boolean> {
    try {
      const reply = await this.#network.request(
        contact,
        { type: MessageType.PING, timestamp: this.#clock.now() },
        { timeoutMs: this.tuning.requestTimeoutMs },
      );
      // Only the contact itself answering counts (an address may now belong to another node).
      return reply.message.type === MessageType.PONG && reply.from.idHex === contact.idHex;
    } catch {
      return false;
    }
  }

  async #lookup(
    key: Uint8Array,
    query: (c: Contact, signal: AbortSignal) => Promise<QueryAnswer>,
    options: DhtCallOptions,
    extraSeeds: readonly Contact[] = [],
  ): Promise<LookupResult> {
    this.table.used(key);
    // More than k seeds: when the closest contacts are dead, the lookup goes on with the next.
    const seeds = [...this.table.closest(key, this.tuning.k * SEED_FACTOR), ...extraSeeds];
    const result = await iterativeLookup({
      key,
      seeds,
      selfHex: this.self.idHex,
      k: this.tuning.k,
      alpha: this.tuning.alpha,
      deadlineMs: this.tuning.lookupDeadlineMs,
      stallMs: this.tuning.stallMs,
      clock: this.#clock,
      signal: options.signal,
      query,
    });
    this.#lookups++;
    this.#lookupMessages += result.messages;
    this.#lookupRounds += result.rounds;
    if (result.timedOut) this.#lookupsTimedOut++;
    return result;
  }
}
