/**
 * The manifest codec: a binary, versioned, self-describing list of a file's blocks.
 *
 * A manifest is stored as a block like any other; its content id names it. A *leaf*
 * manifest lists data blocks; an *inner* manifest lists child manifests with the number of
 * file bytes each one spans. The file id is the id of the root manifest, a Merkle root over
 * every block of the file.
 *
 * Layout, version 1 (all integers big-endian, unsigned):
 *
 * | offset | size | field |
 * | ------ | ---- | ----- |
 * | 0      | 4    | magic `"DFSM"` (`44 46 53 4d`) |
 * | 4      | 1    | version, `1` |
 * | 5      | 1    | kind: `0` leaf, `1` inner |
 * | 6      | 1    | height: `0` for a leaf, `1..48` for an inner manifest (children have height - 1) |
 * | 7      | 1    | hash: multihash code of every id inside, `0x12` SHA-256 or `0x11` SHA-1 |
 * | 8      | 4    | block size of the file's data blocks, 1024..4194304 |
 * | 12     | 8    | total size: file bytes spanned by this manifest, at most 2^53 - 1 |
 * | 20     | 4    | child count `n`, 0..4096 (0 only for the leaf of an empty file) |
 * | 24     | n*e  | children, each: content id in binary multihash form (34 bytes for SHA-256, 22 for SHA-1), then its size (8 bytes) |
 *
 * `e` is 42 bytes for SHA-256 and 30 for SHA-1. A data block's size is 1..blockSize and
 * every entry of a leaf except the last is exactly blockSize; an inner child's size is the
 * span of that child. Sizes add up to the total size. Nothing may follow the last child.
 *
 * Version 2 records the file's redundancy policy (see `redundancy.ts`) and, for a Reed-Solomon
 * leaf, the ids of its parity shards. Bytes 0..23 are as in version 1 (with version `2`), then:
 *
 * | offset | size | field |
 * | ------ | ---- | ----- |
 * | 24     | 1    | scheme: `0` replicas, `1` Reed-Solomon |
 * | 25     | 1    | replicas: min copies; rs: k, data shards per stripe |
 * | 26     | 1    | replicas: max copies; rs: m, parity shards per stripe |
 * | 27     | 1    | flags: bit 0 set = encrypted, bit 1 set = owner key follows (see below); the other bits `0` |
 * | 28     | 32   | only with flag bit 1: the owner's Ed25519 public key (`o` = 32, else 0) |
 * | 28+o   | n*e  | children, as in version 1 |
 * | 28+o+n*e | p*i | rs leaves only: `p = ceil(n / k) * m` parity ids (`i` = 34 bytes for SHA-256, 22 for SHA-1) |
 *
 * The data children of a leaf form its stripes, `k` at a time in order (the last stripe may be
 * shorter); the `m` parity ids of stripe `s` are entries `s*m .. s*m+m-1`. A parity shard is
 * as long as its stripe's first data block; shorter data blocks, and the data blocks missing
 * from a short last stripe, count as zero-padded (the missing ones as all zeros). Every
 * manifest of a file carries the same policy. A manifest is at most {@linkcode MAX_BLOCK_SIZE}
 * bytes.
 *
 * An **encrypted** file (flag bit 0 in every manifest of it) lists ciphertext data blocks:
 * each is its plaintext AES-256-GCM-sealed, plus a 16-byte tag (`block_cipher.ts`), so every
 * size in its manifests (entries, total, block size) counts stored bytes; a full block carries
 * `blockSize - 16` bytes of the file and a data entry is at least 17 bytes. Holders need
 * nothing else: stripes, repair and scrubbing see ordinary blocks.
 *
 * An **owner** key (flag bit 1) is recorded by a put in the file's root manifest: it is the key
 * whose signed tombstone deletes the file (a holder refuses a tombstone by any other key in an
 * open cluster). It is part of the root's bytes, so of the file id.
 *
 * {@linkcode decodeManifest} enforces all of this, bounded by {@linkcode MAX_FANOUT}, and
 * throws {@linkcode InvalidManifestError} on anything else.
 *
 * @module
 */

import { ContentId, type HashAlgorithm, InvalidIdError } from "../id/content_id.ts";
import { InvalidArgumentError } from "../errors.ts";
import { InvalidManifestError } from "./errors.ts";
import { type Redundancy, redundancyProblem } from "./redundancy.ts";
import { TAG_SIZE } from "./block_cipher.ts";

