/**
 * Which peers an operation on a file talks to, found through the DHT: where to place copies
 * (the nodes closest to the file, and the connected peers), and whom to read from (the file's
 * providers, then the nodes closest to it). Nodes found this way are reached on demand.
 *
 * @module
 */

import type { Contact } from "../dht/contact.ts";
import type { Dht } from "../dht/dht.ts";
import { keyOfContentId } from "../dht/key.ts";
import type { ContentId } from "../id/content_id.ts";
import type { NodeLogger } from "./options.ts";
import { closestPeers } from "./placement.ts";
import type { RemotePeer } from "./remote.ts";

/** What discovery needs from the node. */
export interface Discovery {
  /** The node's DHT, if it runs one. */
  readonly dht: Dht | undefined;
  /** A contact as a peer reached on demand (absent without a DHT). */
  readonly connect: ((contact: Contact) => Promise<RemotePeer>) | undefined;
  /** This node's id, hex (never a candidate). */
  readonly selfId: string;
  /** Log sink. */
  readonly log: NodeLogger;
}

/**
 * Candidate holders of file `id`, closest to it first: the nodes closest to its key that a DHT
 * lookup finds, and `connected`. A failed lookup leaves the connected peers (logged).
 *
 * @example
 * ```ts ignore
 * const targets = await holderCandidates(discovery, fileId, layer.remotes());
 * ```
 */
export async function holderCandidates(
  d: Discovery,
  id: ContentId,
  connected: readonly RemotePeer[],
  signal?: AbortSignal,
): Promise<RemotePeer[]> {
  const candidates = [...connected];
  if (d.dht && d.connect) {
    try {
      const lookup = await d.dht.findNode(keyOfContentId(id), { signal });
      const have = new Set(candidates.map((r) => r.nodeId));
      for (const c of lookup.closest) {
        if (!have.has(c.idHex) && c.idHex !== d.selfId) candidates.push(await d.connect(c));
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      d.log("warn", "DHT lookup for holders failed", { error: String(err) });
    }
  }
  return closestPeers(id.digest, candidates, candidates.length);
}

/**
 * Peers to read file `id` from besides the connected ones: its providers in the DHT, then the
 * nodes closest to it (where placement puts copies: a reader still finds them when the
 * provider records are gone or a hostile node answered with made-up ones). A failed lookup
 * gives none (logged). `count` is how many providers end the lookup (default the DHT's k): a
 * repair check asks for many, so that the lookup runs to its end and meets every holder among
 * the nodes closest to the file however many provider records there are.
 *
 * @example
 * ```ts ignore
 * const extra = await readCandidates(discovery, fileId);
 * ```
 */
export async function readCandidates(
  d: Discovery,
  id: ContentId,
  signal?: AbortSignal,
  count?: number,
): Promise<RemotePeer[]> {
  if (!d.dht || !d.connect) return [];
  try {
    const { providers, lookup } = await d.dht.findProviders(keyOfContentId(id), {
      signal,
      ...(count !== undefined ? { count } : {}),
    });
    const seen = new Set<string>([d.selfId]);
    const out: RemotePeer[] = [];
    for (const c of [...providers, ...lookup.closest]) {
      if (seen.has(c.idHex)) continue;
      seen.add(c.idHex);
      out.push(await d.connect(c));
    }
    return out;
  } catch (err) {
    if (signal?.aborted) throw err;
    d.log("warn", "DHT provider lookup failed", { id: id.toString(), error: String(err) });
    return [];
  }
}

/** `first`, then the peers of `rest` not in it (by node id). */
export function mergePeers(
  first: readonly RemotePeer[],
  rest: readonly RemotePeer[],
): RemotePeer[] {
  if (first.length === 0) return [...rest];
  const seen = new Set(first.map((p) => p.nodeId));
  return [...first, ...rest.filter((p) => !seen.has(p.nodeId))];
}
