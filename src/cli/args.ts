/**
 * Argument parsing with `node:util` `parseArgs`, turning its errors into usage errors.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { errorText } from "../errors.ts";
import { UsageError } from "./errors.ts";

/** Parsed options and positionals of one command. */
export interface Parsed {
  /** Options by long name. */
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments. */
  readonly positionals: string[];
}

/** Options every client subcommand takes. */
export const CLIENT_OPTIONS: ParseArgsOptionsConfig = {
  api: { type: "string" },
  "api-token-file": { type: "string" },
  data: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/**
 * Parses `args` for `command` against `options` (strict: unknown options and missing values are
 * {@linkcode UsageError}s). Checks the number of positionals is within `[min, max]`.
 *
 * @example
 * ```ts
 * import { parseCommand, CLIENT_OPTIONS } from "./args.ts";
 * const p = parseCommand("stat", ["1220ab", "--json"], CLIENT_OPTIONS, 1, 1);
 * console.log(p.positionals[0], p.values.json); // "1220ab" true
 * ```
 */
export function parseCommand(
  command: string,
  args: readonly string[],
  options: ParseArgsOptionsConfig,
  min: number,
  max: number,
): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = errorText(err);
    throw new UsageError(message.split("\n")[0].replace(/\. To specify .*$/, ""), command);
  }
  if (parsed.values.help) return parsed;
  const n = parsed.positionals.length;
  if (n < min) throw new UsageError(`${command}: missing argument`, command);
  if (n > max) {
    throw new UsageError(
      `${command}: unexpected argument ${JSON.stringify(parsed.positionals[max])}`,
      command,
    );
  }
  return parsed;
}

/** A string option's value, or `undefined`. */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === "string" ? v : undefined;
}

/** A whole number ≥ `min` from a string option, or `undefined` when absent. */
export function int(p: Parsed, name: string, command: string, min = 1): number | undefined {
  const v = str(p, name);
  return v === undefined ? undefined : wholeNumber(v, `--${name}`, command, min);
}

/**
 * Parses `text` as a whole number ≥ `min` (digits only); throws a {@linkcode UsageError} of
 * `command` naming `what` (an option or an environment variable) otherwise.
 *
 * @example
 * ```ts
 * import { wholeNumber } from "./args.ts";
 * wholeNumber("32", "--max-connections", "serve"); // 32
 * ```
 */
export function wholeNumber(text: string, what: string, command: string, min = 1): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(
      `${what} expects a whole number >= ${min}, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return n;
}

/**
 * Parses `text` as a decimal number (`30`, `0.5`, `2.25`) greater than 0, or ≥ 0 with
 * `allowZero`; throws a {@linkcode UsageError} of `command` naming `what` otherwise.
 *
 * @example
 * ```ts
 * import { decimal } from "./args.ts";
 * decimal("0.5", "--repair-grace", "serve"); // 0.5
 * decimal("0", "--scrub-rate", "serve", true); // 0
 * ```
 */
export function decimal(text: string, what: string, command: string, allowZero = false): number {
  const n = Number(text);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || !Number.isFinite(n) || (allowZero ? n < 0 : n <= 0)) {
    throw new UsageError(
      `${what} expects a number ${allowZero ? ">= 0" : "> 0"}, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return n;
}
