/**
 * What the end-to-end bench scripts share: their command-line flags, sizes, process CPU time
 * from `/proc`, and medians.
 *
 * @module
 */

/** Bytes in a MiB. */
export const MiB = 1024 * 1024;

/** The value after `--NAME` in `args` (default `Deno.args`), if given. */
export function flag(name: string, args: readonly string[] = Deno.args): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A size such as `256M`, `1G`, `64K` or `1000` in bytes; throws on anything else. */
export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) throw new Error(`bad --size ${text}`);
  const unit = m[2].toUpperCase() as "" | "K" | "M" | "G";
  return Number(m[1]) * { "": 1, K: 1024, M: MiB, G: 1024 * MiB }[unit];
}

/** CPU time (user + system) of process `pid` so far, in ms (0 when unknown: not Linux, gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in 10 ms ticks
  } catch {
    return 0;
  }
}

/** The median of `xs` (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}
