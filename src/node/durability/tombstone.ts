/**
 * Tombstones: the signed record that file `fileId` was deleted. A delete writes one, signed by
 * the node that issues it; it is kept for a while (default 30 days), travels with the repair
 * checks (FILE_STATE, TOMBSTONE in `docs/protocol.md`), and stops a node that was offline
 * during the delete from bringing the file back, and repair from re-creating it. This file
 * makes, signs, checks and encodes one tombstone; `tombstone_store.ts` keeps them.
 *
 * The signature covers `"dfs/tombstone/1\n"` (UTF-8), then the file id's binary form
 * (self-delimiting, 22 or 34 bytes), the issuer's public key (32 bytes), `deletedAt` and
 * `expiresAt` (u64 each, big-endian, ms since the epoch). The encoded form (on disk, and the
 * wire's tombstone layout) is the file id, issuer, deletedAt, expiresAt, then the signature.
 *
 * A **revival** is the same record with `revival: true`: the file's owner put it again at
 * `deletedAt`, so tombstones of earlier deletes no longer apply. Its signature covers
 * `"dfs/revival/1\n"` instead (a tombstone's signature cannot be replayed as a revival); on disk
 * it carries one more byte (1) after the signature, and on the wire a flag (REVIVAL). Per file,
 * the newest record (tombstone or revival) decides (`tombstone_store.ts`).
 *
 * @module
 */

import { DfsError, InvalidArgumentError } from "../../errors.ts";
import { ContentId } from "../../id/content_id.ts";
import { nodeIdOf, verifySignature } from "../../peer/identity.ts";
import { toHex } from "../../util/hex.ts";
import type { WireTombstone } from "../../wire/messages.ts";
import { bytesEqual } from "../../util/bytes_equal.ts";

/** Milliseconds in a day. */
const DAY_MS = 24 * 60 * 60 * 1000;

/** How long a tombstone is kept unless said otherwise: 30 days. */
export const DEFAULT_TOMBSTONE_TTL_MS: number = 30 * DAY_MS;

/** Longest lifetime (`expiresAt - deletedAt`) a tombstone may have: 400 days. */
export const MAX_TOMBSTONE_TTL_MS: number = 400 * DAY_MS;

/** How far ahead of the receiver's clock `deletedAt` may be: 10 minutes. */
export const MAX_TOMBSTONE_CLOCK_SKEW_MS: number = 10 * 60 * 1000;

/**
 * Largest encoded tombstone: a SHA-256 file id (34) + 32 + 8 + 8 + 64 = 146 bytes, and one more
 * for a revival.
 */
export const MAX_ENCODED_TOMBSTONE_BYTES = 147;

const TAG = new TextEncoder().encode("dfs/tombstone/1\n");
const REVIVAL_TAG = new TextEncoder().encode("dfs/revival/1\n");
/** The byte after an encoded revival's signature. */
const REVIVAL_MARK = 1;
const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** A signed tombstone: file `fileId` was deleted by the node whose key is `issuer`. */
export interface Tombstone {
  /** The deleted file. */
  readonly fileId: ContentId;
  /** Raw Ed25519 public key of the issuing node (32 bytes). */
  readonly issuer: Uint8Array;
  /** When the file was deleted (for a revival: put again), ms since the epoch. */
  readonly deletedAt: number;
  /** When the tombstone may be forgotten, ms since the epoch (after `deletedAt`). */
  readonly expiresAt: number;
  /** Ed25519 signature by `issuer` over {@linkcode tombstoneSignedBytes} (64 bytes). */
  readonly signature: Uint8Array;
  /** True for a revival: the owner put the file again at `deletedAt` (see the module doc). */
  readonly revival?: boolean;
}

/** A tombstone's fields before it is signed. */
export type UnsignedTombstone = Omit<Tombstone, "signature">;

