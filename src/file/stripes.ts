/**
 * Stripes of a Reed-Solomon file: computing a stripe's parity at put time, and rebuilding its
 * missing data blocks from any k of its shards at read time.
 *
 * A stripe is up to k consecutive data blocks of one leaf manifest plus m parity blocks (see
 * `manifest.ts`). Every shard is an ordinary content-addressed block, so holders verify and
 * repair them without knowing anything about the code. A parity shard is as long as the
 * stripe's first data block; a shorter data block is zero-padded for the arithmetic, and the
 * data blocks missing from a short last stripe are all zeros.
 *
 * @module
 */

import { ContentId, type HashAlgorithm } from "../id/content_id.ts";
import { AbortedError } from "../errors.ts";
import { ReedSolomon } from "./erasure/reed_solomon.ts";
import { CorruptFileError, UnrecoverableStripeError } from "./errors.ts";
import type { ManifestEntry } from "./manifest.ts";
import type { ErasurePolicy } from "./redundancy.ts";
import type { BlockSource } from "./types.ts";

/** One stripe of a Reed-Solomon leaf, as the tree walker locates it. */
export interface StripeRef {
  /** Identifies the stripe within a read: leaf id and stripe number. */
  readonly key: string;
  /** The file's policy. */
  readonly policy: ErasurePolicy;
  /** The stripe's data blocks (1..k). */
  readonly data: readonly ManifestEntry[];
  /** Its m parity ids. */
  readonly parity: readonly ContentId[];
  /** Hash algorithm of the file. */
  readonly algorithm: HashAlgorithm;
}

const codecs = new Map<string, ReedSolomon>();

/** A shared codec for `policy` (codecs cache their inverted matrices). */
export function codecFor(policy: ErasurePolicy): ReedSolomon {
  const key = `${policy.k}+${policy.m}`;
  let rs = codecs.get(key);
  if (!rs) {
    rs = ReedSolomon.create(policy.k, policy.m);
    if (codecs.size >= 16) codecs.delete(codecs.keys().next().value!);
    codecs.set(key, rs);
  }
  return rs;
}

/**
 * Computes the m parity blocks of a stripe of 1..k data blocks (the first one longest).
 *
 * @example
 * ```ts
 * import { encodeStripe } from "./stripes.ts";
 * const parity = encodeStripe({ kind: "rs", k: 2, m: 1 }, [new Uint8Array([1, 2]), new Uint8Array([3])]);
 * console.log(parity.length, parity[0].length); // 1 2
 * ```
 */
export function encodeStripe(policy: ErasurePolicy, blocks: readonly Uint8Array[]): Uint8Array[] {
  const length = blocks[0].length;
  return codecFor(policy).encode(padded(policy.k, blocks, length));
}

/** The k data shards of a stripe at full length: blocks padded, missing ones all zeros. */
function padded(k: number, blocks: readonly (Uint8Array | undefined)[], length: number) {
  const out: Uint8Array[] = [];
  let zeros: Uint8Array | undefined;
  for (let j = 0; j < k; j++) {
    const b = blocks[j];
    if (b === undefined) out.push(zeros ??= new Uint8Array(length));
    else if (b.length === length) out.push(b);
    else {
      const p = new Uint8Array(length);
      p.set(b);
      out.push(p);
    }
  }
  return out;
}

/** Options of {@linkcode recoverStripe}. */
export interface RecoverOptions {
  /** Cancels the fetches. */
  readonly signal?: AbortSignal;
  /** Data shards already fetched (by stripe position), or their fetches under way. */
  readonly known?: ReadonlyMap<number, Promise<Uint8Array>>;
  /** Data positions already known to be unreadable. */
  readonly failed?: ReadonlySet<number>;
}

