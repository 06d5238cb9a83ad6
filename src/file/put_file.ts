/**
 * `putFile`: stream a file in, cut it into blocks, hash and store them with bounded
 * concurrency, and store its manifest tree. Resolves with the file id (the root manifest's
 * content id).
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import { AbortedError } from "../errors.ts";
import { chunk } from "./chunker.ts";
import { ConvergentKeyMismatchError, CorruptFileError } from "./errors.ts";
import { FileCipher, TAG_SIZE } from "./block_cipher.ts";
import { ConvergentHasher } from "./convergent.ts";
import { DEFAULT_REDUNDANCY } from "./redundancy.ts";
import { resolvePutOptions, throwIfAborted } from "./options.ts";
import { ManifestTreeBuilder } from "./tree_builder.ts";
import type { ManifestEntry } from "./manifest.ts";
import { encodeStripe } from "./stripes.ts";
import type { BlockSink, PutFileOptions, PutFileResult } from "./types.ts";
import { bytesEqual } from "../util/bytes_equal.ts";

/**
 * Stores a file through `sink` and resolves with its id, size and number of data blocks.
 *
 * The input is read block by block; each block is hashed (Web Crypto) and stored while the
 * next ones are read and hashed, with at most `concurrency` blocks (default 4) in flight.
 * The input is read only as fast as blocks get stored, so memory stays at a few blocks
 * whatever the file size. Manifests are stored as soon as they fill up. The same bytes with
 * the same `blockSize`, `algorithm` and `fanout` always give the same id.
 *
 * With `key`, each block of `blockSize - 16` input bytes is sealed with AES-256-GCM under a key
 * and nonce derived for its index (`block_cipher.ts`) before it is hashed and stored; the
 * manifests record the encrypted flag (see `docs/file-format.md`). A random key gives a new id
 * on every put; a convergent key (`convergent: true`) the same id for the same bytes.
 *
 * Rejects with `InvalidArgumentError` for bad options or input, `AbortedError` when
 * `signal` aborts, {@linkcode CorruptFileError} when the sink returns an id other than the
 * block's hash, or the sink's or the input's own error. On failure the input stream is
 * cancelled; blocks already stored stay stored (the store's GC reclaims them).
 *
 * @example Store a small file in a Map
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { putFile } from "./put_file.ts";
 * const blocks = new Map<string, Uint8Array>();
 * const sink = {
 *   async putBlock(bytes: Uint8Array) {
 *     const id = await ContentId.of(bytes);
 *     blocks.set(id.toString(), bytes);
 *     return id;
 *   },
 * };
 * const file = await putFile(new Uint8Array(3000), sink, { blockSize: 1024 });
 * console.log(file.size, file.blocks, blocks.size); // 3000 3 3 (two distinct data blocks + manifest)
 * ```
 */
export async function putFile(
  input: ReadableStream<Uint8Array> | Uint8Array,
  sink: BlockSink,
  options: PutFileOptions = {},
): Promise<PutFileResult> {
  const encrypting = options.key !== undefined;
  const { blockSize, algorithm, fanout, concurrency, leafFanout, redundancy } = resolvePutOptions(
    encrypting && !options.redundancy ? { ...options, redundancy: DEFAULT_REDUNDANCY } : options,
  );
  const cipher = encrypting ? await FileCipher.create(options.key!, blockSize) : undefined;
  const hasher = cipher && options.convergent ? new ConvergentHasher() : undefined;
  const erasure = redundancy?.kind === "rs" ? redundancy : undefined;
  const { signal, onProgress } = options;
  throwIfAborted(signal, "put");

  const stop = new AbortController();
  const inner = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let firstError: unknown;
  const fail = (err: unknown) => {
    firstError ??= err;
    stop.abort(err);
  };

  const store = async (bytes: Uint8Array): Promise<ContentId> => {
    const id = await ContentId.of(bytes, algorithm);
    throwIfAborted(inner, "put");
    const got = await sink.putBlock(bytes, { signal: inner, algorithm, id });
    if (!got?.equals?.(id)) {
      throw new CorruptFileError(`sink stored block ${id} under id ${String(got)}`);
    }
    return id;
  };

  const builder = new ManifestTreeBuilder({
    algorithm,
    blockSize,
    fanout,
    leafFanout,
    store,
    ...(redundancy ? { redundancy } : {}),
    ...(cipher ? { encrypted: true } : {}),
    ...(options.owner ? { owner: options.owner } : {}),
  });
  // `size` counts stored bytes (ciphertext and tag when encrypting), `plain` file bytes.
  const inFlight: {
    promise: Promise<ContentId>;
    size: number;
    plain: number;
    bytes?: Promise<Uint8Array>;
  }[] = [];
  let size = 0;
  let blocks = 0;
  let stored = 0;
  let parityBlocks = 0;
  // Reed-Solomon: the data blocks of the stripe being filled, kept until its parity is computed.
  let stripe: { entries: ManifestEntry[]; bytes: Uint8Array[] } = { entries: [], bytes: [] };

  const closeStripe = async () => {
    const { entries, bytes } = stripe;
    stripe = { entries: [], bytes: [] };
    const parity = await Promise.all(encodeStripe(erasure!, bytes).map(store));
    parityBlocks += parity.length;
    await builder.addStripe(entries, parity);
  };

  const settleOldest = async () => {
    const head = inFlight.shift()!;
    const id = await head.promise;
    if (erasure) {
      stripe.entries.push({ id, size: head.size });
      stripe.bytes.push(await head.bytes!);
      if (stripe.entries.length === erasure.k) await closeStripe();
    } else {
      await builder.add({ id, size: head.size });
    }
    stored += head.plain;
    onProgress?.(stored);
  };

  try {
    const payload = cipher ? blockSize - TAG_SIZE : blockSize;
    for await (const block of chunk(input, payload, { signal: inner })) {
      hasher?.update(block);
      const sealed = cipher ? cipher.encrypt(blocks, block) : Promise.resolve(block);
      sealed.catch(() => {});
      const promise = sealed.then(store);
      promise.catch(fail);
      inFlight.push({
        promise,
        size: block.length + (cipher ? TAG_SIZE : 0),
        plain: block.length,
        ...(erasure ? { bytes: sealed } : {}),
      });
      size += block.length;
      blocks++;
      while (inFlight.length >= concurrency) await settleOldest();
    }
    while (inFlight.length > 0) await settleOldest();
    if (stripe.entries.length > 0) await closeStripe();
    if (hasher && !bytesEqual(await hasher.digest(), options.key!)) {
      throw new ConvergentKeyMismatchError(
        "the key is not the convergent key of the bytes read (did the source change?)",
      );
    }
    const id = await builder.finish();
    return { id, size, blocks, parityBlocks, ...(cipher ? { encrypted: true as const } : {}) };
  } catch (err) {
    fail(err);
    await Promise.allSettled(inFlight.map((f) => f.promise));
    if (signal?.aborted) throw new AbortedError("put aborted", { cause: signal.reason });
    throw firstError;
  }
}
