/**
 * Replication of one file to chosen peers.
 *
 * Every block of the file (manifests and data) is pushed to every target that lacks it: the
 * blocks go in batches; each batch is first offered with `HAS` so blocks a target already holds
 * are skipped; each missing block is read once from the local store and sent to all targets
 * that need it, with a bounded number of blocks in flight. The root manifest (the file id) goes
 * last, so a peer that holds a file's root also holds everything under it.
 *
 * A copy counts once its peer confirmed every block. A target that fails any request is dropped
 * from the round (its error is reported) and the others go on.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { PeerProtocolError } from "../peer/errors.ts";
import type { RemotePeer } from "./remote.ts";

/** Options for {@linkcode replicateFile}. */
export interface ReplicateOptions {
  /** The file id (root manifest). */
  readonly fileId: ContentId;
  /** Every block id of the file, manifests included (the root may be among them). */
  readonly blockIds: () => AsyncIterable<ContentId>;
  /** Reads a block from the local store (verified). */
  readonly readBlock: (id: ContentId, signal?: AbortSignal) => Promise<Uint8Array>;
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
 * cancellation (`signal`) or a failing local read rejects.
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
  const batchSize = options.batchSize ?? 128;
  const states: TargetState[] = options.targets.map((peer) => ({ peer, ok: true, sent: 0 }));
  const rootText = options.fileId.toString();
  let batch: ContentId[] = [];
  // Files with repeated content list the same block many times; send it once (bounded memory).
  const seen = new Set<string>();
  for await (const id of options.blockIds()) {
    options.signal?.throwIfAborted();
    const text = id.toString();
    if (text === rootText || seen.has(text)) continue;
    if (seen.size >= MAX_SEEN) seen.clear();
    seen.add(text);
    batch.push(id);
    if (batch.length >= batchSize) {
      await pushBatch(batch, states, options);
      batch = [];
      if (!states.some((s) => s.ok)) break;
    }
  }
  if (batch.length > 0 && states.some((s) => s.ok)) await pushBatch(batch, states, options);
  if (states.some((s) => s.ok)) await pushBatch([options.fileId], states, options);
  return {
    confirmed: states.filter((s) => s.ok).map((s) => s.peer),
    outcomes: states.map((s) => ({ peer: s.peer, ok: s.ok, sent: s.sent, error: s.error })),
  };
}

async function pushBatch(
  ids: readonly ContentId[],
  states: TargetState[],
  options: ReplicateOptions,
): Promise<void> {
  const live = states.filter((s) => s.ok);
  // Which live targets lack which block.
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
  const concurrency = Math.max(1, options.concurrency ?? 8);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      const wanting = needs[i].filter((s) => s.ok);
      if (wanting.length === 0) continue;
      const bytes = await options.readBlock(ids[i], options.signal);
      await Promise.all(wanting.map(async (s) => {
        try {
          await s.peer.putBlock(ids[i], bytes, call(options));
          s.sent++;
        } catch (err) {
          fail(s, err);
        }
      }));
      options.signal?.throwIfAborted();
      options.onBlock?.(ids[i], bytes.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
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
