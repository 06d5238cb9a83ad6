/**
 * The dashboard's server side (no browser: `tests/e2e/dashboard_browser_test.ts` drives it in
 * Chromium): what `withDashboard` serves, with which headers, in front of a token-protected API;
 * and static checks of the page's sources (the script parses, no HTML-string sinks, nothing
 * from another host).
 */
import assert from "node:assert/strict";
import { requireBearerToken } from "../../src/api/auth.ts";
import {
  DASHBOARD_CSP,
  DASHBOARD_PATHS,
  withDashboard,
} from "../../src/api/dashboard/with_dashboard.ts";
import { DASHBOARD_HTML } from "../../src/api/dashboard/page_html.ts";
import { DASHBOARD_JS } from "../../src/api/dashboard/page_js.ts";
import { DASHBOARD_CSS } from "../../src/api/dashboard/page_css.ts";

const TOKEN = "a-token-of-at-least-16-chars";
const BASE = "http://127.0.0.1:5000";

function apiSpy() {
  const seen: string[] = [];
  const api = (req: Request) => {
    seen.push(`${req.method} ${new URL(req.url).pathname}`);
    return Promise.resolve(new Response("api", { status: 200 }));
  };
  return { seen, api };
}

Deno.test("dashboard_serves_page_and_assets_with_a_strict_csp", async () => {
  const { seen, api } = apiSpy();
  const handler = withDashboard(api);
  const types: Record<string, RegExp> = {
    "/": /^text\/html; charset=utf-8$/,
    "/dashboard/app.js": /^text\/javascript; charset=utf-8$/,
    "/dashboard/app.css": /^text\/css; charset=utf-8$/,
    "/dashboard/icon.svg": /^image\/svg\+xml$/,
  };
  assert.deepEqual([...DASHBOARD_PATHS].sort(), Object.keys(types).sort());
  for (const path of DASHBOARD_PATHS) {
    const res = await handler(new Request(BASE + path));
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-type")!, types[path], path);
    assert.equal(res.headers.get("content-security-policy"), DASHBOARD_CSP);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.ok((await res.text()).length > 100, path);

    const head = await handler(new Request(BASE + path, { method: "HEAD" }));
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.equal(head.headers.get("content-security-policy"), DASHBOARD_CSP);
  }
  assert.deepEqual(seen, [], "no dashboard request reached the API");
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'"]) {
    assert.ok(DASHBOARD_CSP.includes(directive), directive);
  }
  assert.ok(DASHBOARD_CSP.includes("require-trusted-types-for 'script'"));
  assert.ok(!DASHBOARD_CSP.includes("unsafe"), "no unsafe-inline / unsafe-eval");
});

Deno.test("dashboard_answers_405_to_other_methods_and_passes_everything_else_to_the_api", async () => {
  const { seen, api } = apiSpy();
  const handler = withDashboard(api);
  const post = await handler(new Request(BASE + "/", { method: "POST", body: "x" }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.equal((await post.json()).error.code, "METHOD_NOT_ALLOWED");
  for (const path of ["/api/v1/status", "/metrics", "/dashboard/", "/dashboard/other.js", "/x"]) {
    const res = await handler(new Request(BASE + path));
    assert.equal(await res.text(), "api", path);
  }
  assert.deepEqual(seen, [
    "GET /api/v1/status",
    "GET /metrics",
    "GET /dashboard/",
    "GET /dashboard/other.js",
    "GET /x",
  ]);
});

Deno.test("dashboard_page_is_served_without_the_token_but_the_api_still_needs_it", async () => {
  const { seen, api } = apiSpy();
  const handler = withDashboard(requireBearerToken(api, TOKEN));
  assert.equal((await handler(new Request(BASE + "/"))).status, 200);
  assert.equal((await handler(new Request(BASE + "/dashboard/app.js"))).status, 200);
  const refused = await handler(new Request(BASE + "/api/v1/files"));
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const allowed = await handler(
    new Request(BASE + "/api/v1/files", { headers: { authorization: `Bearer ${TOKEN}` } }),
  );
  assert.equal(await allowed.text(), "api");
  assert.deepEqual(seen, ["GET /api/v1/files"]);
});

Deno.test("dashboard_script_parses_and_writes_no_html_strings", () => {
  // Parse only (never run): a syntax error in the string would otherwise show only in a browser.
  assert.doesNotThrow(() => new Function(DASHBOARD_JS));
  for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]) {
    assert.ok(!DASHBOARD_JS.includes(sink), `the script uses ${sink}`);
  }
  // The token travels in a header only; the page never builds a URL with it.
  assert.ok(DASHBOARD_JS.includes('"Authorization", "Bearer " + t'));
  assert.ok(!/[?&]token=/i.test(DASHBOARD_JS));
});

Deno.test("dashboard_page_loads_nothing_from_another_host_and_has_no_inline_code", () => {
  for (const [what, text] of [["html", DASHBOARD_HTML], ["css", DASHBOARD_CSS]] as const) {
    assert.ok(!/(src|href)\s*=\s*"(https?:)?\/\//i.test(text), `${what} loads from another host`);
    assert.ok(!/url\(/i.test(text), `${what} has a url()`);
  }
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(DASHBOARD_HTML), "an inline <script>");
  assert.ok(!/<style/i.test(DASHBOARD_HTML), "an inline <style>");
  assert.ok(!/\sstyle=/i.test(DASHBOARD_HTML), "a style attribute");
  assert.ok(!/\son[a-z]+=/i.test(DASHBOARD_HTML), "an inline event handler");
});
