/**
 * `readFile`: stream a file (or a byte range of it) out of a block source, fetching data
 * blocks in parallel ahead of the reader and delivering them in order with backpressure.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { AbortedError } from "../errors.ts";
import {
  BadCapabilityError,
  CapabilityRequiredError,
  CorruptFileError,
  RangeNotSatisfiableError,
  WrongKeyError,
} from "./errors.ts";
import { FileCipher, plaintextSize, TAG_SIZE } from "./block_cipher.ts";
import type { Manifest } from "./manifest.ts";
import {
  checkConcurrency,
  DEFAULT_READ_CONCURRENCY,
  MAX_CONCURRENCY,
  throwIfAborted,
} from "./options.ts";
import { type DataBlockRef, loadRoot, walkDataBlocks } from "./tree_walker.ts";
import type {
  BlockSource,
  ByteRange,
  ReadEndOutcome,
  ReadFileOptions,
  ReadFileResult,
} from "./types.ts";
import { recoverStripe } from "./stripes.ts";

/**
 * Opens file `id` for reading. Resolves once the root manifest is fetched, so an unknown id
 * rejects right away with the source's `NotFoundError`, a block that is not a manifest with
 * `InvalidManifestError`, a bad range with {@linkcode RangeNotSatisfiableError}.
 *
 * The stream is pull-based: it keeps at most `concurrency` data blocks (default 8) fetched or
 * in flight ahead of the reader and starts no more until the reader takes one. A range
 * fetches only the data blocks and manifests that overlap it. A failing or corrupt source, or
 * a block whose length differs from its manifest entry ({@linkcode CorruptFileError}), errors
 * the stream once the reader reaches that block. Cancelling the stream, or aborting
 * `signal`, aborts every fetch in flight (the stream then errors with `AbortedError`).
 * Chunks are the source's buffers (or views of them), one per data block: do not mutate them.
 *
 * An encrypted file needs `key` (else {@linkcode CapabilityRequiredError}, before any data
 * block is fetched); each block is decrypted once verified, and a block that does not decrypt
 * rejects with `WrongKeyError` (the first block is checked before `readFile` resolves; a later
 * one errors the stream; no byte of such a block is delivered). `size` and `range` are
 * plaintext offsets; a range fetches only the blocks holding them.
 *
 * @example Read bytes 10..19 of a file
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { putFile } from "./put_file.ts";
 * import { readFile } from "./read_file.ts";
 * const blocks = new Map<string, Uint8Array>();
 * const sink = {
 *   async putBlock(bytes: Uint8Array) {
 *     const id = await ContentId.of(bytes);
 *     blocks.set(id.toString(), bytes);
 *     return id;
 *   },
 * };
 * const source = {
 *   async getBlock(id: ContentId) {
 *     const bytes = blocks.get(id.toString());
 *     if (!bytes) throw new Error("not found");
 *     return bytes;
 *   },
 * };
 * const data = new Uint8Array(5000).map((_, i) => i % 251);
 * const { id } = await putFile(data, sink, { blockSize: 1024 });
 * const file = await readFile(id, source, { range: { start: 10, end: 19 } });
 * const got = new Uint8Array(await new Response(file.stream).arrayBuffer());
 * console.log(file.size, got.length); // 5000 10
 * ```
 */
