/**
 * Signed name records: a name maps to a value (a file id's bytes), with a sequence number and
 * an expiry, signed by the publisher's Ed25519 identity key. This file makes, signs and checks
 * one record; `record_store.ts` decides which record a node keeps.
 *
 * The signed bytes are `"dfs/name-record/1\n"` (UTF-8), then the name (u16 length + UTF-8),
 * the value (u16 length + bytes), seq (u64), expires (u64, ms since the epoch) and the public
 * key (32 bytes), all big-endian — `docs/node.md` spells them out.
 *
 * @module
 */

import { verifySignature } from "../peer/identity.ts";
import type { WireSignedRecord } from "../wire/messages.ts";
import { concatBytes } from "../util/concat.ts";
import { bytesEqual } from "../util/bytes_equal.ts";
export { bytesEqual } from "../util/bytes_equal.ts";

/**
 * A signed name record: the wire's `WireSignedRecord` (name, value, seq, expires, publicKey,
 * signature), whose signature covers {@linkcode signedBytes}.
 */
export type SignedNameRecord = WireSignedRecord;

/** The fields of a record before it is signed. */
export type UnsignedNameRecord = Omit<SignedNameRecord, "signature" | "publicKey">;

/** Something that can sign: a node identity. */
export interface RecordSigner {
  /** Raw Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature over `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Largest name in UTF-8 bytes. */
export const MAX_RECORD_NAME_BYTES = 200;
/** Largest value in bytes. */
export const MAX_RECORD_VALUE_BYTES = 256;

const TAG = new TextEncoder().encode("dfs/name-record/1\n");

/**
 * The bytes a record's signature covers. Returns null when a field cannot be encoded (name or
 * value too long, seq or expires not a safe non-negative integer, key not 32 bytes).
 *
 * @example
 * ```ts
 * import { signedBytes } from "./name_record.ts";
 * const b = signedBytes({ name: "a", value: new Uint8Array(2), seq: 1, expires: 0, publicKey: new Uint8Array(32) });
 * console.log(b?.length); // 18 + 3 + 4 + 8 + 8 + 32 = 73
 * ```
 */
export function signedBytes(
  record: UnsignedNameRecord & { readonly publicKey: Uint8Array },
): Uint8Array | null {
  const name = new TextEncoder().encode(record.name);
  if (typeof record.name !== "string" || name.length === 0) return null;
  if (name.length > MAX_RECORD_NAME_BYTES) return null;
  if (!(record.value instanceof Uint8Array) || record.value.length > MAX_RECORD_VALUE_BYTES) {
    return null;
  }
  if (!safeU64(record.seq) || !safeU64(record.expires)) return null;
  if (!(record.publicKey instanceof Uint8Array) || record.publicKey.length !== 32) return null;
  const numbers = new Uint8Array(16);
  const view = new DataView(numbers.buffer);
  view.setBigUint64(0, BigInt(record.seq));
  view.setBigUint64(8, BigInt(record.expires));
  return concatBytes([
    TAG,
    u16(name.length),
    name,
    u16(record.value.length),
    record.value,
    numbers,
    record.publicKey,
  ]);
}

/**
 * Signs a record with `signer`. Throws `RangeError` when a field cannot be encoded.
 *
 * @example
 * ```ts
 * import { NodeIdentity } from "../peer/identity.ts";
 * import { signNameRecord, verifyNameRecord } from "./name_record.ts";
 * const me = await NodeIdentity.generate();
 * const r = await signNameRecord(me, { name: "docs", value: new Uint8Array([1]), seq: 1, expires: Date.now() + 60_000 });
 * console.log(await verifyNameRecord(r)); // true
 * ```
 */
export async function signNameRecord(
  signer: RecordSigner,
  fields: UnsignedNameRecord,
): Promise<SignedNameRecord> {
  const record = { ...fields, publicKey: signer.publicKey };
  const bytes = signedBytes(record);
  if (!bytes) {
    throw new RangeError(`name record for ${JSON.stringify(fields.name)} is not encodable`);
  }
  return { ...record, signature: await signer.sign(bytes) };
}

/** True when the record is well formed and its signature verifies with its public key. */
export async function verifyNameRecord(record: SignedNameRecord): Promise<boolean> {
  const bytes = signedBytes(record);
  if (!bytes || !(record.signature instanceof Uint8Array) || record.signature.length !== 64) {
    return false;
  }
  return await verifySignature(record.publicKey, record.signature, bytes);
}

/** True when two records are the same bytes (fields and signature). */
export function sameRecord(a: SignedNameRecord, b: SignedNameRecord): boolean {
  return a.name === b.name && a.seq === b.seq && a.expires === b.expires &&
    bytesEqual(a.value, b.value) && bytesEqual(a.publicKey, b.publicKey) &&
    bytesEqual(a.signature, b.signature);
}

/** True when `a` and `b` hold the same bytes. */

function safeU64(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function u16(n: number): Uint8Array {
  return new Uint8Array([n >> 8, n & 0xff]);
}
