// app.js: the dashboard. Wires the connection, the model and the views.

import { h, text, clear, $ } from "./dom.js";
import { originURL, readParams, saveToken, sessionsURL } from "./params.js";
import { Connection } from "./conn.js";
import { Model, matches, callState, summary, formatMs, perMinute, toolStats, sessionHue } from "./model.js";
import { VirtualList } from "./list.js";
import { drawPerMinute, drawToolStats } from "./charts.js";

const ROW_H = 28;
const CHART_MINUTES = 30;

const params = readParams(location, sessionStorage);
if (params.cleanURL !== null) history.replaceState(null, "", params.cleanURL);

const model = new Model();
const filter = { types: new Set(), tool: "", origin: params.origin, search: "" };
let fleet = false; // an event with an origin was seen: show the origin column and filter
let selection = params.sessions.length ? new Set(params.sessions) : null; // null = all sessions
const sessions = new Map(); // session_id → session (as /v1/sessions, kept live from events)
let oldestSeq = 0; // the daemon's oldest retained seq (for "load older")
let olderDone = false; // nothing older matches the selection
let loadingOlder = false;
let statsDirty = true;
let statsTimer = 0;
let hello = null;
let restartedAt = 0;
let newWhilePaused = 0;
let replaying = true;
let loadMs = 0; // from navigation start to the first "live"

const list = new VirtualList($("list"), {
  rowHeight: ROW_H,
  renderRow,
  onFollowChange: (f) => {
    if (f) newWhilePaused = 0;
    updateFollow();
  },
  onKey: (e, r) => {
    if (e.key === "c" && r.ev) {
      copyJSON(r.ev);
      return true;
    }
    return false;
  },
});

const conn = new Connection({
  token: params.token,
  tail: params.tail,
  sessions: selection ? [...selection] : null,
  onState: showState,
  onSessions: mergeSessions,
  onHello: (m, { restarted, reset }) => {
    hello = m;
    oldestSeq = m.oldest_seq || 0;
    if (restarted) {
      restartedAt = Date.now();
      notice(reset
        ? `The daemon restarted and kept no history (in-memory store): its event numbers began again. Earlier events stay above the divider.`
        : `The daemon restarted; resumed after event #${conn.cursor ?? 0} with nothing missed.`, "restart");
    }
    document.body.dataset.instance = m.instance;
    renderHeader();
  },
  onReset: () => {
    const d = model.reset(`daemon restarted at ${clock(Date.now())} — history reset, event numbers begin again`);
    if (matches(d, filter)) list.append([d]);
    olderDone = false;
    sessions.clear();
  },
  onSubscribed: (m) => {
    oldestSeq = m.oldest_seq || oldestSeq;
    if (m.truncated && model.count() > 0) notice(`Some events were dropped by the daemon's retention while this page was away (it keeps --history events).`, "gap");
    replaying = true;
    list.busy = true;
    updateStatus();
  },
  onEvents: addEvents,
  onLive: () => {
    replaying = false;
    list.busy = false;
    list.schedule();
    if (!loadMs) {
      loadMs = Math.round(performance.now());
      document.body.dataset.loadMs = String(loadMs);
    }
    document.body.dataset.live = "1";
    updateStatus();
  },
  onNotice: (t) => notice(t, "daemon"),
});

// ---- events -------------------------------------------------------------

function addEvents(evs) {
  const { added, trimmed } = model.add(evs);
  const touched = new Set();
  const shown = [];
  let newSession = false;
  for (const r of added) {
    const ev = r.ev;
    if (r.call && r.call.pre && r.call.pre !== r) touched.add(r.call.pre.key);
    if (!ev.ephemeral) newSession = trackSession(ev) || newSession;
    if (matches(r, filter)) shown.push(r);
  }
  if (trimmed) list.setItems(model.records.filter((r) => matches(r, filter)));
  else list.append(shown);
  if (!list.follow) newWhilePaused += shown.length;
  if (touched.size) list.refresh(touched);
  if (newSession) refreshSessionsSoon();
  markStats();
  scheduleUI();
}