export async function readFile(
  id: ContentId,
  source: BlockSource,
  options: ReadFileOptions = {},
): Promise<ReadFileResult> {
  let concurrency = checkConcurrency(options.concurrency, DEFAULT_READ_CONCURRENCY);
  const { signal } = options;
  throwIfAborted(signal, "read");
  const root = await loadRoot(id, source, signal);
  // A Reed-Solomon file reads at least three stripes ahead: a stripe being rebuilt waits for its
  // shards, and the stripes after it keep the fetches (and both cores) busy meanwhile.
  if (root.redundancy?.kind === "rs") {
    concurrency = Math.max(concurrency, Math.min(MAX_CONCURRENCY, 3 * root.redundancy.k));
  }
  const cipher = await cipherOf(root, id, options.key);
  const size = cipher ? plaintextSize(root.size, root.blockSize) : root.size;
  const { start, end } = resolveRange(options.range, size);
  // An encrypted block holds blockSize - 16 file bytes: walk the stored blocks that hold them.
  const payload = root.blockSize - TAG_SIZE;

  const stop = new AbortController();
  const inner = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const refs = walkDataBlocks(root, source, {
    start: cipher ? Math.floor(start / payload) * root.blockSize : start,
    end: cipher ? Math.floor(end / payload) * root.blockSize : end,
    signal: inner,
    rootId: id,
  });
  const ahead: { ref: DataBlockRef; promise: Promise<Uint8Array> }[] = [];
  let walkDone = false;
  let walkError: unknown;
  let filling: Promise<void> | null = null;
  let finished = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const fetchPlain = async (ref: DataBlockRef): Promise<Uint8Array> => {
    const bytes = await source.getBlock(ref.id, { signal: inner });
    if (!(bytes instanceof Uint8Array) || bytes.length !== ref.size) {
      throw new CorruptFileError(
        `data block ${ref.id} at ${ref.offset} has ${bytes?.length} bytes, manifest says ${ref.size}`,
      );
    }
    return bytes;
  };
  const stripes = new StripeStates(concurrency);
  // A Reed-Solomon block that cannot be read is rebuilt with the rest of its stripe, from any
  // k of its shards (the data blocks fetched already count).
  const fetchBlock = async (ref: DataBlockRef): Promise<Uint8Array> => {
    const { stripe, position } = ref;
    if (!stripe || position === undefined) return await fetchPlain(ref);
    const state = stripes.of(stripe.key);
    if (state.recovery) return (await state.recovery)[position];
    const plain = fetchPlain(ref);
    state.fetches.set(position, plain);
    try {
      return await plain;
    } catch (err) {
      if (inner.aborted) throw err;
      state.failed.add(position);
      state.recovery ??= recoverStripe(stripe, source, {
        signal: inner,
        known: state.fetches,
        failed: state.failed,
      });
      return (await state.recovery)[position];
    }
  };

  // Tops the read-ahead window up to `concurrency`; one fill at a time.
  const topUp = async (): Promise<void> => {
    try {
      while (!walkDone && !finished && ahead.length < concurrency) {
        const next = await refs.next();
        if (finished) break;
        if (next.done) {
          walkDone = true;
          break;
        }
        const ref = next.value;
        const promise = cipher
          ? fetchBlock(ref).then((b) => cipher.decrypt(ref.offset / root.blockSize, b))
          : fetchBlock(ref);
        promise.catch(() => {}); // observed when the reader reaches it
        ahead.push({ ref: next.value, promise });
      }
    } catch (err) {
      walkError = err;
      walkDone = true;
    }
  };
  const fill = (): Promise<void> => {
    filling ??= topUp().finally(() => {
      filling = null;
    });
    return filling;
  };

  const onEnd = options.onEnd;
  const finish = (reason?: unknown, outcome?: ReadEndOutcome) => {
    if (finished) return;
    finished = true;
    if (outcome !== undefined) onEnd?.(outcome);
    signal?.removeEventListener("abort", onAbort);
    stop.abort(reason);
    refs.return(undefined).catch(() => {});
  };

  const onAbort = () => {
    const err = new AbortedError("read aborted", { cause: signal?.reason });
    finish(err, "error");
    try {
      controller.error(err);
    } catch {
      // already closed or errored
    }
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull(c) {
      try {
        while (ahead.length === 0 && !walkDone && !finished) await fill();
        if (finished) return;
        const head = ahead[0];
        if (!head) {
          if (walkError !== undefined) throw walkError;
          finish(undefined, "ok");
          c.close();
          return;
        }
        void fill(); // keep the window full while the reader waits for the head
        const bytes = await head.promise;
        if (finished) return;
        ahead.shift();
        void fill(); // the freed slot starts the next fetch while the reader works
        const { ref } = head;
        const offset = cipher ? (ref.offset / root.blockSize) * payload : ref.offset;
        const from = Math.max(0, start - offset);
        const to = Math.min(bytes.length, end - offset + 1);
        c.enqueue(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to));
      } catch (err) {
        if (finished) return;
        const out = signal?.aborted
          ? new AbortedError("read aborted", { cause: signal.reason })
          : err;
        finish(out, "error");
        c.error(out);
      }
    },
    cancel(reason) {
      finish(reason, "cancelled");
    },
  }, { highWaterMark: 0 });

  // A wrong key shows on the first block: fail the open (a clear error before any byte, e.g.
  // before an HTTP status is sent) rather than the stream.
  if (cipher && end >= start) {
    await fill();
    try {
      await ahead[0]?.promise;
    } catch (err) {
      if (err instanceof WrongKeyError) {
        finish(err);
        throw err;
      }
    }
  }
  return { size, start, end, stream };
}

/** The cipher of an encrypted file, checking that a key comes exactly with encrypted files. */
async function cipherOf(
  root: Manifest,
  id: ContentId,
  key: Uint8Array | undefined,
): Promise<FileCipher | undefined> {
  if (!root.encrypted) {
    if (key === undefined) return undefined;
    throw new BadCapabilityError(`file ${id} is not encrypted: read it by its id`);
  }
  if (key === undefined) {
    throw new CapabilityRequiredError(
      `file ${id} is encrypted: reading it needs its read capability (dfs:r:${id}:KEY), not its id`,
    );
  }
  return await FileCipher.create(key, root.blockSize);
}

/** Per-stripe fetches of a read, for the few stripes around the read-ahead window. */
class StripeStates {
  readonly #states = new Map<
    string,
    {
      fetches: Map<number, Promise<Uint8Array>>;
      failed: Set<number>;
      recovery?: Promise<Uint8Array[]>;
    }
  >();
  readonly #most: number;

  constructor(concurrency: number) {
    this.#most = concurrency + 4;
  }

  of(key: string) {
    let state = this.#states.get(key);
    if (!state) {
      state = { fetches: new Map(), failed: new Set() };
      if (this.#states.size >= this.#most) this.#states.delete(this.#states.keys().next().value!);
      this.#states.set(key, state);
    }
    return state;
  }
}

/**
 * Checks a byte range against a file size and returns inclusive bounds; no range means the
 * whole file (`0..size-1`, so `0..-1` for an empty file). `end` past the file is clamped to
 * its last byte. Throws {@linkcode RangeNotSatisfiableError} for a non-integer or negative
 * bound, `end < start`, `start >= size`, or any range of an empty file.
 *
 * @example
 * ```ts
 * import { resolveRange } from "./read_file.ts";
 * console.log(resolveRange({ start: 5, end: 1000 }, 10)); // { start: 5, end: 9 }
 * ```
 */
export function resolveRange(
  range: ByteRange | undefined,
  size: number,
): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeNotSatisfiableError(
      `range start must be a non-negative integer, got ${start}`,
      size,
    );
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeNotSatisfiableError(
      `range end must be an integer >= ${start}, got ${end}`,
      size,
    );
  }
  if (start >= size) {
    throw new RangeNotSatisfiableError(`range starts at ${start}, file has ${size} bytes`, size);
  }
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}
