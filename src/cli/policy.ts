/**
 * Redundancy policies given on the command line (`put --redundancy`, `serve --redundancy`,
 * `$DFS_REDUNDANCY`).
 *
 * @module
 */

import { errorText } from "../errors.ts";
import { formatRedundancy, parseRedundancy } from "../file/redundancy.ts";
import { UsageError } from "./errors.ts";

/**
 * Checks a policy's text (`replicas:3`, `replicas:2-4`, `rs:4+2`) and returns its canonical form;
 * throws a {@linkcode UsageError} of `command` naming `what` (an option or an environment
 * variable) with the parser's reason otherwise.
 *
 * @example
 * ```ts
 * import { parsePolicy } from "./policy.ts";
 * parsePolicy("RS:4+2", "--redundancy", "put"); // "rs:4+2"
 * ```
 */
export function parsePolicy(text: string, what: string, command: string): string {
  try {
    return formatRedundancy(parseRedundancy(text));
  } catch (err) {
    const reason = errorText(err);
    // "redundancy must be ..." reads well as "--redundancy must be ..."; others get a prefix.
    const message = reason.startsWith("redundancy ")
      ? `${what}${reason.slice("redundancy".length)}`
      : `${what}: ${reason}`;
    throw new UsageError(message, command);
  }
}