/** The four magic bytes every manifest starts with: ASCII `DFSM`. */
export const MANIFEST_MAGIC: Uint8Array = new Uint8Array([0x44, 0x46, 0x53, 0x4d]);
/** The manifest format version without a recorded policy (still written when none is given). */
export const MANIFEST_VERSION = 1;
/** The manifest format version that records the redundancy policy. */
export const MANIFEST_VERSION_2 = 2;
/** Flag bit (byte 27 of a version 2 manifest): the file's data blocks are encrypted. */
export const FLAG_ENCRYPTED = 0x01;
/**
 * Flag bit (byte 27 of a version 2 manifest): the owner's Ed25519 public key (32 bytes) follows
 * the header. A put records it in the file's root manifest; only that key may delete the file.
 */
export const FLAG_OWNER = 0x02;
/** Size of the owner key a manifest may carry. */
export const OWNER_KEY_BYTES = 32;
/** Size of the fixed manifest header in bytes (version 1). */
export const MANIFEST_HEADER_SIZE = 24;
/** Size of the fixed manifest header in bytes (version 2). */
export const MANIFEST_HEADER_SIZE_V2 = 28;
/** Most children a manifest may list. */
export const MAX_FANOUT = 4096;
/** Greatest height of a manifest (a leaf has height 0). */
export const MAX_HEIGHT = 48;
/** Smallest data block size. */
export const MIN_BLOCK_SIZE = 1024;
/** Largest data block size. */
export const MAX_BLOCK_SIZE = 4 * 1024 * 1024;
/** Default data block size: 256 KiB. */
export const DEFAULT_BLOCK_SIZE = 256 * 1024;

const HASHES: Record<HashAlgorithm, { code: number; digest: number }> = {
  "sha-256": { code: 0x12, digest: 32 },
  "sha-1": { code: 0x11, digest: 20 },
};

/** One child of a manifest: a data block (in a leaf) or a child manifest (in an inner one). */
export interface ManifestEntry {
  /** Content id of the child block. */
  readonly id: ContentId;
  /** Bytes of the file the child holds (a data block's length, or a child manifest's span). */
  readonly size: number;
}

/** A decoded manifest. */
export interface Manifest {
  /** `"leaf"` lists data blocks, `"inner"` lists manifests one level down. */
  readonly kind: "leaf" | "inner";
  /** 0 for a leaf; an inner manifest's children have height `height - 1`. */
  readonly height: number;
  /** Hash algorithm of every id listed (and of the manifest's own id). */
  readonly algorithm: HashAlgorithm;
  /** The file's data block size. */
  readonly blockSize: number;
  /** File bytes spanned: the sum of the children's sizes. */
  readonly size: number;
  /** The children, in file order. */
  readonly children: readonly ManifestEntry[];
  /** The file's redundancy policy (version 2); absent in a version 1 manifest. */
  readonly redundancy?: Redundancy;
  /**
   * Reed-Solomon leaves only: the parity shard ids, `m` per stripe of `k` children, stripe by
   * stripe (see the module doc). Absent or empty otherwise.
   */
  readonly parity?: readonly ContentId[];
  /**
   * True when the file's data blocks are ciphertext (flag bit 0 of byte 27; version 2 only).
   * Sizes are then stored sizes: each data block is its plaintext plus a 16-byte tag.
   */
  readonly encrypted?: boolean;
  /**
   * The owner's raw Ed25519 public key (32 bytes; flag bit 1 of byte 27, version 2 only), in a
   * file's root manifest: the key whose signed tombstone deletes the file.
   */
  readonly owner?: Uint8Array;
}

/** Bytes one child takes in a manifest of `algorithm`. */
export function manifestEntrySize(algorithm: HashAlgorithm): number {
  const spec = HASHES[algorithm];
  if (!spec) throw new InvalidArgumentError(`unknown hash algorithm ${String(algorithm)}`);
  return 2 + spec.digest + 8;
}

/** Encoded size of a version 1 manifest of `algorithm` with `count` children. */
export function manifestSize(algorithm: HashAlgorithm, count: number): number {
  return MANIFEST_HEADER_SIZE + count * manifestEntrySize(algorithm);
}

/** Encoded size of a version 2 manifest with `count` children and `parity` parity ids. */
export function manifestSizeV2(algorithm: HashAlgorithm, count: number, parity = 0): number {
  return MANIFEST_HEADER_SIZE_V2 + count * manifestEntrySize(algorithm) +
    parity * (manifestEntrySize(algorithm) - 8);
}

/** Parity ids a leaf with `children` data blocks lists under `policy` (0 unless Reed-Solomon). */
export function parityCount(policy: Redundancy | undefined, children: number): number {
  return policy?.kind === "rs" ? Math.ceil(children / policy.k) * policy.m : 0;
}

