/**
 * Builds a file's manifest tree while its data blocks stream in, holding at most `fanout`
 * pending entries per level: memory grows with the tree's height, not with the file.
 *
 * The tree is the one you get by cutting the data block list into leaves of `fanout`
 * entries, then each level into parents of `fanout` entries, until one node is left; a top
 * level of a single manifest is that manifest itself. So the same blocks with the same
 * options always give the same root id.
 *
 * @module
 */

import type { ContentId, HashAlgorithm } from "../id/content_id.ts";
import { InvalidArgumentError } from "../errors.ts";
import { encodeManifest, type ManifestEntry, MAX_HEIGHT } from "./manifest.ts";
import type { Redundancy } from "./redundancy.ts";

/** Options for {@linkcode ManifestTreeBuilder}. */
export interface TreeBuilderOptions {
  /** Hash algorithm of every block. */
  readonly algorithm: HashAlgorithm;
  /** Data block size recorded in every manifest. */
  readonly blockSize: number;
  /** Children per manifest at most. */
  readonly fanout: number;
  /** Data blocks per leaf at most (default `fanout`); a multiple of k for Reed-Solomon. */
  readonly leafFanout?: number;
  /** The policy every manifest records (absent: version 1 manifests). */
  readonly redundancy?: Redundancy;
  /** Every manifest carries the encrypted flag (needs `redundancy`: version 2 only). */
  readonly encrypted?: boolean;
  /** The owner's Ed25519 public key, recorded in the root manifest (needs `redundancy`). */
  readonly owner?: Uint8Array;
  /** Stores an encoded manifest and resolves with its id. */
  readonly store: (bytes: Uint8Array) => Promise<ContentId>;
}

/**
 * Streaming Merkle manifest tree builder.
 *
 * @example
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { ManifestTreeBuilder } from "./tree_builder.ts";
 * const builder = new ManifestTreeBuilder({
 *   algorithm: "sha-256", blockSize: 1024, fanout: 4,
 *   store: (bytes) => ContentId.of(bytes),
 * });
 * await builder.add({ id: await ContentId.of(new Uint8Array(5)), size: 5 });
 * const root = await builder.finish();
 * console.log(root.toString().startsWith("1220")); // true
 * ```
 */
export class ManifestTreeBuilder {
  readonly #options: TreeBuilderOptions;
  readonly #levels: ManifestEntry[][] = [];
  readonly #flushed: boolean[] = [];
  /** Parity ids of the pending leaf's stripes (Reed-Solomon). */
  #parity: ContentId[] = [];
  #manifests = 0;
  #done = false;

  /** Creates a builder; nothing is stored until entries arrive. */
  constructor(options: TreeBuilderOptions) {
    const policy = options.redundancy;
    const leaf = options.leafFanout ?? options.fanout;
    if (policy?.kind === "rs" && leaf % policy.k !== 0) {
      throw new InvalidArgumentError(
        `a Reed-Solomon leaf holds whole stripes: leaf fan-out ${leaf} is not a multiple of ${policy.k}`,
      );
    }
    this.#options = options;
  }

  /** Number of manifests stored so far. */
  get manifests(): number {
    return this.#manifests;
  }

  /** Adds the next data block, in file order. May store one or more manifests. */
  async add(entry: ManifestEntry): Promise<void> {
    if (this.#done) throw new InvalidArgumentError("tree builder already finished");
    if (this.#options.redundancy?.kind === "rs") {
      throw new InvalidArgumentError("a Reed-Solomon file is built stripe by stripe (addStripe)");
    }
    await this.#push(0, entry);
  }

  /**
   * Adds the next stripe of a Reed-Solomon file: up to k data blocks (k except for the file's
   * last stripe) and its m parity ids. May store one or more manifests.
   */
  async addStripe(data: readonly ManifestEntry[], parity: readonly ContentId[]): Promise<void> {
    if (this.#done) throw new InvalidArgumentError("tree builder already finished");
    const policy = this.#options.redundancy;
    if (policy?.kind !== "rs") throw new InvalidArgumentError("not a Reed-Solomon file");
    if (data.length < 1 || data.length > policy.k || parity.length !== policy.m) {
      throw new InvalidArgumentError(
        `a stripe has 1..${policy.k} data blocks and ${policy.m} parity ids, got ${data.length} and ${parity.length}`,
      );
    }
    const leaf = this.#levels[0] ??= [];
    if (leaf.length % policy.k !== 0) {
      throw new InvalidArgumentError("a short stripe must be the file's last");
    }
    leaf.push(...data);
    this.#parity.push(...parity);
    if (leaf.length >= this.#leafFanout()) await this.#flush(0);
  }

  #leafFanout(): number {
    return this.#options.leafFanout ?? this.#options.fanout;
  }

  /** Stores the remaining manifests and resolves with the root manifest's id. */
  async finish(): Promise<ContentId> {
    if (this.#done) throw new InvalidArgumentError("tree builder already finished");
    this.#done = true;
    for (let height = 0;; height++) {
      const pending = this.#levels[height] ?? [];
      if (!this.#flushed[height]) {
        // Top level. One manifest from below is the root itself; otherwise wrap what is left
        // (for height 0, a leaf: possibly the empty one of an empty file).
        // With an owner to record, a lone child is wrapped in a root of its own.
        if (height > 0 && pending.length === 1 && !this.#options.owner) return pending[0].id;
        return await this.#store(height, pending, true);
      }
      if (pending.length > 0) await this.#flush(height);
    }
  }

  async #push(height: number, entry: ManifestEntry): Promise<void> {
    const level = this.#levels[height] ??= [];
    level.push(entry);
    const most = height === 0 ? this.#leafFanout() : this.#options.fanout;
    if (level.length >= most) await this.#flush(height);
  }

  async #flush(height: number): Promise<void> {
    const children = this.#levels[height];
    this.#levels[height] = [];
    this.#flushed[height] = true;
    let size = 0;
    for (const c of children) size += c.size;
    const id = await this.#store(height, children);
    await this.#push(height + 1, { id, size });
  }

  async #store(height: number, children: ManifestEntry[], root = false): Promise<ContentId> {
    if (height > MAX_HEIGHT) {
      throw new InvalidArgumentError(`file too large: manifest tree taller than ${MAX_HEIGHT}`);
    }
    let size = 0;
    for (const c of children) size += c.size;
    const { algorithm, blockSize, redundancy } = this.#options;
    let parity: ContentId[] | undefined;
    if (height === 0 && redundancy?.kind === "rs") {
      parity = this.#parity;
      this.#parity = [];
    }
    const bytes = encodeManifest({
      kind: height === 0 ? "leaf" : "inner",
      height,
      algorithm,
      blockSize,
      size,
      children,
      ...(redundancy ? { redundancy, parity: parity ?? [] } : {}),
      ...(this.#options.encrypted ? { encrypted: true } : {}),
      ...(root && this.#options.owner ? { owner: this.#options.owner } : {}),
    });
    const id = await this.#options.store(bytes);
    this.#manifests++;
    return id;
  }
}
