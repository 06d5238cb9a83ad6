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

/** Resolves after `ms` milliseconds. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `read` every 50 ms until it stops changing (or ~3 s pass); returns the last value. */
async function settle(read: () => number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const now = read();
    if (now === last) return now;
    last = now;
    await sleep(50);
  }
  return read();
}

/** Rejects with a descriptive error if `promise` has not settled after `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
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
      "handler_may_answer_without_reading_the_body",
      async (req) => {
        await req.body?.cancel();
        return new Response("too large", { status: 413 });
      },
      async (base) => {
        const res = await fetchFn(`${base}/upload`, {
          method: "POST",
          body: new Uint8Array(16 * 1024),
        });
        assert.equal(res.status, 413);
        assert.equal(await res.text(), "too large");
        // The server lives on.
        const again = await fetchFn(`${base}/upload`, { method: "POST", body: "ok" });
        assert.equal(again.status, 413);
        await again.body?.cancel();
      },
    ),

    (() => {
      let gotFirst!: () => void;
      const firstArrived = new Promise<void>((resolve) => gotFirst = resolve);
      let bodyOutcome!: (outcome: string) => void;
      const outcome = new Promise<string>((resolve) => bodyOutcome = resolve);
      return withServer(
        "client_abort_mid_upload_errors_the_request_body",
        async (req) => {
          assert.ok(req.body);
          const reader = req.body.getReader();
          try {
            await reader.read();
            gotFirst();
            for (let r = await reader.read(); !r.done; r = await reader.read()) { /* drain */ }
            bodyOutcome("ended normally");
          } catch {
            bodyOutcome("errored");
          }
          return new Response("unreachable");
        },
        async (base) => {
          const abort = new AbortController();
          let stall!: () => void;
          const body = new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(new Uint8Array(1024));
            },
            pull: () => new Promise<void>((resolve) => stall = resolve), // then nothing more
          });
          const sent = fetchFn(`${base}/upload`, {
            method: "POST",
            body,
            duplex: "half",
            signal: abort.signal,
          } as RequestInit).then(() => "answered", () => "aborted");
          await within(15_000, "first body chunk at the handler", firstArrived);
          abort.abort();
          stall?.();
          assert.equal(await sent, "aborted");
          assert.equal(await within(15_000, "handler body read outcome", outcome), "errored");
        },
      );
    })(),

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

    (() => {
      // A client that stops reading must stall the handler's body stream: the server pulls
      // only what the socket buffers can hold, far less than the 1 GiB the body would be.
      const total = 1024 * 1024 * 1024;
      let pulled = 0;
      let cancelled = false;
      return withServer(
        "slow_client_backpressures_streamed_response",
        () =>
          new Response(
            new ReadableStream<Uint8Array>({
              pull(controller) {
                if (pulled >= total) return controller.close();
                pulled += 64 * 1024;
                controller.enqueue(new Uint8Array(64 * 1024));
              },
              cancel() {
                cancelled = true;
              },
            }, { highWaterMark: 0 }),
          ),
        async (base) => {
          const res = await fetchFn(`${base}/slow`);
          assert.ok(res.body);
          const reader = res.body.getReader();
          assert.equal((await reader.read()).done, false);
          const buffered = await settle(() => pulled);
          assert.ok(buffered < 256 * 1024 * 1024, `server pulled ${buffered} bytes ahead`);
          await reader.cancel();
          void cancelled;
        },
      );
    })(),

    (() => {
      // A handler that stops reading must stall the client's upload: the body is pulled only
      // as far as the buffers on the way hold, far less than the 64 MiB being sent.
      const total = 64 * 1024 * 1024;
      let pulled = 0;
      return withServer(
        "slow_handler_backpressures_request_body",
        async (req) => {
          assert.ok(req.body);
          const reader = req.body.getReader();
          let received = (await reader.read()).value?.length ?? 0;
          const ahead = await settle(() => pulled);
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            received += r.value.length;
          }
          return Response.json({ received, ahead });
        },
        async (base) => {
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (pulled >= total) return controller.close();
              pulled += 64 * 1024;
              controller.enqueue(new Uint8Array(64 * 1024));
            },
          }, { highWaterMark: 0 });
          const res = await fetchFn(`${base}/upload`, {
            method: "PUT",
            body,
            duplex: "half",
          } as RequestInit);
          const { received, ahead } = await res.json();
          assert.equal(received, total);
          assert.ok(ahead < total / 2, `client was pulled ${ahead} bytes ahead of the handler`);
        },
      );
    })(),

    (() => {
      let cancelled!: () => void;
      const wasCancelled = new Promise<void>((resolve) => cancelled = resolve);
      return withServer(
        "client_disconnect_cancels_response_body",
        () => {
          return new Response(
            new ReadableStream<Uint8Array>({
              pull: async (controller) => {
                await sleep(5);
                controller.enqueue(new Uint8Array(16 * 1024));
              },
              cancel() {
                cancelled();
              },
            }, { highWaterMark: 0 }),
          );
        },
        async (base) => {
          const abort = new AbortController();
          const res = await fetchFn(`${base}/endless`, { signal: abort.signal });
          assert.ok(res.body);
          const reader = res.body.getReader();
          assert.equal((await reader.read()).done, false);
          abort.abort();
          await reader.cancel().catch(() => {});
          await within(15_000, "response body cancel after client abort", wasCancelled);
        },
      );
    })(),

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