/** Something that signs: a node identity (`NodeIdentity` fits). */
export interface TombstoneSigner {
  /** Raw Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature over `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Why a tombstone was refused. */
export type TombstoneProblem =
  /** A field has the wrong type or size, or the bytes are not a tombstone. */
  | "MALFORMED"
  /** The signature does not verify with the issuer's key. */
  | "BAD_SIGNATURE"
  /** `expiresAt` is not after `deletedAt`. */
  | "BAD_TIMES"
  /** `expiresAt - deletedAt` exceeds {@linkcode MAX_TOMBSTONE_TTL_MS}. */
  | "TTL_TOO_LONG"
  /** `deletedAt` is more than {@linkcode MAX_TOMBSTONE_CLOCK_SKEW_MS} ahead of now. */
  | "FROM_THE_FUTURE"
  /** `expiresAt` has passed. */
  | "EXPIRED"
  /** The issuer is not the file's owner (the key its root manifest records). */
  | "NOT_OWNER";

/**
 * A tombstone is malformed, badly signed, expired or otherwise refused; `reason` says which.
 * The message starts with the reason. Code `INVALID_TOMBSTONE` (a peer connection answers it
 * as ERROR BAD_REQUEST).
 *
 * @example
 * ```ts
 * import { InvalidTombstoneError } from "./tombstone.ts";
 * const err = new InvalidTombstoneError("EXPIRED", "expired at 5");
 * console.log(err.code, err.reason); // INVALID_TOMBSTONE EXPIRED
 * console.log(err.message); // EXPIRED: expired at 5
 * ```
 */
export class InvalidTombstoneError extends DfsError {
  /** Which check failed. */
  readonly reason: TombstoneProblem;
  /** Creates the error. */
  constructor(reason: TombstoneProblem, message: string, options?: { cause?: unknown }) {
    super("INVALID_TOMBSTONE", `${reason}: ${message}`, options);
    this.reason = reason;
  }
}

/**
 * The bytes a tombstone's signature covers. Throws {@linkcode InvalidTombstoneError}
 * (`MALFORMED`) when a field cannot be encoded.
 *
 * @example
 * ```ts
 * import { ContentId } from "../../id/content_id.ts";
 * import { tombstoneSignedBytes } from "./tombstone.ts";
 * const fileId = await ContentId.of(new Uint8Array([1]));
 * const issuer = new Uint8Array(32);
 * const b = tombstoneSignedBytes({ fileId, issuer, deletedAt: 1, expiresAt: 2 });
 * console.log(b.length); // 16 + 34 + 32 + 8 + 8 = 98
 * ```
 */
export function tombstoneSignedBytes(t: UnsignedTombstone): Uint8Array {
  checkFields(t, false);
  const tag = t.revival ? REVIVAL_TAG : TAG;
  const id = t.fileId.bytes;
  const out = new Uint8Array(tag.length + id.length + KEY_BYTES + 16);
  out.set(tag, 0);
  out.set(id, tag.length);
  out.set(t.issuer, tag.length + id.length);
  writeU64(out, tag.length + id.length + KEY_BYTES, t.deletedAt);
  writeU64(out, tag.length + id.length + KEY_BYTES + 8, t.expiresAt);
  return out;
}

/** Options of {@linkcode signTombstone}. */
export interface SignTombstoneOptions {
  /** The time of the delete, ms since the epoch (default `Date.now()`). */
  readonly now?: number;
  /** How long the tombstone is kept (default {@linkcode DEFAULT_TOMBSTONE_TTL_MS}). */
  readonly ttlMs?: number;
}

/**
 * Signs a tombstone for `fileId` with `signer`: deleted at `now`, expiring `ttlMs` later.
 * Throws `InvalidArgumentError` when `now` is not a non-negative safe integer or `ttlMs` is not
 * an integer in 1..{@linkcode MAX_TOMBSTONE_TTL_MS}.
 *
 * @example
 * ```ts
 * import { ContentId } from "../../id/content_id.ts";
 * import { NodeIdentity } from "../../peer/identity.ts";
 * import { signTombstone, verifyTombstone } from "./tombstone.ts";
 * const me = await NodeIdentity.generate();
 * const fileId = await ContentId.of(new TextEncoder().encode("a file"));
 * const t = await signTombstone(me, fileId, { now: 1_790_000_000_000 });
 * console.log(t.expiresAt - t.deletedAt, await verifyTombstone(t)); // 2592000000 true
 * ```
 */
export function signTombstone(
  signer: TombstoneSigner,
  fileId: ContentId,
  options: SignTombstoneOptions = {},
): Promise<Tombstone> {
  return signRecord(signer, fileId, options, false);
}

/**
 * Signs a revival of `fileId` with `signer`: the file was put again at `now`, so tombstones of
 * earlier deletes no longer apply; it expires `ttlMs` later (see the module doc). Throws as
 * {@linkcode signTombstone}.
 *
 * @example
 * ```ts
 * import { ContentId } from "../../id/content_id.ts";
 * import { NodeIdentity } from "../../peer/identity.ts";
 * import { signRevival, verifyTombstone } from "./tombstone.ts";
 * const fileId = await ContentId.of(new TextEncoder().encode("a file"));
 * const r = await signRevival(await NodeIdentity.generate(), fileId);
 * console.log(r.revival, await verifyTombstone(r), await verifyTombstone({ ...r, revival: false })); // true true false
 * ```
 */
export function signRevival(
  signer: TombstoneSigner,
  fileId: ContentId,
  options: SignTombstoneOptions = {},
): Promise<Tombstone> {
  return signRecord(signer, fileId, options, true);
}

async function signRecord(
  signer: TombstoneSigner,
  fileId: ContentId,
  options: SignTombstoneOptions,
  revival: boolean,
): Promise<Tombstone> {
  const now = options.now ?? Date.now();
  const ttlMs = options.ttlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
  if (!Number.isSafeInteger(now) || now < 0) {
    throw new InvalidArgumentError(`tombstone time must be a non-negative integer, got ${now}`);
  }
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TOMBSTONE_TTL_MS) {
    throw new InvalidArgumentError(
      `tombstone ttlMs must be an integer in 1..${MAX_TOMBSTONE_TTL_MS}, got ${ttlMs}`,
    );
  }
  if (!Number.isSafeInteger(now + ttlMs)) {
    throw new InvalidArgumentError(`tombstone expiry ${now} + ${ttlMs} is out of range`);
  }
  const fields: UnsignedTombstone = {
    fileId,
    issuer: signer.publicKey,
    deletedAt: now,
    expiresAt: now + ttlMs,
    ...(revival ? { revival: true } : {}),
  };
  return { ...fields, signature: await signer.sign(tombstoneSignedBytes(fields)) };
}

