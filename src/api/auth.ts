/**
 * Bearer-token access to the HTTP API: a handler wrapper that answers `401 UNAUTHORIZED` to a
 * request without the right `Authorization: Bearer <token>` header.
 *
 * @module
 */

import type { ApiHandler } from "./handler.ts";
import { type ApiErrorBody, jsonResponse } from "./status.ts";

const encoder = new TextEncoder();

/** Options for {@linkcode requireBearerToken}. */
export interface BearerTokenOptions {
  /** Called for every request refused with `401` (to count or log it). */
  readonly onRefused?: (request: Request) => void;
}

/**
 * Wraps `handler` so that only requests carrying `Authorization: Bearer <token>` reach it.
 * Others get `401` with a JSON error body (code `UNAUTHORIZED`) and `WWW-Authenticate: Bearer`;
 * the answer never contains the token, and the comparison takes the same time whatever the
 * presented token is (both sides are hashed, then compared in full). `options.onRefused` hears of
 * every refusal.
 *
 * @example
 * ```ts
 * import { requireBearerToken } from "./auth.ts";
 * const api = requireBearerToken(() => Promise.resolve(new Response("ok")), "s3cret-token");
 * const res = await api(new Request("http://node/api/v1/status"));
 * console.log(res.status); // 401
 * ```
 */
export function requireBearerToken(
  handler: ApiHandler,
  token: string,
  options: BearerTokenOptions = {},
): ApiHandler {
  const expected = digest(token);
  return async (request) => {
    const presented = bearerOf(request.headers.get("authorization"));
    const ok = presented !== undefined && sameBytes(await expected, await digest(presented));
    if (ok) return await handler(request);
    options.onRefused?.(request);
    await request.body?.cancel().catch(() => {}); // an upload refused is not read
    return unauthorized(presented === undefined);
  };
}

/** The token of an `Authorization: Bearer <token>` header, or `undefined`. */
function bearerOf(header: string | null): string | undefined {
  const m = header === null ? null : /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Compares two equal-length digests without stopping at the first difference. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ (b[i] ?? 0);
  return diff === 0;
}

function unauthorized(missing: boolean): Response {
  const body: ApiErrorBody = {
    error: {
      code: "UNAUTHORIZED",
      message: missing
        ? "this API needs a bearer token (Authorization: Bearer <token>)"
        : "the bearer token is not this node's API token",
    },
  };
  return jsonResponse(body, 401, { "www-authenticate": 'Bearer realm="dfs"' });
}
