/**
 * Names: mutable pointers from a human name to a file id, as signed records in the DHT.
 *
 * - Binding a name signs a record `{ name, value: file id, seq, expires }` with this node's
 *   identity key (seq one above the highest known) and stores it at the k nodes closest to the
 *   name's key (`src/dht/`); the node republishes it while it runs. What a name guarantees, and
 *   what it does not, is in `docs/node.md` ("Names").
 * - Resolving asks the nodes closest to the name's key and believes the record the DHT's rules
 *   pick (signature checked, expiry checked, first key owns a name in an open network).
 * - The records this node signed are kept in its block store as keyed entries
 *   `name:<hex of the UTF-8 name>` (JSON), so `ls` lists them and a restart continues their
 *   sequence and republishes them. Without a DHT (test peer layers) names are local.
 *
 * @module
 */

import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import { ContentId } from "../id/content_id.ts";
import { FILE_KEY_SIZE } from "../file/block_cipher.ts";
import { formatCapability, isCapability } from "../file/capability.ts";
import { concatBytes } from "../util/concat.ts";
import type { Dht } from "../dht/dht.ts";
import { keyOfName } from "../dht/key.ts";
import {
  type RecordSigner,
  type SignedNameRecord,
  signNameRecord,
  verifyNameRecord,
} from "../dht/name_record.ts";
import { nodeIdOf } from "../peer/identity.ts";
import type { BlockStore } from "../store/types.ts";
import { fromHex, toHex } from "../util/hex.ts";
import { KeyedMutex } from "../util/keyed_mutex.ts";
import { MAX_NAME_BYTES as WIRE_MAX_NAME_BYTES } from "../wire/limits.ts";
import type { NameRecord } from "./types.ts";

/** Longest accepted name, in UTF-8 bytes (the wire's bound, `MAX_NAME_BYTES` of `wire/limits.ts`). */
export const MAX_NAME_BYTES: number = WIRE_MAX_NAME_BYTES;

const KEY_PREFIX = "name:";
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks a name: 1..200 UTF-8 bytes, no control characters, and not something that parses as
 * a content id (so `get X` is never ambiguous). Throws {@linkcode InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { validateName } from "./names.ts";
 * validateName("reports/2026.pdf"); // ok
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
  if (isCapability(name)) {
    throw new InvalidArgumentError(`a name must not look like a read capability (dfs:r:...)`);
  }
}

/** JSON form of a signed record on disk. */
interface StoredRecord {
  name: string;
  value: string;
  seq: number;
  expires: number;
  publicKey: string;
  signature: string;
}

/** The disk form of a signed record (JSON, byte fields in hex). */
export function encodeSignedRecord(r: SignedNameRecord): Uint8Array {
  const stored: StoredRecord = {
    name: r.name,
    value: toHex(r.value),
    seq: r.seq,
    expires: r.expires,
    publicKey: toHex(r.publicKey),
    signature: toHex(r.signature),
  };
  return enc.encode(JSON.stringify(stored));
}

/** A signed record read from disk, or null when the bytes are not one (never throws). */
export function decodeSignedRecord(bytes: Uint8Array): SignedNameRecord | null {
  try {
    const v = JSON.parse(dec.decode(bytes)) as Partial<StoredRecord>;
    const value = fromHex(String(v.value));
    const publicKey = fromHex(String(v.publicKey));
    const signature = fromHex(String(v.signature));
    if (typeof v.name !== "string" || !value || !publicKey || !signature) return null;
    if (typeof v.seq !== "number" || typeof v.expires !== "number") return null;
    return { name: v.name, value, seq: v.seq, expires: v.expires, publicKey, signature };
  } catch {
    return null;
  }
}

/** The node's view of a signed record: file id text and the publisher's node id. */
export async function toNameRecord(r: SignedNameRecord): Promise<NameRecord | null> {
  let id: ContentId;
  let capability: string | undefined;
  try {
    // A file id, or (a publisher that shared the key) a file id then its 32-byte file key.
    const idLength = 2 + (r.value[1] ?? 0);
    if (r.value.length === idLength + FILE_KEY_SIZE) {
      id = ContentId.fromBytes(r.value.subarray(0, idLength));
      capability = formatCapability(id, r.value.subarray(idLength));
    } else {
      id = ContentId.fromBytes(r.value);
    }
  } catch {
    return null;
  }
  return {
    name: r.name,
    id: id.toString(),
    ...(capability ? { capability } : {}),
    version: r.seq,
    nodeId: toHex(await nodeIdOf(r.publicKey)),
    expires: r.expires,
  };
}

