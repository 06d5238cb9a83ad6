/**
 * Reed-Solomon erasure coding over GF(2^8): k data shards, m parity shards, any k of the k+m
 * rebuild the rest.
 *
 * The code is systematic and matrix-based. The (k+m)×k encoding matrix E
 * ({@linkcode cauchyMatrix}) is the identity on top of a Cauchy matrix, exactly ISA-L's
 * `gf_gen_cauchy1_matrix`, so parity bytes equal ISA-L's `ec_encode_data` with that matrix.
 * Shard i, byte x, is row i of E times the column of data bytes at x: the data shards are the
 * data itself and parity shard p is `XOR_j E[k+p][j] * data[j][x]`. Any k rows of E form an
 * invertible matrix (every square submatrix of a Cauchy matrix is invertible), so from any k
 * present shards S, `data = inverse(E[S]) × shards[S]`, and a missing parity shard is its row
 * of E times that. Reconstruction folds both steps into one coefficient matrix, so it is one
 * pass over the k chosen shards however many are missing. Inverses are cached per set of
 * present shards.
 *
 * @example rs:4+2: lose two shards, get them back
 * ```ts
 * import { ReedSolomon } from "./reed_solomon.ts";
 * const rs = ReedSolomon.create(4, 2);
 * const data = [1, 2, 3, 4].map((i) => new Uint8Array(1000).fill(i));
 * const shards: (Uint8Array | undefined)[] = [...data, ...rs.encode(data)];
 * shards[0] = undefined;
 * shards[5] = undefined;
 * rs.reconstruct(shards);
 * console.log(shards[0]![999]); // 1
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";
import { TooFewShardsError } from "./errors.ts";
import { defaultKernel, type GfKernel } from "./kernel.ts";
import { cauchyMatrix, invertMatrix, multiplyMatrices } from "./matrix.ts";

/** Options of {@linkcode ReedSolomon.create}. */
export interface ReedSolomonOptions {
  /** The kernel doing the byte work; default {@linkcode defaultKernel}. */
  readonly kernel?: GfKernel;
}

/** Options of {@linkcode ReedSolomon.reconstruct}. */
export interface ReconstructOptions {
  /** Rebuild only the missing data shards (indices below k), not the missing parity. */
  readonly dataOnly?: boolean;
}

/** Coefficient matrices kept per (present shards, wanted shards), least recently used out. */
const CACHE_SIZE = 64;

/**
 * An rs:k+m erasure code. Shards are numbered 0..k+m-1: data shards first, then parity.
 * Instances are cheap and immutable apart from a small cache of decode matrices.
 *
 * @example
 * ```ts
 * import { ReedSolomon } from "./reed_solomon.ts";
 * const rs = ReedSolomon.create(10, 4);
 * console.log(rs.k, rs.m); // 10 4
 * ```
 */
export class ReedSolomon {
  /** Number of data shards. */
  readonly k: number;
  /** Number of parity shards. */
  readonly m: number;
  /** The kernel in use. */
  readonly kernel: GfKernel;
  /** The (k+m)×k encoding matrix. */
  #matrix: Uint8Array;
  #cache = new Map<string, Uint8Array>();

  private constructor(k: number, m: number, kernel: GfKernel) {
    this.k = k;
    this.m = m;
    this.kernel = kernel;
    this.#matrix = cauchyMatrix(k, m);
  }