// scheduleUI refreshes the toolbar and status line once per frame, however
// many event frames arrived in it.
let uiPending = false;
function scheduleUI() {
  if (uiPending) return;
  uiPending = true;
  requestAnimationFrame(() => {
    uiPending = false;
    updateFilters();
    updateStatus();
    updateFollow();
  });
}

function rebuildView() {
  list.setItems(model.records.filter((r) => matches(r, filter)));
  updateStatus();
}

// ---- rows ---------------------------------------------------------------

function renderRow(r, { expanded }) {
  if (!r.ev) {
    return h("div", { class: "row divider", tabindex: "-1" }, h("div", { class: "line" }, h("span", { class: "divtext" }, r.divider)));
  }
  const ev = r.ev;
  const st = callState(r.call, Date.now(), model.endedSessions);
  if (r.sum === undefined) {
    r.sum = summary(ev);
    r.hue = sessionHue(ev.session_id);
  }
  const sess = h("span", { class: "sess", title: ev.session_id }, ev.session_id.slice(0, 8));
  sess.style.setProperty("--hue", r.hue);
  const line = h("div", { class: "line" },
    h("span", { class: "seq" }, ev.seq ? "#" + ev.seq : "probe"),
    h("span", { class: "time", title: ev.received }, clock(r.t)),
    h("span", { class: "origin", title: ev.origin ? `${ev.origin}, its seq #${ev.origin_seq}` : "" }, ev.origin || ""),
    sess,
    h("span", { class: "type", dataset: { type: ev.event } }, ev.event),
    h("span", { class: "tool" }, ev.tool || ""),
    h("span", { class: "sum" }, r.sum),
    callCell(st),
  );
  const row = h("div", { class: "row", tabindex: "-1", id: "row-" + r.key.replace(":", "-") }, line);
  if (st) row.dataset.call = st.state;
  if (expanded) row.append(renderDetail(r, st));
  return row;
}

function callCell(st) {
  if (!st) return h("span", { class: "call" });
  const label = {
    running: `running ${formatMs(st.ms)}`,
    ok: st.ms === null ? "ok" : `✓ ${formatMs(st.ms)}`,
    failed: st.ms === null ? "failed" : `✗ ${formatMs(st.ms)}`,
    unfinished: "no result",
  }[st.state];
  return h("span", { class: "call", dataset: { state: st.state }, title: st.state === "unfinished" ? "the session ended before this call reported back" : st.state }, label);
}

function renderDetail(r, st) {
  const ev = r.ev;
  const meta = h("div", { class: "meta" });
  const copy = h("button", { type: "button", class: "copy", onclick: () => copyJSON(ev) }, "Copy JSON");
  meta.append(copy);
  if (r.call) {
    const other = r.call.pre === r ? r.call.post : r.call.pre;
    const desc = st.state === "running" ? `running for ${formatMs(st.ms)}` : st.state === "unfinished" ? "the session ended before a result" : `${st.state === "ok" ? "succeeded" : "failed"}${st.ms !== null ? " after " + formatMs(st.ms) : ""}`;
    meta.append(h("span", { class: "pair" }, `tool call ${r.call.id}: ${desc}`));
    if (other) meta.append(h("button", { type: "button", onclick: () => jumpTo(other) }, `go to #${other.ev.seq} ${other.ev.event}`));
  }
  if (ev.sent) {
    const lag = r.t - Date.parse(ev.sent);
    if (isFinite(lag)) meta.append(h("span", { class: "muted" }, `hook → daemon ${formatMs(lag)}`));
  }
  const pre = h("pre", { class: "json", tabindex: "0", "aria-label": "event JSON" });
  pre.textContent = JSON.stringify(ev, null, 2);
  return h("div", { class: "detail" }, meta, pre);
}

