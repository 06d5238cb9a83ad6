/**
 * Names: mutable pointers from a human name to a file id, replicated last-write-wins.
 *
 * - A record is `{ name, id, version, nodeId }`. Between two records for the same name, the
 *   higher `version` wins; equal versions are broken by the larger `nodeId` (hex compared as
 *   text, which is numeric order for ids of equal length).
 * - Binding a name asks the connected peers for their record, takes the winner, writes
 *   `version + 1` locally and pushes the new record to every connected peer (best effort).
 * - Resolving asks the connected peers, takes the winner (local record included) and keeps it
 *   locally, so a node that was told once answers later on its own.
 * - Records persist in the local block store as keyed entries `name:<hex of the UTF-8 name>`.
 *
 * @module
 */

import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import { ContentId } from "../id/content_id.ts";
import type { BlockStore } from "../store/types.ts";
import { fromHex, toHex } from "../util/hex.ts";
import { MAX_NAME_BYTES as WIRE_MAX_NAME_BYTES } from "../wire/limits.ts";
import type { NameRecord } from "./types.ts";
import type { RemotePeer } from "./remote.ts";

/** Longest accepted name, in UTF-8 bytes (the wire's bound, `MAX_NAME_BYTES` of `wire/limits.ts`). */
export const MAX_NAME_BYTES: number = WIRE_MAX_NAME_BYTES;