  /**
   * An rs:k+m code. Throws {@linkcode InvalidArgumentError} unless k and m are integers with
   * 1 ≤ k, 1 ≤ m and k + m ≤ 256.
   *
   * @example With the TypeScript kernel
   * ```ts
   * import { ReedSolomon } from "./reed_solomon.ts";
   * import { createTypeScriptKernel } from "./typescript_kernel.ts";
   * const rs = ReedSolomon.create(4, 2, { kernel: createTypeScriptKernel() });
   * console.log(rs.kernel.name); // "typescript"
   * ```
   */
  static create(k: number, m: number, options: ReedSolomonOptions = {}): ReedSolomon {
    if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > 256) {
      throw new InvalidArgumentError(
        `invalid Reed-Solomon code rs:${k}+${m}: need integers k >= 1, m >= 1, k + m <= 256`,
      );
    }
    return new ReedSolomon(k, m, options.kernel ?? defaultKernel());
  }

  /**
   * The m parity shards of k data shards of one length (fresh views of one new buffer). Throws
   * {@linkcode InvalidArgumentError} when there are not exactly k shards, one is not a
   * `Uint8Array`, or their lengths differ.
   *
   * @example
   * ```ts
   * import { ReedSolomon } from "./reed_solomon.ts";
   * const rs = ReedSolomon.create(2, 1);
   * const [parity] = rs.encode([new Uint8Array([1, 2]), new Uint8Array([3, 4])]);
   * console.log(parity.length); // 2
   * ```
   */
  encode(data: readonly Uint8Array[]): Uint8Array[] {
    if (!Array.isArray(data) || data.length !== this.k) {
      throw new InvalidArgumentError(
        `rs:${this.k}+${this.m} encodes ${this.k} data shards, got ${
          Array.isArray(data) ? data.length : typeof data
        }`,
      );
    }
    const length = commonLength(data, "data shard");
    // One allocation for all m shards (views of it): fewer fresh arrays to zero and collect.
    const all = new Uint8Array(this.m * length);
    const parity = Array.from(
      { length: this.m },
      (_, i) => all.subarray(i * length, (i + 1) * length),
    );
    this.kernel.mulAdd(this.#matrix.subarray(this.k * this.k), data, parity, length);
    return parity;
  }

  /**
   * Like {@linkcode ReedSolomon.encode}, into the caller's m parity arrays (each as long as a
   * data shard; overwritten, and not overlapping the data). For hot loops that reuse their
   * buffers: allocating fresh 256 KiB arrays (zeroing, page faults, GC) costs about as much
   * as the encoding itself. Throws {@linkcode InvalidArgumentError} on the wrong number or
   * length of arrays.
   *
   * @example
   * ```ts
   * import { ReedSolomon } from "./reed_solomon.ts";
   * const rs = ReedSolomon.create(2, 1);
   * const parity = [new Uint8Array(2)];
   * rs.encodeInto([new Uint8Array([1, 2]), new Uint8Array([3, 4])], parity);
   * console.log(parity[0].length); // 2
   * ```
   */
  encodeInto(data: readonly Uint8Array[], parity: Uint8Array[]): void {
    if (!Array.isArray(data) || data.length !== this.k) {
      throw new InvalidArgumentError(
        `rs:${this.k}+${this.m} encodes ${this.k} data shards, got ${
          Array.isArray(data) ? data.length : typeof data
        }`,
      );
    }
    if (!Array.isArray(parity) || parity.length !== this.m) {
      throw new InvalidArgumentError(
        `rs:${this.k}+${this.m} writes ${this.m} parity shards, got ${
          Array.isArray(parity) ? parity.length : typeof parity
        }`,
      );
    }
    const length = commonLength(data, "data shard");
    if (commonLength(parity, "parity shard") !== length) {
      throw new InvalidArgumentError(
        `parity shards hold ${parity[0].length} bytes, data shards ${length}`,
      );
    }
    this.kernel.mulAdd(this.#matrix.subarray(this.k * this.k), data, parity, length);
  }

  /**
   * Fills in, in place, every missing (`undefined`) entry of `shards` (k+m entries, data then
   * parity), or with `dataOnly` just the missing data shards, from any k present ones. The
   * present shards are not modified; each rebuilt shard is a fresh array. Throws
   * {@linkcode TooFewShardsError} when fewer than k are present, and
   * {@linkcode InvalidArgumentError} when `shards` does not have k+m entries, an entry is
   * neither bytes nor `undefined`, or the present shards differ in length.
   *
   * @example Rebuild only the data
   * ```ts
   * import { ReedSolomon } from "./reed_solomon.ts";
   * const rs = ReedSolomon.create(3, 2);
   * const data = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])];
   * const shards: (Uint8Array | undefined)[] = [...data, ...rs.encode(data)];
   * shards[1] = undefined;
   * shards[4] = undefined;
   * rs.reconstruct(shards, { dataOnly: true });
   * console.log(shards[1]![0], shards[4]); // 2 undefined
   * ```
   */
  reconstruct(shards: (Uint8Array | undefined)[], options: ReconstructOptions = {}): void {
    const { k, m } = this;
    if (!Array.isArray(shards) || shards.length !== k + m) {
      throw new InvalidArgumentError(
        `rs:${k}+${m} reconstructs ${k + m} shards, got ${
          Array.isArray(shards) ? shards.length : typeof shards
        }`,
      );
    }
    const present: number[] = [];
    const wanted: number[] = [];
    let length = -1;
    for (let i = 0; i < k + m; i++) {
      const shard = shards[i];
      if (shard === undefined) {
        if (i < k || !options.dataOnly) wanted.push(i);
        continue;
      }
      if (!(shard instanceof Uint8Array)) {
        throw new InvalidArgumentError(`shard ${i} is neither a Uint8Array nor undefined`);
      }
      if (length === -1) length = shard.length;
      else if (shard.length !== length) {
        throw new InvalidArgumentError(
          `shard ${i} holds ${shard.length} bytes, shard ${present[0]} holds ${length}`,
        );
      }
      present.push(i);
    }
    if (present.length < k) throw new TooFewShardsError(present.length, k);
    if (wanted.length === 0) return;
    // present is ascending, so its first k prefer data shards (cheapest: identity rows)
    const chosen = present.slice(0, k);
    const coefficients = this.#coefficients(chosen, wanted);
    const outputs = wanted.map(() => new Uint8Array(length));
    this.kernel.mulAdd(coefficients, chosen.map((i) => shards[i]!), outputs, length);
    for (let w = 0; w < wanted.length; w++) shards[wanted[w]] = outputs[w];
  }

  /** The wanted×k matrix taking the chosen shards to the wanted ones (cached). */
  #coefficients(chosen: number[], wanted: number[]): Uint8Array {
    const key = `${chosen.join(",")}|${wanted.join(",")}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const { k } = this;
    const a = this.#matrix;
    // decode: data = inverse(E[chosen]) × chosen shards (the identity when chosen = 0..k-1)
    const rows = new Uint8Array(k * k);
    chosen.forEach((i, r) => rows.set(a.subarray(i * k, i * k + k), r * k));
    const decode = chosen[k - 1] === k - 1 ? rows : invertMatrix(rows, k);
    const out = new Uint8Array(wanted.length * k);
    wanted.forEach((i, w) => {
      const row = i < k
        ? decode.subarray(i * k, i * k + k)
        : multiplyMatrices(a.subarray(i * k, i * k + k), decode, 1, k, k);
      out.set(row, w * k);
    });
    this.#cache.set(key, out);
    if (this.#cache.size > CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    return out;
  }
}

function commonLength(shards: readonly Uint8Array[], what: string): number {
  let length = -1;
  for (let i = 0; i < shards.length; i++) {
    const shard = shards[i];
    if (!(shard instanceof Uint8Array)) throw new InvalidArgumentError(`${what} ${i} is not bytes`);
    if (length === -1) length = shard.length;
    else if (shard.length !== length) {
      throw new InvalidArgumentError(
        `${what} ${i} holds ${shard.length} bytes, ${what} 0 holds ${length}`,
      );
    }
  }
  return length;
}
