// @ts-check
// app.js: starts the page — reads the URL, wires the connection, the model
// and the views (all sharing the one state object, state.js), and runs the
// page's few timers.

import { $ } from "./dom.js";
import { S } from "./state.js";
import { readParams, saveToken, sessionsURL, seqURL, readSeq } from "./params.js";
import { Connection } from "./conn.js";
import { approvalAdded, resolved as approvalResolved, approvalsResubscribed, approvalsConnected, wireApprovals } from "./approvals.js";
import { matches, perMinute, toolStats, MAX_RECORDS } from "./model.js";
import { VirtualList } from "./list.js";
import { drawPerMinute, drawToolStats } from "./charts.js";
import { renderRow } from "./rows.js";
import { openDetail, closeDetail, renderDetail, setDetailHooks, openRecord } from "./detail.js";
import { renderBoard, renderPanel, setBoardHooks } from "./board.js";
import { showState, renderHeader, updateStatus, notice, dropNotice, copyText, markShown } from "./status.js";
import { rebuildView, updateFilters, updateFollow, focusList, wireToolbar, setToolbarHooks, setAgentFilter } from "./toolbar.js";
import { updateAttention, wireNotify, sessionChanged, setAttentionHooks } from "./attention.js";
import { clock } from "./format.js";
import { wireSearch, setSearchHooks } from "./search.js";
import { wireUsage, toggleUsage, usageMayHaveChanged } from "./usage.js";
import { mark, measure } from "./perf.js";
import { scanning, deriveTextSoon, viewFilter, filterBusy } from "./view.js";

/** @typedef {import("./types.js").WireEvent} WireEvent */
/** @typedef {import("./types.js").Rec} Rec */

const CHART_MINUTES = 30;

const params = readParams(location, sessionStorage);
S.params = params;
if (params.cleanURL !== null) history.replaceState(null, "", params.cleanURL);
S.filter.origin = params.origin;
S.selection = params.sessions.length ? new Set(params.sessions) : null;
S.pendingSeq = params.seq;
let resolved = !params.sessions.length; // ?session= names matched against the daemon's sessions
let replayed = 0; // events in the current replay, to know whether older ones exist
let boardPending = false; // boardSoon asked for a frame (here: onState calls it as the connection starts)

S.conn = new Connection({
  token: params.token,
  // The page keeps MAX_RECORDS events: a longer tail (0 is all) would load
  // events only to drop them; "load older" reaches the rest.
  tail: params.tail === 0 || params.tail > MAX_RECORDS ? MAX_RECORDS : params.tail,
  sessions: S.selection ? [...S.selection] : null,
  // ?session= prefixes become ids from the session list: the WebSocket
  // opens after it (full ids, as the address holds once resolved, need no
  // list: it opens beside it).
  subscribeAfterSessions: () => !resolved && !!S.selection && [...S.selection].some((n) => n.length < 32),
  onState: (/** @type {any} */ st) => {
    showState(st);
    boardSoon();
  },
  onSessions: (/** @type {import("./types.js").WireSession[]} */ listed) => {
    for (const s of listed) sessionChanged(mergeOne(s));
    if (!resolved) resolveSelection();
    boardSoon();
  },
  onSession: (/** @type {import("./types.js").WireSession} */ s) => {
    const m = mergeOne(s);
    sessionChanged(m);
    if (s.usage) usageMayHaveChanged();
    // A running call that asked for permission says whether its session
    // still waits: only those rows are drawn again.
    /** @type {Set<string>} */
    const keys = new Set();
    for (const [k, r] of S.list.renderedRecs) if (r.ev && r.ev.session_id === s.session_id && r.call && r.call.asked && !r.call.post) keys.add(k);
    if (keys.size) S.list.refresh(keys);
    boardSoon();
  },
  onHello: (/** @type {import("./types.js").Hello} */ m, /** @type {{restarted: boolean, reset: boolean}} */ { restarted, reset }) => {
    S.hello = m;
    S.oldestSeq = m.oldest_seq || 0;
    if (restarted) {
      S.restartedAt = Date.now();
      notice(reset
        ? `The daemon restarted and kept no history (in-memory store): its event numbers began again. Earlier events stay above the divider.`
        : `The daemon restarted; resumed after event #${S.conn.cursor ?? 0} with nothing missed.`, "restart");
    }
    document.body.dataset.instance = m.instance;
    approvalsConnected();
    renderHeader();
  },
  onReset: () => {
    const d = S.model.reset(`daemon restarted at ${clock(Date.now())} — history reset, event numbers begin again`);
    if (matches(d, viewFilter()) && !scanning()) S.list.append([d]);
    S.olderDone = false;
    S.sessions.clear();
  },
  onSubscribed: (/** @type {import("./types.js").Subscribed} */ m) => {
    approvalsResubscribed();
    S.oldestSeq = m.oldest_seq || S.oldestSeq;
    if (m.truncated && S.model.count() > 0) notice(`Some events were dropped by the daemon's retention while this page was away (it keeps --history events).`, "gap");
    S.replaying = true;
    replayed = 0;
    S.list.busy = true;
    updateStatus();
  },
  onEvents: addEvents,
  onLive: () => {
    // A replay that held fewer events than the tail asked for held them all:
    // nothing older matches, so no "load older".
    if (S.conn.tail === 0 || replayed < S.conn.tail) {
      if (S.model.firstSeq() !== null || replayed === 0) S.olderDone = true;
    }
    S.replaying = false;
    S.list.busy = false;
    S.list.schedule();
    markStats();
    if (!S.loadMs) {
      S.loadMs = Math.round(performance.now());
      document.body.dataset.loadMs = String(S.loadMs);
    }
    document.body.dataset.live = "1";
    S.settled = true;
    updateStatus();
    openPendingSeq();
  },
  onNotice: (/** @type {string} */ t) => notice(t, "daemon"),
  onApproval: approvalAdded,
  onApprovalResolved: approvalResolved,
});
// Connect first: the session list, the WebSocket and its replay are on
// their way while the rest of the page is set up (their callbacks run once
// this module has run).
S.conn.start();

