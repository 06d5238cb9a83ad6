/**
 * The dfs HTTP API: one web-standard fetch handler over a {@linkcode DfsNode}.
 *
 * @module
 */

export type { DfsNode } from "../node/types.ts";
export { type ApiHandler, type ApiHandlerOptions, createApiHandler } from "./handler.ts";
export { type BearerTokenOptions, requireBearerToken } from "./auth.ts";
export { type ApiRefusal, ApiRefusals } from "./metrics/api_refusals.ts";
export {
  type BrowserGuardOptions,
  guardBrowserRequests,
  normalizeAllowedHost,
} from "./browser_guard.ts";
export { HostNotAllowedError, OriginNotAllowedError } from "./errors.ts";
export { DASHBOARD_CSP, withDashboard } from "./dashboard/with_dashboard.ts";
export { booleanParam, type PutParams, putParams } from "./params.ts";
export { parseRange, type RangeDecision, type ResolvedRange } from "./range.ts";
export { type ApiErrorBody, statusForCode } from "./status.ts";