/**
 * True when the tombstone is well formed and its signature verifies with its issuer's key.
 * Says nothing of its times (see {@linkcode checkTombstone}); never throws.
 *
 * @example
 * ```ts
 * import { ContentId } from "../../id/content_id.ts";
 * import { NodeIdentity } from "../../peer/identity.ts";
 * import { signTombstone, verifyTombstone } from "./tombstone.ts";
 * const fileId = await ContentId.of(new Uint8Array(1));
 * const t = await signTombstone(await NodeIdentity.generate(), fileId);
 * console.log(await verifyTombstone({ ...t, expiresAt: t.expiresAt + 1 })); // false
 * ```
 */
export async function verifyTombstone(t: Tombstone): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    checkFields(t, true);
    bytes = tombstoneSignedBytes(t);
  } catch {
    return false;
  }
  return await verifySignature(t.issuer, t.signature, bytes);
}

/**
 * Checks a tombstone's fields and times against `now` (ms since the epoch), not its signature:
 * well formed, `expiresAt` after `deletedAt`, a lifetime of at most
 * {@linkcode MAX_TOMBSTONE_TTL_MS}, `deletedAt` at most {@linkcode MAX_TOMBSTONE_CLOCK_SKEW_MS}
 * ahead of `now`, and not expired (`expiresAt > now`). Throws
 * {@linkcode InvalidTombstoneError} with the first failed check as its reason.
 *
 * @example
 * ```ts ignore
 * checkTombstone(t, Date.now()); // throws InvalidTombstoneError("EXPIRED", ...) once expired
 * ```
 */