S.list = new VirtualList($("list"), {
  renderRow,
  onFollowChange: (f) => {
    if (f) S.newWhilePaused = 0;
    updateFollow();
  },
  onOpen: (r) => openDetail(r),
  onDrawn: markShown,
  onMove: (r) => {
    if (S.openKey !== null && r.ev) openDetail(r);
  },
  onKey: (e, r) => {
    if (e.key === "c" && r.ev) {
      copyText(JSON.stringify(r.ev, null, 2), `event #${r.ev.seq || "probe"} as JSON`);
      return true;
    }
    return false;
  },
});

/** @param {import("./types.js").WireSession} s */
function mergeOne(s) {
  S.sessions.merge([s]);
  return /** @type {import("./sessions.js").Session} */ (S.sessions.map.get(s.session_id));
}

// resolveSelection turns ?session= prefixes (the 8 characters the page and
// mpm-monitor show) into full ids before the WebSocket subscribes, and says
// so when a name matches no session.
function resolveSelection() {
  resolved = true;
  if (!S.selection) return;
  const { ids, unknown, ambiguous } = S.sessions.resolve([...S.selection]);
  const keep = [...ids, ...unknown.filter((n) => n.length >= 32)]; // a full id may be a session yet to start
  S.unknownSessions = [...unknown, ...ambiguous];
  if (unknown.length || ambiguous.length) {
    const parts = [];
    if (unknown.length) parts.push(`No session matches ${unknown.map((n) => `"${n}"`).join(", ")}`);
    if (ambiguous.length) parts.push(`${ambiguous.map((n) => `"${n}"`).join(", ")} matches several sessions: give more of the id`);
    notice(`${parts.join("; ")}. ${S.sessions.map.size ? "Pick a session on the board, or show all." : "The daemon has no sessions yet."}`, "nosession");
    document.body.dataset.nosession = "1";
  }
  S.selection = keep.length ? new Set(keep) : null;
  if (!keep.length && (unknown.length || ambiguous.length)) S.selection = new Set(["-"]); // nothing matches: show nothing rather than everything
  S.conn.sessions = S.selection ? [...S.selection] : null;
  history.replaceState(null, "", sessionsURL(location, S.selection && !S.selection.has("-") ? [...S.selection] : params.sessions));
}

// ---- events -------------------------------------------------------------

