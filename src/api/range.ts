/**
 * Parsing of the HTTP `Range` request header (RFC 9110 §14) for a single byte range.
 *
 * @module
 */

/** A satisfiable byte range, both ends inclusive. */
export interface ResolvedRange {
  /** First byte. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

/**
 * What {@linkcode parseRange} decided: a range to serve, `"unsatisfiable"` (answer `416`), or
 * `null` when the header is to be ignored and the whole file served (`200`).
 */
export type RangeDecision = ResolvedRange | "unsatisfiable" | null;

const SINGLE = /^bytes=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/**
 * Resolves a `Range` header against a file of `size` bytes.
 *
 * Supported forms: `bytes=a-b`, `bytes=a-` (to the end) and `bytes=-n` (the last `n` bytes). An
 * end past the last byte is clamped. A range starting at or past `size`, a suffix of `0` bytes,
 * or any range of an empty file is `"unsatisfiable"`. Headers that are malformed, use another
 * unit, or ask for several ranges return `null`: the server then ignores them and sends the whole
 * file, as RFC 9110 allows.
 *
 * @example
 * ```ts
 * import { parseRange } from "./range.ts";
 * parseRange("bytes=0-99", 1000); // { start: 0, end: 99 }
 * parseRange("bytes=-10", 1000); // { start: 990, end: 999 }
 * parseRange("bytes=2000-", 1000); // "unsatisfiable"
 * parseRange("items=1-2", 1000); // null
 * ```
 */
export function parseRange(header: string, size: number): RangeDecision {
  const m = SINGLE.exec(header.trim());
  if (!m) return null;
  const [, first, last] = m;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return null;
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}
