/**
 * Which record a reader believes, among those the closest nodes returned for a name.
 *
 * - Private cluster (any member may update): the highest sequence wins.
 * - Open network: each holder keeps the first key it saw publish the name, so holders can
 *   disagree when two keys raced for it. The reader takes the key held by the most of the
 *   answering holders (ties: the key whose record has the highest sequence, then the smaller
 *   signature bytes, so every reader picks the same), and that key's highest sequence.
 *
 * @module
 */

import { toHex } from "../util/hex.ts";
import type { SignedNameRecord } from "./name_record.ts";

/**
 * The record to believe among `records` (already verified), or null when there is none.
 *
 * @example
 * ```ts ignore
 * const best = pickRecord(answers.map((a) => a.record).filter((r) => r !== null), false);
 * ```
 */
export function pickRecord(
  records: readonly SignedNameRecord[],
  anyKeyMayUpdate: boolean,
): SignedNameRecord | null {
  if (records.length === 0) return null;
  let pool = records;
  if (!anyKeyMayUpdate) {
    const votes = new Map<string, { count: number; best: SignedNameRecord }>();
    for (const r of records) {
      const key = toHex(r.publicKey);
      const v = votes.get(key);
      if (!v) votes.set(key, { count: 1, best: r });
      else {
        v.count++;
        if (better(r, v.best)) v.best = r;
      }
    }
    let winner: { count: number; best: SignedNameRecord } | undefined;
    for (const v of votes.values()) {
      if (
        !winner || v.count > winner.count ||
        (v.count === winner.count && better(v.best, winner.best))
      ) {
        winner = v;
      }
    }
    const key = toHex(winner!.best.publicKey);
    pool = records.filter((r) => toHex(r.publicKey) === key);
  }
  let best = pool[0];
  for (const r of pool) if (better(r, best)) best = r;
  return best;
}

/** `a` beats `b`: higher sequence, then later expiry, then smaller signature bytes. */
function better(a: SignedNameRecord, b: SignedNameRecord): boolean {
  if (a.seq !== b.seq) return a.seq > b.seq;
  if (a.expires !== b.expires) return a.expires > b.expires;
  for (let i = 0; i < Math.min(a.signature.length, b.signature.length); i++) {
    if (a.signature[i] !== b.signature[i]) return a.signature[i] < b.signature[i];
  }
  return false;
}