/** @param {WireEvent[]} evs */
function addEvents(evs) {
  const t0 = mark();
  if (S.replaying) replayed += evs.length;
  const { added, trimmed } = S.model.add(evs);
  /** @type {Set<string>} */
  const touched = new Set();
  const shown = [];
  let newSession = false;
  let openTouched = false;
  const vf = viewFilter();
  for (const r of added) {
    const ev = /** @type {WireEvent} */ (r.ev);
    if (r.call) {
      for (const x of [r.call.pre, r.call.post, r.call.asked]) if (x && x !== r) touched.add(x.key);
      if (S.openKey !== null && touched.has(S.openKey)) openTouched = true;
    }
    if (!ev.ephemeral) newSession = S.sessions.track(ev) || newSession;
    if (matches(r, vf)) shown.push(r);
  }
  // Only the new records are filtered; dropped ones leave the front. While
  // a filter change scans everything, it picks the new ones up itself.
  if (trimmed) S.list.dropFront();
  if (!scanning()) S.list.append(shown);
  if (!S.list.follow) S.newWhilePaused += shown.length;
  if (touched.size) S.list.refresh(touched);
  if (openTouched) renderDetail();
  if (newSession) refreshSessionsSoon();
  markStats();
  scheduleUI();
  deriveTextSoon();
  if (S.pendingSeq && !S.replaying) openPendingSeq();
  measure("mpm:batch", t0);
}

// scheduleUI refreshes the toolbar and status line once per frame, however
// many event frames arrived in it.
// While a replay streams in, a few times a second (like the list): each
// redraw costs the page a style and layout pass.
let uiPending = false;
function scheduleUI() {
  if (uiPending) return;
  uiPending = true;
  const run = () => {
    uiPending = false;
    updateFilters();
    updateStatus();
    updateFollow();
  };
  if (S.replaying) setTimeout(() => requestAnimationFrame(run), 150);
  else requestAnimationFrame(run);
}

/**
 * jumpTo selects a record in the list (and opens it).
 * @param {Rec} r
 */
function jumpTo(r) {
  const i = S.list.pos.get(r.key);
  if (i === undefined) {
    notice("That event is hidden by the current filters.", "info");
    return;
  }
  S.list.setFollow(false);
  S.list.setActive(i, true);
  openDetail(r);
}

// openPendingSeq opens a #seq= deep link once its event is loaded; an event
// older than the page's tail is fetched on its own.
async function openPendingSeq() {
  const seq = S.pendingSeq;
  if (!seq) return;
  const r = S.model.records.find((x) => x.ev && x.ev.seq === seq && x.epoch === S.model.epoch);
  if (r) {
    S.pendingSeq = 0;
    if (S.list.pos.has(r.key)) jumpTo(r);
    else openDetail(r);
    return;
  }
  if (S.replaying) return;
  S.pendingSeq = 0;
  try {
    const page = await S.conn.fetchHistory(seq - 1, 1);
    const ev = (page.events || []).find((/** @type {WireEvent} */ e) => e.seq === seq);
    if (!ev) {
      notice(`Event #${seq} is not in the daemon's history (or not in the sessions shown).`, "seq");
      return;
    }
    // An older event: load back to it, so that it sits in the list with its call.
    const first = S.model.firstSeq();
    if (first !== null && seq < first && first - seq <= 20000) {
      const page2 = await S.conn.fetchHistory(Math.max(0, seq - 50), Math.min(10000, first - seq + 50));
      const recs = S.model.prepend(page2.events || []);
      for (const x of recs) if (x.ev && !x.ev.ephemeral) S.sessions.track(x.ev);
      await new Promise((done) => rebuildView(() => done(undefined)));
    }
    const again = S.model.records.find((x) => x.ev && x.ev.seq === seq);
    if (again && S.list.pos.has(again.key)) jumpTo(again);
    else if (again) openDetail(again);
  } catch (e) {
    notice(`Could not open event #${seq}: ${/** @type {Error} */ (e).message}`, "seq");
  }
}

// ---- sessions -----------------------------------------------------------

let sessionsTimer = 0;
function refreshSessionsSoon() {
  if (sessionsTimer) return;
  sessionsTimer = setTimeout(async () => {
    sessionsTimer = 0;
    try {
      for (const s of await S.conn.fetchSessions()) sessionChanged(mergeOne(s));
      boardSoon();
    } catch { /* the connection reports trouble */ }
  }, 500);
}

function boardSoon() {
  if (boardPending) return;
  boardPending = true;
  requestAnimationFrame(() => {
    boardPending = false;
    const t0 = mark();
    renderBoard();
    updateAttention();
    measure("mpm:board", t0);
  });
}

