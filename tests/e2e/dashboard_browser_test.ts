/**
 * The dashboard in a real browser: Debian's Chromium (`/usr/bin/chromium`, or `$DFS_CHROMIUM`)
 * driven by `playwright-core` (which never downloads a browser of its own), against two real
 * `dfs serve` processes on loopback: A on Deno, B on Node 24. Node B requires its API token
 * (`--api-token-file`), so B's page must ask for it.
 *
 * 1. Node A's page shows A's id and B as a connected peer.
 * 2. A file named `<img src=x onerror=...>` is dropped on A's page (a `drop` event carrying a
 *    `DataTransfer`), a second one is chosen with the file picker (public); both upload with a
 *    progress bar, both are listed; the hostile name shows as text (no `<img>` in the table, the
 *    handler never ran).
 * 3. B's page asks for the token, takes it, then downloads the first file by its capability:
 *    the bytes equal the original. A's page downloads the second through its files list.
 * 4. With 55 files the list has two pages of 50: the second shows the last 5 by id, and their
 *    health is checked once that page is shown.
 * 5. No console error, page error or CSP violation on either page; screenshots of both pages go
 *    to a temporary directory, whose path is printed (kept after the test).
 *
 * Chromium missing is a failure that says how to install it, never a skip. Every wait is
 * bounded; only the processes started here are killed (the nodes by pid; Chromium by
 * playwright, which launched it).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Browser, Page } from "playwright-core";
import { launchChromium, requireChromium } from "./chromium.ts";
import {
  type NodeProcess,
  putVia,
  sha256Hex,
  startServeProcess,
  waitForPeers,
  withNodeProcesses,
} from "./node_harness.ts";
import { randomBytes, testSeed } from "../util/prng.ts";

const SEED = testSeed(0xda5b_0a7d);
/** Every playwright wait and action. */
const STEP_TIMEOUT_MS = 30_000;
/** A file name that is HTML: it must show as these characters. */
const HOSTILE_NAME = '<img src=x onerror="window.__dfsXss=1">.bin';
const PICKED_NAME = "picked & <b>bold</b>.bin";
/** Files put past the two uploads, so that the list has a second page (50 to a page). */
const EXTRA_FILES = 53;

/** Collects what must not happen on a page: console errors, uncaught errors, CSP refusals. */
function watchPage(
  page: Page,
  label: string,
  problems: string[],
  allowed: (text: string) => boolean = () => false,
): void {
  page.on("console", (msg) => {
    if (msg.type() === "error" && !allowed(msg.text())) {
      problems.push(`${label} console: ${msg.text()}`);
    }
  });
  page.on("pageerror", (err) => problems.push(`${label} page error: ${err.message}`));
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
}

/** Polls `ok` every 50 ms until it holds (bounded by {@linkcode STEP_TIMEOUT_MS}). */
async function waitUntil(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Base64 of bytes (to hand a file's content to the page). */
function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Waits for the newest upload item to finish, and returns its id and capability. */
async function uploadResult(page: Page, label: string) {
  const item = page.locator("#uploads li").filter({ hasText: label });
  await item.locator("text=/^stored: /").waitFor();
  const id = await item.locator("input.result-id").inputValue();
  const capability = await item.locator("input.result-capability").count() > 0
    ? await item.locator("input.result-capability").inputValue()
    : undefined;
  return { id, capability };
}

/** Starts a download through `start` and returns the downloaded bytes. */
async function downloadBytes(page: Page, start: () => Promise<void>): Promise<Uint8Array> {
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: STEP_TIMEOUT_MS }),
    start(),
  ]);
  const path = await download.path();
  assert.ok(path, `download failed: ${await download.failure()}`);
  return await Deno.readFile(path);
}

