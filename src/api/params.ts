/**
 * Query parameters of the API routes, checked: a bad value throws `InvalidArgumentError`, which
 * the handler answers with `400 INVALID_ARGUMENT`.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { formatRedundancy, parseRedundancy } from "../file/redundancy.ts";

/** The put options `POST /files` takes from its query. */
export interface PutParams {
  /** `name`: bind this name too. */
  readonly name?: string;
  /** `copies`: whole copies wanted (short for `redundancy=replicas:N`). */
  readonly copies?: number;
  /** `redundancy`: the file's policy, in its canonical text form (`rs:4+2`). */
  readonly redundancy?: string;
}

/**
 * Reads `name`, `copies` and `redundancy` of a put. `redundancy` is parsed (the parser's message
 * on a bad one) and passed on in its canonical form; `copies` and `redundancy` together are
 * refused, as they would say the same thing twice.
 *
 * @example
 * ```ts
 * import { putParams } from "./params.ts";
 * putParams(new URLSearchParams("name=a&redundancy=RS:4%2B2")); // { name: "a", redundancy: "rs:4+2" }
 * ```
 */
export function putParams(query: URLSearchParams): PutParams {
  const name = query.get("name");
  if (name !== null && name.trim() === "") throw new InvalidArgumentError("name must not be empty");
  const copiesText = query.get("copies");
  const redundancyText = query.get("redundancy");
  if (copiesText !== null && redundancyText !== null) {
    throw new InvalidArgumentError(
      "give copies or redundancy, not both (copies=N is short for redundancy=replicas:N)",
    );
  }
  let copies: number | undefined;
  if (copiesText !== null) {
    copies = Number(copiesText);
    if (!/^\d+$/.test(copiesText) || !Number.isSafeInteger(copies) || copies < 1) {
      throw new InvalidArgumentError(
        `copies must be a whole number >= 1, got ${JSON.stringify(copiesText)}`,
      );
    }
  }
  // An unencoded `+` in a query decodes to a space (`?redundancy=rs:4+2` from a shell): a policy
  // never holds a space, so `rs:4 2` can only have meant `rs:4+2`.
  const redundancy = redundancyText === null
    ? undefined
    : formatRedundancy(parseRedundancy(redundancyText.replace(/^(\s*rs:\d+) (\d+\s*)$/i, "$1+$2")));
  return {
    ...(name !== null ? { name } : {}),
    ...(copies !== undefined ? { copies } : {}),
    ...(redundancy !== undefined ? { redundancy } : {}),
  };
}

const TRUE = new Set(["", "1", "true", "yes"]);
const FALSE = new Set(["0", "false", "no"]);

/**
 * A yes/no query parameter: absent, `0`, `false` or `no` is false; present bare (`?health`),
 * `1`, `true` or `yes` is true; anything else throws `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * import { booleanParam } from "./params.ts";
 * booleanParam(new URLSearchParams("health=1"), "health"); // true
 * booleanParam(new URLSearchParams(""), "health"); // false
 * ```
 */
export function booleanParam(query: URLSearchParams, key: string): boolean {
  const text = query.get(key);
  if (text === null) return false;
  const t = text.toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  throw new InvalidArgumentError(
    `${key} must be 1 or 0 (true or false), got ${JSON.stringify(text)}`,
  );
}
