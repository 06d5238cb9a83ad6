/**
 * {@linkcode ApiMetrics}: what the HTTP API counts itself: file operations (put, get, delete)
 * by request method and outcome and their latency, a get timed to the end of its response body
 * (a `HEAD`, which sends no body, to its answer), and the requests refused before any route (no
 * token, a browser request from elsewhere).
 *
 * @module
 */

import type { MetricFamily } from "./exposition.ts";
import { Histogram, LATENCY_BUCKETS } from "./histogram.ts";
import { API_REFUSALS, ApiRefusals } from "./api_refusals.ts";

/** A file operation the API counts. */
export type ApiOperation = "put" | "get" | "delete";

/** The request method of a file operation: a get is a `GET`, or a `HEAD` (no body). */
export type ApiMethod = "POST" | "GET" | "HEAD" | "DELETE";

/**
 * How an operation ended: `ok` (2xx or 304), `not_found` (404), `rejected` (another 4xx: bad
 * argument, missing capability, range...), `error` (5xx, or a download that failed half way),
 * `cancelled` (the client went away before the end of the body).
 */
export type ApiOutcome = "ok" | "not_found" | "rejected" | "error" | "cancelled";

/** Each operation with each method it comes by, in the order they are written. */
const SERIES: readonly (readonly [ApiOperation, ApiMethod])[] = [
  ["put", "POST"],
  ["get", "GET"],
  ["get", "HEAD"],
  ["delete", "DELETE"],
];
/** The method an operation comes by unless told otherwise. */
const METHOD_OF: Readonly<Record<ApiOperation, ApiMethod>> = {
  put: "POST",
  get: "GET",
  delete: "DELETE",
};
const OUTCOMES: readonly ApiOutcome[] = ["ok", "not_found", "rejected", "error", "cancelled"];

/**
 * The operation a request is, or `undefined`: `POST {base}/files` is a put, `GET` (or `HEAD`)
 * and `DELETE {base}/files/{key}` a get and a delete.
 *
 * @example
 * ```ts
 * import { operationOf } from "./api_metrics.ts";
 * operationOf("POST", "/api/v1/files", "/api/v1"); // "put"
 * operationOf("GET", "/api/v1/files/abc", "/api/v1"); // "get"
 * operationOf("HEAD", "/api/v1/files/abc", "/api/v1"); // "get"
 * operationOf("GET", "/api/v1/files/abc/stat", "/api/v1"); // undefined
 * ```
 */
export function operationOf(method: string, path: string, base: string): ApiOperation | undefined {
  if (!path.startsWith(base + "/files")) return undefined;
  const rest = path.slice(base.length + 6).replace(/\/+$/, "");
  const m = method.toUpperCase();
  if (rest === "") return m === "POST" ? "put" : undefined;
  if (rest.indexOf("/", 1) !== -1 || rest[0] !== "/") return undefined;
  return m === "GET" || m === "HEAD" ? "get" : m === "DELETE" ? "delete" : undefined;
}

/** The outcome of an answer with HTTP status `status`. */
export function outcomeOf(status: number): ApiOutcome {
  if (status < 400) return "ok";
  if (status === 404) return "not_found";
  return status < 500 ? "rejected" : "error";
}

/** See {@linkcode ApiMetrics.watch}. */
export interface BodyWatch {
  /** Records the get with how its body ended (once; later calls are ignored). */
  readonly onEnd: (outcome: "ok" | "error" | "cancelled") => void;
  /** Set once the answer's body is the stream `onEnd` was given to. */
  attached: boolean;
}

/**
 * Counts the API's file operations. {@linkcode ApiMetrics.finish} records an answer (and, for
 * a get with a body, waits for the end of the body: the consumer reading it through).
 *
 * @example
 * ```ts
 * import { ApiMetrics } from "./api_metrics.ts";
 * const metrics = new ApiMetrics();
 * const started = performance.now();
 * metrics.finish("delete", started, new Response("{}", { status: 404 }));
 * metrics.count("delete", "not_found"); // 1
 * metrics.finish("get", started, new Response(null, { status: 200 }), undefined, "HEAD");
 * metrics.count("get", "ok", "HEAD"); // 1
 * metrics.count("get", "ok"); // 0: GET only
 * ```
 */
export class ApiMetrics {
  readonly #counts = new Map<string, number>();
  readonly #latency = new Histogram(["op", "method"], LATENCY_BUCKETS);
  /** The refusals in front of the handler, listed with the operations. */
  readonly refusals: ApiRefusals;

