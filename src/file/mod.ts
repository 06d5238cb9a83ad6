/**
 * The file layer: files <-> blocks. A file streams in through {@linkcode putFile}, is cut
 * into fixed-size blocks, each hashed and stored through a {@linkcode BlockSink}, and listed
 * by a tree of manifests whose root's id is the file id. {@linkcode readFile} streams it (or
 * a byte range) back out of a {@linkcode BlockSource}, in parallel and in order.
 *
 * @example Round-trip a file through a Map
 * ```ts
 * import { ContentId } from "../id/content_id.ts";
 * import { putFile, readFile } from "./mod.ts";
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
 *     return blocks.get(id.toString())!;
 *   },
 * };
 * const { id } = await putFile(new TextEncoder().encode("hello"), sink);
 * const { stream } = await readFile(id, source);
 * console.log(await new Response(stream).text()); // "hello"
 * ```
 *
 * @module
 */

export type {
  BlockSink,
  BlockSource,
  ByteRange,
  FileStat,
  GetBlockOptions,
  PutBlockOptions,
  PutFileOptions,
  PutFileResult,
  ReadEndOutcome,
  ReadFileOptions,
  ReadFileResult,
} from "./types.ts";
export {
  BadCapabilityError,
  CapabilityRequiredError,
  ConvergentKeyMismatchError,
  CorruptFileError,
  InvalidManifestError,
  RangeNotSatisfiableError,
  UnrecoverableStripeError,
  WrongKeyError,
} from "./errors.ts";
export {
  CAPABILITY_PREFIX,
  formatCapability,
  formatFileKey,
  isCapability,
  parseCapability,
  parseFileKey,
  type ReadCapability,
} from "./capability.ts";
export {
  FILE_KEY_SIZE,
  FileCipher,
  plaintextSize,
  randomFileKey,
  TAG_SIZE,
} from "./block_cipher.ts";
export { ConvergentHasher, convergentKey } from "./convergent.ts";
export {
  checkRedundancy,
  DEFAULT_REDUNDANCY,
  type ErasurePolicy,
  formatRedundancy,
  parseRedundancy,
  type Redundancy,
  type ReplicasPolicy,
} from "./redundancy.ts";
export {
  decodeManifest,
  DEFAULT_BLOCK_SIZE,
  encodeManifest,
  type Manifest,
  type ManifestEntry,
  MAX_BLOCK_SIZE,
  MAX_FANOUT,
  MIN_BLOCK_SIZE,
} from "./manifest.ts";
export { chunk, chunkBytes, type ChunkOptions, chunkStream } from "./chunker.ts";
export { putFile } from "./put_file.ts";
export { readFile, resolveRange } from "./read_file.ts";
export { statFile } from "./stat_file.ts";
export { type FileBlock, fileBlockIds, fileBlocks } from "./file_block_ids.ts";