let pickTimer = 0;
/**
 * @param {string} id
 * @param {boolean} on
 */
function pickSession(id, on) {
  const next = new Set(S.selection && !S.selection.has("-") ? S.selection : []);
  if (on) next.add(id);
  else next.delete(id);
  setSelection(next.size ? next : null);
}

/** @param {Set<string> | null} sel */
function setSelection(sel) {
  S.selection = sel;
  S.unknownSessions = [];
  document.body.dataset.live = "0"; // until the new registration's replay is in
  dropNotice("nosession");
  delete document.body.dataset.nosession;
  renderBoard();
  renderPanel();
  history.replaceState(null, "", sessionsURL(location, S.selection ? [...S.selection] : null));
  clearTimeout(pickTimer);
  pickTimer = setTimeout(() => {
    // A new registration: the server filters; the list starts over with it.
    S.model.clear();
    S.olderDone = false;
    closeDetail();
    S.list.setItems([]);
    S.list.setFollow(true);
    S.replaying = true;
    S.conn.resubscribe(S.selection ? [...S.selection] : null);
    statsDirty = true;
    updateStatus();
  }, 250);
}

// ---- the page -----------------------------------------------------------

setDetailHooks({
  onAgent: (id) => setAgentFilter(id),
  onJump: (r) => jumpTo(r),
  onClose: () => {
    history.replaceState(null, "", seqURL(location, 0));
    focusList();
  },
});
setBoardHooks({
  onPick: pickSession,
  onOnly: (id) => setSelection(S.selection && S.selection.size === 1 && S.selection.has(id) ? null : new Set([id])),
  onOpen: (r) => jumpTo(r),
  onAgent: (id) => setAgentFilter(id),
});
setToolbarHooks({
  onOlder: (recs) => {
    for (const r of recs) if (r.ev && !r.ev.ephemeral) S.sessions.track(r.ev);
    markStats();
    deriveTextSoon(true);
  },
});
setAttentionHooks({ onFocusSession: (id) => setSelection(new Set([id])) });

$("detail-close").addEventListener("click", () => closeDetail());

document.addEventListener("keydown", (e) => {
  // A key the list (or a dialog) already acted on is not acted on again
  // here: j/k on a row moved once in the list's own handler.
  if (e.defaultPrevented) return;
  const t = /** @type {HTMLElement} */ (e.target);
  const typing = t.closest && t.closest("input, textarea, select");
  if (e.key === "Escape" && !typing) {
    const help = /** @type {HTMLDialogElement} */ ($("help"));
    if (help.open) return; // the dialog closes itself
    if (S.openKey !== null) {
      e.preventDefault();
      closeDetail();
    }
    return;
  }
  if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === "/") {
    e.preventDefault();
    const s = /** @type {HTMLInputElement} */ ($("search"));
    s.focus();
    s.select();
  } else if (e.key === "p") {
    $("follow").click();
  } else if (e.key === "u") {
    toggleUsage();
  } else if (e.key === "?") {
    const d = /** @type {HTMLDialogElement} */ ($("help"));
    if (d.open) d.close();
    else d.showModal();
  } else if ((e.key === "j" || e.key === "k") && !$("list").contains(t)) {
    // j/k from anywhere on the page move in the list.
    e.preventDefault();
    const i = S.list.active >= 0 ? S.list.active + (e.key === "j" ? 1 : -1) : S.list.items.length - 1;
    if (S.list.items.length) {
      if (S.list.follow && i < S.list.items.length - 1) S.list.setFollow(false);
      S.list.setActive(i, true);
      const r = S.list.items[S.list.active];
      if (S.openKey !== null && r && r.ev) openDetail(r);
    }
  }
});
$("help-btn").addEventListener("click", () => /** @type {HTMLDialogElement} */ ($("help")).showModal());
$("help-close").addEventListener("click", () => /** @type {HTMLDialogElement} */ ($("help")).close());
$("sess-all").addEventListener("click", () => setSelection(null));

// Keep #seq=N in the address while an event is open, for a link to it.
const observer = new MutationObserver(() => {
  const r = openRecord();
  const seq = r && r.ev ? r.ev.seq : 0;
  if (seq && readSeq(location.hash) !== seq) history.replaceState(null, "", seqURL(location, seq));
});
observer.observe($("detail-body"), { attributes: true, attributeFilter: ["data-key"] });