/**
 * Encodes a manifest. Throws {@linkcode InvalidArgumentError} when it breaks the rules that
 * {@linkcode decodeManifest} enforces, so everything encoded decodes.
 *
 * @example Encode and decode a one-block leaf
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { decodeManifest, encodeManifest } from "./manifest.ts";
 * const block = new Uint8Array([1, 2, 3]);
 * const bytes = encodeManifest({
 *   kind: "leaf", height: 0, algorithm: "sha-256", blockSize: 1024, size: 3,
 *   children: [{ id: await ContentId.of(block), size: 3 }],
 * });
 * console.log(decodeManifest(bytes).size); // 3
 * ```
 */
export function encodeManifest(manifest: Manifest): Uint8Array {
  const problem = checkManifest(manifest);
  if (problem) throw new InvalidArgumentError(`cannot encode manifest: ${problem}`);
  const { children, redundancy } = manifest;
  const parity = manifest.parity ?? [];
  const spec = HASHES[manifest.algorithm];
  const owner = manifest.owner;
  const out = new Uint8Array(
    redundancy
      ? manifestSizeV2(manifest.algorithm, children.length, parity.length) +
        (owner ? OWNER_KEY_BYTES : 0)
      : manifestSize(manifest.algorithm, children.length),
  );
  const view = new DataView(out.buffer);
  out.set(MANIFEST_MAGIC, 0);
  out[4] = redundancy ? MANIFEST_VERSION_2 : MANIFEST_VERSION;
  out[5] = manifest.kind === "leaf" ? 0 : 1;
  out[6] = manifest.height;
  out[7] = spec.code;
  view.setUint32(8, manifest.blockSize);
  writeU64(view, 12, manifest.size);
  view.setUint32(20, children.length);
  let at = MANIFEST_HEADER_SIZE;
  if (redundancy) {
    out[24] = redundancy.kind === "rs" ? 1 : 0;
    out[25] = redundancy.kind === "rs" ? redundancy.k : redundancy.min;
    out[26] = redundancy.kind === "rs" ? redundancy.m : redundancy.max;
    out[27] = (manifest.encrypted ? FLAG_ENCRYPTED : 0) | (owner ? FLAG_OWNER : 0);
    at = MANIFEST_HEADER_SIZE_V2;
    if (owner) {
      out.set(owner, at);
      at += OWNER_KEY_BYTES;
    }
  }
  for (const child of children) {
    out.set(child.id.bytes, at);
    at += child.id.bytes.length;
    writeU64(view, at, child.size);
    at += 8;
  }
  for (const id of parity) {
    out.set(id.bytes, at);
    at += id.bytes.length;
  }
  return out;
}

/**
 * Decodes and validates a manifest. Throws {@linkcode InvalidManifestError} on wrong magic,
 * unknown version, kind or hash, a height that does not fit the kind, a block size out of
 * bounds, more than {@linkcode MAX_FANOUT} children, child ids of another hash, child sizes
 * out of bounds or not adding up to the total, truncated input or trailing bytes. Reads at
 * most the header and `count` entries; never reads past `bytes`.
 *
 * @example Garbage is a typed error
 * ```ts
 * import { decodeManifest } from "./manifest.ts";
 * import { InvalidManifestError } from "./errors.ts";
 * try {
 *   decodeManifest(new Uint8Array(40));
 * } catch (err) {
 *   console.log(err instanceof InvalidManifestError); // true
 * }
 * ```
 */
