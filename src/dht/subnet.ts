/**
 * The subnet rule of the routing table: a bucket keeps at most a few contacts from one /24
 * (IPv4) or /48 (IPv6), so one operator with one address block cannot fill a bucket with ids of
 * its choice. Loopback and private addresses are exempt (a LAN cluster, tests on 127.0.0.1).
 *
 * @module
 */

import { formatAddress, parseAddress } from "../peer/address.ts";
import type { Contact } from "./contact.ts";

/**
 * The subnet group of a contact: of the host its connection came from when known (a peer
 * cannot choose it), else of the address it claims.
 *
 * @example
 * ```ts
 * import { contactSubnet } from "./subnet.ts";
 * const c = { id: new Uint8Array(32), idHex: "", address: "10.0.0.1:4000", observedHost: "203.0.113.9" };
 * console.log(contactSubnet(c)); // "v4:203.0.113"
 * ```
 */
export function contactSubnet(contact: Contact): string | null {
  if (contact.observedHost === undefined) return subnetOf(contact.address);
  return subnetOf(formatAddress({ hostname: contact.observedHost, port: 1 }));
}

/**
 * The group an address counts against: `"v4:a.b.c"` for an IPv4 host (its /24),
 * `"v6:xxxx:xxxx:xxxx"` for an IPv6 host (its /48), `"name:HOST"` for a host name, or `null`
 * when the address is exempt (loopback, private, link-local, unspecified) or does not parse.
 *
 * @example
 * ```ts
 * import { subnetOf } from "./subnet.ts";
 * console.log(subnetOf("203.0.113.7:4000")); // "v4:203.0.113"
 * console.log(subnetOf("127.0.0.1:4000")); // null
 * console.log(subnetOf("[2001:db8:1:2::5]:4000")); // "v6:2001:db8:1"
 * ```
 */
export function subnetOf(address: string): string | null {
  let host: string;
  try {
    host = parseAddress(address).hostname.toLowerCase();
  } catch {
    return null;
  }
  let v4 = ipv4(host);
  if (!v4 && host.includes(":")) {
    const groups = ipv6(host);
    if (!groups) return null;
    // An IPv4-mapped address (::ffff:a.b.c.d, in either notation) is its IPv4 address.
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
      v4 = [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff];
    } else {
      return exemptV6(groups)
        ? null
        : `v6:${groups.slice(0, 3).map((g) => g.toString(16)).join(":")}`;
    }
  }
  if (v4) return exemptV4(v4) ? null : `v4:${v4[0]}.${v4[1]}.${v4[2]}`;
  return host === "localhost" ? null : `name:${host}`;
}

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function exemptV4([a, b]: number[]): boolean {
  return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/** The eight 16-bit groups of an IPv6 literal (a trailing dotted quad allowed), or null. */
function ipv6(host: string): number[] | null {
  const quad = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(host);
  if (quad) {
    const v4 = ipv4(quad[2]);
    if (!v4) return null;
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    host = `${quad[1]}${hex(v4[0], v4[1])}:${hex(v4[2], v4[3])}`;
  }
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":"));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (halves.length === 1 && head.length !== 8) return null;
  if (head.length + tail.length > (halves.length === 2 ? 7 : 8)) return null;
  const fill = 8 - head.length - tail.length;
  const all = [...head, ...Array(fill).fill("0"), ...tail];
  const groups = all.map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  return groups.some(Number.isNaN) ? null : groups;
}

function exemptV6(g: number[]): boolean {
  const zeroHead = g.slice(0, 7).every((x) => x === 0);
  return (zeroHead && (g[7] === 1 || g[7] === 0)) || // ::1, ::
    (g[0] & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (g[0] & 0xffc0) === 0xfe80; // fe80::/10 link-local
}
