/**
 * PLACEHOLDER written by the runtime-composition engineer so the composers type-check and
 * run; the TCP engineer replaces this file with the real adapter.
 *
 * @module
 */

import type { Network } from "../types.ts";

/** Placeholder: every call rejects until the real bun TCP adapter lands. */
export function bunNetwork(): Network {
  const notYet = () => Promise.reject(new Error("bunNetwork: not yet implemented"));
  return { listen: notYet, connect: notYet };
}