function jumpTo(r) {
  const i = list.pos.get(r.key);
  if (i === undefined) {
    notice("That event is hidden by the current filters.", "info");
    return;
  }
  list.setFollow(false);
  list.setActive(i, true);
}

async function copyJSON(ev) {
  const json = JSON.stringify(ev, null, 2);
  let ok = false;
  try {
    await navigator.clipboard.writeText(json);
    ok = true;
  } catch {
    const back = document.activeElement;
    const ta = h("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
    ta.value = json;
    document.body.append(ta);
    ta.select();
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    ta.remove();
    if (back && back.focus) back.focus({ preventScroll: true });
  }
  toast(ok ? `Copied event #${ev.seq || "probe"} as JSON` : "Copy failed: select the text and copy it by hand");
}

// ---- sessions -----------------------------------------------------------

function mergeSessions(listed) {
  for (const s of listed) {
    // /v1/sessions may not name the origin: keep the one the events gave.
    const had = sessions.get(s.session_id);
    sessions.set(s.session_id, { ...s, origin: s.origin || (had && had.origin) || "", last: Date.parse(s.last_seen) || 0 });
  }
  renderSessions();
}

function trackSession(ev) {
  let s = sessions.get(ev.session_id);
  const isNew = !s;
  if (!s) {
    s = { session_id: ev.session_id, origin: "", cwd: "", total: 0, events: {}, ended: false, last_seq: 0, last: 0 };
    sessions.set(ev.session_id, s);
  }
  if (ev.origin) s.origin = ev.origin;
  if (ev.seq > (s.last_seq || 0)) {
    s.last_seq = ev.seq;
    s.total = (s.total || 0) + 1;
    s.events = s.events || {};
    s.events[ev.event] = (s.events[ev.event] || 0) + 1;
    s.last = Math.max(s.last || 0, Date.parse(ev.received) || 0);
    const p = ev.payload || {};
    if (typeof p.cwd === "string" && p.cwd) s.cwd = p.cwd;
    if (ev.event === "SessionEnd") s.ended = true;
  }
  sessionsDirty = true;
  return isNew;
}

let sessionsDirty = false;
let sessionsTimer = 0;
function refreshSessionsSoon() {
  if (sessionsTimer) return;
  sessionsTimer = setTimeout(async () => {
    sessionsTimer = 0;
    try {
      mergeSessions(await conn.fetchSessions());
    } catch { /* the connection reports trouble */ }
  }, 500);
}

const sessionEls = new Map();
function renderSessions() {
  sessionsDirty = false;
  const ul = $("sessions");
  const sorted = [...sessions.values()].sort((a, b) => b.last - a.last);
  if (!sorted.length) {
    if (!ul.querySelector(".empty")) {
      clear(ul);
      sessionEls.clear();
      ul.append(h("li", { class: "empty" }, "No sessions yet. Start Claude Code with the mpm hook installed."));
    }
  } else {
    const empty = ul.querySelector(".empty");
    if (empty) empty.remove();
  }
  const now = Date.now();
  for (const s of sorted) {
    let li = sessionEls.get(s.session_id);
    if (!li) {
      const cb = h("input", { type: "checkbox", class: "pick", "aria-label": "show session " + s.session_id, onchange: (e) => pickSession(s.session_id, e.target.checked) });
      li = h("li", { class: "session", dataset: { id: s.session_id } },
        h("label", null, cb,
          h("span", { class: "dot" }),
          h("span", { class: "sorigin" }),
          h("span", { class: "sid" }, s.session_id.slice(0, 8)),
          h("span", { class: "cwd" }),
        ),
        h("div", { class: "smeta" }, h("span", { class: "state" }), h("span", { class: "ago" }), h("span", { class: "counts" })),
      );
      li.style.setProperty("--hue", sessionHue(s.session_id));
      sessionEls.set(s.session_id, li);
    }
    li.querySelector(".pick").checked = !!(selection && selection.has(s.session_id));
    li.classList.toggle("selected", !!(selection && selection.has(s.session_id)));
    li.classList.toggle("ended", !!s.ended);
    li.dataset.ended = s.ended ? "1" : "0";
    const so = li.querySelector(".sorigin");
    text(so, s.origin || "");
    so.title = s.origin ? "origin " + s.origin : "";
    const cwd = li.querySelector(".cwd");
    text(cwd, s.cwd ? s.cwd.replace(/^.*[/\\](?=[^/\\]+[/\\]?$)/, "") : "");
    cwd.title = s.cwd || "";
    text(li.querySelector(".state"), s.ended ? "ended" + (s.end_reason ? ` (${s.end_reason})` : "") : "live");
    text(li.querySelector(".ago"), s.last ? ago(now - s.last) : "");
    const tools = (s.events && s.events.PreToolUse) || 0;
    text(li.querySelector(".counts"), `${s.total || 0} events · ${tools} tools`);
    li.title = `${s.origin ? s.origin + " / " : ""}${s.session_id}\n${s.cwd || ""}`;
  }
  // Order by activity; move nodes only when the order changed (moving a
  // focused checkbox would lose its focus).
  const want = sorted.map((s) => sessionEls.get(s.session_id));
  const have = [...ul.querySelectorAll("li.session")];
  if (want.length !== have.length || want.some((el, i) => el !== have[i])) {
    const focused = document.activeElement;
    ul.append(...want);
    if (focused && ul.contains(focused)) focused.focus();
  }
  text($("sess-sel"), selection ? `${selection.size} selected` : "all sessions");
  $("sess-all").setAttribute("aria-pressed", String(!selection));
}

let pickTimer = 0;
function pickSession(id, on) {
  const next = new Set(selection || []);
  if (on) next.add(id);
  else next.delete(id);
  setSelection(next.size ? next : null);
}

function setSelection(sel) {
  selection = sel;
  renderSessions();
  history.replaceState(null, "", sessionsURL(location, selection ? [...selection] : null));
  clearTimeout(pickTimer);
  pickTimer = setTimeout(() => {
    // A new registration: the server filters; the list starts over with it.
    model.clear();
    olderDone = false;
    list.expanded.clear();
    list.setItems([]);
    list.setFollow(true);
    replaying = true;
    conn.resubscribe(selection ? [...selection] : null);
    statsDirty = true;
    updateStatus();
  }, 250);
}

// ---- toolbar ------------------------------------------------------------

const typeEls = new Map();
let toolsKnown = "";
function updateFilters() {
  const types = [...model.types.keys()].sort();
  for (const t of filter.types) if (!types.includes(t)) types.push(t);
  const box = $("types");
  for (const t of types) {
    let b = typeEls.get(t);
    if (!b) {
      b = h("button", { type: "button", class: "chip", dataset: { type: t }, "aria-pressed": "false", onclick: () => toggleType(t) }, h("span", { class: "cname" }, t), h("span", { class: "ccount" }));
      typeEls.set(t, b);
      const after = [...typeEls.keys()].sort().indexOf(t);
      box.insertBefore(b, box.children[after] || null);
    }
    text(b.querySelector(".ccount"), String(model.types.get(t) || 0));
    b.setAttribute("aria-pressed", String(filter.types.has(t)));
  }
  const tools = [...model.tools.keys()].sort();
  if (filter.tool && !tools.includes(filter.tool)) tools.push(filter.tool);
  const sig = tools.join("\n");
  if (sig !== toolsKnown) {
    toolsKnown = sig;
    const sel = $("tool-filter");
    clear(sel);
    sel.append(h("option", { value: "" }, "all tools"));
    for (const t of tools) sel.append(h("option", { value: t }, t));
    sel.value = filter.tool;
  }
  updateOriginFilter();
}

// updateOriginFilter shows the origin column and select once an event with
// an origin (a fleet hub's) arrived; a single machine's page never changes.
let originsKnown = "";
function updateOriginFilter() {
  if (!fleet && !model.origins.size && !filter.origin) return; // a URL ?origin= shows the select too, to clear it
  if (!fleet) {
    fleet = true;
    document.body.dataset.fleet = "1";
    $("origin-filter").hidden = false;
  }
  const origins = [...model.origins.keys()].sort();
  if (filter.origin && !origins.includes(filter.origin)) origins.push(filter.origin);
  const sig = origins.join("\n");
  if (sig === originsKnown) return;
  originsKnown = sig;
  const sel = $("origin-filter");
  clear(sel);
  sel.append(h("option", { value: "" }, "all origins"));
  for (const o of origins) sel.append(h("option", { value: o }, o));
  sel.value = filter.origin;
}

function toggleType(t) {
  if (filter.types.has(t)) filter.types.delete(t);
  else filter.types.add(t);
  updateFilters();
  rebuildView();
}

$("tool-filter").addEventListener("change", (e) => {
  filter.tool = e.target.value;
  rebuildView();
});

// setOriginFilter applies an origin choice and keeps it in the URL.
function setOriginFilter(origin) {
  filter.origin = origin;
  history.replaceState(null, "", originURL(location, origin));
  rebuildView();
}

$("origin-filter").addEventListener("change", (e) => setOriginFilter(e.target.value));

let searchTimer = 0;
$("search").addEventListener("input", (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    filter.search = e.target.value.trim().toLowerCase();
    rebuildView();
  }, 120);
});
$("search").addEventListener("keydown", (e) => {
  if (e.key === "Escape") {
    e.target.value = "";
    filter.search = "";
    rebuildView();
    focusList();
  } else if (e.key === "Enter" || e.key === "ArrowDown") {
    e.preventDefault();
    focusList();
  }
});
$("clear-filters").addEventListener("click", () => {
  filter.types.clear();
  filter.tool = "";
  filter.search = "";
  $("search").value = "";
  $("tool-filter").value = "";
  $("origin-filter").value = "";
  updateFilters();
  setOriginFilter("");
});

