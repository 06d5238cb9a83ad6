/**
 * `GET /metrics`: the node's figures and the API's counts in the Prometheus text format.
 *
 * @module
 */

import type { DfsNode } from "../../node/types.ts";
import type { ApiMetrics } from "./api_metrics.ts";
import { EXPOSITION_CONTENT_TYPE, writeExposition } from "./exposition.ts";
import { nodeFamilies } from "./node_metrics.ts";

/**
 * A scrape answer: the node's families, then the API's, as format 0.0.4 (`HEAD`: headers only).
 *
 * @example
 * ```ts ignore
 * const res = await metricsResponse(node, new ApiMetrics(), "GET");
 * res.headers.get("content-type"); // "text/plain; version=0.0.4; charset=utf-8"
 * ```
 */
export async function metricsResponse(
  node: DfsNode,
  api: ApiMetrics,
  method: string,
): Promise<Response> {
  const text = writeExposition([...await nodeFamilies(node), ...api.families()]);
  const headers = { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" };
  return new Response(method === "HEAD" ? null : text, { status: 200, headers });
}