export function decodeManifest(bytes: Uint8Array): Manifest {
  if (!(bytes instanceof Uint8Array)) throw new InvalidManifestError("manifest must be bytes");
  if (bytes.length < MANIFEST_HEADER_SIZE) {
    throw new InvalidManifestError(
      `manifest truncated: ${bytes.length} bytes, header alone is ${MANIFEST_HEADER_SIZE}`,
    );
  }
  for (let i = 0; i < MANIFEST_MAGIC.length; i++) {
    if (bytes[i] !== MANIFEST_MAGIC[i]) throw new InvalidManifestError("not a manifest: bad magic");
  }
  const version = bytes[4];
  if (version !== MANIFEST_VERSION && version !== MANIFEST_VERSION_2) {
    throw new InvalidManifestError(
      `unsupported manifest version ${version}, expected ${MANIFEST_VERSION} or ${MANIFEST_VERSION_2}`,
    );
  }
  const kindByte = bytes[5];
  if (kindByte !== 0 && kindByte !== 1) {
    throw new InvalidManifestError(`unknown manifest kind ${kindByte}, expected 0 or 1`);
  }
  const kind = kindByte === 0 ? "leaf" : "inner";
  const height = bytes[6];
  const algorithm = algorithmOfCode(bytes[7]);
  if (!algorithm) {
    throw new InvalidManifestError(`unknown hash code 0x${bytes[7].toString(16)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blockSize = view.getUint32(8);
  const size = readU64(view, 12);
  const count = view.getUint32(20);
  if (count > MAX_FANOUT) {
    throw new InvalidManifestError(`manifest lists ${count} children, at most ${MAX_FANOUT}`);
  }
  let redundancy: Redundancy | undefined;
  let encrypted = false;
  let owner: Uint8Array | undefined;
  let header = MANIFEST_HEADER_SIZE;
  if (version === MANIFEST_VERSION_2) {
    if (bytes.length < MANIFEST_HEADER_SIZE_V2) {
      throw new InvalidManifestError(
        `manifest truncated: ${bytes.length} bytes, a version 2 header is ${MANIFEST_HEADER_SIZE_V2}`,
      );
    }
    redundancy = decodePolicy(bytes);
    encrypted = (bytes[27] & FLAG_ENCRYPTED) !== 0;
    header = MANIFEST_HEADER_SIZE_V2;
    if ((bytes[27] & FLAG_OWNER) !== 0) {
      if (bytes.length < header + OWNER_KEY_BYTES) {
        throw new InvalidManifestError("manifest truncated inside its owner key");
      }
      owner = bytes.slice(header, header + OWNER_KEY_BYTES);
      header += OWNER_KEY_BYTES;
    }
  }
  const parityIds = kind === "leaf" ? parityCount(redundancy, count) : 0;
  const expected = redundancy
    ? manifestSizeV2(algorithm, count, parityIds) + (owner ? OWNER_KEY_BYTES : 0)
    : manifestSize(algorithm, count);
  if (expected > MAX_BLOCK_SIZE) {
    throw new InvalidManifestError(
      `manifest would be ${expected} bytes, at most ${MAX_BLOCK_SIZE}`,
    );
  }
  if (bytes.length < expected) {
    throw new InvalidManifestError(
      `manifest truncated: ${bytes.length} bytes, ${count} children need ${expected}`,
    );
  }
  if (bytes.length > expected) {
    throw new InvalidManifestError(
      `${bytes.length - expected} trailing bytes after ${count} manifest children`,
    );
  }
  const spec = HASHES[algorithm];
  const children: ManifestEntry[] = [];
  let at = header;
  for (let i = 0; i < count; i++) {
    const id = readId(bytes, at, spec, algorithm, `child ${i}`);
    at += 2 + spec.digest;
    const childSize = readU64(view, at);
    at += 8;
    children.push({ id, size: childSize });
  }
  const parity: ContentId[] = [];
  for (let i = 0; i < parityIds; i++) {
    parity.push(readId(bytes, at, spec, algorithm, `parity ${i}`));
    at += 2 + spec.digest;
  }
  const manifest: Manifest = redundancy
    ? {
      kind,
      height,
      algorithm,
      blockSize,
      size,
      children,
      redundancy,
      parity,
      ...(encrypted ? { encrypted } : {}),
      ...(owner ? { owner } : {}),
    }
    : { kind, height, algorithm, blockSize, size, children };
  const problem = checkManifest(manifest);
  if (problem) throw new InvalidManifestError(problem);
  return manifest;
}

/** Returns what is wrong with a manifest, or `undefined`. Shared by encoder and decoder. */
function checkManifest(m: Manifest): string | undefined {
  const spec = HASHES[m.algorithm];
  if (!spec) return `unknown hash algorithm ${String(m.algorithm)}`;
  if (m.kind !== "leaf" && m.kind !== "inner") return `unknown kind ${String(m.kind)}`;
  if (m.kind === "leaf" && m.height !== 0) return `a leaf has height 0, got ${m.height}`;
  if (
    m.kind === "inner" && (!Number.isInteger(m.height) || m.height < 1 || m.height > MAX_HEIGHT)
  ) {
    return `an inner manifest has height 1..${MAX_HEIGHT}, got ${m.height}`;
  }
  if (!isBlockSize(m.blockSize)) {
    return `block size ${m.blockSize} outside ${MIN_BLOCK_SIZE}..${MAX_BLOCK_SIZE}`;
  }
  if (!Number.isSafeInteger(m.size) || m.size < 0) return `total size ${m.size} out of range`;
  const n = m.children.length;
  if (n > MAX_FANOUT) return `${n} children, at most ${MAX_FANOUT}`;
  if (m.kind === "inner" && n === 0) return "an inner manifest needs at least one child";
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const child = m.children[i];
    if (child.id.algorithm !== m.algorithm) return `child ${i} is not a ${m.algorithm} id`;
    const s = child.size;
    if (!Number.isSafeInteger(s) || s < 1) return `child ${i} has size ${s}, expected >= 1`;
    if (m.kind === "leaf") {
      if (m.encrypted && s <= TAG_SIZE) {
        return `encrypted block ${i} has size ${s}, expected more than its ${TAG_SIZE}-byte tag`;
      }
      if (s > m.blockSize) return `block ${i} has size ${s}, larger than block size ${m.blockSize}`;
      if (i < n - 1 && s !== m.blockSize) {
        return `block ${i} has size ${s}; all but the last must be ${m.blockSize}`;
      }
    }
    sum += s;
    if (!Number.isSafeInteger(sum)) return "children sizes overflow";
  }
  if (sum !== m.size) return `children sizes add up to ${sum}, total size says ${m.size}`;
  const parity = m.parity ?? [];
  if (m.encrypted && !m.redundancy) return "an encrypted manifest is version 2 (records a policy)";
  if (m.owner !== undefined) {
    if (!m.redundancy) return "a manifest with an owner is version 2 (records a policy)";
    if (!(m.owner instanceof Uint8Array) || m.owner.length !== OWNER_KEY_BYTES) {
      return `owner key must be ${OWNER_KEY_BYTES} bytes`;
    }
  }
  if (m.redundancy) {
    const problem = redundancyProblem(m.redundancy);
    if (problem) return problem;
  }
  const wanted = m.kind === "leaf" ? parityCount(m.redundancy, n) : 0;
  if (parity.length !== wanted) return `${parity.length} parity ids, expected ${wanted}`;
  for (let i = 0; i < parity.length; i++) {
    if (parity[i]?.algorithm !== m.algorithm) return `parity ${i} is not a ${m.algorithm} id`;
  }
  const ownerBytes = m.owner ? OWNER_KEY_BYTES : 0;
  if (m.redundancy && manifestSizeV2(m.algorithm, n, parity.length) + ownerBytes > MAX_BLOCK_SIZE) {
    return `manifest larger than ${MAX_BLOCK_SIZE} bytes`;
  }
  return undefined;
}

/** Decodes bytes 24..26 of a version 2 manifest (and checks byte 27's unknown flags). */
function decodePolicy(bytes: Uint8Array): Redundancy {
  if ((bytes[27] & ~(FLAG_ENCRYPTED | FLAG_OWNER)) !== 0) {
    throw new InvalidManifestError(`flags byte 27 is ${bytes[27]}: unknown flags set`);
  }
  const policy: Redundancy = bytes[24] === 0
    ? { kind: "replicas", min: bytes[25], max: bytes[26] }
    : bytes[24] === 1
    ? { kind: "rs", k: bytes[25], m: bytes[26] }
    : (() => {
      throw new InvalidManifestError(`unknown redundancy scheme ${bytes[24]}`);
    })();
  const problem = redundancyProblem(policy);
  if (problem) throw new InvalidManifestError(problem);
  return policy;
}

function readId(
  bytes: Uint8Array,
  at: number,
  spec: { code: number; digest: number },
  algorithm: HashAlgorithm,
  what: string,
): ContentId {
  if (bytes[at] !== spec.code || bytes[at + 1] !== spec.digest) {
    throw new InvalidManifestError(`${what} is not a ${algorithm} id`);
  }
  try {
    return ContentId.fromBytes(bytes.subarray(at, at + 2 + spec.digest));
  } catch (err) {
    if (err instanceof InvalidIdError) {
      throw new InvalidManifestError(`${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** True when `n` is an allowed data block size. */
export function isBlockSize(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_BLOCK_SIZE && n <= MAX_BLOCK_SIZE;
}

function algorithmOfCode(code: number): HashAlgorithm | undefined {
  for (const name of Object.keys(HASHES) as HashAlgorithm[]) {
    if (HASHES[name].code === code) return name;
  }
  return undefined;
}

const TWO_32 = 0x1_0000_0000;

function writeU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / TWO_32));
  view.setUint32(at + 4, n >>> 0);
}

/** Reads a u64; throws when it is not a safe integer. */
function readU64(view: DataView, at: number): number {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  if (hi >= 0x20_0000) throw new InvalidManifestError(`size at byte ${at} exceeds 2^53 - 1`);
  return hi * TWO_32 + lo;
}
