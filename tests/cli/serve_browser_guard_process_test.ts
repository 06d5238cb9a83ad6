/**
 * `dfs serve` as a real process (Deno, Bun and Node running `mod.ts`) refuses what a web page
 * could make a browser send to its loopback API: a cross-site DELETE (foreign `Origin`) is `403
 * ORIGIN_NOT_ALLOWED` and the file is still there; a rebinding `Host` is `403 HOST_NOT_ALLOWED`;
 * a name given with `--api-allow-host`, a same-origin page and a request without browser headers
 * pass; `/metrics` counts each refusal by reason. Requests are written byte for byte on a TCP socket, so the headers are exactly those the
 * test means (no client library adds or drops any). Loopback only; every process is bounded in
 * time and only the processes started here are killed.
 */
import assert from "node:assert/strict";

import { type NodeProcess, startServeProcess } from "../e2e/node_harness.ts";

type Rt = "deno" | "bun" | "node";

const START_MS = 30_000;
const REQUEST_MS = 10_000;

interface Server {
  readonly rt: Rt;
  readonly port: number;
  readonly proc: NodeProcess;
  stderr(): string;
}

/** Starts `dfs serve` on free loopback ports, allowing `dfs.internal`; reads its banner. */
async function serve(rt: Rt, data: string): Promise<Server> {
  const proc = await startServeProcess({
    runtime: rt,
    dataDir: data,
    startTimeoutMs: START_MS,
    extraArgs: ["--api-allow-host", "dfs.internal", "--no-repair", "--scrub-rate", "0"],
  });
  return { rt, port: Number(new URL(proc.info.apiUrl).port), proc, stderr: proc.stderr };
}

interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/**
 * Sends one HTTP/1.1 request with exactly `headers` (plus `Content-Length` and
 * `Connection: close`) and reads the whole answer (bounded in time and size).
 */
async function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array = new Uint8Array(0),
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), REQUEST_MS);
  try {
    let head = `${method} ${path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (method !== "GET" && method !== "HEAD") head += `content-length: ${body.length}\r\n`;
    head += "connection: close\r\n\r\n";
    const bytes = new Uint8Array([...new TextEncoder().encode(head), ...body]);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      total += n;
      if (total > 4 * 1024 * 1024) throw new Error("answer too large");
    }
    return parse(new Uint8Array(chunks.flatMap((c) => [...c])));
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/** Splits an HTTP/1.1 answer into status, headers and (de-chunked) body. */
function parse(bytes: Uint8Array): RawResponse {
  const text = new TextDecoder("latin1").decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  assert.ok(end > 0, `no header end in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Headers();
  for (const l of lines) {
    const at = l.indexOf(":");
    headers.append(l.slice(0, at).trim(), l.slice(at + 1).trim());
  }
  let body = bytes.subarray(end + 4);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const out: number[] = [];
    let at = 0;
    const dec = new TextDecoder("latin1");
    for (let guard = 0; guard < 100_000; guard++) {
      const lineEnd = dec.decode(body.subarray(at)).indexOf("\r\n");
      const size = parseInt(dec.decode(body.subarray(at, at + lineEnd)), 16);
      at += lineEnd + 2;
      if (!(size > 0)) break;
      out.push(...body.subarray(at, at + size));
      at += size + 2;
    }
    body = new Uint8Array(out);
  }
  return { status, headers, body };
}

function json(
  res: RawResponse,
): { error?: { code: string; message: string } } & Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(res.body));
}

