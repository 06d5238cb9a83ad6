/**
 * Byte counts: parsing sizes given on the command line and formatting them for people.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a size: a whole number of bytes, optionally with a unit (`k`, `KiB`, `KB`, `M`, `MiB`,
 * `MB`, `G`, ...; single letters are binary). Throws a {@linkcode UsageError} naming `what`.
 *
 * @example
 * ```ts
 * import { parseByteSize } from "./bytes.ts";
 * parseByteSize("256KiB", "--block-size"); // 262144
 * parseByteSize("1m", "--block-size"); // 1048576
 * ```
 */
export function parseByteSize(text: string, what: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(
      `${what} expects a positive size like 262144 or 256KiB, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/**
 * Formats a byte count with binary units and one decimal: `512 B`, `1.5 KiB`, `12.0 MiB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./bytes.ts";
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