export function checkTombstone(t: Tombstone, now: number): void {
  checkFields(t, true);
  checkTombstoneTimes(t);
  if (t.deletedAt > now + MAX_TOMBSTONE_CLOCK_SKEW_MS) {
    throw new InvalidTombstoneError(
      "FROM_THE_FUTURE",
      `deleted at ${t.deletedAt}, more than ${MAX_TOMBSTONE_CLOCK_SKEW_MS} ms after now (${now})`,
    );
  }
  if (t.expiresAt <= now) {
    throw new InvalidTombstoneError("EXPIRED", `expired at ${t.expiresAt} (now ${now})`);
  }
}

/**
 * {@linkcode checkTombstone}, then the signature: resolves when the tombstone may be kept at
 * `now`, rejects with {@linkcode InvalidTombstoneError} (reason `BAD_SIGNATURE` for the
 * signature) otherwise.
 *
 * @example
 * ```ts
 * import { ContentId } from "../../id/content_id.ts";
 * import { NodeIdentity } from "../../peer/identity.ts";
 * import { signTombstone, validateTombstone } from "./tombstone.ts";
 * const fileId = await ContentId.of(new Uint8Array(1));
 * const t = await signTombstone(await NodeIdentity.generate(), fileId);
 * await validateTombstone(t, Date.now()); // ok
 * ```
 */
export async function validateTombstone(t: Tombstone, now: number): Promise<void> {
  checkTombstone(t, now);
  if (!(await verifyTombstone(t))) {
    throw new InvalidTombstoneError("BAD_SIGNATURE", "signature does not verify with the issuer");
  }
}

/**
 * Encodes a tombstone: file id (22 or 34 bytes), issuer (32), deletedAt (u64), expiresAt (u64),
 * signature (64), as the wire's tombstone layout. Throws {@linkcode InvalidTombstoneError}
 * (`MALFORMED`) for a field the layout cannot hold.
 *
 * @example
 * ```ts
 * import { ContentId } from "../../id/content_id.ts";
 * import { NodeIdentity } from "../../peer/identity.ts";
 * import { decodeTombstone, encodeTombstone, signTombstone } from "./tombstone.ts";
 * const fileId = await ContentId.of(new Uint8Array(1));
 * const t = await signTombstone(await NodeIdentity.generate(), fileId);
 * const bytes = encodeTombstone(t);
 * console.log(bytes.length, decodeTombstone(bytes).fileId.equals(t.fileId)); // 146 true
 * ```
 */
export function encodeTombstone(t: Tombstone): Uint8Array {
  checkFields(t, true);
  const id = t.fileId.bytes;
  const out = new Uint8Array(id.length + KEY_BYTES + 16 + SIGNATURE_BYTES + (t.revival ? 1 : 0));
  if (t.revival) out[out.length - 1] = REVIVAL_MARK;
  out.set(id, 0);
  out.set(t.issuer, id.length);
  writeU64(out, id.length + KEY_BYTES, t.deletedAt);
  writeU64(out, id.length + KEY_BYTES + 8, t.expiresAt);
  out.set(t.signature, id.length + KEY_BYTES + 16);
  return out;
}

/**
 * Decodes {@linkcode encodeTombstone}'s bytes. Bounded: anything but exactly 134 (SHA-1 file id)
 * or 146 (SHA-256) bytes, or one more for a revival, is refused before it is read. Throws {@linkcode InvalidTombstoneError}
 * (`MALFORMED`) for bytes that are not a tombstone; checks neither times nor signature. The
 * result holds copies, not views of `bytes`.
 *
 * @example
 * ```ts
 * import { decodeTombstone } from "./tombstone.ts";
 * try {
 *   decodeTombstone(new Uint8Array(10));
 * } catch (err) {
 *   console.log((err as { reason: string }).reason); // "MALFORMED"
 * }
 * ```
 */
