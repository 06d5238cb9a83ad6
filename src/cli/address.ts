/**
 * Host:port and API URL parsing for the command line.
 *
 * @module
 */

import { formatAddress } from "../peer/address.ts";
import type { NetAddress } from "../runtime/types.ts";
import { UsageError } from "./errors.ts";

/** Host used when an address leaves it out (`:3000`). */
export const DEFAULT_HOST = "127.0.0.1";
/** Default P2P listen address. */
export const DEFAULT_LISTEN = "127.0.0.1:3000";
/** Default HTTP API address (also what the client subcommands talk to). */
export const DEFAULT_API = "127.0.0.1:5000";
/** Path prefix of the API. */
export const API_PREFIX = "/api/v1";

/**
 * Parses `HOST:PORT`, `:PORT` or `PORT` (the host then defaults to `127.0.0.1`, never to all
 * interfaces) and `[v6]:PORT`. Throws a {@linkcode UsageError} naming `what` on anything else.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./address.ts";
 * parseHostPort(":3000", "--listen"); // { hostname: "127.0.0.1", port: 3000 }
 * parseHostPort("0.0.0.0:3000", "--listen"); // { hostname: "0.0.0.0", port: 3000 }
 * ```
 */
export function parseHostPort(text: string, what: string): NetAddress {
  const t = text.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (/^\d+$/.test(t)) {
    host = "";
    portText = t;
  } else {
    const at = t.lastIndexOf(":");
    if (at < 0 || t.indexOf(":") !== at) {
      throw new UsageError(`${what} expects HOST:PORT or :PORT, got ${JSON.stringify(text)}`);
    }
    host = t.slice(0, at);
    portText = t.slice(at + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`${what}: port must be 0..65535, got ${JSON.stringify(portText)}`);
  }
  if (host !== "" && !/^[A-Za-z0-9.\-:]+$/.test(host)) {
    throw new UsageError(`${what}: bad host ${JSON.stringify(host)}`);
  }
  return { hostname: host || DEFAULT_HOST, port };
}

/**
 * The API base URL (ending in `/api/v1`, no trailing slash) for an `--api` value: a URL
 * (`http://host:port`, path `/api/v1` added unless given) or `HOST:PORT` / `:PORT`.
 *
 * @example
 * ```ts
 * import { apiBaseUrl } from "./address.ts";
 * apiBaseUrl(":5000"); // "http://127.0.0.1:5000/api/v1"
 * apiBaseUrl("https://dfs.example/api/v1/"); // "https://dfs.example/api/v1"
 * ```
 */
export function apiBaseUrl(text: string): string {
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`--api: not a URL: ${JSON.stringify(text)}`);
    }
    let path = url.pathname.replace(/\/+$/, "");
    if (!path.endsWith(API_PREFIX)) path += API_PREFIX;
    return `${url.origin}${path}`;
  }
  return `http://${formatAddress(parseHostPort(text, "--api"))}${API_PREFIX}`;
}

/** The address to serve the API on, from an `--api` value (URL or `HOST:PORT`). */
export function apiListenAddress(text: string): NetAddress {
  if (/^https?:\/\//i.test(text)) {
    const url = new URL(apiBaseUrl(text));
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    return { hostname: url.hostname.replace(/^\[|\]$/g, ""), port };
  }
  return parseHostPort(text, "--api");
}