$("follow").addEventListener("click", () => {
  list.setFollow(!list.follow);
  if (list.follow) newWhilePaused = 0;
  updateFollow();
});

function updateFollow() {
  const b = $("follow");
  if (list.follow) {
    text(b, "Pause scrolling");
    b.dataset.follow = "1";
  } else {
    text(b, newWhilePaused ? `Resume (${newWhilePaused} new)` : "Resume scrolling");
    b.dataset.follow = "0";
  }
}

$("sess-all").addEventListener("click", () => setSelection(null));
$("older").addEventListener("click", loadOlder);

function focusList() {
  const i = list.active >= 0 ? list.active : list.items.length - 1;
  if (i >= 0) list.setActive(i, true);
  else $("list").focus();
}

document.addEventListener("keydown", (e) => {
  const typing = e.target.closest && e.target.closest("input, textarea, select");
  if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === "/") {
    e.preventDefault();
    $("search").focus();
    $("search").select();
  } else if (e.key === "p") {
    $("follow").click();
  } else if (e.key === "?") {
    const d = $("help");
    if (d.open) d.close();
    else d.showModal();
  }
});
$("help-btn").addEventListener("click", () => $("help").showModal());
$("help-close").addEventListener("click", () => $("help").close());

// ---- load older ---------------------------------------------------------

