/**
 * The dashboard: a self-contained web page at `/` on the API port, served in front of the API
 * handler (and in front of its bearer-token check: the page holds no data, it asks the API for
 * it with the token the user gives it).
 *
 * @module
 */

import type { ApiHandler } from "../handler.ts";
import { errorResponse } from "../status.ts";
import { DASHBOARD_CSS } from "./page_css.ts";
import { DASHBOARD_HTML } from "./page_html.ts";
import { DASHBOARD_ICON } from "./page_icon.ts";
import { DASHBOARD_JS } from "./page_js.ts";

/**
 * The Content-Security-Policy of the dashboard's page and assets: scripts, styles and
 * connections from the node itself only (no inline script or style, no `eval`, nothing from
 * another host), no plugins, frames, forms or base URL, and Trusted Types required with no
 * policy allowed, so the browser itself refuses any string written into `innerHTML` and its
 * kin: the page builds every element with `textContent`.
 */
export const DASHBOARD_CSP: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

/** A served asset: its bytes' text and content type. */
interface Asset {
  readonly body: string;
  readonly type: string;
}

/** The dashboard's paths; everything else goes to the API handler. */
const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", { body: DASHBOARD_HTML, type: "text/html; charset=utf-8" }],
  ["/dashboard/app.js", { body: DASHBOARD_JS, type: "text/javascript; charset=utf-8" }],
  ["/dashboard/app.css", { body: DASHBOARD_CSS, type: "text/css; charset=utf-8" }],
  ["/dashboard/icon.svg", { body: DASHBOARD_ICON, type: "image/svg+xml" }],
]);

/** The dashboard's paths, for docs and tests. */
export const DASHBOARD_PATHS: readonly string[] = [...ASSETS.keys()];

/**
 * Wraps an API handler so that `GET`/`HEAD` of `/` answers the dashboard page (and of
 * `/dashboard/app.js`, `/dashboard/app.css`, `/dashboard/icon.svg` its script, style and icon),
 * with {@linkcode DASHBOARD_CSP} and `nosniff`, `no-referrer`, `DENY` framing headers. Other
 * methods on those paths answer `405 METHOD_NOT_ALLOWED`; every other request goes to `api`
 * unchanged. Put it outside `requireBearerToken`: the page is static and holds no
 * data, and it sends the token the user types to the API as an `Authorization` header.
 *
 * @example Serve the dashboard in front of a token-protected API
 * ```ts
 * import { withDashboard } from "./with_dashboard.ts";
 * import { requireBearerToken } from "../auth.ts";
 * const api = () => Promise.resolve(new Response("api"));
 * const handler = withDashboard(requireBearerToken(api, "a-token-of-16-chars"));
 * const page = await handler(new Request("http://127.0.0.1:5000/"));
 * console.log(page.status, page.headers.get("content-type")); // 200 "text/html; charset=utf-8"
 * const status = await handler(new Request("http://127.0.0.1:5000/api/v1/status"));
 * console.log(status.status); // 401
 * ```
 */
export function withDashboard(api: ApiHandler): ApiHandler {
  return async (request: Request): Promise<Response> => {
    const asset = ASSETS.get(new URL(request.url).pathname);
    if (asset === undefined) return await api(request);
    const method = request.method.toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      await request.body?.cancel().catch(() => {});
      return errorResponse("METHOD_NOT_ALLOWED", "method not allowed; use GET, HEAD", {
        allow: "GET, HEAD",
      });
    }
    const headers = new Headers({
      "content-type": asset.type,
      "content-security-policy": DASHBOARD_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "cache-control": "no-cache",
    });
    return new Response(method === "HEAD" ? null : asset.body, { status: 200, headers });
  };
}
