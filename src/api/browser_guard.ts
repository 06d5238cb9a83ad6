/**
 * Browser safety of the HTTP API: a handler wrapper that refuses what a web page the operator
 * happens to visit could make their browser send to a node — DNS-rebinding requests (a foreign
 * `Host` on a loopback API, which needs no token) and cross-site requests (a foreign `Origin`, or
 * `Sec-Fetch-Site: cross-site` on a method that changes state). Requests that carry neither
 * header (curl, the `dfs` client commands, scripts) are not affected.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { isLoopbackHost } from "../peer/peer_limits.ts";
import { HostNotAllowedError, OriginNotAllowedError } from "./errors.ts";
import type { ApiHandler } from "./handler.ts";
import { errorResponse } from "./status.ts";

/** Options for {@linkcode guardBrowserRequests}. */
export interface BrowserGuardOptions {
  /**
   * The host name or address the API listens on. On a loopback one (`127.0.0.0/8`, `::1`,
   * `localhost`) the `Host` header of every request is checked; elsewhere it is not (an API off
   * loopback requires a bearer token, which a rebinding page does not have).
   */
  readonly listenHostname: string;
  /**
   * More host names (or IP addresses) accepted, with any port, in the `Host` header and as the
   * host of an `Origin`: the name a reverse proxy forwards, a name in `/etc/hosts`. No port, no
   * scheme, no wildcard; see {@linkcode normalizeAllowedHost}.
   */
  readonly allowedHosts?: readonly string[];
  /** Called with each refusal (for logging) before the `403` is answered. */
  readonly onRefused?: (
    error: HostNotAllowedError | OriginNotAllowedError,
    request: Request,
  ) => void;
}

/** Methods that change nothing on the node: a cross-site one of these is not refused for that. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** A `Host` header as browsers send it: a name, IPv4 or bracketed IPv6, and an optional port. */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@\\[\]:]+)(?::\d{1,5})?$/;
/** An `Origin` header as browsers send it: `http(s)://host[:port]`, nothing after. */
const ORIGIN_HEADER = /^https?:\/\/(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@\\[\]:]+)(?::\d{1,5})?$/i;
/** A host name given by the operator: dot-separated labels, one trailing dot allowed. */
const HOST_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * Wraps `handler` so that requests a browser makes on behalf of another site are answered
 * `403` with a JSON error, before they reach it (an upload refused is not read):
 *
 * - **Host** (only when `listenHostname` is loopback): the `Host` header must name a loopback
 *   host (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`) or an allowed host, with any port;
 *   else `HOST_NOT_ALLOWED`. A page whose name an attacker rebinds to `127.0.0.1` sends its own
 *   name (`Host: evil.example:5000`), so it cannot read the API same-origin.
 * - **Origin** (on any address): a request carrying `Origin` (browsers send it on cross-origin
 *   requests and on every `POST`/`PUT`/`DELETE` fetch or form) passes only when the origin's
 *   host and port are the `Host` header's (same origin: the dashboard), or its host is allowed;
 *   `Origin: null` and other schemes never pass. Else `ORIGIN_NOT_ALLOWED`.
 * - **Sec-Fetch-Site**: `cross-site` on a method other than `GET`, `HEAD`, `OPTIONS` is
 *   `ORIGIN_NOT_ALLOWED` too, whatever the `Origin` (a second signal from the browser itself).
 *
 * Host names compare case-insensitively and without a trailing dot; a default port (`:80` for
 * `http:`, `:443` for `https:`) equals none. Throws `InvalidArgumentError` when an allowed host
 * is not a host name (see {@linkcode normalizeAllowedHost}).
 *
 * @example Refuse a cross-site DELETE and a rebinding Host, pass the CLI's requests
 * ```ts
 * import { guardBrowserRequests } from "./browser_guard.ts";
 * const api = () => Promise.resolve(new Response("ok"));
 * const guarded = guardBrowserRequests(api, { listenHostname: "127.0.0.1" });
 * const csrf = new Request("http://127.0.0.1:5000/api/v1/files/x", {
 *   method: "DELETE",
 *   headers: { origin: "https://evil.example" },
 * });
 * console.log((await guarded(csrf)).status); // 403
 * const rebound = new Request("http://evil.example:5000/api/v1/status");
 * console.log((await guarded(rebound)).status); // 403
 * const cli = new Request("http://127.0.0.1:5000/api/v1/files/x", { method: "DELETE" });
 * console.log((await guarded(cli)).status); // 200
 * ```
 */
export function guardBrowserRequests(
  handler: ApiHandler,
  options: BrowserGuardOptions,
): ApiHandler {
  const checkHost = isLoopbackHost(options.listenHostname);
  const allowed: ReadonlySet<string> = new Set(
    (options.allowedHosts ?? []).map((h) => normalizeAllowedHost(h)),
  );
  return async (request) => {
    const refusal = refusalOf(request, checkHost, allowed);
    if (refusal === undefined) return await handler(request);
    options.onRefused?.(refusal, request);
    await request.body?.cancel().catch(() => {}); // an upload refused is not read
    return errorResponse(refusal.code, refusal.message, { "x-content-type-options": "nosniff" });
  };
}

/**
 * The canonical form of a host name the operator allows: lower case, no trailing dot, IPv6 in
 * brackets (`::1` and `[::1]` both give `[::1]`), IPv4 in dotted decimal. Throws
 * `InvalidArgumentError` on anything that is not a bare host name or address: a port, a scheme,
 * a path, a wildcard, an empty string.
 *
 * @example
 * ```ts
 * import { normalizeAllowedHost } from "./browser_guard.ts";
 * normalizeAllowedHost("DFS.Example."); // "dfs.example"
 * normalizeAllowedHost("fd00::1"); // "[fd00::1]"
 * // normalizeAllowedHost("dfs.example:8080") throws InvalidArgumentError
 * ```
 */
export function normalizeAllowedHost(name: string): string {
  const text = name.trim();
  const bare = text.replace(/^\[(.*)\]$/, "$1");
  let host: string | undefined;
  if (/^[0-9A-Fa-f:.]+$/.test(bare) && bare.includes(":")) host = `[${bare}]`;
  else if (HOST_NAME.test(text)) host = text;
  if (host !== undefined) {
    try {
      return nameOf(new URL(`http://${host}/`).hostname);
    } catch {
      // not a valid name or address after all: the error below
    }
  }
  throw new InvalidArgumentError(
    `an allowed host is a host name or IP address without scheme or port (e.g. dfs.example, ` +
      `10.0.0.5, [fd00::1]); got ${quote(name)}`,
  );
}

