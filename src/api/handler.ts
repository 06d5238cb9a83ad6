/**
 * The dfs HTTP API as one web-standard fetch handler. See `docs/http-api.md`.
 *
 * @module
 */

import { ContentId } from "../id/content_id.ts";
import { isCapability } from "../file/capability.ts";
import { CapabilityRequiredError } from "../file/errors.ts";
import type { DfsNode, DrainReport, FileStat } from "../node/types.ts";
import { guardStream } from "../util/guard_stream.ts";
import { booleanParam, putParams } from "./params.ts";
import { parseRange, type ResolvedRange } from "./range.ts";
import { errorResponse, jsonResponse, responseForError } from "./status.ts";
import { ApiMetrics, type BodyWatch, operationOf } from "./metrics/api_metrics.ts";
import type { ApiRefusals } from "./metrics/api_refusals.ts";
import { metricsResponse } from "./metrics/metrics_route.ts";

/** Options for {@linkcode createApiHandler}. */
export interface ApiHandlerOptions {
  /** Path prefix of every route (default `/api/v1`). No trailing slash. */
  readonly basePath?: string;
  /**
   * Called with every error that became a 5xx response (for logging). Errors the client caused
   * (4xx) and failures of requests the client already aborted are not reported.
   */
  readonly onError?: (error: unknown, request: Request) => void;
  /**
   * Also pass `request.signal` to the node and abort downloads when it fires (default `false`).
   * Without it a client that goes away still cancels what has a body (every runtime adapter
   * cancels the response body, which cancels the node's stream, and errors the request body of
   * an interrupted upload), but not the work before the answer: a get still looking for
   * providers runs to its end. `dfs serve` turns it on. Off by default because reading
   * `request.signal` makes Deno's HTTP server (2.x) print a deprecation warning (and abort the
   * signal after every successful response, which is harmless here) unless the program runs
   * with `--unstable-no-legacy-abort`, as this module's `deno.json` sets.
   */
  readonly useRequestSignal?: boolean;
  /**
   * Called once `POST /drain` has drained the node and its answer is on its way (on the next
   * task after the handler resolved). The host should then close its HTTP server gracefully (so
   * the answer reaches the client) and close the node: `dfs serve` exits. Without it the node
   * keeps running, drained (its repair loop stopped), and closing it is up to the caller.
   */
  readonly onDrained?: (report: DrainReport) => void;
  /**
   * Where the wrappers in front of this handler (a token check, the browser guard) count the
   * requests they refuse; `/metrics` lists them as `dfs_api_refused_total{reason}` (default: a
   * set of its own, all zero).
   */
  readonly refusals?: ApiRefusals;
}

/** A web-standard request handler. */
export type ApiHandler = (request: Request) => Promise<Response>;

const IMMUTABLE = "public, max-age=31536000, immutable";
const PRIVATE_IMMUTABLE = "private, max-age=31536000, immutable";

/**
 * Builds the HTTP API handler over a node. Routes (under `/api/v1`):
 *
 * | method | path | does |
 * | --- | --- | --- |
 * | POST | `/files[?name=NAME&copies=N\|redundancy=POLICY&encrypt=1\|0\|convergent&share-key=1]` | `node.put` of the body; `201` + JSON (with `capability`) |
 * | GET, HEAD | `/files/{id, capability or name}` | streams the bytes; `Range`, `ETag`, `If-None-Match`; an encrypted file by id is `403 CAPABILITY_REQUIRED` |
 * | DELETE | `/files/{id or name}` | `node.delete`; JSON |
 * | GET | `/files` | local files: `{ "files": [...] }` |
 * | GET | `/files/{id or name}/stat[?health=1]` | `FileStat` JSON (with `health` when asked) |
 * | GET | `/names/{name}` | `NameRecord` JSON |
 * | GET | `/peers` | `{ "peers": [...] }` |
 * | GET | `/status` | `NodeStatus` JSON |
 * | GET | `/dht` | `DhtInfo` JSON; `404 NO_DHT` when the node runs without a DHT |
 * | POST | `/drain` | `node.drain()`; `DrainReport` JSON, then `options.onDrained` |
 * | GET | `/metrics` (no prefix) | Prometheus text format 0.0.4: node figures, API operation counts |
 *
 * Every GET route also answers HEAD. A bad query parameter (`copies=0`, `redundancy=rs:0+1`,
 * `copies` and `redundancy` together, `health=maybe`) is `400 INVALID_ARGUMENT`. Errors are
 * JSON `{ "error": { "code", "message" } }` (`RECORD_REJECTED`, a refused name record, is
 * `409`); an unknown path is `404 NO_SUCH_ROUTE`, a known path with the wrong method
 * `405 METHOD_NOT_ALLOWED` with an `Allow` header. Bodies are streamed both ways, and a client
 * that disconnects cancels the node's stream (through the response body's cancellation, and
 * `request.signal` with `useRequestSignal`; with it, a drain is cancelled too).
 *
 * @example Serve a node's API through the runtime adapter
 * ```ts ignore
 * import { createApiHandler } from "./handler.ts";
 * declare const node: import("../node/types.ts").DfsNode;
 * declare const runtime: import("../runtime/types.ts").Runtime;
 * await runtime.serve({ hostname: "127.0.0.1", port: 5000 }, createApiHandler(node));
 * ```
 */