Deno.test({
  name: "dashboard_uploads_on_one_node_and_downloads_through_another_in_chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requireChromium("the dashboard browser test");
    const shots = await Deno.makeTempDir({ prefix: "dfs-dashboard-test-" });
    await withNodeProcesses("dfs-dashboard-", async (dir, procs: NodeProcess[]) => {
      const a = await startServeProcess({ dataDir: `${dir}/a`, replication: 2 });
      procs.push(a);
      const tokenFile = `${dir}/b-api-token`;
      const b = await startServeProcess({
        runtime: "node", // the page must work whatever runtime serves it
        dataDir: `${dir}/b`,
        replication: 2,
        bootstrap: [a.info.address],
        extraArgs: ["--api-token-file", tokenFile],
      });
      procs.push(b);
      const token = (await Deno.readTextFile(tokenFile)).trim();
      await waitForPeers(a.info.apiUrl, 1);

      const hostile = randomBytes(700_000, SEED);
      const picked = randomBytes(123_457, SEED + 1);

      let browser: Browser | undefined;
      const problems: string[] = [];
      try {
        browser = await launchChromium();
        // Two contexts: two tabs with their own session storage, as two people would have.
        const pageA = await (await browser.newContext({ acceptDownloads: true })).newPage();
        watchPage(pageA, "A", problems);
        await pageA.goto(`${a.info.apiUrl}/`);
        await pageA.locator("#node-id", { hasText: a.info.nodeId }).waitFor();
        assert.equal(await pageA.locator("#auth").isHidden(), true, "A needs no token");
        await pageA.locator(`#peers td[title="${b.info.nodeId}"]`).waitFor();
        await pageA.locator("#peers td.state-connected").first().waitFor();

        // Drag and drop: a drop event carrying a DataTransfer with the file.
        const transfer = await pageA.evaluateHandle(
          ({ name, data }) => {
            const bin = atob(data);
            const bytes = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
            // A browser global (not in Deno's types): this function runs in the page.
            const page = globalThis as unknown as {
              DataTransfer: new () => { items: { add(file: File): void } };
            };
            const dt = new page.DataTransfer();
            dt.items.add(new File([bytes], name, { type: "application/octet-stream" }));
            return dt;
          },
          { name: HOSTILE_NAME, data: base64(hostile) },
        );
        await pageA.dispatchEvent("#drop", "dragenter", { dataTransfer: transfer });
        await pageA.dispatchEvent("#drop", "drop", { dataTransfer: transfer });
        const first = await uploadResult(pageA, HOSTILE_NAME);
        assert.ok(first.capability?.startsWith(`dfs:r:${first.id}:`), "an encrypted put");
        assert.ok(
          await pageA.locator("#uploads li progress").first().getAttribute("value"),
          "the upload has a progress bar",
        );

        // The file picker, for a public file.
        await pageA.selectOption("#opt-encrypt", "0");
        await pageA.setInputFiles("#file-input", {
          name: PICKED_NAME,
          mimeType: "application/octet-stream",
          buffer: Buffer.from(picked),
        });
        const second = await uploadResult(pageA, PICKED_NAME);
        assert.equal(second.capability, undefined, "a public put has no capability");

        // Both listed; the hostile name is text, not markup.
        const row = pageA.locator(`#files tr[data-id="${first.id}"]`);
        await row.waitFor();
        assert.equal(await row.locator("td.name").textContent(), HOSTILE_NAME);
        assert.equal(await pageA.locator("#files img, #uploads img").count(), 0);
        await pageA.locator(`#files tr[data-id="${second.id}"]`).waitFor();
        assert.equal(
          await pageA.locator(`#files tr[data-id="${second.id}"] td.name`).textContent(),
          PICKED_NAME,
        );
        assert.equal(await pageA.evaluate(() => "__dfsXss" in globalThis), false);
        // The CSP is in force: the browser itself refuses an HTML string in innerHTML, and the
        // console watcher sees the violation (then it is taken off the list: it was ours).
        const before = problems.length;
        const refusedHtml = await pageA.evaluate<string>(
          "(() => { try { document.createElement('div').innerHTML = '<b>x</b>'; return 'accepted'; }" +
            " catch (err) { return String(err); } })()",
        );
        assert.match(refusedHtml, /TrustedHTML/);
        await waitUntil(() => problems.length > before, "the CSP violation to be logged");
        assert.match(problems.splice(before).join("\n"), /TrustedHTML/);
        // Health against target, once the stat answers (2 copies wanted, 2 nodes).
        await row.locator("td", { hasText: /\d+\/\d+ copies/ }).waitFor();
        await pageA.locator("#rate-sent", { hasText: "/s" }).waitFor();

        // A downloads the public file through its files list.
        const fromList = await downloadBytes(
          pageA,
          () => pageA.locator(`#files tr[data-id="${second.id}"] button`).click(),
        );
        assert.equal(sha256Hex(fromList), sha256Hex(picked), "list download differs");

        // Node B's page: asks for the token, then downloads the first file by capability.
        const pageB = await (await browser.newContext({ acceptDownloads: true })).newPage();
        // Chromium logs each 401 the page meets before it has the token; those are expected.
        let tokenGiven = false;
        watchPage(pageB, "B", problems, (text) => !tokenGiven && text.includes("status of 401"));
        // Without the token B's API answers 401; the page shows the token form instead.
        const refused = pageB.waitForResponse((r) => r.url().endsWith("/api/v1/status"));
        await pageB.goto(`${b.info.apiUrl}/`);
        assert.equal((await refused).status(), 401);
        await pageB.locator("#auth").waitFor({ state: "visible" });
        await pageB.fill("#token", token);
        tokenGiven = true;
        await pageB.click("#auth-form button");
        await pageB.locator("#node-id", { hasText: b.info.nodeId }).waitFor();
        assert.equal(await pageB.locator("#auth").isHidden(), true);
        assert.equal(await pageB.evaluate(() => location.href), `${b.info.apiUrl}/`);

        await pageB.fill("#open-key", first.capability!);
        const fromB = await downloadBytes(pageB, () => pageB.click("#open-form button"));
        assert.equal(fromB.length, hostile.length);
        assert.equal(sha256Hex(fromB), sha256Hex(hostile), "B's download differs");
        await pageB.locator("#downloads li", { hasText: "done:" }).waitFor();

        // Past one page of files: 50 to a page, and the health of the page shown is checked.
        const extra: string[] = [];
        for (let i = 0; i < EXTRA_FILES; i++) {
          extra.push((await putVia(a.info.apiUrl, randomBytes(1000 + i, SEED + 2 + i))).id);
        }
        const total = 2 + EXTRA_FILES;
        await pageA.locator("#files-page", { hasText: `1–50 of ${total}` }).waitFor();
        assert.equal(await pageA.locator("#files tbody tr").count(), 50);
        assert.equal(await pageA.locator("#files-prev").isDisabled(), true);
        await pageA.click("#files-next");
        await pageA.locator("#files-page", { hasText: `51–${total} of ${total}` }).waitFor();
        assert.equal(await pageA.locator("#files-next").isDisabled(), true);
        const rest = pageA.locator("#files tbody tr");
        assert.equal(await rest.count(), total - 50);
        // The unnamed files sort after the two named ones, by id: the second page is theirs.
        const ids = await rest.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
        const sorted = extra.slice().sort();
        assert.deepEqual(ids, sorted.slice(sorted.length - ids.length));
        // Their health is checked once the page is shown (none of them had been).
        const checked = pageA.locator("#files tbody td", { hasText: /^\w+ \d+\/\d+ copies$/ });
        const deadline = Date.now() + STEP_TIMEOUT_MS;
        while (await checked.count() < total - 50) {
          assert.ok(Date.now() < deadline, "health of the second page's files never shown");
          await new Promise((r) => setTimeout(r, 100));
        }
        await pageA.click("#files-prev");
        await pageA.locator(`#files tr[data-id="${first.id}"]`).waitFor();

        const shotA = `${shots}/dashboard-node-a.png`;
        const shotB = `${shots}/dashboard-node-b.png`;
        await pageA.screenshot({ path: shotA, fullPage: true });
        await pageB.screenshot({ path: shotB, fullPage: true });
        console.log(`dashboard screenshots: ${shotA} ${shotB}`);

        // Forgetting the token brings the token form back (and the API refuses again).
        tokenGiven = false;
        await pageB.click("#forget-token");
        await pageB.locator("#auth").waitFor({ state: "visible" });
        assert.equal(await pageB.evaluate(() => sessionStorage.getItem("dfs.apiToken")), null);
        // The token never went into a URL (it would show in history and logs).
        for (const page of [pageA, pageB]) {
          assert.ok(!page.url().includes(token));
        }
        assert.deepEqual(problems, [], "console errors, page errors or CSP violations");
      } catch (err) {
        console.error(`DFS_SEED=${SEED}; problems seen: ${JSON.stringify(problems)}`);
        throw err;
      } finally {
        await browser?.close().catch(() => {});
      }
    });
  },
});