/** Why `request` is refused, or `undefined` when it may go on. */
function refusalOf(
  request: Request,
  checkHost: boolean,
  allowed: ReadonlySet<string>,
): HostNotAllowedError | OriginNotAllowedError | undefined {
  const hostText = request.headers.get("host") ?? new URL(request.url).host;
  const host = parseHost(hostText, "http:");
  if (checkHost && (host === undefined || !(isLoopbackName(host.name) || allowed.has(host.name)))) {
    return new HostNotAllowedError(
      `this API listens on loopback and answers only requests addressed to localhost, ` +
        `*.localhost, 127.0.0.0/8 or [::1] (any port), or to a host the node allows; ` +
        `Host ${quote(hostText)} is none of these (a DNS-rebinding web page sends such ` +
        `requests). To reach the node by that name (e.g. through a reverse proxy), start it with ` +
        `--api-allow-host ${host?.name ?? "NAME"}`,
    );
  }
  const method = request.method.toUpperCase();
  const originText = request.headers.get("origin");
  if (originText !== null) {
    const origin = ORIGIN_HEADER.test(originText) ? parseUrl(originText) : undefined;
    const sameOrigin = origin !== undefined &&
      parseHost(hostText, origin.protocol)?.host === origin.host;
    if (origin === undefined || !(sameOrigin || allowed.has(nameOf(origin.hostname)))) {
      return new OriginNotAllowedError(
        `a browser sent this ${method} from another site: Origin ${quote(originText)} is not ` +
          `this API's own (${quote(hostText)}), and the API refuses cross-site requests ` +
          `(request forgery). If that is this node's own name behind a reverse proxy, start ` +
          `the node with --api-allow-host ${origin ? nameOf(origin.hostname) : "NAME"}`,
      );
    }
  }
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite?.trim().toLowerCase() === "cross-site" && !SAFE_METHODS.has(method)) {
    return new OriginNotAllowedError(
      `a browser sent this ${method} from another site (Sec-Fetch-Site: cross-site); requests ` +
        `that change a node are accepted only from its own pages and from programs`,
    );
  }
  return undefined;
}

/** `hostText` (a `Host` header) read as a URL of `protocol`: its `host` and its host name. */
function parseHost(
  hostText: string,
  protocol: string,
): { readonly host: string; readonly name: string } | undefined {
  if (!HOST_HEADER.test(hostText)) return undefined;
  const url = parseUrl(`${protocol}//${hostText}`);
  return url === undefined ? undefined : { host: url.host, name: nameOf(url.hostname) };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** A URL's host name without its trailing dot (`localhost.` is `localhost`). */
function nameOf(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, "");
}

/** A canonical host name (see {@linkcode nameOf}) that only ever means this machine. */
function isLoopbackName(name: string): boolean {
  return name === "localhost" || name.endsWith(".localhost") || name === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** A header value for a message: quoted, and at most 200 characters of it. */
function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
