/**
 * Query parameters of the API routes, checked: a bad value throws `InvalidArgumentError`, which
 * the handler answers with `400 INVALID_ARGUMENT`.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { formatRedundancy, parseRedundancy } from "../file/redundancy.ts";
import { parseFileKey } from "../file/capability.ts";

/** The put options `POST /files` takes from its query. */
export interface PutParams {
  /** `name`: bind this name too. */
  readonly name?: string;
  /** `copies`: whole copies wanted (short for `redundancy=replicas:N`). */
  readonly copies?: number;
  /** `redundancy`: the file's policy, in its canonical text form (`rs:4+2`). */
  readonly redundancy?: string;
  /** `encrypt`: `1` (default), `0` (public: plaintext) or `convergent`. */
  readonly encrypt?: boolean | "convergent";
  /** `share-key`: with `name`, the name maps to the read capability. */
  readonly shareKey?: boolean;
  /** `encrypt=convergent`: the key from the {@linkcode CONVERGENT_KEY_HEADER} header. */
  readonly convergentKey?: Uint8Array;
}

/**
 * The request header of a convergent `POST /files` that carries the body's convergent key
 * (base64url), computed by the client in a first read of its source: the node reads the body
 * once, checks the key as it goes, and fails the put (`409 CONVERGENT_KEY_MISMATCH`) when it
 * is not the body's.
 */
export const CONVERGENT_KEY_HEADER = "x-dfs-convergent-key";

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
export function putParams(query: URLSearchParams, headers?: Headers): PutParams {
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
    ...encryptionParams(query, headers),
  };
}

/** `encrypt`, `share-key` and the convergent key header of a put. */
function encryptionParams(query: URLSearchParams, headers: Headers | undefined) {
  const text = query.get("encrypt");
  const encrypt = text?.toLowerCase() === "convergent"
    ? "convergent" as const
    : text === null
    ? undefined
    : booleanParam(query, "encrypt");
  const shareKey = booleanParam(query, "share-key");
  const keyText = headers?.get(CONVERGENT_KEY_HEADER) ?? null;
  if (encrypt === "convergent" && keyText === null) {
    throw new InvalidArgumentError(
      `encrypt=convergent needs the body's convergent key in ${CONVERGENT_KEY_HEADER}`,
    );
  }
  if (encrypt !== "convergent" && keyText !== null) {
    throw new InvalidArgumentError(`${CONVERGENT_KEY_HEADER} goes with encrypt=convergent`);
  }
  return {
    ...(encrypt !== undefined ? { encrypt } : {}),
    ...(shareKey ? { shareKey } : {}),
    ...(keyText !== null ? { convergentKey: parseFileKey(keyText.trim()) } : {}),
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
