/**
 * The dashboard's style sheet, served at `/dashboard/app.css`.
 *
 * @module
 */

/** The dashboard's CSS (light and dark, from the system's preference). */
export const DASHBOARD_CSS: string = `:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --fg: #1c1c1f; --muted: #6b6b75; --card: #ffffff; --line: #dcdce2;
  --accent: #2563eb; --ok: #15803d; --warn: #b45309; --bad: #b91c1c;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #141417; --fg: #e6e6ea; --muted: #9a9aa5; --card: #1d1d22; --line: #33333b;
    --accent: #60a5fa; --ok: #4ade80; --warn: #fbbf24; --bad: #f87171; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; background: var(--bg);
  color: var(--fg); }
h1 { font-size: 1.4rem; margin: 0.2rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 0.5rem; }
.card h2 { margin-top: 0; }
p { margin: 0.2rem 0; }
code, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
.label { color: var(--muted); display: inline-block; min-width: 7rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 1rem;
  margin-top: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 0.8rem 1rem; }
meter { width: 100%; height: 1.1rem; }
canvas { display: block; margin-top: 0.4rem; width: 240px; height: 48px; }
.drop { border: 2px dashed var(--line); border-radius: 8px; padding: 1.6rem; text-align: center;
  background: var(--card); }
.drop.over { border-color: var(--accent); }
.pick { color: var(--accent); cursor: pointer; text-decoration: underline; }
.pick input { position: absolute; width: 1px; height: 1px; opacity: 0; }
.options { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; margin: 0.6rem 0; }
.transfers { list-style: none; padding: 0; margin: 0.4rem 0; }
.transfers li { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: 0.4rem 0.7rem; margin: 0.3rem 0; overflow-wrap: anywhere; }
.transfers progress { width: 100%; }
.transfers input { width: 100%; }
table { width: 100%; border-collapse: collapse; background: var(--card);
  border: 1px solid var(--line); }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.num { text-align: right; white-space: nowrap; }
td.name { overflow-wrap: anywhere; max-width: 28rem; }
.health-healthy, .state-connected { color: var(--ok); }
.health-degraded { color: var(--warn); }
.health-at-risk, .health-lost, .state-failed { color: var(--bad); }
button { font: inherit; padding: 0.2rem 0.7rem; cursor: pointer; }
input[type="text"], input[type="password"], select { font: inherit; padding: 0.15rem 0.3rem; }
`;
