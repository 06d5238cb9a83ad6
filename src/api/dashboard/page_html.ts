/**
 * The dashboard's HTML, served at `/`. It holds no data and no inline script or style: the
 * script (`/dashboard/app.js`) fills it from the API.
 *
 * @module
 */

/** The dashboard page. */
export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>dfs node</title>
<link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/app.css">
<script src="/dashboard/app.js" defer></script>
</head>
<body>
<header>
  <h1>dfs <span id="node-id" class="mono" title="node id">…</span></h1>
  <p id="node-meta" class="muted"></p>
  <p><span id="conn" class="muted" role="status" aria-live="polite">connecting…</span>
    <button id="forget-token" type="button" hidden>Forget the token</button></p>
</header>

<section id="auth" hidden>
  <h2>API token</h2>
  <p>This node's API needs its bearer token: the file <code>api-token</code> in its data
  directory, or the file given with <code>--api-token-file</code>. The page keeps it in this
  tab's session storage only and sends it as an <code>Authorization</code> header.</p>
  <form id="auth-form" autocomplete="off">
    <label>Token <input id="token" type="password" autocomplete="off" spellcheck="false"
      required></label>
    <button type="submit">Use token</button>
  </form>
  <p id="auth-error" class="error" role="alert"></p>
</section>

<main id="main" hidden>
  <section id="overview" class="cards">
    <div class="card">
      <h2>Store</h2>
      <meter id="store-meter" min="0" max="1" value="0"></meter>
      <p id="store-text"></p>
    </div>
    <div class="card">
      <h2>Transfer</h2>
      <p><span class="label">sent</span> <span id="rate-sent">–</span></p>
      <p><span class="label">received</span> <span id="rate-recv">–</span></p>
      <p><span class="label">fetched</span> <span id="rate-fetched">–</span></p>
      <canvas id="rate-chart" width="240" height="48" aria-label="peer traffic, last minutes"></canvas>
    </div>
    <div class="card">
      <h2>Node</h2>
      <p><span class="label">files</span> <span id="count-files">–</span></p>
      <p><span class="label">peers</span> <span id="count-peers">–</span></p>
      <p><span class="label">repair queue</span> <span id="repair-queue">–</span></p>
      <p><span class="label">quarantined</span> <span id="quarantined">–</span></p>
    </div>
  </section>

  <section id="upload-section">
    <h2>Upload</h2>
    <div id="drop" class="drop" tabindex="0">
      <p>Drop files here, or <label class="pick">choose files
        <input id="file-input" type="file" multiple></label></p>
    </div>
    <div class="options">
      <label><input id="opt-name" type="checkbox" checked> bind the file name as a name</label>
      <label><input id="opt-share" type="checkbox"> share the key with the name</label>
      <label>encryption <select id="opt-encrypt">
        <option value="">node default</option>
        <option value="1">encrypted</option>
        <option value="0">public (plaintext)</option>
      </select></label>
      <label>redundancy <input id="opt-redundancy" type="text" size="14"
        placeholder="e.g. replicas:3, rs:4+2" spellcheck="false"></label>
    </div>
    <ul id="uploads" class="transfers"></ul>
  </section>

  <section id="open-section">
    <h2>Download</h2>
    <form id="open-form" autocomplete="off">
      <label>id, name or capability
        <input id="open-key" type="text" size="60" spellcheck="false" required></label>
      <button type="submit">Download</button>
    </form>
    <ul id="downloads" class="transfers"></ul>
  </section>

  <section id="files-section">
    <h2>Files</h2>
    <table id="files">
      <thead><tr><th>name</th><th>size</th><th>id</th><th>redundancy</th><th>health</th>
        <th></th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="files-pager" hidden><button id="files-prev" type="button">‹ previous</button>
      files <span id="files-page"></span>
      <button id="files-next" type="button">next ›</button></p>
  </section>

  <section id="peers-section">
    <h2>Peers</h2>
    <table id="peers">
      <thead><tr><th>node</th><th>address</th><th>state</th><th>latency</th><th>last seen</th>
        <th>bad blocks</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
</body>
</html>
`;
