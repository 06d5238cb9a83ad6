/**
 * Replication of one file to chosen peers.
 *
 * Every block of the file (manifests and data) is pushed to every target that lacks it: the
 * block ids are offered in batches with `HAS` so blocks a target already holds are skipped;
 * each missing block is read once from the local store and sent to all targets that need it.
 * The pushes are pipelined: a bounded number of blocks are in flight at once (default 8), and
 * they keep flowing across batches while the next batch's `HAS` is under way (so a target's
 * store can group-commit many arriving blocks at a time). The root manifest (the file id) goes
 * last, so a peer that holds a file's root also holds everything under it.
 *
 * A copy counts once its peer confirmed every block. A target that fails any request is dropped
 * from the round (its error is reported) and the others go on.
 *
 * One hash pass per pushed block: with `readUnverified` and `recheck`, blocks are read without
 * hashing them and sent as they are to targets that verify pushes on arrival (`blocks/2`; the
 * connection hashes first for any other target). When a target refuses a block as corrupt
 * (`PeerPushCorruptError`), the local copy is checked once (`recheck`, at the rate of the
 * node's bad-block reports): a rotten copy (quarantined by the check) fails the replication
 * with {@linkcode PushSourceCorruptError}; a copy that verifies is kept (the target lied, or
 * the bytes rotted in flight) and only that target fails, as does a check over the rate.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { PeerProtocolError, PeerPushCorruptError } from "../peer/errors.ts";
import { PushSourceCorruptError } from "./errors.ts";
import type { RemotePeer } from "./remote.ts";

/** Options for {@linkcode replicateFile}. */
export interface ReplicateOptions {
  /** The file id (root manifest). */
  readonly fileId: ContentId;
  /** Every block id of the file, manifests included (the root may be among them). */
  readonly blockIds: () => AsyncIterable<ContentId>;
  /** Reads a block from the local store (verified). */
  readonly readBlock: (id: ContentId, signal?: AbortSignal) => Promise<Uint8Array>;
  /**
   * Reads a block to push without verifying it (see the module doc); used only with
   * `recheck`. Absent: every block is read with `readBlock`.
   */
  readonly readUnverified?: (id: ContentId, signal?: AbortSignal) => Promise<PushBytes>;
  /**
   * Checks the local copy of a block that target `from` (node id) refused as corrupt: `true`
   * when it was rotten (now out of service) or is gone, `false` when it verifies; a rejection
   * (over the rate, say) keeps the copy and fails only that target.
   */
  readonly recheck?: (id: ContentId, from: string) => Promise<boolean>;
  /** Where copies go. */
  readonly targets: readonly RemotePeer[];
  /** Blocks in flight at once (default 8). */
  readonly concurrency?: number;
  /** Ids per HAS batch (default 128). */
  readonly batchSize?: number;
  /** Time allowed for one remote request, in ms. */
  readonly timeoutMs: number;
  /** Cancels the whole replication. */
  readonly signal?: AbortSignal;
  /** Called after each block was confirmed by every target that needed it. */
  readonly onBlock?: (id: ContentId, bytes: number) => void;
}

/**
 * A block's bytes read for a push: `verified` false when they were read without hashing them
 * (only those are sent unverified), true when they were verified anyway (e.g. fetched from
 * another holder because the local copy was missing).
 */
export interface PushBytes {
  /** The block's bytes. */
  readonly bytes: Uint8Array;
  /** True when the bytes were verified against the id. */
  readonly verified: boolean;
}

/** Outcome for one target. */
export interface TargetOutcome {
  /** The peer. */
  readonly peer: RemotePeer;
  /** True when the peer confirmed every block. */
  readonly ok: boolean;
  /** Blocks actually sent to it (the others it already had). */
  readonly sent: number;
  /** Why it failed, when it did. */
  readonly error?: unknown;
}

/** What {@linkcode replicateFile} reports. */
export interface ReplicateResult {
  /** Targets holding the whole file now. */
  readonly confirmed: readonly RemotePeer[];
  /** Per target outcome, in target order. */
  readonly outcomes: readonly TargetOutcome[];
}

const MAX_SEEN = 100_000;

interface TargetState {
  peer: RemotePeer;
  ok: boolean;
  sent: number;
  error?: unknown;
}

/**
 * Pushes a file to `targets` (see the module doc). Never rejects because a target failed; only
 * cancellation (`signal`), a failing local read or a local copy found rotten
 * ({@linkcode PushSourceCorruptError}) rejects.
 *
 * @example Copy a file to two peers
 * ```ts ignore
 * const { confirmed } = await replicateFile({
 *   fileId, targets: [peerA, peerB], timeoutMs: 10_000,
 *   blockIds: () => fileBlockIds(fileId, localSource),
 *   readBlock: (id) => store.readBytes(id),
 * });
 * console.log(`${confirmed.length} remote copies`);
 * ```
 */
