/**
 * {@linkcode ApiRefusals}: the requests the HTTP API refused before any route, by reason.
 *
 * @module
 */

/**
 * Why a request was refused before it reached a route: `unauthorized` (401, no or a wrong bearer
 * token), `origin_not_allowed` and `host_not_allowed` (403, the browser guard).
 */
export type ApiRefusal = "unauthorized" | "origin_not_allowed" | "host_not_allowed";

/** Every {@linkcode ApiRefusal}, in the order the metrics list them. */
export const API_REFUSALS: readonly ApiRefusal[] = [
  "unauthorized",
  "origin_not_allowed",
  "host_not_allowed",
];

/**
 * Counts refused requests. The wrappers in front of the API handler (the token check, the
 * browser guard) record into it; give the same one to `createApiHandler` (`refusals`) so that
 * `/metrics` shows them as `dfs_api_refused_total{reason}`.
 *
 * @example
 * ```ts
 * import { ApiRefusals } from "./api_refusals.ts";
 * const refusals = new ApiRefusals();
 * refusals.record("unauthorized");
 * console.log(refusals.count("unauthorized")); // 1
 * ```
 */
export class ApiRefusals {
  readonly #counts = new Map<ApiRefusal, number>();

  /** Requests refused for `reason` so far. */
  count(reason: ApiRefusal): number {
    return this.#counts.get(reason) ?? 0;
  }

  /** Records one request refused for `reason`. */
  record(reason: ApiRefusal): void {
    this.#counts.set(reason, this.count(reason) + 1);
  }
}
