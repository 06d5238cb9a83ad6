/**
 * The iterative lookup of Kademlia: ask the `alpha` closest contacts not yet asked, merge the
 * closer contacts they return, and go on until the `k` closest contacts seen have all answered
 * or failed — or the query says it found what it wanted, or the deadline passes.
 *
 * Every request has its own timeout and the whole lookup a deadline, so contacts that never
 * answer (dead, unreachable, hostile) cost at most one timeout each and never stall it past the
 * deadline. Memory is bounded: the candidate list keeps only the closest `maxCandidates`.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { Contact } from "./contact.ts";
import { compareDistance } from "./key.ts";

/** What one queried contact told the lookup. */
export interface QueryAnswer {
  /** Contacts it knows closer to the key (already checked: 32-byte ids, addresses). */
  readonly closer: readonly Contact[];
  /** The lookup can stop: the query found what it was looking for. */
  readonly done?: boolean;
}

/** Options of {@linkcode iterativeLookup}. */
export interface LookupOptions {
  /** The key looked up (32 bytes). */
  readonly key: Uint8Array;
  /** Contacts to start from (the routing table's closest). */
  readonly seeds: readonly Contact[];
  /** This node's id hex: never queried, never returned. */
  readonly selfHex: string;
  /** Size of the result (Kademlia's k). */
  readonly k: number;
  /** Requests in flight at once. */
  readonly alpha: number;
  /** The whole lookup's budget in ms; on expiry it returns what it has with `timedOut`. */
  readonly deadlineMs: number;
  /** Time source. */
  readonly clock: Clock;
  /** Cancels the lookup (it rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /**
   * A request not answered after this many ms stops counting against `alpha`, so one slow or
   * dead contact does not hold up the others. Default: the deadline (never).
   */
  readonly stallMs?: number;
  /** Candidates kept (closest first). Default `k * 8`. */
  readonly maxCandidates?: number;
  /** Asks one contact. Rejects when it did not answer (timeout, error, bad answer). */
  query(contact: Contact, signal: AbortSignal): Promise<QueryAnswer>;
  /** Called when a contact answered. */
  onAnswer?(contact: Contact): void;
  /** Called when a contact failed to answer. */
  onFailure?(contact: Contact, error: unknown): void;
}

/** The outcome of a lookup. */
export interface LookupResult {
  /** The closest contacts that answered, closest first, at most k. */
  readonly closest: Contact[];
  /**
   * Hops: the longest chain of answers that led to a contact of `closest` (a seed is hop 1, a
   * contact first learned from a hop-h answer is hop h + 1). For a lookup that stopped because
   * the query was done, the hop of the contact that gave the final answer.
   */
  readonly rounds: number;
  /** Requests sent. */
  readonly messages: number;
  /** Requests that failed (no answer in time, error). */
  readonly failures: number;
  /** The deadline passed before the lookup ended by itself. */
  readonly timedOut: boolean;
  /** The query said it was done. */
  readonly done: boolean;
  /** Duration in ms of the DHT's clock. */
  readonly durationMs: number;
}

type State = "new" | "waiting" | "answered" | "failed";

interface Candidate {
  readonly contact: Contact;
  hop: number;
  state: State;
}

/**
 * Runs one iterative lookup. Resolves when the k closest candidates have all answered or
 * failed, when a query answer says `done`, or at the deadline; rejects only when `signal`
 * aborts.
 *
 * @example
 * ```ts ignore
 * const result = await iterativeLookup({
 *   key, seeds: table.closest(key, 20), selfHex, k: 20, alpha: 3, deadlineMs: 30_000, clock,
 *   query: async (c, signal) => ({ closer: await askFindNode(c, key, signal) }),
 * });
 * console.log(result.closest.length, result.rounds);
 * ```
 */