export function createApiHandler(node: DfsNode, options: ApiHandlerOptions = {}): ApiHandler {
  const base = (options.basePath ?? "/api/v1").replace(/\/+$/, "");
  const onError = options.onError;
  const useSignal = options.useRequestSignal ?? false;
  const metrics = new ApiMetrics(options.refusals);
  const ctx: RouteContext = { node, base, onDrained: options.onDrained, metrics };

  return async (request: Request): Promise<Response> => {
    const started = performance.now();
    const url = new URL(request.url);
    const op = operationOf(request.method, url.pathname, base);
    // A HEAD get is counted apart (method label HEAD) and at its answer: it sends no body.
    const head = request.method.toUpperCase() === "HEAD";
    let response: Response;
    // A get's body is observed at its source (no relay stream between the file and the client).
    const watch = op === "get" && !head ? metrics.watch(started) : undefined;
    try {
      response = await route(ctx, request, url, useSignal ? request.signal : undefined, watch);
    } catch (err) {
      response = responseForError(err);
      // A client that went away is not a server fault: don't report its aborted transfer.
      if (response.status >= 500 && !(useSignal && request.signal.aborted)) {
        onError?.(err, request);
      }
    }
    return op ? metrics.finish(op, started, response, watch, head ? "HEAD" : undefined) : response;
  };
}

/** What every route needs besides the request. */
interface RouteContext {
  readonly node: DfsNode;
  readonly base: string;
  readonly onDrained: ((report: DrainReport) => void) | undefined;
  readonly metrics: ApiMetrics;
}

async function route(
  ctx: RouteContext,
  request: Request,
  url: URL,
  signal: AbortSignal | undefined,
  watch?: BodyWatch,
): Promise<Response> {
  const { node, base } = ctx;
  const method = request.method.toUpperCase();
  let path = url.pathname;
  if (path === "/metrics") {
    if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
    return await metricsResponse(node, ctx.metrics, method);
  }
  if (path !== base && !path.startsWith(base + "/")) return noRoute(method, url.pathname);
  path = path.slice(base.length).replace(/\/+$/, "");
  const raw = path.split("/").slice(1);
  let seg: string[];
  try {
    seg = raw.map((s) => decodeURIComponent(s));
  } catch {
    return errorResponse("INVALID_ARGUMENT", `malformed percent-encoding in ${url.pathname}`);
  }
  if (seg.some((s) => s === "")) return noRoute(method, url.pathname);

  const [top, key, sub] = seg;
  if (top === "files" && seg.length === 1) {
    if (method === "POST") return await putFile(node, base, request, url, signal);
    if (method === "GET" || method === "HEAD") return await listFiles(node, method);
    return notAllowed("GET, HEAD, POST");
  }
  if (top === "files" && seg.length === 2) {
    if (method === "GET" || method === "HEAD") {
      return await getFile(node, key, request, method, signal, watch);
    }
    if (method === "DELETE") return jsonResponse(await node.delete(key));
    return notAllowed("GET, HEAD, DELETE");
  }
  if (top === "files" && seg.length === 3 && sub === "stat") {
    if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
    const health = booleanParam(url.searchParams, "health");
    return json(await node.stat(key, health ? { health } : undefined), method);
  }
  if (top === "names" && seg.length === 2) {
    if (method === "GET" || method === "HEAD") return json(await node.resolveName(key), method);
    return notAllowed("GET, HEAD");
  }
  if (top === "peers" && seg.length === 1) {
    if (method === "GET" || method === "HEAD") return json({ peers: node.peers() }, method);
    return notAllowed("GET, HEAD");
  }
  if (top === "status" && seg.length === 1) {
    if (method === "GET" || method === "HEAD") return json(await node.status(), method);
    return notAllowed("GET, HEAD");
  }
  if (top === "dht" && seg.length === 1) {
    if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
    const info = node.dhtInfo();
    if (info === null) return errorResponse("NO_DHT", "this node runs without a DHT");
    return json(info, method);
  }
  if (top === "drain" && seg.length === 1) {
    if (method !== "POST") return notAllowed("POST");
    return await drain(ctx, signal);
  }
  return noRoute(method, url.pathname);
}

/** `POST /drain`: hands the node's data off, answers the report, then calls `onDrained`. */
async function drain(ctx: RouteContext, signal: AbortSignal | undefined): Promise<Response> {
  const report = await ctx.node.drain(signal);
  const onDrained = ctx.onDrained;
  // After this handler resolved: the host closes its server gracefully, so the answer gets out.
  if (onDrained) setTimeout(() => onDrained(report), 0);
  return jsonResponse(report);
}

function json(value: unknown, method: string): Response {
  const res = jsonResponse(value);
  return method === "HEAD" ? new Response(null, { status: res.status, headers: res.headers }) : res;
}