export function decodeTombstone(bytes: Uint8Array): Tombstone {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_ENCODED_TOMBSTONE_BYTES) {
    throw new InvalidTombstoneError(
      "MALFORMED",
      `an encoded tombstone is at most ${MAX_ENCODED_TOMBSTONE_BYTES} bytes`,
    );
  }
  // A revival ends in one more byte: 135 or 147 bytes (file ids are 22 or 34).
  const revival = bytes.length === 135 || bytes.length === 147;
  if (revival && bytes[bytes.length - 1] !== REVIVAL_MARK) {
    throw new InvalidTombstoneError("MALFORMED", `unknown record kind ${bytes[bytes.length - 1]}`);
  }
  const body = revival ? bytes.subarray(0, bytes.length - 1) : bytes;
  const idLength = body.length - KEY_BYTES - 16 - SIGNATURE_BYTES;
  let fileId: ContentId;
  try {
    fileId = ContentId.fromBytes(body.subarray(0, Math.max(0, idLength)));
  } catch (cause) {
    throw new InvalidTombstoneError(
      "MALFORMED",
      `${bytes.length} bytes do not start with a file id of ${idLength} bytes`,
      { cause },
    );
  }
  const t: Tombstone = {
    fileId,
    issuer: body.slice(idLength, idLength + KEY_BYTES),
    deletedAt: readU64(body, idLength + KEY_BYTES, "deletedAt"),
    expiresAt: readU64(body, idLength + KEY_BYTES + 8, "expiresAt"),
    signature: body.slice(idLength + KEY_BYTES + 16),
    ...(revival ? { revival: true } : {}),
  };
  return t;
}

/**
 * The wire form of a tombstone (the file id as binary content id bytes).
 *
 * @example
 * ```ts ignore
 * await peer.sendTombstone(toWireTombstone(t));
 * ```
 */
export function toWireTombstone(t: Tombstone): WireTombstone {
  return {
    fileId: t.fileId.bytes,
    issuer: t.issuer,
    deletedAt: t.deletedAt,
    expiresAt: t.expiresAt,
    signature: t.signature,
    ...(t.revival ? { revival: true } : {}),
  };
}

/**
 * A tombstone from its wire form (not checked beyond its file id: see
 * {@linkcode validateTombstone}). Throws {@linkcode InvalidTombstoneError} (`MALFORMED`) when
 * the file id is not a content id.
 *
 * @example
 * ```ts ignore
 * const { tombstone } = await peer.probe(fileId, ids);
 * if (tombstone) await store.add(fromWireTombstone(tombstone), Date.now());
 * ```
 */
export function fromWireTombstone(w: WireTombstone): Tombstone {
  let fileId: ContentId;
  try {
    fileId = ContentId.fromBytes(w.fileId);
  } catch (cause) {
    throw new InvalidTombstoneError("MALFORMED", "file id is not a content id", { cause });
  }
  return {
    fileId,
    issuer: w.issuer,
    deletedAt: w.deletedAt,
    expiresAt: w.expiresAt,
    signature: w.signature,
    ...(w.revival ? { revival: true } : {}),
  };
}

/**
 * The issuing node's id, hex (SHA-256 of the issuer key, as node ids are), for display.
 *
 * @example
 * ```ts ignore
 * console.log(`deleted by ${await tombstoneIssuerId(t)}`);
 * ```
 */
export async function tombstoneIssuerId(t: Pick<Tombstone, "issuer">): Promise<string> {
  return toHex(await nodeIdOf(t.issuer));
}

