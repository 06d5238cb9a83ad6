/**
 * The dashboard's script, served at `/dashboard/app.js`: plain browser JavaScript (no build
 * step, no dependency) kept as a string so the module ships unchanged on Deno, Bun, Node and
 * JSR. It reads the JSON API (`/api/v1/status`, `/peers`, `/files`, `/files/{id}/stat`),
 * uploads with `XMLHttpRequest` (upload progress) and downloads with `fetch` (download
 * progress). Every string from the node or its peers reaches the page through `textContent`
 * only; the page's CSP requires Trusted Types, so an `innerHTML` write would throw anyway.
 *
 * The source contains no backtick and no dollar-brace, so it sits in a raw template literal
 * as written (a test parses it).
 *
 * @module
 */

/** The dashboard's script. */
export const DASHBOARD_JS: string = String.raw`"use strict";
(() => {
  const API = "/api/v1";
  const TOKEN_KEY = "dfs.apiToken";
  const CAPS_KEY = "dfs.capabilities";
  const STATUS_EVERY_MS = 2000;
  const FILES_EVERY_MS = 5000;
  const HEALTH_EVERY_MS = 15000;
  const PAGE_FILES = 50;
  const REQUEST_TIMEOUT_MS = 10000;
  const RATE_SAMPLES = 90;

  const $ = (id) => document.getElementById(id);

  /** Builds an element; children are nodes or strings (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "className") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  // ---- token and remembered capabilities (this tab's session storage only)
  const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
  function authHeaders(extra) {
    const h = new Headers(extra || {});
    const t = token();
    if (t) h.set("Authorization", "Bearer " + t);
    return h;
  }
  function capabilities() {
    try {
      return JSON.parse(sessionStorage.getItem(CAPS_KEY) || "{}") || {};
    } catch {
      return {};
    }
  }
  function rememberCapability(id, capability) {
    const caps = capabilities();
    caps[id] = capability;
    sessionStorage.setItem(CAPS_KEY, JSON.stringify(caps));
  }

  // ---- API access
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }
  async function errorOf(res) {
    let code = "HTTP_" + res.status, message = res.statusText || "request failed";
    try {
      const body = await res.json();
      if (body && body.error) {
        code = String(body.error.code);
        message = String(body.error.message);
      }
    } catch { /* not JSON */ }
    return new ApiError(res.status, code, message);
  }
  async function api(path) {
    const res = await fetch(API + path, {
      headers: authHeaders(),
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!res.ok) throw await errorOf(res);
    return await res.json();
  }

  // ---- formatting
  function bytes(n) {
    if (!Number.isFinite(n)) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + " " + units[i];
  }
  const rate = (n) => bytes(Math.round(n)) + "/s";
  const shortId = (id) => id.length > 16 ? id.slice(0, 8) + "…" + id.slice(-6) : id;
  function ago(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }
  function duration(ms) {
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return d > 0 ? d + " d " + h + " h" : h > 0 ? h + " h " + m + " min" : m + " min " + (s % 60) + " s";
  }
  const describe = (err) =>
    err instanceof ApiError ? err.code + ": " + err.message : String(err && err.message || err);

  // ---- state
  let authNeeded = false;
  let lastSample = null;
  const samples = [];
  let files = [];
  const stats = new Map(); // id -> stat (with health when the node has upkeep)
  let page = 0; // the files page shown, PAGE_FILES files each; health is checked for it
  let lastHealthAt = 0;

  function showAuth(message) {
    authNeeded = true;
    $("auth").hidden = false;
    $("main").hidden = true;
    $("auth-error").textContent = message || "";
    $("forget-token").hidden = !token();
    $("conn").textContent = "this node's API needs its token";
  }
  function hideAuth() {
    authNeeded = false;
    $("auth").hidden = true;
    $("main").hidden = false;
    $("forget-token").hidden = !token();
  }
  function handleError(err, what) {
    if (err instanceof ApiError && err.status === 401) {
      showAuth(token() ? "the node refused this token: " + err.message : "");
      return;
    }
    $("conn").textContent = "cannot read " + what + ": " + describe(err);
    $("conn").className = "error";
  }

  // ---- status, rates
  function renderStatus(s) {
    $("node-id").textContent = s.nodeId;
    $("node-meta").textContent = "dfs " + s.version + " on " + s.runtime + " · p2p " + s.address +
      " · up " + duration(s.uptimeMs);
    document.title = "dfs " + shortId(s.nodeId);
    const store = s.store || {};
    const meter = $("store-meter");
    if (store.maxBytes) {
      meter.hidden = false;
      meter.max = store.maxBytes;
      meter.value = Math.min(store.bytes, store.maxBytes);
      meter.high = store.maxBytes * 0.85;
      $("store-text").textContent = bytes(store.bytes) + " of " + bytes(store.maxBytes) + " (" +
        (100 * store.bytes / store.maxBytes).toFixed(1) + " %) · " + store.count + " entries";
    } else {
      meter.hidden = true;
      $("store-text").textContent = bytes(store.bytes) + " in " + store.count +
        " entries · no bound (--max-store)";
    }
    $("count-files").textContent = String(s.files ?? "–");
    $("count-peers").textContent = String(s.peers);
    const up = s.upkeep;
    $("repair-queue").textContent = up ? up.repair.queue + " (" + up.repair.active + " active)" : "–";
    $("quarantined").textContent = String(s.quarantined ?? 0);

    const now = performance.now();
    const sample = {
      t: now,
      sent: s.traffic ? s.traffic.sent : 0,
      recv: s.traffic ? s.traffic.received : 0,
      fetched: s.fetched ? s.fetched.bytes : 0,
    };
    if (lastSample && now > lastSample.t) {
      const dt = (now - lastSample.t) / 1000;
      const r = {
        sent: Math.max(0, sample.sent - lastSample.sent) / dt,
        recv: Math.max(0, sample.recv - lastSample.recv) / dt,
        fetched: Math.max(0, sample.fetched - lastSample.fetched) / dt,
      };
      samples.push(r);
      if (samples.length > RATE_SAMPLES) samples.shift();
      $("rate-sent").textContent = rate(r.sent);
      $("rate-recv").textContent = rate(r.recv);
      $("rate-fetched").textContent = rate(r.fetched);
      if (samples.length > 1) drawRates();
    }
    lastSample = sample;
  }
  function drawRates() {
    const canvas = $("rate-chart");
    const g = canvas.getContext("2d");
    if (!g) return;
    const w = canvas.width, h = canvas.height;
    g.clearRect(0, 0, w, h);
    const top = Math.max(1, ...samples.map((r) => Math.max(r.sent, r.recv)));
    const line = (key, color) => {
      g.beginPath();
      g.strokeStyle = color;
      samples.forEach((r, i) => {
        const x = w - (samples.length - 1 - i) * (w / (RATE_SAMPLES - 1));
        const y = h - 2 - (r[key] / top) * (h - 4);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
    };
    line("sent", "#3b82f6");
    line("recv", "#10b981");
  }

  // ---- peers
  function renderPeers(peers) {
    const body = $("peers").tBodies[0];
    const rows = peers.slice().sort((a, b) =>
      (a.state === "connected" ? 0 : 1) - (b.state === "connected" ? 0 : 1) ||
      String(a.nodeId).localeCompare(String(b.nodeId))
    ).map((p) =>
      el(
        "tr",
        {},
        el("td", { className: "mono", title: String(p.nodeId) }, shortId(String(p.nodeId))),
        el("td", { className: "mono" }, String(p.address || "–")),
        el("td", { className: "state-" + String(p.state).replace(/[^a-z]/g, "") }, String(p.state)),
        el("td", { className: "num" }, p.rttMs === undefined ? "–" : p.rttMs.toFixed(1) + " ms"),
        el("td", { className: "num" }, p.lastSeen ? ago(p.lastSeen) : "–"),
        el("td", { className: "num" }, String(p.badBlocks ?? 0)),
      )
    );
    if (rows.length === 0) {
      rows.push(el("tr", {}, el("td", { colspan: 6, className: "muted" }, "no peers known")));
    }
    body.replaceChildren(...rows);
  }

  // ---- files
  function healthCell(f) {
    const st = stats.get(f.id);
    if (!st) return el("td", { className: "muted" }, "…");
    const h = st.health;
    if (!h) return el("td", { className: "muted", title: "this node runs without upkeep" }, "–");
    const word = String(h.health);
    return el(
      "td",
      {
        className: "health-" + word.replace(/[^a-z]+/g, "-"),
        title: h.holders.length + " holders, " + h.unreachable + " unreachable",
      },
      word + " " + h.live + "/" + h.target + (st.stripes ? " shards" : " copies"),
    );
  }
  /** The files of the page shown (the page is first brought within the list). */
  function shownFiles() {
    const pages = Math.max(1, Math.ceil(files.length / PAGE_FILES));
    page = Math.min(Math.max(0, page), pages - 1);
    return files.slice(page * PAGE_FILES, (page + 1) * PAGE_FILES);
  }
  function renderFiles() {
    const body = $("files").tBodies[0];
    const caps = capabilities();
    const rows = shownFiles().map((f) => {
      const st = stats.get(f.id);
      const name = f.names.length ? f.names.join(", ") : "";
      const encrypted = st ? !!st.encrypted : false;
      const capability = caps[f.id];
      const key = capability || (f.names.length ? f.names[0] : f.id);
      const button = el("button", {
        type: "button",
        title: encrypted && !capability
          ? "encrypted: reading needs its capability (or a name that shares the key)"
          : "download",
        onclick: () => startDownload(key, f.names[0] || f.id),
      }, "Download");
      return el(
        "tr",
        { "data-id": f.id },
        el("td", { className: "name" }, name || el("span", { className: "muted" }, "(no name)")),
        el("td", { className: "num" }, bytes(f.size)),
        el("td", { className: "mono", title: f.id }, shortId(f.id)),
        el(
          "td",
          {},
          st ? String(st.redundancy) + (encrypted ? (capability ? " · encrypted" : " · encrypted, no key here") : " · public") : "…",
        ),
        healthCell(f),
        el("td", {}, button),
      );
    });
    if (rows.length === 0) {
      rows.push(el("tr", {}, el("td", { colspan: 6, className: "muted" }, "no files on this node")));
    }
    body.replaceChildren(...rows);
    const paged = files.length > PAGE_FILES;
    $("files-pager").hidden = !paged;
    if (paged) {
      const first = page * PAGE_FILES;
      $("files-page").textContent = (first + 1) + "–" + Math.min(first + PAGE_FILES, files.length) +
        " of " + files.length;
      $("files-prev").disabled = page === 0;
      $("files-next").disabled = first + PAGE_FILES >= files.length;
    }
  }
  async function refreshHealth() {
    lastHealthAt = performance.now();
    for (const f of shownFiles()) {
      try {
        stats.set(f.id, await api("/files/" + encodeURIComponent(f.id) + "/stat?health=1"));
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) throw err;
      }
    }
    renderFiles();
  }
  /** Named files first, by name; then the unnamed ones, by id. */
  function byNameThenId(a, b) {
    if (a.names.length && b.names.length) return a.names[0].localeCompare(b.names[0]);
    if (a.names.length || b.names.length) return a.names.length ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }
  async function refreshFiles(forceHealth) {
    const answer = await api("/files");
    files = answer.files.slice().sort(byNameThenId);
    const known = new Set(files.map((f) => f.id));
    for (const id of stats.keys()) if (!known.has(id)) stats.delete(id);
    renderFiles();
    const missing = shownFiles().some((f) => !stats.has(f.id));
    if (forceHealth || missing || performance.now() - lastHealthAt > HEALTH_EVERY_MS) {
      await refreshHealth();
    }
  }
  /** Shows the page "by" pages away, and checks the health of its files not checked yet. */
  function turnPage(by) {
    page += by;
    renderFiles();
    if (shownFiles().some((f) => !stats.has(f.id))) {
      void refreshHealth().catch((err) => handleError(err, "files"));
    }
  }

  // ---- polling
  function loop(what, everyMs, fn) {
    let timer = 0;
    let running = false;
    const run = async () => {
      if (running) return; // the running pass sets the next timer
      running = true;
      clearTimeout(timer);
      if (!authNeeded && !document.hidden) {
        try {
          await fn();
          if (what === "status") {
            $("conn").textContent = "updated " + new Date().toLocaleTimeString();
            $("conn").className = "muted";
            hideAuth();
          }
        } catch (err) {
          handleError(err, what);
        }
      }
      running = false;
      timer = setTimeout(run, everyMs);
    };
    return run;
  }
  const pollStatus = loop("status", STATUS_EVERY_MS, async () => {
    const [status, peers] = await Promise.all([api("/status"), api("/peers")]);
    renderStatus(status);
    renderPeers(peers.peers);
  });
  const pollFiles = loop("files", FILES_EVERY_MS, () => refreshFiles(false));
  function refreshAll() {
    void pollStatus();
    void pollFiles();
  }

  // ---- uploads
  let uploadQueue = Promise.resolve();
  function uploadParams(file) {
    const q = new URLSearchParams();
    if ($("opt-name").checked && file.name) {
      q.set("name", file.name);
      if ($("opt-share").checked) q.set("share-key", "1");
    }
    const encrypt = $("opt-encrypt").value;
    if (encrypt !== "") q.set("encrypt", encrypt);
    const redundancy = $("opt-redundancy").value.trim();
    if (redundancy !== "") q.set("redundancy", redundancy);
    return q;
  }
  function enqueueUploads(list) {
    for (const file of Array.from(list)) {
      const params = uploadParams(file);
      const item = transferItem($("uploads"), "upload", file.name || "(unnamed)", file.size);
      uploadQueue = uploadQueue.then(() => upload(file, params, item));
    }
  }
  function transferItem(list, kind, label, size) {
    const progress = el("progress", { max: 1, value: 0 });
    const text = el("span", { className: "muted" }, "waiting");
    const cancel = el("button", { type: "button" }, "Cancel");
    const result = el("div", {});
    const li = el(
      "li",
      { className: kind },
      el("div", {}, el("strong", { className: "name" }, label), " ", size >= 0 ? bytes(size) : "", " ", cancel),
      progress,
      el("div", {}, text),
      result,
    );
    list.prepend(li);
    return { li, progress, text, cancel, result };
  }
  function upload(file, params, item) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      const started = performance.now();
      xhr.open("POST", API + "/files?" + params.toString());
      const t = token();
      if (t) xhr.setRequestHeader("Authorization", "Bearer " + t);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      item.text.textContent = "uploading";
      item.cancel.onclick = () => xhr.abort();
      xhr.upload.onprogress = (e) => {
        const total = e.lengthComputable ? e.total : file.size;
        item.progress.max = Math.max(1, total);
        item.progress.value = e.loaded;
        const secs = (performance.now() - started) / 1000;
        item.text.textContent = bytes(e.loaded) + " of " + bytes(total) +
          (secs > 0 ? " · " + rate(e.loaded / secs) : "");
      };
      xhr.upload.onload = () => {
        item.text.textContent = "sent; the node is storing and placing it…";
      };
      xhr.onload = () => {
        item.cancel.remove();
        if (xhr.status === 401) {
          item.text.textContent = "refused: the API needs its token";
          item.text.className = "error";
          showAuth("");
        } else if (xhr.status === 201) {
          let r = {};
          try {
            r = JSON.parse(xhr.responseText);
          } catch { /* shown below */ }
          item.progress.max = 1;
          item.progress.value = 1;
          item.text.textContent = "stored: " + r.copies + " of " + r.wanted + " wanted (" +
            r.redundancy + ")" + (r.name ? ", named " : "");
          if (r.name) item.text.append(el("span", { className: "name" }, String(r.name)));
          item.text.className = "";
          item.result.append(
            el("div", {}, "id ", el("input", { className: "mono result-id", readonly: true, value: r.id })),
          );
          if (r.capability) {
            rememberCapability(r.id, r.capability);
            item.result.append(el(
              "div",
              {},
              "capability (the read key: keep it secret) ",
              el("input", {
                className: "mono result-capability",
                readonly: true,
                value: r.capability,
              }),
            ));
          }
          void refreshFiles(true).catch((err) => handleError(err, "files"));
        } else {
          let message = "HTTP " + xhr.status;
          try {
            const body = JSON.parse(xhr.responseText);
            if (body && body.error) message = body.error.code + ": " + body.error.message;
          } catch { /* not JSON */ }
          item.text.textContent = "failed: " + message;
          item.text.className = "error";
        }
        resolve();
      };
      xhr.onerror = () => {
        item.cancel.remove();
        item.text.textContent = "failed: the connection to the node broke";
        item.text.className = "error";
        resolve();
      };
      xhr.onabort = () => {
        item.cancel.remove();
        item.text.textContent = "cancelled";
        item.text.className = "muted";
        resolve();
      };
      xhr.send(file);
    });
  }

  // ---- downloads (fetch: the token goes in a header, never in a URL)
  async function startDownload(key, filename) {
    const item = transferItem($("downloads"), "download", filename, -1);
    const abort = new AbortController();
    item.cancel.onclick = () => abort.abort();
    const started = performance.now();
    try {
      item.text.textContent = "asking the node…";
      const res = await fetch(API + "/files/" + encodeURIComponent(key), {
        headers: authHeaders(),
        cache: "no-store",
        signal: abort.signal,
      });
      if (!res.ok) throw await errorOf(res);
      const size = Number(res.headers.get("x-dfs-size") || res.headers.get("content-length") || NaN);
      item.progress.max = Math.max(1, size || 1);
      const reader = res.body.getReader();
      const chunks = [];
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        item.progress.value = received;
        const secs = (performance.now() - started) / 1000;
        item.text.textContent = bytes(received) + (size >= 0 ? " of " + bytes(size) : "") +
          (secs > 0 ? " · " + rate(received / secs) : "");
      }
      if (Number.isFinite(size) && received !== size) {
        throw new Error("the download was cut short: " + received + " of " + size + " bytes");
      }
      const url = URL.createObjectURL(new Blob(chunks, { type: "application/octet-stream" }));
      const a = el("a", { href: url, download: filename.replace(/[\\/:]/g, "_") || "download" });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      item.progress.max = 1;
      item.progress.value = 1;
      item.text.textContent = "done: " + bytes(received);
      item.text.className = "";
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) showAuth("");
      item.text.textContent = abort.signal.aborted ? "cancelled" : "failed: " + describe(err);
      item.text.className = abort.signal.aborted ? "muted" : "error";
    } finally {
      item.cancel.remove();
    }
  }

  // ---- wiring
  function start() {
    $("auth-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const value = $("token").value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      $("token").value = "";
      authNeeded = false;
      $("auth-error").textContent = "";
      $("conn").textContent = "checking the token…";
      refreshAll();
    });
    $("files-prev").addEventListener("click", () => turnPage(-1));
    $("files-next").addEventListener("click", () => turnPage(1));
    $("forget-token").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      $("forget-token").hidden = true;
      refreshAll();
    });
    $("open-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("open-key").value.trim();
      if (!key) return;
      const m = /^dfs:r:([^:]+):/.exec(key);
      void startDownload(key, m ? m[1] : key);
    });
    $("file-input").addEventListener("change", (e) => {
      enqueueUploads(e.target.files);
      e.target.value = "";
    });
    const drop = $("drop");
    const over = (on) => (e) => {
      e.preventDefault();
      drop.classList.toggle("over", on);
    };
    drop.addEventListener("dragenter", over(true));
    drop.addEventListener("dragover", over(true));
    drop.addEventListener("dragleave", over(false));
    drop.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        $("file-input").click();
      }
    });
    drop.addEventListener("drop", (e) => {
      over(false)(e);
      if (e.dataTransfer && e.dataTransfer.files.length) enqueueUploads(e.dataTransfer.files);
    });
    // A file dropped beside the zone must not replace the page.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) refreshAll();
    });
    $("main").hidden = false;
    refreshAll();
  }
  start();
})();
`;