// ---- periodic work ------------------------------------------------------

let statsDirty = true;
let statsTimer = 0;

setInterval(() => {
  // running tool calls tick; ended sessions turn them into "no result"
  /** @type {Set<string>} */
  const keys = new Set();
  for (const [k, r] of S.list.renderedRecs) if (r.call && r.call.pre && !r.call.post) keys.add(k);
  if (keys.size) S.list.refresh(keys);
  if (S.connState.state === "reconnecting") showState(S.connState);
  else if (S.connState.state === "connected" && S.restartedAt) showState(S.connState);
  const open = openRecord();
  if (open && open.call && open.call.pre && !open.call.post) renderDetail();
  if (S.replaying) return; // drawn when live
  periodic(boardAndPanel); // durations on the badges
}, 1000);

function boardAndPanel() {
  const t0 = mark();
  renderBoard();
  renderPanel();
  measure("mpm:panel", t0);
}

setInterval(() => {
  if (statsDirty && !S.replaying) periodic(drawStats);
}, 2000);

// periodic runs fn (the board, the session panel, the charts: 4–15 ms at
// 50,000 records) now, or, while a filter change is scanned and its rows
// drawn (view.js, filterBusy), once that is done: the benchmark's long
// frames of 30–47 ms after a type filter was cleared were the panel and the
// charts (12–16 ms, due after the events before it) in the frame of the
// filter's slice and rows (2–6 ms and 4–10 ms).
/** @type {Set<() => void>} */
const waiting = new Set();
/** @param {() => void} fn */
function periodic(fn) {
  if (!filterBusy()) {
    fn();
    return;
  }
  if (waiting.has(fn)) return;
  waiting.add(fn);
  const retry = () => {
    if (filterBusy()) {
      setTimeout(retry, 50);
      return;
    }
    waiting.delete(fn);
    fn();
  };
  setTimeout(retry, 50);
}

setInterval(() => {
  statsDirty = true;
  if (S.connState.state === "connected") refreshSessionsSoon();
}, 15000);

// markStats redraws the charts and the session panel soon, at most about
// twice a second however fast events come.
function markStats() {
  statsDirty = true;
  if (statsTimer || S.replaying) return; // a replay draws them once, when live
  statsTimer = setTimeout(() => {
    statsTimer = 0;
    boardSoon();
    periodic(panelAndStats);
  }, 400);
}

function panelAndStats() {
  const t0 = mark();
  renderPanel();
  measure("mpm:panel", t0);
  drawStats();
}

function drawStats() {
  const t0 = mark();
  statsDirty = false;
  const now = Date.now();
  let end = now;
  const last = S.model.records.length ? S.model.records[S.model.records.length - 1] : null;
  if (last && last.t < now - CHART_MINUTES * 60000) end = last.t;
  drawPerMinute($("chart-pm"), perMinute(S.model.records, end, CHART_MINUTES));
  drawToolStats($("chart-tools"), toolStats(S.model.calls, now, S.model.endedSessions, S.model.durations()));
  S.running = S.model.running();
  updateStatus();
  measure("mpm:stats", t0);
}

// ---- start --------------------------------------------------------------

$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($("auth-token"));
  const t = input.value.trim();
  if (!t) return;
  input.value = "";
  saveToken(sessionStorage, t);
  S.conn.setToken(t);
});

// A URL with a new #token= or #seq= pasted into this tab changes only the
// fragment: the page does not reload, so take them from here.
window.addEventListener("hashchange", () => {
  const p = readParams(location, sessionStorage);
  if (p.cleanURL !== null) history.replaceState(null, "", p.cleanURL);
  if (p.tokenSource === "url" && p.token !== S.conn.token) S.conn.setToken(p.token);
  const open = openRecord();
  if (p.seq && (!open || !open.ev || open.ev.seq !== p.seq)) {
    S.pendingSeq = p.seq;
    if (!S.replaying) openPendingSeq();
  }
});

if (params.portNote) notice(params.portNote, "port");
wireToolbar();
wireSearch();
setSearchHooks({
  // A history hit opens like a #seq= link: at once when loaded, else fetched.
  onOpenSeq: (seq) => {
    S.pendingSeq = seq;
    openPendingSeq();
  },
});
wireNotify();
wireApprovals();
wireUsage();
renderBoard();
renderPanel();
updateFilters();
updateFollow();
updateStatus();
drawStats();