const KEY_PREFIX = "name:";
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks a name: 1..200 UTF-8 bytes, no control characters, and not something that parses as a
 * content id (so `get(idOrName)` is never ambiguous). Throws {@linkcode InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { validateName } from "./names.ts";
 * validateName("photos/cat.jpg"); // ok
 * ```
 */
export function validateName(name: string): void {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidArgumentError("a name must be a non-empty string");
  }
  const bytes = enc.encode(name).length;
  if (bytes > MAX_NAME_BYTES) {
    throw new InvalidArgumentError(`a name is at most ${MAX_NAME_BYTES} bytes, got ${bytes}`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidArgumentError(`a name must not contain control characters`);
  }
  if (ContentId.tryParse(name)) {
    throw new InvalidArgumentError(`a name must not look like a content id: ${name}`);
  }
}

/**
 * Orders two records for the same name: positive when `a` wins over `b`, negative when `b`
 * wins, 0 when they are the same version by the same node.
 *
 * @example
 * ```ts
 * import { compareNameRecords } from "./names.ts";
 * const a = { name: "n", id: "1220aa", version: 2, nodeId: "01" };
 * const b = { name: "n", id: "1220bb", version: 2, nodeId: "02" };
 * compareNameRecords(a, b) < 0; // true: same version, b's node id is larger
 * ```
 */
export function compareNameRecords(a: NameRecord, b: NameRecord): number {
  if (a.version !== b.version) return a.version - b.version;
  const x = a.nodeId.toLowerCase();
  const y = b.nodeId.toLowerCase();
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The winner among `records` (nulls ignored), or `null` when there is none. */
export function latestRecord(records: Iterable<NameRecord | null | undefined>): NameRecord | null {
  let best: NameRecord | null = null;
  for (const r of records) {
    if (r && (!best || compareNameRecords(r, best) > 0)) best = r;
  }
  return best;
}

/**
 * Parses and checks a record from untrusted JSON-ish input; returns `null` when it is not a
 * well-formed record (bad name, id, version or node id).
 */
export function parseNameRecord(value: unknown): NameRecord | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.name !== "string" || typeof v.id !== "string" || typeof v.nodeId !== "string") {
    return null;
  }
  if (typeof v.version !== "number" || !Number.isSafeInteger(v.version) || v.version < 1) {
    return null;
  }
  try {
    validateName(v.name);
  } catch {
    return null;
  }
  if (!ContentId.tryParse(v.id)) return null;
  if (!/^[0-9a-f]{2,128}$/.test(v.nodeId)) return null;
  return { name: v.name, id: v.id, version: v.version, nodeId: v.nodeId };
}

/** Encodes a record as UTF-8 JSON (the form stored locally). */
export function encodeNameRecord(record: NameRecord): Uint8Array {
  const { name, id, version, nodeId } = record;
  return enc.encode(JSON.stringify({ name, id, version, nodeId }));
}

/** Decodes {@linkcode encodeNameRecord}'s output; `null` when malformed. */
export function decodeNameRecord(bytes: Uint8Array): NameRecord | null {
  try {
    return parseNameRecord(JSON.parse(dec.decode(bytes)));
  } catch {
    return null;
  }
}

/** Options for {@linkcode NameRegistry}. */
export interface NameRegistryOptions {
  /** Where records persist (keyed entries). */
  readonly store: BlockStore;
  /** This node's id, hex: the writer of records bound here. */
  readonly nodeId: string;
  /** The peers to ask and tell, at the moment of the call. */
  readonly peers: () => readonly RemotePeer[];
  /** Time allowed for each peer to answer, in ms. */
  readonly timeoutMs: number;
  /** Called when a peer fails to answer (for logs). */
  readonly onPeerError?: (nodeId: string, error: unknown) => void;
}

/**
 * The local view of names, plus the calls to peers that make them cluster-wide.
 *
 * @example Bind and resolve on a single node
 * ```ts ignore
 * const names = new NameRegistry({ store, nodeId, peers: () => [], timeoutMs: 2000 });
 * await names.bind("report", fileId);
 * (await names.resolve("report")).id === fileId; // true
 * ```
 */
export class NameRegistry {
  #opts: NameRegistryOptions;
  #lock: Promise<unknown> = Promise.resolve();

  /** Creates a registry over a store. */
  constructor(options: NameRegistryOptions) {
    this.#opts = options;
  }

  /** The local record for `name`, or `null`. Never asks peers. */
  async local(name: string): Promise<NameRecord | null> {
    const key = keyOf(name);
    try {
      const rec = decodeNameRecord(await this.#opts.store.readBytes(key));
      return rec && rec.name === name ? rec : null;
    } catch {
      return null;
    }
  }

  /**
   * Keeps `record` when it wins over the local one. Returns the record now held locally.
   * This is what a node does with a record a peer pushes to it.
   */
  offer(record: NameRecord): Promise<NameRecord> {
    const checked = parseNameRecord(record);
    if (!checked) return Promise.reject(new InvalidArgumentError(`malformed name record`));
    // Compare-and-write must not interleave: two records arriving at once would otherwise both
    // see the old record and the later write would win regardless of order.
    const run = this.#lock.then(async () => {
      const current = await this.local(checked.name);
      if (current && compareNameRecords(current, checked) >= 0) return current;
      await this.#opts.store.write(keyOf(checked.name), encodeNameRecord(checked));
      return checked;
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Asks every peer for its record and returns the winner including the local one, kept locally. */
  async lookup(name: string, signal?: AbortSignal): Promise<NameRecord | null> {
    validateName(name);
    const answers = await Promise.all(
      this.#opts.peers().map((p) => this.#ask(p, name, signal)),
    );
    const local = await this.local(name);
    const best = latestRecord([local, ...answers]);
    if (best && (!local || compareNameRecords(best, local) > 0)) await this.offer(best);
    return best;
  }

  /**
   * Resolves `name` to its latest record across the reachable cluster.
   * Rejects with `NotFoundError` when no reachable node knows it.
   */
  async resolve(name: string, signal?: AbortSignal): Promise<NameRecord> {
    const rec = await this.lookup(name, signal);
    if (!rec) throw new NotFoundError(`no such name: ${name}`);
    return rec;
  }

  /**
   * Binds `name` to file `id` with a version one above the latest known, stores it and pushes it
   * to every connected peer (best effort). Returns the new record.
   */
  async bind(name: string, id: string, signal?: AbortSignal): Promise<NameRecord> {
    validateName(name);
    const parsed = ContentId.parse(id).toString();
    const current = await this.lookup(name, signal);
    const record: NameRecord = {
      name,
      id: parsed,
      version: (current?.version ?? 0) + 1,
      nodeId: this.#opts.nodeId,
    };
    await this.offer(record);
    await Promise.all(this.#opts.peers().map((p) => this.#tell(p, record, signal)));
    return record;
  }

  /** Removes the local record of `name` (peers keep theirs). Resolves `true` when one existed. */
  async forget(name: string): Promise<boolean> {
    return await this.#opts.store.delete(keyOf(name));
  }

  /** All records held locally. */
  async *list(): AsyncGenerator<NameRecord> {
    for await (const entry of this.#opts.store.list({ keyed: true })) {
      if (!entry.key.startsWith(KEY_PREFIX)) continue;
      const name = nameOfKey(entry.key);
      if (name === null) continue;
      const rec = await this.local(name);
      if (rec) yield rec;
    }
  }

  async #ask(peer: RemotePeer, name: string, signal?: AbortSignal): Promise<NameRecord | null> {
    if (!peer.getName) return null;
    try {
      const rec = await peer.getName(name, { signal: this.#signal(signal) });
      const checked = rec ? parseNameRecord(rec) : null;
      return checked && checked.name === name ? checked : null;
    } catch (err) {
      this.#opts.onPeerError?.(peer.nodeId, err);
      return null;
    }
  }

  async #tell(peer: RemotePeer, record: NameRecord, signal?: AbortSignal): Promise<void> {
    if (!peer.putName) return;
    try {
      await peer.putName(record, { signal: this.#signal(signal) });
    } catch (err) {
      this.#opts.onPeerError?.(peer.nodeId, err);
    }
  }

  #signal(signal?: AbortSignal): AbortSignal {
    const t = AbortSignal.timeout(this.#opts.timeoutMs);
    return signal ? AbortSignal.any([signal, t]) : t;
  }
}

function keyOf(name: string): string {
  return KEY_PREFIX + toHex(enc.encode(name));
}

function nameOfKey(key: string): string | null {
  const bytes = fromHex(key.slice(KEY_PREFIX.length));
  if (!bytes) return null;
  try {
    return dec.decode(bytes);
  } catch {
    return null;
  }
}
