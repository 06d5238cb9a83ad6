/**
 * Errors of the HTTP API layer: requests refused before they reach a route. Each extends
 * {@linkcode DfsError} with a stable code; `statusForCode` maps both to `403`.
 *
 * @module
 */

import { DfsError } from "../errors.ts";

/**
 * A request to a loopback API whose `Host` header names neither a loopback host nor one the
 * operator allowed: what a DNS-rebinding page sends. Code `HOST_NOT_ALLOWED` (HTTP 403).
 *
 * @example
 * ```ts
 * import { HostNotAllowedError } from "./errors.ts";
 * const err = new HostNotAllowedError("Host \"evil.example:5000\" is not a loopback name");
 * console.log(err.code); // "HOST_NOT_ALLOWED"
 * ```
 */
export class HostNotAllowedError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("HOST_NOT_ALLOWED", message, options);
  }
}

/**
 * A request a browser sent on behalf of another site: an `Origin` header that is neither the
 * API's own origin nor an allowed host, or `Sec-Fetch-Site: cross-site` on a method that changes
 * state. Code `ORIGIN_NOT_ALLOWED` (HTTP 403).
 *
 * @example
 * ```ts
 * import { OriginNotAllowedError } from "./errors.ts";
 * const err = new OriginNotAllowedError("Origin \"https://evil.example\" is another site");
 * console.log(err.code); // "ORIGIN_NOT_ALLOWED"
 * ```
 */
export class OriginNotAllowedError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("ORIGIN_NOT_ALLOWED", message, options);
  }
}
