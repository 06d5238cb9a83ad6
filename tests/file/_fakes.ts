/**
 * Test doubles for the file layer: a Map-backed block sink/source that can fail, truncate or
 * delay on demand and counts what it is asked; a seeded-test wrapper; stream helpers.
 *
 * @module
 */

import { Rng, testSeed, withSeed as withSeedReported } from "../util/prng.ts";
import { ContentId, type HashAlgorithm } from "../../src/id/content_id.ts";
import { AbortedError, DfsError, NotFoundError } from "../../src/errors.ts";
import type {
  BlockSink,
  BlockSource,
  GetBlockOptions,
  PutBlockOptions,
} from "../../src/file/types.ts";

/** What the fake source says about a block that a test broke on purpose. */
export class FakeCorruptBlockError extends DfsError {
  /** Creates the error. */
  constructor(message: string) {
    super("CORRUPT_BLOCK", message);
  }
}

/** A Map-backed sink and source with failure injection and counters. */
export class MemoryBlocks implements BlockSink, BlockSource {
  /** Stored blocks by id text. */
  readonly blocks = new Map<string, Uint8Array>();
  /** Ids fetched through getBlock, in call order. */
  readonly gets: string[] = [];
  /** Ids of blocks whose getBlock rejects with FakeCorruptBlockError. */
  readonly corrupt = new Set<string>();
  /** Ids of blocks whose getBlock resolves with one byte missing. */
  readonly truncated = new Set<string>();
  /** Delay of each getBlock in ms (0: none). */
  getDelayMs = 0;
  /** getBlock calls in flight now, and the most seen at once. */
  inFlight = 0;
  /** Most getBlock calls in flight at once. */
  maxInFlight = 0;
  /** getBlock calls rejected because their signal aborted. */
  aborted = 0;

  /** Stores bytes under their hash. */
  async putBlock(bytes: Uint8Array, options?: PutBlockOptions): Promise<ContentId> {
    const id = await ContentId.of(bytes, options?.algorithm);
    this.blocks.set(id.toString(), bytes);
    return id;
  }

  /** Returns stored bytes, failing as configured. */
  async getBlock(id: ContentId, options?: GetBlockOptions): Promise<Uint8Array> {
    const key = id.toString();
    this.gets.push(key);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.getDelayMs > 0) await sleep(this.getDelayMs, options?.signal);
      else await Promise.resolve();
      if (options?.signal?.aborted) {
        this.aborted++;
        throw new AbortedError("get aborted");
      }
      if (this.corrupt.has(key)) throw new FakeCorruptBlockError(`block ${key} is corrupt`);
      const bytes = this.blocks.get(key);
      if (!bytes) throw new NotFoundError(`no such block: ${key}`);
      if (this.truncated.has(key)) return bytes.subarray(0, bytes.length - 1);
      return bytes;
    } finally {
      this.inFlight--;
    }
  }
}

/** Sleeps `ms`, or rejects with AbortedError as soon as `signal` aborts (no timer leaks). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError("sleep aborted"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError("sleep aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A sink that hashes and discards, tracking concurrency. */
export class DiscardSink implements BlockSink {
  /** Blocks stored. */
  count = 0;
  /** Bytes stored. */
  bytes = 0;
  /** putBlock calls in flight now. */
  inFlight = 0;
  /** Most putBlock calls in flight at once. */
  maxInFlight = 0;
  /** Called after each stored block (to sample producer state). */
  onStored?: () => void;

  /** Hashes (so the id is right) and forgets the bytes. */
  async putBlock(bytes: Uint8Array, options?: PutBlockOptions): Promise<ContentId> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const id = await ContentId.of(bytes, options?.algorithm as HashAlgorithm | undefined);
      this.count++;
      this.bytes += bytes.length;
      this.onStored?.();
      return id;
    } finally {
      this.inFlight--;
    }
  }
}

/**
 * Runs `body` with a generator seeded from env DFS_SEED, else `fallback`; prints the seed when
 * it fails.
 */
export function withSeed(
  fallback: number,
  body: (rand: Rng) => Promise<void> | void,
): Promise<void> {
  const seed = testSeed(fallback);
  return withSeedReported(seed, () => body(new Rng(seed)));
}

/** Reads a whole stream into one array (the shared test helper). */
export { readAll } from "../util/bytes.ts";

/** A stream of `data` cut into chunks of the given sizes (cycled). */
export function streamOf(
  data: Uint8Array,
  chunkSizes: number[] = [4096],
): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= data.length) return c.close();
      const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]);
      c.enqueue(data.slice(at, at + n));
      at += n;
    },
  }, { highWaterMark: 0 });
}

/** Deterministic content: byte i is a function of i (cheap, distinct across blocks). */
export function pattern(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >>> 8) * 7 + (i >>> 16) + salt) & 0xff;
  return out;
}

/** True when `b` starts with the manifest magic. */
export function isManifest(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x44 && b[1] === 0x46 && b[2] === 0x53 && b[3] === 0x4d;
}

/** Number of getBlock calls for data blocks (not manifests) so far. */
export function dataGets(mem: MemoryBlocks): number {
  return mem.gets.filter((g) => !isManifest(mem.blocks.get(g) ?? new Uint8Array())).length;
}
