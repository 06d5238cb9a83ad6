/**
 * The HTTP status for each error code, and the JSON error body.
 *
 * @module
 */

import { DfsError, errorText } from "../errors.ts";

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  NOT_FOUND: 404,
  NO_SUCH_ROUTE: 404,
  NO_DHT: 404,
  INVALID_ID: 400,
  INVALID_ARGUMENT: 400,
  BAD_CAPABILITY: 400,
  CAPABILITY_REQUIRED: 403,
  WRONG_KEY: 403,
  HOST_NOT_ALLOWED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  CONVERGENT_KEY_MISMATCH: 409,
  METHOD_NOT_ALLOWED: 405,
  RECORD_REJECTED: 409,
  RANGE_NOT_SATISFIABLE: 416,
  DHT_NO_PEERS: 503,
  TIMEOUT: 504,
  STORE_FULL: 507,
};

/**
 * The HTTP status for a `DfsError` code: `NOT_FOUND`, `NO_SUCH_ROUTE` and `NO_DHT` 404,
 * `INVALID_ID`, `INVALID_ARGUMENT` and `BAD_CAPABILITY` 400, `CAPABILITY_REQUIRED` (an encrypted
 * file asked for by id), `WRONG_KEY`, `HOST_NOT_ALLOWED` and `ORIGIN_NOT_ALLOWED` (see
 * `guardBrowserRequests`) 403, `CONVERGENT_KEY_MISMATCH` 409, `METHOD_NOT_ALLOWED` 405, `RECORD_REJECTED` 409 (a
 * name record refused, e.g. a name another key owns), `RANGE_NOT_SATISFIABLE` 416, `DHT_NO_PEERS`
 * 503 (no node of the network took a record: try again), `TIMEOUT` 504, `STORE_FULL` 507,
 * anything else 500.
 *
 * @example
 * ```ts
 * import { statusForCode } from "./status.ts";
 * statusForCode("NOT_FOUND"); // 404
 * statusForCode("RECORD_REJECTED"); // 409
 * statusForCode("CORRUPT_BLOCK"); // 500
 * ```
 */
export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** The JSON body of every API error: `{ "error": { "code", "message" } }`. */
export interface ApiErrorBody {
  /** The error. */
  readonly error: {
    /** Stable machine-readable code (a `DfsError` code, or `INTERNAL`). */
    readonly code: string;
    /** Human-readable message. */
    readonly message: string;
  };
}

/** A JSON response with `status` and optional extra headers. */
export function jsonResponse(value: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(value), { status, headers: h });
}

/** A JSON error response for `code`, with the status {@linkcode statusForCode} gives. */
export function errorResponse(code: string, message: string, headers?: HeadersInit): Response {
  const body: ApiErrorBody = { error: { code, message } };
  return jsonResponse(body, statusForCode(code), headers);
}

/**
 * Turns anything thrown into a JSON error response: a `DfsError` keeps its code and message;
 * anything else becomes `500 INTERNAL`.
 */
export function responseForError(err: unknown): Response {
  if (err instanceof DfsError) return errorResponse(err.code, err.message);
  const message = errorText(err);
  return errorResponse("INTERNAL", message || "internal error");
}