export function iterativeLookup(options: LookupOptions): Promise<LookupResult> {
  const { key, k, alpha, clock } = options;
  const maxCandidates = options.maxCandidates ?? k * 8;
  const started = clock.now();
  const candidates: Candidate[] = [];
  const byId = new Map<string, Candidate>();
  const inflight = new Map<Candidate, AbortController>();
  /** In-flight requests that have not stalled: these take the alpha slots. */
  const active = new Set<Candidate>();
  const stallMs = options.stallMs ?? options.deadlineMs;
  const stalls = new Map<Candidate, unknown>();
  const clearStalls = () => {
    for (const t of stalls.values()) clock.clearTimeout(t);
    stalls.clear();
  };
  let messages = 0;
  let failures = 0;
  let doneHop = 0;

  const insert = (contact: Contact, hop: number) => {
    if (contact.idHex === options.selfHex) return;
    const known = byId.get(contact.idHex);
    if (known) {
      if (hop < known.hop && known.state === "new") known.hop = hop;
      return;
    }
    // Binary search for the position by distance.
    let lo = 0, hi = candidates.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(key, candidates[mid].contact.id, contact.id) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= maxCandidates) return;
    const c: Candidate = { contact, hop, state: "new" };
    candidates.splice(lo, 0, c);
    byId.set(contact.idHex, c);
    while (candidates.length > maxCandidates) {
      const dropped = candidates.pop()!;
      if (dropped.state === "waiting") {
        inflight.get(dropped)?.abort();
        inflight.delete(dropped);
        active.delete(dropped);
      }
      // Keep it in byId so it is not re-added and re-asked.
    }
  };
  for (const s of options.seeds) insert(s, 1);

  return new Promise<LookupResult>((resolve, reject) => {
    let finished = false;
    const finish = (timedOut: boolean, done: boolean) => {
      if (finished) return;
      finished = true;
      clock.clearTimeout(deadline);
      options.signal?.removeEventListener("abort", onAbort);
      for (const ctrl of inflight.values()) ctrl.abort();
      inflight.clear();
      clearStalls();
      const closest: Contact[] = [];
      let rounds = doneHop;
      for (const c of candidates) {
        if (c.state !== "answered") continue;
        closest.push(c.contact);
        if (!done) rounds = Math.max(rounds, c.hop);
        if (closest.length >= k) break;
      }
      resolve({
        closest,
        rounds,
        messages,
        failures,
        timedOut,
        done,
        durationMs: clock.now() - started,
      });
    };
    const onAbort = () => {
      if (finished) return;
      finished = true;
      clock.clearTimeout(deadline);
      for (const ctrl of inflight.values()) ctrl.abort();
      inflight.clear();
      clearStalls();
      reject(options.signal!.reason);
    };
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const deadline = clock.setTimeout(() => finish(true, false), options.deadlineMs);

    const step = () => {
      if (finished) return;
      // Walk the k closest live candidates: ask new ones while slots are free.
      let live = 0;
      let pending = false;
      for (const c of candidates) {
        if (c.state === "failed") continue;
        if (live >= k) break;
        live++;
        if (c.state === "waiting") pending = true;
        else if (c.state === "new") {
          if (active.size >= alpha) {
            pending = true;
            continue;
          }
          ask(c);
          pending = true;
        }
      }
      if (!pending) finish(false, false);
    };

    const ask = (c: Candidate) => {
      c.state = "waiting";
      messages++;
      const ctrl = new AbortController();
      inflight.set(c, ctrl);
      active.add(c);
      stalls.set(
        c,
        clock.setTimeout(() => {
          stalls.delete(c);
          if (finished || !active.delete(c)) return;
          step();
        }, stallMs),
      );
      const settle = () => {
        clock.clearTimeout(stalls.get(c));
        stalls.delete(c);
        inflight.delete(c);
        active.delete(c);
      };
      options.query(c.contact, ctrl.signal).then(
        (answer) => {
          if (finished || !inflight.has(c)) return;
          settle();
          c.state = "answered";
          options.onAnswer?.(c.contact);
          for (const n of answer.closer) insert(n, c.hop + 1);
          if (answer.done) {
            doneHop = c.hop;
            finish(false, true);
            return;
          }
          step();
        },
        (error) => {
          if (finished || !inflight.has(c)) return;
          settle();
          c.state = "failed";
          failures++;
          options.onFailure?.(c.contact, error);
          step();
        },
      );
    };

    step();
  });
}