// loadOlder pages GET /v1/events backwards in windows of seq numbers below
// the oldest event held: the API pages forwards only, and seq is global, so
// for a few sessions a window may hold fewer matches; it steps back until it
// has enough or reaches the daemon's oldest retained event.
async function loadOlder() {
  if (loadingOlder) return;
  const first = model.firstSeq();
  if (first === null) return;
  loadingOlder = true;
  updateStatus();
  const epoch = model.epoch;
  const sel = selection;
  const want = Math.max(500, Math.min(conn.tail || 2000, 5000));
  let hi = first;
  let got = [];
  let requests = 0;
  try {
    while (got.length < want && hi > Math.max(1, oldestSeq) && requests < 25) {
      const lo = Math.max(Math.max(1, oldestSeq) - 1, hi - 1 - (want - got.length));
      let since = lo;
      const chunk = [];
      for (;;) {
        const limit = Math.min(10000, hi - 1 - since);
        if (limit <= 0) break;
        const page = await conn.fetchHistory(since, limit);
        requests++;
        if (page.oldest_seq) oldestSeq = page.oldest_seq;
        const evs = (page.events || []).filter((e) => e.seq > since && e.seq < hi);
        chunk.push(...evs);
        const last = page.events.length ? page.events[page.events.length - 1].seq : 0;
        if (!page.events.length || page.events.length < limit || last >= hi - 1) break;
        since = page.next_since;
      }
      got = chunk.concat(got);
      hi = lo + 1;
    }
  } catch (e) {
    notice("Could not load older events: " + e.message, "older");
  }
  loadingOlder = false;
  if (epoch !== model.epoch || sel !== selection) return; // the list started over meanwhile
  if (hi <= Math.max(1, oldestSeq)) olderDone = true;
  const recs = model.prepend(got);
  for (const r of recs) if (!r.ev.ephemeral) trackSession(r.ev);
  const shownBefore = list.items.length;
  list.setItems(model.records.filter((r) => matches(r, filter)));
  list.shiftBy(list.items.length - shownBefore);
  markStats();
  updateFilters();
  updateStatus();
}

