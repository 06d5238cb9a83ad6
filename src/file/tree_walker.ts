/**
 * Walks a file's manifest tree from its root, fetching only the manifests that cover a byte
 * range, and checks that every manifest agrees with its parent. Shared by `readFile`,
 * `statFile` and `fileBlockIds`.
 *
 * @module
 */

import type { ContentId } from "../id/content_id.ts";
import { CorruptFileError, InvalidManifestError } from "./errors.ts";
import { decodeManifest, type Manifest, type ManifestEntry } from "./manifest.ts";
import type { BlockSource } from "./types.ts";
import type { StripeRef } from "./stripes.ts";
import { formatRedundancy } from "./redundancy.ts";

/** A data block of a file, located. */
export interface DataBlockRef {
  /** Content id of the block. */
  readonly id: ContentId;
  /** Its length in bytes. */
  readonly size: number;
  /** Offset of its first byte in the file. */
  readonly offset: number;
  /** Reed-Solomon files: the block's stripe (shared by the refs of one stripe). */
  readonly stripe?: StripeRef;
  /** Reed-Solomon files: the block's position in its stripe, 0..k-1. */
  readonly position?: number;
}

/**
 * Fetches and decodes the root manifest of file `id`. Rejects with the source's error
 * (e.g. `NotFoundError`), {@linkcode InvalidManifestError} when the block is not a manifest,
 * or {@linkcode CorruptFileError} when the manifest's hash differs from the id's.
 *
 * @example
 * ```ts ignore
 * const root = await loadRoot(fileId, source);
 * console.log(root.size);
 * ```
 */
export async function loadRoot(
  id: ContentId,
  source: BlockSource,
  signal?: AbortSignal,
): Promise<Manifest> {
  const bytes = await source.getBlock(id, { signal });
  const root = decode(bytes, `root manifest ${id}`);
  if (root.algorithm !== id.algorithm) {
    throw new CorruptFileError(`root manifest ${id} lists ${root.algorithm} ids`);
  }
  return root;
}

/**
 * Fetches the child manifest that `entry` of `parent` names and checks it against the
 * parent: one level lower, same block size, hash, policy and encrypted flag, spanning exactly
 * `entry.size` bytes.
 */
export async function loadChild(
  parent: Manifest,
  entry: ManifestEntry,
  source: BlockSource,
  signal?: AbortSignal,
): Promise<Manifest> {
  const bytes = await source.getBlock(entry.id, { signal });
  const child = decode(bytes, `manifest ${entry.id}`);
  const problem = child.height !== parent.height - 1
    ? `has height ${child.height}, parent expects ${parent.height - 1}`
    : child.blockSize !== parent.blockSize
    ? `has block size ${child.blockSize}, parent ${parent.blockSize}`
    : child.algorithm !== parent.algorithm
    ? `lists ${child.algorithm} ids, parent ${parent.algorithm}`
    : child.size !== entry.size
    ? `spans ${child.size} bytes, parent says ${entry.size}`
    : policyText(child) !== policyText(parent)
    ? `records redundancy ${policyText(child)}, parent ${policyText(parent)}`
    : !child.encrypted !== !parent.encrypted
    ? `is ${child.encrypted ? "" : "not "}encrypted, parent is${parent.encrypted ? "" : " not"}`
    : undefined;
  if (problem) throw new CorruptFileError(`manifest ${entry.id} ${problem}`);
  return child;
}

/** Options for {@linkcode walkDataBlocks}. */
export interface WalkOptions {
  /** First byte wanted (default 0). */
  readonly start?: number;
  /** Last byte wanted, inclusive (default the file's last byte). */
  readonly end?: number;
  /** Cancels manifest fetches. */
  readonly signal?: AbortSignal;
  /** Called with each manifest visited below the root, before its children. */
  readonly onManifest?: (id: ContentId, manifest: Manifest) => void;
  /** The root's id, for naming stripes (default `"root"`). */
  readonly rootId?: ContentId | string;
}

/**
 * Yields, in file order, the data blocks overlapping bytes `start..end` of the file whose
 * root manifest is `root`, fetching only the manifests on the way. Throws
 * {@linkcode CorruptFileError} when the tree is inconsistent, including a short data block
 * anywhere but at the very end of the file.
 *
 * @example
 * ```ts ignore
 * for await (const ref of walkDataBlocks(root, source, { start: 0, end: 99 })) {
 *   console.log(ref.offset, ref.size);
 * }
 * ```
 */
export async function* walkDataBlocks(
  root: Manifest,
  source: BlockSource,
  options: WalkOptions = {},
): AsyncGenerator<DataBlockRef, void, undefined> {
  const rootId = options.rootId ?? "root";
  const start = options.start ?? 0;
  const end = options.end ?? root.size - 1;
  if (root.size === 0 || end < start) return;
  const fileSize = root.size;
  const { signal, onManifest } = options;

  async function* walk(
    m: Manifest,
    base: number,
    id: ContentId | string,
  ): AsyncGenerator<DataBlockRef, void, undefined> {
    let offset = base;
    const policy = m.kind === "leaf" && m.redundancy?.kind === "rs" ? m.redundancy : undefined;
    let stripe: StripeRef | undefined;
    for (let i = 0; i < m.children.length; i++) {
      const entry = m.children[i];
      const first = offset;
      const last = offset + entry.size - 1;
      offset += entry.size;
      if (last < start) continue;
      if (first > end) return;
      if (m.kind === "leaf") {
        if (entry.size !== m.blockSize && last !== fileSize - 1) {
          throw new CorruptFileError(
            `data block ${entry.id} at ${first} has ${entry.size} bytes; only the last block may be shorter than ${m.blockSize}`,
          );
        }
        if (!policy) {
          yield { id: entry.id, size: entry.size, offset: first };
          continue;
        }
        const s = Math.floor(i / policy.k);
        if (stripe?.key !== `${id}/${s}`) {
          stripe = {
            key: `${id}/${s}`,
            policy,
            data: m.children.slice(s * policy.k, (s + 1) * policy.k),
            parity: (m.parity ?? []).slice(s * policy.m, (s + 1) * policy.m),
            algorithm: m.algorithm,
          };
        }
        yield { id: entry.id, size: entry.size, offset: first, stripe, position: i % policy.k };
      } else {
        const child = await loadChild(m, entry, source, signal);
        onManifest?.(entry.id, child);
        yield* walk(child, first, entry.id);
      }
    }
  }
  yield* walk(root, 0, rootId);
}

function policyText(m: Manifest): string {
  return m.redundancy ? formatRedundancy(m.redundancy) : "none";
}

function decode(bytes: Uint8Array, what: string): Manifest {
  try {
    return decodeManifest(bytes);
  } catch (err) {
    if (err instanceof InvalidManifestError) {
      throw new InvalidManifestError(`${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