/** The checks against one running server. */
async function check(s: Server): Promise<void> {
  const at = (what: string) => `${s.rt}: ${what}\n${s.stderr()}`;
  const own = `127.0.0.1:${s.port}`;
  const content = new TextEncoder().encode(`bytes kept by the ${s.rt} node`);

  // A program (no Origin, loopback Host) stores a public file.
  const put = await raw(s.port, "POST", "/api/v1/files?encrypt=0&copies=1", {
    host: own,
    "content-type": "application/octet-stream",
  }, content);
  assert.equal(put.status, 201, at(`put: ${new TextDecoder().decode(put.body)}`));
  const id = json(put).id as string;
  assert.match(id, /^1220[0-9a-f]{64}$/);

  // The forged DELETE a page on evil.example can send: refused, and the file is still there.
  const forged = await raw(s.port, "DELETE", `/api/v1/files/${id}`, {
    host: own,
    origin: "https://evil.example",
    "sec-fetch-site": "cross-site",
  });
  assert.equal(forged.status, 403, at("forged delete"));
  assert.equal(json(forged).error?.code, "ORIGIN_NOT_ALLOWED", at("forged delete code"));
  const still = await raw(s.port, "GET", `/api/v1/files/${id}`, { host: own });
  assert.equal(still.status, 200, at("get after the forged delete"));
  assert.deepEqual(still.body, content, at("bytes after the forged delete"));

  // The same forged put, with a content type a form may send: refused, nothing stored.
  const forgedPut = await raw(s.port, "POST", "/api/v1/files?encrypt=0&copies=1", {
    host: own,
    origin: "null",
    "content-type": "text/plain",
  }, new TextEncoder().encode("planted"));
  assert.equal(forgedPut.status, 403, at("forged put"));
  const list = json(await raw(s.port, "GET", "/api/v1/files", { host: own }));
  assert.equal((list.files as unknown[]).length, 1, at("files after the forged put"));

  // A rebinding page's request carries its own name: refused, with the fix in the message.
  const rebound = await raw(s.port, "GET", "/api/v1/status", { host: `evil.example:${s.port}` });
  assert.equal(rebound.status, 403, at("rebinding host"));
  const err = json(rebound).error;
  assert.equal(err?.code, "HOST_NOT_ALLOWED");
  assert.match(err?.message ?? "", /--api-allow-host evil\.example/);

  // Other loopback names, and the name given with --api-allow-host, pass (any port).
  for (const host of [`localhost:${s.port}`, "[::1]:1", `dfs.internal:${s.port}`, "dfs.internal"]) {
    const ok = await raw(s.port, "GET", "/api/v1/status", { host });
    assert.equal(ok.status, 200, at(`host ${host}`));
  }

  // The dashboard's own DELETE (same origin) goes through.
  const mine = await raw(s.port, "DELETE", `/api/v1/files/${id}`, {
    host: own,
    origin: `http://${own}`,
    "sec-fetch-site": "same-origin",
  });
  assert.equal(mine.status, 200, at("same-origin delete"));
  const gone = await raw(s.port, "GET", `/api/v1/files/${id}/stat`, { host: own });
  assert.equal(gone.status, 404, at("stat after the delete"));

  // The metrics count each refusal by reason: two foreign origins, one rebinding host.
  const scraped = await raw(s.port, "GET", "/metrics", { host: own });
  assert.equal(scraped.status, 200, at("metrics"));
  const text = new TextDecoder().decode(scraped.body);
  for (
    const [reason, n] of [["origin_not_allowed", 2], ["host_not_allowed", 1], ["unauthorized", 0]]
  ) {
    const line = new RegExp(`^dfs_api_refused_total\\{reason="${reason}"\\} ${n}$`, "m");
    assert.match(text, line, at(`refusals: ${reason}`));
  }
}

Deno.test({
  name: "serve_processes_refuse_a_foreign_origin_delete_and_a_rebinding_host",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dfs-browser-guard-" });
    const servers: Server[] = [];
    try {
      for (const rt of ["deno", "bun", "node"] as const) {
        const s = await serve(rt, `${dir}/${rt}`);
        servers.push(s);
        await check(s);
      }
    } finally {
      for (const s of servers) {
        s.proc.kill("SIGTERM");
        let timer: ReturnType<typeof setTimeout> | undefined;
        const code = await Promise.race([
          s.proc.exited.then((st) => st.code),
          new Promise<number>((r) => timer = setTimeout(() => r(-1), 15_000)),
        ]).finally(() => clearTimeout(timer));
        if (code === -1) {
          s.proc.kill("SIGKILL");
          await s.proc.exited;
        }
        assert.equal(code, 0, `${s.rt} exit\n${s.stderr()}`);
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
