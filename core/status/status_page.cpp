#include "core/status/status_page.hpp"

namespace tlsbroker::core {

namespace {

// Kept as one raw string so the page is one file an operator can read; no build step.
constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';
        connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>tlsbroker status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; background: #fafafa; }
  h1 { font-size: 1.4em; margin: 0 1em 0 0; display: inline-block; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  header { display: flex; align-items: baseline; flex-wrap: wrap; gap: .5em; }
  table { border-collapse: collapse; background: #fff; }
  th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; white-space: nowrap; }
  th { background: #f0f0f0; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .ok, .accepting, .up { color: #116611; font-weight: 600; }
  .warn, .paused_at_limit, .backing_off, .slow { color: #9a5b00; font-weight: 600; }
  .bad, .stopped, .down, .stalled, .expired { color: #b00020; font-weight: 600; }
  #banner { padding: .2em .6em; border-radius: 3px; }
  #banner.ok { background: #e4f4e4; } #banner.bad { background: #fbe4e6; }
  #error { color: #b00020; }
  footer { margin-top: 2em; color: #666; font-size: .9em; }
  code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<header><h1>tlsbroker</h1><span id="banner">loading…</span><span id="about"></span></header>
<p id="error" hidden></p>

<h2>Listeners</h2>
<table id="listeners">
  <thead><tr><th>Listener</th><th>Listen</th><th>State</th><th>Active</th><th>Max</th><th>Last accept</th>
    <th>Accepts/s</th><th>Handshakes/s</th><th>Failed/s</th>
    <th>In KB/s</th><th>Out KB/s</th><th>Watchdog</th></tr></thead>
  <tbody></tbody>
</table>

<h2>Backends</h2>
<table id="backends">
  <thead><tr><th>Listener</th><th>Backend</th><th>State</th><th>Consecutive failures</th><th>Connects ok</th>
    <th>Connects failed</th></tr></thead>
  <tbody></tbody>
</table>

<h2>Certificates</h2>
<table id="certificates">
  <thead><tr><th>Listener</th><th>Name</th><th>Subject</th><th>Serial</th>
    <th>Expires (UTC)</th><th>Days left</th></tr></thead>
  <tbody></tbody>
</table>
<p id="certwatch"></p>

<h2>Last reload</h2>
<p id="reload">none since start</p>

<footer>Refreshes every 2 s from <code>/status</code> (<span id="refreshes" data-count="0">0</span> so far);
  last update <span id="updated">never</span>. Rates are over the last refresh.</footer>

<script>
"use strict";
const PERIOD_MS = 2000;
let previous = null;  // { t: ms, counters: { listener name: counters } }
let refreshes = 0;

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}
function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}
function age(s) {
  if (typeof s !== "number" || s < 0) return "never";
  if (s < 90) return s.toFixed(1) + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  return (s / 3600).toFixed(1) + " h ago";
}
function perSecond(name, key, counters, now) {
  if (!previous || !previous.counters[name]) return "…";
  const dt = (now - previous.t) / 1000;
  const before = previous.counters[name][key];
  if (!(dt > 0) || typeof before !== "number") return "…";
  return Math.max(0, (counters[key] - before) / dt);
}
function fixed(v, digits) { return typeof v === "number" ? v.toFixed(digits) : v; }

function renderListeners(st, now) {
  const rows = [];
  for (const l of st.listeners || []) {
    const c = l.counters || {};
    const tr = document.createElement("tr");
    tr.setAttribute("data-listener", l.name);
    tr.setAttribute("data-state", l.state);
    tr.setAttribute("data-active", String(c.connections_active ?? 0));
    const handshakes = ["handshakes_ok", "handshakes_failed", "handshakes_timeout"];
    const hs = perSecond(l.name, "handshakes_ok", c, now);
    const failed = handshakes.slice(1).map(k => perSecond(l.name, k, c, now));
    const failedSum = failed.every(v => typeof v === "number") ? failed[0] + failed[1] : "…";
    const inKb = perSecond(l.name, "bytes_client_to_backend", c, now);
    const outKb = perSecond(l.name, "bytes_backend_to_client", c, now);
    const dog = l.watchdog ? l.watchdog.last_probe : "off";
    tr.append(cell(l.name), cell(l.listen), cell(l.state, "state " + l.state),
              cell(c.connections_active, "num active"), cell(l.max_connections, "num"),
              cell(age(c.last_accept_age_seconds), "age"),
              cell(fixed(perSecond(l.name, "connections_accepted", c, now), 1), "num"),
              cell(fixed(hs, 1), "num"), cell(fixed(failedSum, 1), "num"),
              cell(typeof inKb === "number" ? (inKb / 1024).toFixed(1) : inKb, "num"),
              cell(typeof outKb === "number" ? (outKb / 1024).toFixed(1) : outKb, "num"),
              cell(dog, "watchdog " + dog));
    if (l.watchdog && l.watchdog.outcomes && l.watchdog.outcomes[dog]) tr.lastChild.title = l.watchdog.outcomes[dog];
    rows.push(tr);
  }
  fill(document.querySelector("#listeners tbody"), rows);
}

function renderBackends(st) {
  const rows = [];
  for (const l of st.listeners || [])
    for (const b of l.backends || []) {
      const tr = document.createElement("tr");
      tr.setAttribute("data-backend", b.address);
      tr.setAttribute("data-up", String(b.up));
      tr.append(cell(l.name), cell(b.address), cell(b.up ? "up" : "down", b.up ? "up" : "down"),
                cell(b.consecutive_failures, "num"), cell(b.connects_ok, "num"), cell(b.connects_failed, "num"));
      rows.push(tr);
    }
  fill(document.querySelector("#backends tbody"), rows);
}

function renderCertificates(st) {
  const rows = [];
  for (const l of st.listeners || [])
    for (const c of l.certificates || []) {
      const tr = document.createElement("tr");
      tr.setAttribute("data-certificate", c.name);
      const days = c.days_left;
      const cls = c.error ? "bad" : c.expires_in_s <= 0 ? "expired" : days < 7 ? "bad" : days < 30 ? "warn" : "ok";
      tr.append(cell(l.name), cell(c.name), cell(c.subject ?? c.error), cell(c.serial),
                cell(c.not_after), cell(c.expires_in_s <= 0 ? "expired" : days, "num " + cls));
      rows.push(tr);
    }
  fill(document.querySelector("#certificates tbody"), rows);
  const w = st.certificate_watch;
  const p = document.getElementById("certwatch");
  if (!w) { p.textContent = ""; return; }
  let text = w.reload_check_s > 0 ? "Files checked for changes every " + w.reload_check_s + " s." :
                                    "Files are not watched (tls.reload_check_s is 0).";
  if (w.settling && w.settling.length) text += " Changed, waiting to settle: " + w.settling.join(", ") + ".";
  const lp = w.last_pickup;
  if (lp) text += " Last pick-up " + new Date(lp.unix_ms).toISOString() + ": " +
                  (lp.ok ? "loaded " : "refused ") + (lp.files || []).join(", ") +
                  (lp.ok ? "" : " (" + (lp.errors || []).join("; ") + ")") + ".";
  for (const c of w.crls || [])
    text += " CRL " + c.file + ": " + c.revoked + " revoked, next update " + c.next_update +
        (c.stale ? " (STALE)" : "") + ".";
  p.textContent = text;
}

function renderReload(st) {
  const r = st.last_reload;
  const p = document.getElementById("reload");
  if (!r) { p.textContent = "none since start"; p.className = ""; return; }
  p.textContent = new Date(r.unix_ms).toISOString() + ": " +
      (r.ok ? "applied: " + r.summary : "rejected: " + (r.errors || []).join("; "));
  p.className = r.ok ? "ok" : "bad";
}

function render(st, now) {
  const banner = document.getElementById("banner");
  banner.textContent = st.healthy ? "healthy" : "unhealthy: " + st.health_reason;
  banner.className = st.healthy ? "ok" : "bad";
  document.getElementById("about").textContent =
    "version " + st.version + ", up " + st.uptime_s + " s, " + (st.openssl || "");
  renderListeners(st, now);
  renderBackends(st);
  renderCertificates(st);
  renderReload(st);
  const counters = {};
  for (const l of st.listeners || []) counters[l.name] = l.counters || {};
  previous = { t: now, counters };
}

async function refresh() {
  const error = document.getElementById("error");
  try {
    const r = await fetch("/status", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status + " " + (await r.text()).trim());
    render(await r.json(), Date.now());
    error.hidden = true;
    refreshes += 1;
    const n = document.getElementById("refreshes");
    n.textContent = String(refreshes);
    n.setAttribute("data-count", String(refreshes));
    document.getElementById("updated").textContent = new Date().toISOString();
  } catch (e) {
    error.textContent = "cannot read /status: " + e.message;
    error.hidden = false;
  } finally {
    setTimeout(refresh, PERIOD_MS);
  }
}
refresh();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view status_page_html() { return page; }

}  // namespace tlsbroker::core