function noRoute(method: string, path: string): Response {
  return errorResponse("NO_SUCH_ROUTE", `no route for ${method} ${path}`);
}

function notAllowed(allow: string): Response {
  return errorResponse("METHOD_NOT_ALLOWED", `method not allowed; use ${allow}`, { allow });
}

async function listFiles(node: DfsNode, method: string): Promise<Response> {
  return json({ files: await node.list() }, method);
}

async function putFile(
  node: DfsNode,
  base: string,
  request: Request,
  url: URL,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const params = putParams(url.searchParams, request.headers);
  const body = request.body ?? new Uint8Array(0);
  const result = await node.put(body, { ...params, signal });
  const location = `${base}/files/${encodeURIComponent(result.capability ?? result.id)}`;
  return jsonResponse(result, 201, { location });
}

/** True when an `If-None-Match` header matches the entity tag `"<id>"`. */
function etagMatches(header: string, id: string): boolean {
  for (const part of header.split(",")) {
    const tag = part.trim().replace(/^W\//, "");
    if (tag === "*" || tag === `"${id}"`) return true;
  }
  return false;
}

function baseHeaders(id: string, cache: string): Headers {
  return new Headers({
    "accept-ranges": "bytes",
    "content-type": "application/octet-stream",
    etag: `"${id}"`,
    "cache-control": cache,
  });
}

/**
 * The whole file's size, on every file response. Bun's server drops `Content-Length` from a
 * streamed body (oven-sh/bun#10507) and sends it chunked; this header still tells clients the
 * size (for progress, and to check the length they received).
 */
export const SIZE_HEADER = "x-dfs-size";

async function getFile(
  node: DfsNode,
  key: string,
  request: Request,
  method: string,
  signal: AbortSignal | undefined,
  watch: BodyWatch | undefined,
): Promise<Response> {
  // By id or capability the bytes never change; a capability's answer is for its holder only.
  const cache = ContentId.tryParse(key) !== null
    ? IMMUTABLE
    : isCapability(key)
    ? PRIVATE_IMMUTABLE
    : "no-cache";
  const ifNoneMatch = request.headers.get("if-none-match");
  const rangeHeader = request.headers.get("range");
  const needStat = method === "HEAD" || ifNoneMatch !== null || rangeHeader !== null;

  let stat: FileStat | undefined;
  let range: ResolvedRange | undefined;
  if (needStat) {
    stat = await node.stat(key);
    if (stat.encrypted && stat.capability === undefined) throw capabilityRequired(stat.id);
    if (ifNoneMatch !== null && etagMatches(ifNoneMatch, stat.id)) {
      return new Response(null, { status: 304, headers: baseHeaders(stat.id, cache) });
    }
    if (rangeHeader !== null && rangeApplies(request.headers.get("if-range"), stat.id)) {
      const decision = parseRange(rangeHeader, stat.size);
      if (decision === "unsatisfiable") {
        const res = errorResponse(
          "RANGE_NOT_SATISFIABLE",
          `range ${JSON.stringify(rangeHeader)} is outside a file of ${stat.size} bytes`,
        );
        res.headers.set("content-range", `bytes */${stat.size}`);
        return res;
      }
      if (decision) range = decision;
    }
    if (method === "HEAD") {
      const headers = baseHeaders(stat.id, cache);
      const start = range?.start ?? 0;
      const end = range?.end ?? stat.size - 1;
      headers.set("content-length", String(end - start + 1));
      headers.set(SIZE_HEADER, String(stat.size));
      if (range) headers.set("content-range", `bytes ${start}-${end}/${stat.size}`);
      return new Response(null, { status: range ? 206 : 200, headers });
    }
  }

  // Once stat resolved a name, read by id so the range and the bytes describe the same file.
  const result = await node.get(stat?.capability ?? stat?.id ?? key, {
    range,
    signal,
    onEnd: watch?.onEnd,
  });
  if (watch) watch.attached = true;
  const headers = baseHeaders(result.id, cache);
  const length = result.end >= result.start ? result.end - result.start + 1 : 0;
  headers.set("content-length", String(length));
  headers.set(SIZE_HEADER, String(result.size));
  if (range) headers.set("content-range", `bytes ${result.start}-${result.end}/${result.size}`);
  // With the request's signal, tie the body to it; without one the file's stream is the body
  // (cancelling the response cancels it), with no relay per block in between.
  const body = signal ? guardStream(result.stream, signal) : result.stream;
  return new Response(body, { status: range ? 206 : 200, headers });
}

function capabilityRequired(id: string): CapabilityRequiredError {
  return new CapabilityRequiredError(
    `file ${id} is encrypted: ask for it by its read capability (dfs:r:${id}:KEY), not its id`,
  );
}

/** `If-Range` with our ETag (or absent) lets the range apply; anything else means whole file. */
function rangeApplies(ifRange: string | null, id: string): boolean {
  return ifRange === null || ifRange.trim() === `"${id}"`;
}