  /** Counts into a fresh set of counters; `refusals` is shared with the wrappers that refuse. */
  constructor(refusals: ApiRefusals = new ApiRefusals()) {
    this.refusals = refusals;
  }

  /**
   * Operations of kind `op` by `method` (default: `POST` for a put, `GET` for a get, `DELETE`
   * for a delete) that ended with `outcome` so far.
   */
  count(op: ApiOperation, outcome: ApiOutcome, method: ApiMethod = METHOD_OF[op]): number {
    return this.#counts.get(`${op} ${method} ${outcome}`) ?? 0;
  }

  /** Records one operation by `method` (default as in `count`) that took `seconds`. */
  record(
    op: ApiOperation,
    outcome: ApiOutcome,
    seconds: number,
    method: ApiMethod = METHOD_OF[op],
  ): void {
    const key = `${op} ${method} ${outcome}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#latency.observe([op, method], seconds);
  }

  /**
   * A watch for the body of a get begun at `started`: pass its `onEnd` to the get (it records
   * the operation when the file's stream ends) and set `attached` once the answer's body is
   * that stream; {@linkcode ApiMetrics.finish} then sends the answer as it is, with no relay.
   */
  watch(started: number): BodyWatch {
    let done = false;
    return {
      attached: false,
      onEnd: (outcome) => {
        if (done) return;
        done = true;
        this.record("get", outcome, (performance.now() - started) / 1000);
      },
    };
  }

  /**
   * Records `response` to operation `op` by `method` (default as in `count`) begun at `started`
   * (`performance.now()`), and returns the response to send: the same one, or for a successful
   * `GET` the same answer whose body is relayed so that the operation is recorded when the body
   * ends (or fails, or is cancelled) — unless `watch` is attached to the body's source, which
   * records it itself. A `HEAD` is recorded at its answer: no body is sent for it, so there is
   * no end of a body to wait for (a server drops a body a route gave it).
   */
  finish(
    op: ApiOperation,
    started: number,
    response: Response,
    watch?: BodyWatch,
    method: ApiMethod = METHOD_OF[op],
  ): Response {
    const seconds = () => (performance.now() - started) / 1000;
    const body = response.body;
    if (op !== "get" || method === "HEAD" || !response.ok || body === null) {
      this.record(op, outcomeOf(response.status), seconds(), method);
      return response;
    }
    if (watch?.attached) return response;
    const observed = observeEnd(body, (outcome) => this.record(op, outcome, seconds(), method));
    return new Response(observed, { status: response.status, headers: response.headers });
  }

  /**
   * The API's families: `dfs_api_operations_total`, `dfs_api_operation_duration_seconds` and
   * `dfs_api_refused_total`.
   */
  families(): MetricFamily[] {
    const samples = [];
    for (const [op, method] of SERIES) {
      for (const outcome of OUTCOMES) {
        samples.push({ labels: { op, method, outcome }, value: this.count(op, outcome, method) });
      }
    }
    return [
      {
        name: "dfs_api_operations_total",
        help: "File operations answered by the HTTP API, by operation, method and outcome.",
        type: "counter",
        samples,
      },
      {
        name: "dfs_api_operation_duration_seconds",
        help:
          "Time to answer a file operation (a GET: to the end of its response body; a HEAD: to its answer).",
        type: "histogram",
        samples: this.#latency.samples(),
      },
      {
        name: "dfs_api_refused_total",
        help: "Requests the HTTP API refused before any route, by reason.",
        type: "counter",
        samples: API_REFUSALS.map((reason) => ({
          labels: { reason },
          value: this.refusals.count(reason),
        })),
      },
    ];
  }
}

/**
 * Relays `source` chunk by chunk (a pull per chunk the consumer asks for: backpressure kept)
 * and calls `onEnd` once: `ok` at its end, `error` when it fails, `cancelled` when the consumer
 * cancels it first (which cancels `source`).
 */
function observeEnd(
  source: ReadableStream<Uint8Array>,
  onEnd: (outcome: ApiOutcome) => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let ended = false;
  const end = (outcome: ApiOutcome) => {
    if (ended) return;
    ended = true;
    onEnd(outcome);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        end("error");
        controller.error(err);
        return;
      }
      if (chunk.done) {
        end("ok");
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    async cancel(reason) {
      end("cancelled");
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