/**
 * Rebuilds every data block of a stripe from any k readable shards, fetching data shards
 * first (a healthy stripe decodes nothing) and parity only as needed: k at a time, plus one
 * spare in the first round.
 * Each rebuilt block is verified against its id. Resolves with the stripe's data blocks in
 * order. Rejects with `UnrecoverableStripeError` when fewer than k shards can be read, or
 * `CorruptFileError` when a parity shard has the wrong length or a rebuilt block does not
 * match its id (a manifest that lists the wrong parity).
 *
 * @example
 * ```ts ignore
 * const blocks = await recoverStripe(stripe, source, { signal });
 * ```
 */
export async function recoverStripe(
  stripe: StripeRef,
  source: BlockSource,
  options: RecoverOptions = {},
): Promise<Uint8Array[]> {
  const { policy, data, parity } = stripe;
  const { k, m } = policy;
  const length = data[0].size;
  const shards: (Uint8Array | undefined)[] = new Array(k + m).fill(undefined);
  // Zeros stand in for the data blocks a short last stripe lacks: they count as present.
  let have = k - data.length;
  let zeros: Uint8Array | undefined;
  for (let j = data.length; j < k; j++) shards[j] = zeros ??= new Uint8Array(length);
  const order: number[] = [];
  for (let j = 0; j < data.length; j++) if (!options.failed?.has(j)) order.push(j);
  for (let j = 0; j < m; j++) order.push(k + j);
  const errors: unknown[] = [];
  const fetchShard = async (pos: number): Promise<void> => {
    try {
      let bytes: Uint8Array;
      if (pos < k) {
        bytes = await (options.known?.get(pos) ??
          source.getBlock(data[pos].id, { signal: options.signal }));
        if (bytes.length !== data[pos].size) {
          throw new CorruptFileError(
            `data block ${data[pos].id} has ${bytes.length} bytes, manifest says ${data[pos].size}`,
          );
        }
        if (bytes.length !== length) {
          const p = new Uint8Array(length);
          p.set(bytes);
          bytes = p;
        }
      } else {
        const id = parity[pos - k];
        bytes = await source.getBlock(id, { signal: options.signal });
        if (bytes.length !== length) {
          throw new CorruptFileError(
            `parity block ${id} has ${bytes.length} bytes, its stripe needs ${length}`,
          );
        }
      }
      shards[pos] = bytes;
      have++;
    } catch (err) {
      if (options.signal?.aborted) throw new AbortedError("read aborted", { cause: err });
      errors.push(err);
    }
  };
  let next = 0;
  // One spare shard in the first batch: a stripe being rebuilt has lost something already, and
  // a second loss would otherwise cost another round trip (and hash) before the decode.
  let spare = 1;
  while (have < k && next < order.length) {
    const batch = order.slice(next, next + (k - have) + spare);
    spare = 0;
    next += batch.length;
    await Promise.all(batch.map(fetchShard));
  }
  if (have < k) {
    throw new UnrecoverableStripeError(
      `stripe ${stripe.key}: ${have} of the ${k} shards needed could be read`,
      { cause: errors[0] },
    );
  }
  const missing: number[] = [];
  for (let j = 0; j < data.length; j++) if (shards[j] === undefined) missing.push(j);
  if (missing.length > 0) codecFor(policy).reconstruct(shards, { dataOnly: true });
  const out: Uint8Array[] = [];
  for (let j = 0; j < data.length; j++) {
    const size = data[j].size;
    out.push(shards[j]!.length === size ? shards[j]! : shards[j]!.subarray(0, size));
  }
  // Rebuilt blocks are hashed against their ids (all at once): the data ids define the file,
  // and a manifest whose parity does not belong to its data must not yield wrong bytes.
  await Promise.all(missing.map(async (j) => {
    const got = await ContentId.of(out[j], stripe.algorithm);
    if (!got.equals(data[j].id)) {
      throw new CorruptFileError(
        `stripe ${stripe.key}: rebuilt block ${j} hashes to ${got}, manifest says ${data[j].id}`,
      );
    }
  }));
  return out;
}
