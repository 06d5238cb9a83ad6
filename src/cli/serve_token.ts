/**
 * What `serve` prints about its API token at start: the token itself only on the start that
 * created it, else only where it is kept.
 *
 * @module
 */

import type { ServeApiToken } from "./api_token.ts";

/**
 * The startup lines about the API token (empty when the API needs none).
 *
 * @example
 * ```ts
 * import { apiTokenLines } from "./serve_token.ts";
 * apiTokenLines({ token: "t0k3n", path: "d/api-token", created: false });
 * // "  token in d/api-token (send it as Authorization: Bearer)\n"
 * ```
 */
export function apiTokenLines(token: ServeApiToken | undefined): string {
  if (!token) return "";
  if (!token.created) return `  token in ${token.path} (send it as Authorization: Bearer)\n`;
  return `  token ${token.token}\n` +
    `        (new; saved in ${token.path}; shown only this once)\n`;
}
