/**
 * The browser guard against a real browser: Debian's Chromium (`/usr/bin/chromium`, or
 * `$DFS_CHROMIUM`) driven by `playwright-core`, and one `dfs serve` process on loopback (no
 * token). Chromium resolves `evil.example` to 127.0.0.1 (`--host-resolver-rules`), which is
 * what an attacker's DNS does in a rebinding attack, and a small server of this test serves the
 * attacker's page on `http://evil.example:PORT/`.
 *
 * 1. CSRF: the attacker's page sends a `text/plain` `fetch` POST (`no-cors`) and submits a
 *    `text/plain` form POST to `/api/v1/files`: Chromium sends both (simple requests, no
 *    preflight), the node answers 403 (seen on the wire by playwright), nothing is stored. Its
 *    `fetch(..., {method: "DELETE"})` needs a CORS preflight, which the node refuses: the
 *    DELETE is never sent. The file is still there.
 * 2. DNS rebinding: a page whose origin is `http://evil.example:NODE_PORT` (the name now points
 *    at the node) reads `/api/v1/files` same-origin: 403 `HOST_NOT_ALLOWED`, no file list.
 * 3. The node's own page (same origin) deletes the file: 200.
 *
 * Chromium missing is a failure, never a skip. Every wait is bounded; only processes started
 * here are killed (the node by pid, Chromium by playwright, which launched it).
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { launchChromium, requireChromium } from "./chromium.ts";
import { type NodeProcess, startServeProcess, withNodeProcesses } from "./node_harness.ts";

const STEP_TIMEOUT_MS = 30_000;

/** The attacker's page: scripts that try to delete and to plant a file on the node. */
function attackPage(nodeOrigin: string, id: string): string {
  return `<!doctype html><html><body>
<form id="plant" method="POST" enctype="text/plain" target="sink"
      action="${nodeOrigin}/api/v1/files?encrypt=0&copies=1">
  <input name="planted" value="by evil.example">
</form>
<iframe name="sink"></iframe>
<script>
  // A simple request (no preflight): the browser sends it, the page cannot read the answer.
  window.plantSent = fetch("${nodeOrigin}/api/v1/files?encrypt=0&copies=1", {
    method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: "planted",
  }).then(() => "sent", (e) => "failed: " + e);
  // DELETE is not simple: the browser asks first (an OPTIONS preflight), which the node refuses.
  window.deleteTried = fetch("${nodeOrigin}/api/v1/files/${id}", { method: "DELETE" })
    .then((r) => "answered " + r.status, (e) => "refused: " + e);
</script>
</body></html>`;
}

Deno.test({
  name: "chromium_on_another_site_cannot_delete_plant_or_rebind_to_read_a_loopback_node",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requireChromium("the browser guard test");
    await withNodeProcesses("dfs-guard-chromium-", async (dir, procs: NodeProcess[]) => {
      const node = await startServeProcess({ dataDir: `${dir}/a`, replication: 1 });
      procs.push(node);
      const nodeOrigin = node.info.apiUrl; // http://127.0.0.1:PORT
      const nodePort = new URL(nodeOrigin).port;
      const put = await fetch(`${nodeOrigin}/api/v1/files?encrypt=0&copies=1`, {
        method: "POST",
        body: new TextEncoder().encode("the operator's file"),
      });
      assert.equal(put.status, 201);
      const id = (await put.json()).id as string;
      const files = async () =>
        ((await (await fetch(`${nodeOrigin}/api/v1/files`)).json()).files as { id: string }[])
          .map((f) => f.id);

      // The attacker's web server (this test's own, on loopback).
      const evil = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () =>
          new Response(attackPage(nodeOrigin, id), {
            headers: { "content-type": "text/html; charset=utf-8" },
          }),
      );
      let browser: Browser | undefined;
      try {
        browser = await launchChromium(["--host-resolver-rules=MAP evil.example 127.0.0.1"]);
        const page = await (await browser.newContext()).newPage();
        page.setDefaultTimeout(STEP_TIMEOUT_MS);

        // 1. CSRF from http://evil.example:PORT: the simple POST reaches the node and gets 403;
        // the DELETE's preflight is refused, so the browser never sends the DELETE.
        const fetchAnswer = page.waitForResponse((r) =>
          r.request().method() === "POST" && r.url().includes("/api/v1/files?")
        );
        await page.goto(`http://evil.example:${evil.addr.port}/`);
        assert.equal((await fetchAnswer).status(), 403, "the forged POST reached the node: 403");
        assert.equal(await page.evaluate("window.plantSent"), "sent");
        assert.match(String(await page.evaluate("window.deleteTried")), /^refused: TypeError/);
        const plantAnswer = page.waitForResponse((r) =>
          r.request().method() === "POST" && r.url().includes("/api/v1/files")
        );
        await page.evaluate("document.getElementById('plant').submit()");
        const plant = await plantAnswer;
        assert.equal(plant.status(), 403, "the forged form POST reached the node and was refused");
        assert.match(await plant.text(), /ORIGIN_NOT_ALLOWED/);
        assert.deepEqual(await files(), [id], "the file is still there, nothing was planted");

        // 2. Rebinding: evil.example now points at the node; its origin reads the API.
        const rebound = await page.goto(`http://evil.example:${nodePort}/`);
        assert.equal(rebound?.status(), 403);
        const read = await page.evaluate<{ status: number; text: string }>(
          "fetch('/api/v1/files').then(async (r) => ({ status: r.status, text: await r.text() }))",
        );
        assert.equal(read.status, 403);
        assert.match(read.text, /HOST_NOT_ALLOWED/);
        assert.ok(!read.text.includes(id), "the file list did not leak");

        // 3. The node's own page (same origin) may delete.
        await page.goto(`${nodeOrigin}/`);
        const own = await page.evaluate<number>(
          `fetch('/api/v1/files/${id}', { method: 'DELETE' }).then((r) => r.status)`,
        );
        assert.equal(own, 200);
        assert.deepEqual(await files(), []);
      } finally {
        await browser?.close().catch(() => {});
        await evil.shutdown();
      }
    });
  },
});