/**
 * True when two tombstones are the same bytes (fields and signature).
 *
 * @example
 * ```ts ignore
 * sameTombstone(t, decodeTombstone(encodeTombstone(t))); // true
 * ```
 */
export function sameTombstone(a: Tombstone, b: Tombstone): boolean {
  return a.fileId.equals(b.fileId) && a.deletedAt === b.deletedAt && !a.revival === !b.revival &&
    a.expiresAt === b.expiresAt && bytesEqual(a.issuer, b.issuer) &&
    bytesEqual(a.signature, b.signature);
}

/** Throws MALFORMED unless every field has its type and size (the signature too if `signed`). */
function checkFields(t: UnsignedTombstone & { signature?: unknown }, signed: boolean): void {
  if (t === null || typeof t !== "object") {
    throw new InvalidTombstoneError("MALFORMED", "a tombstone must be an object");
  }
  if (!(t.fileId instanceof ContentId)) {
    throw new InvalidTombstoneError("MALFORMED", "fileId must be a ContentId");
  }
  if (t.revival !== undefined && typeof t.revival !== "boolean") {
    throw new InvalidTombstoneError("MALFORMED", "revival must be a boolean");
  }
  if (!(t.issuer instanceof Uint8Array) || t.issuer.length !== KEY_BYTES) {
    throw new InvalidTombstoneError("MALFORMED", `issuer must be ${KEY_BYTES} bytes`);
  }
  for (const [name, v] of [["deletedAt", t.deletedAt], ["expiresAt", t.expiresAt]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidTombstoneError("MALFORMED", `${name} must be a non-negative integer`);
    }
  }
  if (
    signed && (!(t.signature instanceof Uint8Array) || t.signature.length !== SIGNATURE_BYTES)
  ) {
    throw new InvalidTombstoneError("MALFORMED", `signature must be ${SIGNATURE_BYTES} bytes`);
  }
}

/**
 * The checks of a tombstone's times that do not depend on the clock: `expiresAt` after
 * `deletedAt` (else `BAD_TIMES`), a lifetime of at most {@linkcode MAX_TOMBSTONE_TTL_MS} (else
 * `TTL_TOO_LONG`). Throws {@linkcode InvalidTombstoneError}.
 *
 * @example
 * ```ts
 * import { checkTombstoneTimes } from "./tombstone.ts";
 * checkTombstoneTimes({ deletedAt: 1, expiresAt: 2 }); // ok
 * ```
 */
export function checkTombstoneTimes(t: Pick<Tombstone, "deletedAt" | "expiresAt">): void {
  if (t.expiresAt <= t.deletedAt) {
    throw new InvalidTombstoneError(
      "BAD_TIMES",
      `expires at ${t.expiresAt}, not after its deletion at ${t.deletedAt}`,
    );
  }
  if (t.expiresAt - t.deletedAt > MAX_TOMBSTONE_TTL_MS) {
    throw new InvalidTombstoneError(
      "TTL_TOO_LONG",
      `lives ${t.expiresAt - t.deletedAt} ms, more than ${MAX_TOMBSTONE_TTL_MS} ms`,
    );
  }
}

function writeU64(out: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v >>> 0;
  out[at] = hi >>> 24;
  out[at + 1] = (hi >>> 16) & 0xff;
  out[at + 2] = (hi >>> 8) & 0xff;
  out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24;
  out[at + 5] = (lo >>> 16) & 0xff;
  out[at + 6] = (lo >>> 8) & 0xff;
  out[at + 7] = lo & 0xff;
}

function readU64(bytes: Uint8Array, at: number, what: string): number {
  const hi = ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) +
    bytes[at + 3];
  const lo = ((bytes[at + 4] << 24) >>> 0) + (bytes[at + 5] << 16) + (bytes[at + 6] << 8) +
    bytes[at + 7];
  if (hi > 0x1f_ffff) throw new InvalidTombstoneError("MALFORMED", `${what} above 2^53 - 1`);
  return hi * 0x1_0000_0000 + lo;
}
