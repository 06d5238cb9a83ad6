/**
 * "host:port" text form of a {@linkcode NetAddress}, as carried in HELLO and used for
 * bootstrap lists. IPv6 hosts are bracketed: `[::1]:4000`.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { NetAddress } from "../runtime/types.ts";

/**
 * Formats an address as "host:port" (IPv6 in brackets).
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 * console.log(formatAddress({ hostname: "127.0.0.1", port: 4000 })); // "127.0.0.1:4000"
 * ```
 */
export function formatAddress(address: NetAddress): string {
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `${host}:${address.port}`;
}

/**
 * Parses "host:port" (or "[v6]:port"). Throws {@linkcode InvalidArgumentError} on anything
 * else, including a port outside 1..65535.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * console.log(parseAddress("[::1]:4000")); // { hostname: "::1", port: 4000 }
 * ```
 */
export function parseAddress(text: string): NetAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`expected "host:port", got ${JSON.stringify(text)}`);
  }
  return { hostname: m[1] ?? m[2], port };
}