/** What a {@linkcode NameRegistry} needs. */
export interface NameRegistryOptions {
  /** Where this node's signed records are kept. */
  readonly store: BlockStore;
  /** Signs records when there is no DHT (this node's identity). */
  readonly signer: RecordSigner;
  /** The DHT, once the peer layer started (absent: names are local). */
  readonly dht: () => Dht | undefined;
  /** Lifetime of a record signed without a DHT, ms. */
  readonly ttlMs: number;
}

/**
 * Binds and resolves names.
 *
 * @example
 * ```ts ignore
 * const names = new NameRegistry({ store, signer: identity, dht: () => layer.dht, ttlMs });
 * await names.bind("report", fileId);
 * (await names.resolve("report")).id; // fileId
 * ```
 */
export class NameRegistry {
  readonly #opts: NameRegistryOptions;
  readonly #locks = new KeyedMutex();

  /** A registry over `options.store`. */
  constructor(options: NameRegistryOptions) {
    this.#opts = options;
  }

  /** This node's stored record of `name` (one it signed), or null. */
  async local(name: string): Promise<SignedNameRecord | null> {
    try {
      const rec = decodeSignedRecord(await this.#opts.store.readBytes(keyOf(name)));
      return rec && rec.name === name ? rec : null;
    } catch {
      return null;
    }
  }

  /** Keeps `record` on disk (the latest this node signed for its name). */
  keep(record: SignedNameRecord): Promise<void> {
    // Compare and write as one step per name: two at once could keep the older record.
    return this.#locks.run(record.name, () => this.#keep(record));
  }

  async #keep(record: SignedNameRecord): Promise<void> {
    const held = await this.local(record.name);
    if (
      held && (held.seq > record.seq || (held.seq === record.seq && held.expires >= record.expires))
    ) {
      return;
    }
    await this.#opts.store.write(keyOf(record.name), encodeSignedRecord(record));
  }

  /** Hands every record kept on disk to the DHT, so it republishes them. */
  async adopt(dht: Dht): Promise<void> {
    for await (const r of this.#stored()) dht.keepPublished(r, await keyOfName(r.name));
  }

  /** Resolves `name`; `NotFoundError` when no valid record is found. */
  async resolve(name: string, signal?: AbortSignal): Promise<NameRecord> {
    validateName(name);
    const dht = this.#opts.dht();
    let record: SignedNameRecord | null;
    if (dht) {
      record = (await dht.resolveName(name, { signal })).record;
    } else {
      const local = await this.local(name);
      record = local && local.expires > Date.now() && await verifyNameRecord(local) ? local : null;
    }
    const out = record ? await toNameRecord(record) : null;
    if (!out) throw new NotFoundError(`no such name: ${name}`);
    return out;
  }

  /**
   * Points `name` at file `id`, signed by this node; resolves with the record published. With
   * `key` (the file key of an encrypted file) the record carries it too: anyone who resolves
   * the name can read the file, as a name is public.
   */
  async bind(
    name: string,
    id: string,
    signal?: AbortSignal,
    key?: Uint8Array,
  ): Promise<NameRecord> {
    validateName(name);
    const idBytes = ContentId.parse(id).bytes;
    const value = key ? concatBytes([idBytes, key]) : idBytes;
    const dht = this.#opts.dht();
    let record: SignedNameRecord;
    if (dht) {
      record = (await dht.publishName(name, value, { signal })).record;
    } else {
      record = await this.#locks.run(name, async () => {
        const held = await this.local(name);
        const signed = await signNameRecord(this.#opts.signer, {
          name,
          value,
          seq: (held?.seq ?? 0) + 1,
          expires: Date.now() + this.#opts.ttlMs,
        });
        await this.#keep(signed);
        return signed;
      });
    }
    return (await toNameRecord(record))!;
  }

  /** Forgets this node's record of `name` (others expire by themselves). */
  async forget(name: string): Promise<boolean> {
    return await this.#opts.store.delete(keyOf(name));
  }

  /** The names this node signed, as records. */
  async *list(): AsyncGenerator<NameRecord> {
    for await (const r of this.#stored()) {
      const rec = await toNameRecord(r);
      if (rec) yield rec;
    }
  }

  async *#stored(): AsyncGenerator<SignedNameRecord> {
    for await (const entry of this.#opts.store.list({ keyed: true })) {
      if (!entry.key.startsWith(KEY_PREFIX)) continue;
      const name = nameOfKey(entry.key);
      if (name === null) continue;
      const rec = await this.local(name);
      if (rec) yield rec;
    }
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