// ---- status -------------------------------------------------------------

let connState = { state: "connecting" };
function showState(st) {
  connState = st;
  const el = $("conn");
  el.dataset.state = st.state;
  let label = "";
  switch (st.state) {
    case "connecting":
      label = "connecting…";
      break;
    case "connected":
      label = "connected";
      break;
    case "reconnecting": {
      const secs = st.at ? Math.max(0, Math.ceil((st.at - Date.now()) / 1000)) : 0;
      label = `reconnecting${st.detail ? " — " + st.detail : ""}${st.at ? ` (retry ${st.attempt} in ${secs} s)` : ""}`;
      break;
    }
    case "auth":
      label = st.detail === "missing" ? "token missing" : "token wrong";
      break;
  }
  if (st.state === "connected" && restartedAt && Date.now() - restartedAt < 60000) {
    label = "connected · daemon restarted";
    el.dataset.restarted = "1";
  } else delete el.dataset.restarted;
  text(el, label);
  document.body.dataset.conn = st.state;
  const auth = $("auth");
  auth.hidden = st.state !== "auth";
  if (st.state === "auth") {
    text($("auth-title"), st.detail === "missing" ? "Token missing" : "Token wrong");
    text($("auth-why"), st.detail === "missing"
      ? "This page needs the daemon's access token, and its URL carries none."
      : "The daemon refused the token this page has (it answered 401).");
  }
  renderHeader();
}

function renderHeader() {
  const parts = [];
  if (hello) parts.push(`mpm-wsd ${hello.version}`, `instance ${String(hello.instance).slice(0, 8)}`);
  if (conn.cursor) parts.push(`seq ${conn.cursor}`);
  text($("daemon"), parts.join(" · "));
}

