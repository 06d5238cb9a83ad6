/**
 * The HttpServe contract, as runtime-neutral test cases: every adapter serves a web fetch
 * handler on loopback with the same behaviour. See `http_contract_test.ts` and
 * `tests/portable/suites.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { FetchHandler, HttpServe } from "../../src/runtime/types.ts";
import type { Case } from "../portable/harness.ts";

/** How the cases send requests: the global `fetch`, or e.g. `MemoryHttp.fetch`. */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

const LOOPBACK = "127.0.0.1";

function byteAt(i: number): number {
  return (i * 31 + (i >>> 8)) & 0xff;
}

/** A pull-based stream of `total` deterministic bytes in `chunk`-sized pieces. */
function patternStream(total: number, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= total) {
        controller.close();
        return;
      }
      const n = Math.min(chunk, total - at);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = byteAt(at + i);
      at += n;
      controller.enqueue(out);
    },
  }, { highWaterMark: 0 });
}

/** Consumes a stream, checking it carries the pattern; returns the byte count. */
async function checkPattern(stream: ReadableStream<Uint8Array>): Promise<number> {
  let at = 0;
  for await (const chunk of stream) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== byteAt(at + i)) assert.fail(`byte ${at + i} differs`);
    }
    at += chunk.length;
  }
  return at;
}

/**
 * Builds the HttpServe contract cases for `serve`, sending requests with `fetchFn`.
 *
 * @example
 * ```ts ignore
 * registerCases("http/deno", httpContractSuite(denoServe));
 * ```
 */
export function httpContractSuite(serve: HttpServe, fetchFn: FetchFn = fetch): Case[] {
  const withServer = (
    name: string,
    handler: FetchHandler,
    body: (base: string, port: number) => Promise<void>,
  ): Case => ({
    name,
    fn: async () => {
      const server = await serve({ hostname: LOOPBACK, port: 0 }, handler);
      try {
        await body(`http://${LOOPBACK}:${server.address.port}`, server.address.port);
      } finally {
        await server.close();
      }
    },
  });

  return [
    withServer(
      "serve_on_port_zero_reports_real_port_and_answers_get",
      (req) => {
        const url = new URL(req.url);
        return Response.json({
          method: req.method,
          path: url.pathname,
          q: url.searchParams.get("q"),
          header: req.headers.get("x-dfs-test"),
        }, { headers: { "x-served": "yes" } });
      },
      async (base, port) => {
        assert.ok(port > 0 && port < 65536, `port ${port}`);
        const res = await fetchFn(`${base}/some/path?q=a%20b`, { headers: { "x-dfs-test": "42" } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("x-served"), "yes");
        assert.deepEqual(await res.json(), {
          method: "GET",
          path: "/some/path",
          q: "a b",
          header: "42",
        });
      },
    ),

    withServer(
      "head_returns_headers_without_body",
      (req) =>
        new Response(req.method === "HEAD" ? null : "twelve bytes", {
          headers: { "content-length": "12", "x-method": req.method },
        }),
      async (base) => {
        const res = await fetchFn(`${base}/file`, { method: "HEAD" });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("x-method"), "HEAD");
        assert.equal(res.headers.get("content-length"), "12");
        assert.equal((await res.arrayBuffer()).byteLength, 0);
      },
    ),

    withServer(
      "post_streams_request_body_to_handler",
      async (req) => {
        if (req.body === null) return new Response("no body", { status: 400 });
        const n = await checkPattern(req.body);
        return Response.json({ received: n });
      },
      async (base) => {
        const total = 3 * 1024 * 1024 + 17;
        const res = await fetchFn(`${base}/upload`, {
          method: "POST",
          body: patternStream(total, 64 * 1024),
          duplex: "half",
        } as RequestInit);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { received: total });
      },
    ),

    withServer(
      "streamed_response_body_arrives_whole",
      () => new Response(patternStream(4 * 1024 * 1024, 32 * 1024)),
      async (base) => {
        const res = await fetchFn(`${base}/download`);
        assert.equal(res.status, 200);
        assert.ok(res.body);
        assert.equal(await checkPattern(res.body), 4 * 1024 * 1024);
      },
    ),

    withServer(
      "range_header_passes_through_to_handler",
      (req) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
        if (m === null) return new Response("want a range", { status: 416 });
        const [start, end] = [Number(m[1]), Number(m[2])];
        const part = new Uint8Array(end - start + 1).map((_, i) => byteAt(start + i));
        return new Response(part, {
          status: 206,
          headers: { "content-range": `bytes ${start}-${end}/1000`, "accept-ranges": "bytes" },
        });
      },
      async (base) => {
        const res = await fetchFn(`${base}/ranged`, { headers: { range: "bytes=100-199" } });
        assert.equal(res.status, 206);
        assert.equal(res.headers.get("content-range"), "bytes 100-199/1000");
        const body = new Uint8Array(await res.arrayBuffer());
        assert.equal(body.length, 100);
        assert.equal(body[0], byteAt(100));
        assert.equal(body[99], byteAt(199));
      },
    ),

    withServer(
      "status_and_repeated_headers_pass_through",
      () =>
        new Response("gone", {
          status: 404,
          headers: [["x-many", "a"], ["x-many", "b"], ["content-type", "text/plain"]],
        }),
      async (base) => {
        const res = await fetchFn(`${base}/missing`);
        assert.equal(res.status, 404);
        assert.equal(res.headers.get("x-many"), "a, b");
        assert.equal(await res.text(), "gone");
      },
    ),

    withServer(
      "throwing_handler_yields_500",
      () => {
        throw new Error("deliberate failure in a test handler (expected in the log)");
      },
      async (base) => {
        const res = await fetchFn(`${base}/boom`);
        assert.equal(res.status, 500);
        await res.body?.cancel();
      },
    ),

    {
      name: "close_is_idempotent",
      fn: async () => {
        const server = await serve({ hostname: LOOPBACK, port: 0 }, () => new Response("x"));
        const res = await fetchFn(`http://${LOOPBACK}:${server.address.port}/`);
        assert.equal(await res.text(), "x");
        await server.close();
        await server.close();
      },
    },
  ];
}
