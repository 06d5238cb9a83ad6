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

/** Hosts that mean "every interface" when listening and "nowhere in particular" when shared. */
const UNSPECIFIED = new Set(["0.0.0.0", "::", "0:0:0:0:0:0:0:0"]);

/**
 * The address at which a peer can be reached, from the listen address it advertised and the
 * host its connection came from. A peer that listens on every interface advertises
 * `0.0.0.0:PORT` (or `[::]:PORT`), which means nothing to anyone else: dialling it reaches the
 * dialler's own machine. That host is replaced by the one the connection actually came from
 * (an IPv4-mapped IPv6 host such as `::ffff:10.0.0.2` counts as its IPv4 form). Any other
 * address, an empty one and one that does not parse are returned unchanged.
 *
 * @example
 * ```ts
 * import { reachableAddress } from "./address.ts";
 * console.log(reachableAddress("0.0.0.0:3000", "10.0.0.2")); // "10.0.0.2:3000"
 * console.log(reachableAddress("10.0.0.9:3000", "10.0.0.2")); // "10.0.0.9:3000"
 * ```
 */
export function reachableAddress(advertised: string, observedHost: string): string {
  let address: NetAddress;
  try {
    address = parseAddress(advertised);
  } catch {
    return advertised;
  }
  if (!UNSPECIFIED.has(address.hostname.toLowerCase())) return advertised;
  let host = observedHost.startsWith("[") && observedHost.endsWith("]")
    ? observedHost.slice(1, -1)
    : observedHost;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(host);
  if (mapped) host = mapped[1];
  if (!host || UNSPECIFIED.has(host.toLowerCase())) return advertised;
  return formatAddress({ hostname: host, port: address.port });
}