export async function replicateFile(options: ReplicateOptions): Promise<ReplicateResult> {
  const batchSize = Math.max(1, options.batchSize ?? 128);
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const states: TargetState[] = options.targets.map((peer) => ({ peer, ok: true, sent: 0 }));
  const rootText = options.fileId.toString();
  const anyLive = () => states.some((s) => s.ok);
  // A pipeline: the producer lists the blocks, asks the targets which they lack one batch at a
  // time (HAS) and queues the missing ones; `concurrency` pushers send from the queue without
  // waiting for batch boundaries, so the next batch's HAS overlaps this batch's pushes and the
  // targets always have up to `concurrency` blocks arriving (their stores group-commit them).
  const queue: Wanted[] = [];
  let listing = true;
  let wake: (() => void) | undefined;
  let room: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let failure: { error: unknown } | undefined;
  const produce = async () => {
    try {
      let batch: ContentId[] = [];
      // Files with repeated content list the same block many times; send it once (bounded).
      const seen = new Set<string>();
      const flush = async () => {
        const wanted = await probe(batch, states, options);
        batch = [];
        for (const w of wanted) queue.push(w);
        notify();
        // At most about two batches ahead of the pushers.
        while (queue.length > batchSize && !failure) {
          await new Promise<void>((resolve) => (room = resolve));
        }
      };
      for await (const id of options.blockIds()) {
        options.signal?.throwIfAborted();
        if (failure || !anyLive()) break;
        const text = id.toString();
        if (text === rootText || seen.has(text)) continue;
        if (seen.size >= MAX_SEEN) seen.clear();
        seen.add(text);
        batch.push(id);
        if (batch.length >= batchSize) await flush();
      }
      if (batch.length > 0 && anyLive() && !failure) await flush();
    } catch (err) {
      failure ??= { error: err }; // the pushers stop too
      throw err;
    } finally {
      listing = false;
      notify();
    }
  };
  const pusher = async () => {
    while (!failure) {
      const next = queue.shift();
      if (!next) {
        if (!listing) return;
        await new Promise<void>((resolve) => (wake = chain(wake, resolve)));
        continue;
      }
      if (queue.length <= batchSize) {
        room?.();
        room = undefined;
      }
      try {
        await pushOne(next, options);
      } catch (err) {
        failure ??= { error: err };
        room?.();
        notify();
        return;
      }
    }
  };
  const results = await Promise.allSettled([
    produce(),
    ...Array.from({ length: concurrency }, pusher),
  ]);
  if (failure) throw failure.error;
  for (const r of results) if (r.status === "rejected") throw r.reason;
  // The root last: a peer holding a file's root holds everything under it.
  if (anyLive()) {
    for (const w of await probe([options.fileId], states, options)) await pushOne(w, options);
  }
  return {
    confirmed: states.filter((s) => s.ok).map((s) => s.peer),
    outcomes: states.map((s) => ({ peer: s.peer, ok: s.ok, sent: s.sent, error: s.error })),
  };
}

/** A block some live targets lack. */
interface Wanted {
  readonly id: ContentId;
  readonly targets: TargetState[];
}

/** Two wake-ups as one (several pushers may wait at once). */
function chain(a: (() => void) | undefined, b: () => void): () => void {
  return a ? () => (a(), b()) : b;
}

/** Asks every live target which of `ids` it holds (HAS); the blocks some of them lack. */
async function probe(
  ids: readonly ContentId[],
  states: TargetState[],
  options: ReplicateOptions,
): Promise<Wanted[]> {
  const live = states.filter((s) => s.ok);
  const needs = ids.map(() => [] as TargetState[]);
  await Promise.all(live.map(async (s) => {
    try {
      const present = await s.peer.has(ids, call(options));
      if (present.length !== ids.length) {
        throw new PeerProtocolError(
          `HAS answer has ${present.length} entries for ${ids.length} ids`,
        );
      }
      present.forEach((p, i) => {
        if (!p) needs[i].push(s);
      });
    } catch (err) {
      fail(s, err);
    }
  }));
  const out: Wanted[] = [];
  ids.forEach((id, i) => {
    if (needs[i].length > 0) out.push({ id, targets: needs[i] });
  });
  return out;
}

/** Reads a block once and sends it to every live target that lacks it. */
async function pushOne(w: Wanted, options: ReplicateOptions): Promise<void> {
  const wanting = w.targets.filter((s) => s.ok);
  if (wanting.length === 0) return;
  const { readUnverified, recheck } = options;
  const read: PushBytes = readUnverified !== undefined && recheck !== undefined
    ? await readUnverified(w.id, options.signal)
    : { bytes: await options.readBlock(w.id, options.signal), verified: true };
  const { bytes } = read;
  const unverified = !read.verified && recheck !== undefined;
  const push = unverified ? { ...call(options), unverified } : call(options);
  let checked: Promise<boolean> | undefined;
  let rotten: unknown;
  await Promise.all(wanting.map(async (s) => {
    try {
      await s.peer.putBlock(w.id, bytes, push);
      s.sent++;
    } catch (err) {
      if (unverified && err instanceof PeerPushCorruptError) {
        // Our copy is suspect: check it once per block, never drop it on a target's word.
        checked ??= recheck!(w.id, s.peer.nodeId).catch(() => false);
        if (await checked) return void (rotten ??= err);
      }
      fail(s, err);
    }
  }));
  if (rotten !== undefined) throw new PushSourceCorruptError(w.id.toString(), { cause: rotten });
  options.signal?.throwIfAborted();
  options.onBlock?.(w.id, bytes.length);
}

function fail(state: TargetState, error: unknown): void {
  if (!state.ok) return;
  state.ok = false;
  state.error = error;
}

/** The caller's signal and timeout for one request: the connection times it (no timer signal). */
function call(options: ReplicateOptions): { signal?: AbortSignal; timeoutMs: number } {
  return { signal: options.signal, timeoutMs: options.timeoutMs };
}