let running = 0; // tool calls running, counted with the charts
function updateStatus() {
  const n = model.count();
  const parts = [`${n} event${n === 1 ? "" : "s"} loaded`];
  if (list.items.length !== model.records.length) parts.push(`${list.items.length} shown`);
  if (running) parts.push(`${running} tool call${running === 1 ? "" : "s"} running`);
  if (model.trimmed) parts.push(`${model.trimmed} oldest dropped from the page`);
  if (replaying && connState.state === "connected") parts.push("loading history…");
  if (!replaying && loadMs) parts.push(`loaded in ${loadMs} ms`);
  text($("status"), parts.join(" · "));
  document.body.dataset.count = String(n);
  document.body.dataset.shown = String(list.items.length);
  const first = model.firstSeq();
  const older = !olderDone && first !== null && first > Math.max(1, oldestSeq);
  const ob = $("older");
  ob.hidden = !older && !loadingOlder;
  ob.disabled = loadingOlder;
  text(ob, loadingOlder ? "Loading older…" : `Load older (before #${first})`);
  renderHeader();
}

// ---- notices ------------------------------------------------------------

function notice(msg, kind) {
  const box = $("notices");
  const old = box.querySelector(`[data-kind="${kind}"]`);
  if (old) old.remove();
  const n = h("div", { class: "notice", dataset: { kind }, role: "status" },
    h("span", null, `${clock(Date.now())} ${msg}`),
    h("button", { type: "button", class: "close", "aria-label": "dismiss", onclick: () => n.remove() }, "×"),
  );
  box.append(n);
}

let toastTimer = 0;
function toast(msg) {
  const t = $("toast");
  text(t, msg);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 2500);
}

// ---- clocks -------------------------------------------------------------

function clock(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function ago(ms) {
  if (ms < 5000) return "just now";
  if (ms < 60000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)} min ago`;
  if (ms < 86400000) return `${Math.floor(ms / 3600000)} h ago`;
  return `${Math.floor(ms / 86400000)} d ago`;
}

// ---- periodic work ------------------------------------------------------

setInterval(() => {
  // running tool calls tick; ended sessions turn them into "no result"
  const keys = new Set();
  for (const [k] of list.rendered) {
    const i = list.pos.get(k);
    const r = i === undefined ? null : list.items[i];
    if (r && r.call && r.call.pre && !r.call.post) keys.add(k);
  }
  if (keys.size) list.refresh(keys);
  if (connState.state === "reconnecting") showState(connState);
  else if (connState.state === "connected" && restartedAt) showState(connState);
}, 1000);

setInterval(() => {
  if (sessionsDirty || sessions.size) renderSessions();
  if (statsDirty) drawStats();
}, 2000);

setInterval(() => {
  statsDirty = true;
  if (connState.state === "connected") refreshSessionsSoon();
}, 15000);

// markStats redraws the charts and the session panel soon, at most about
// twice a second however fast events come.
function markStats() {
  statsDirty = true;
  sessionsDirty = true;
  if (statsTimer) return;
  statsTimer = setTimeout(() => {
    statsTimer = 0;
    renderSessions();
    drawStats();
  }, 400);
}

function drawStats() {
  statsDirty = false;
  const now = Date.now();
  let end = now;
  const last = model.records.length ? model.records[model.records.length - 1] : null;
  if (last && last.t < now - CHART_MINUTES * 60000) end = last.t;
  drawPerMinute($("chart-pm"), perMinute(model.records, end, CHART_MINUTES));
  drawToolStats($("chart-tools"), toolStats(model.calls, now, model.endedSessions));
  running = model.running();
  updateStatus();
}

// ---- start --------------------------------------------------------------

$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const t = $("auth-token").value.trim();
  if (!t) return;
  $("auth-token").value = "";
  saveToken(sessionStorage, t);
  conn.setToken(t);
});

// A URL with a new #token= pasted into this tab changes only the fragment:
// the page does not reload, so take the token from here.
window.addEventListener("hashchange", () => {
  const p = readParams(location, sessionStorage);
  if (p.cleanURL !== null) history.replaceState(null, "", p.cleanURL);
  if (p.tokenSource === "url" && p.token !== conn.token) conn.setToken(p.token);
});

if (params.portNote) notice(params.portNote, "port");
renderSessions();
updateFilters();
updateFollow();
updateStatus();
drawStats();
conn.start();
