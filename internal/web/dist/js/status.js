// @ts-check
// status.js: the header (connection badge, daemon details in a tooltip),
// the status line, notices, the toast and the clipboard.

import { h, text, $ } from "./dom.js";
import { S } from "./state.js";
import { clock, plural } from "./format.js";

/** @param {{state: string, detail?: string, at?: number, attempt?: number}} st */
export function showState(st) {
  S.connState = st;
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
  if (st.state === "connected" && S.restartedAt && Date.now() - S.restartedAt < 60000) {
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

// renderHeader keeps the daemon's details (version, instance, last seq) out
// of the way: in the connection badge's tooltip.
export function renderHeader() {
  const parts = [];
  if (S.hello) parts.push(`mpm-wsd ${S.hello.version}`, `daemon instance ${String(S.hello.instance).slice(0, 8)} (changes when it restarts)`);
  if (S.conn && S.conn.cursor) parts.push(`newest event shown: #${S.conn.cursor}`);
  $("conn").title = parts.join("\n");
  const hd = $("help-daemon");
  if (hd && parts.length) text(hd, parts.join(" · "));
}

export function updateStatus() {
  const n = S.model.count();
  const parts = [`${plural(n, "event")} loaded`];
  if (S.list.items.length !== S.model.listable()) parts.push(`${S.list.items.length.toLocaleString("en-US")} shown`);
  if (S.running) parts.push(`${plural(S.running, "tool call")} running`);
  if (S.model.trimmed) parts.push(`${S.model.trimmed.toLocaleString("en-US")} oldest dropped from the page`);
  if (S.replaying && S.connState.state === "connected") parts.push("loading history…");
  if (!S.replaying && S.loadMs) parts.push(`loaded in ${S.loadMs} ms`);
  text($("status"), parts.join(" · "));
  document.body.dataset.count = String(n);
  // An empty list says why.
  const empty = $("list-empty");
  let why = "";
  if (!S.list.items.length && S.connState.state === "connected" && !S.replaying) {
    if (S.unknownSessions.length) why = `No session matches ${S.unknownSessions.map((x) => `"${x}"`).join(", ")}: pick one on the board, or All.`;
    else if (n) why = "No loaded event matches the filters.";
    else if (S.selection) why = "No events from the sessions picked yet.";
    else why = "No events yet: they appear here as Claude Code works.";
  }
  text(empty, why);
  empty.hidden = !why;
  if (!S.list.fresh) markShown();
  // "Load older" only when the daemon holds events before the first one here.
  const first = S.model.firstSeq();
  const older = !S.olderDone && first !== null && first > Math.max(1, S.oldestSeq);
  const ob = /** @type {HTMLButtonElement} */ ($("older"));
  ob.hidden = !older && !S.loadingOlder;
  ob.disabled = S.loadingOlder;
  text(ob, S.loadingOlder ? "Loading older…" : "Load older");
  ob.title = first !== null ? `load events before #${first}` : "";
  renderHeader();
}

/**
 * markShown says on the page how many records the list shows, once their
 * rows are drawn: after a filter change the rows come a frame after the
 * list's items (VirtualList.render), and whoever reads the count (tests,
 * scripts) then finds the rows it counts, not the previous filter's.
 */
export function markShown() {
  document.body.dataset.shown = String(S.list.items.length);
}

/**
 * notice adds a line to the page (one per kind; a new one replaces it).
 * @param {string} msg
 * @param {string} kind
 */
export function notice(msg, kind) {
  const box = $("notices");
  const old = box.querySelector(`[data-kind="${kind}"]`);
  if (old) old.remove();
  const n = h("div", { class: "notice", dataset: { kind }, role: "status" },
    h("span", null, `${clock(Date.now())} ${msg}`),
    h("button", { type: "button", class: "close", "aria-label": "dismiss", onclick: () => n.remove() }, "×"),
  );
  box.append(n);
}

/** @param {string} kind */
export function dropNotice(kind) {
  const old = $("notices").querySelector(`[data-kind="${kind}"]`);
  if (old) old.remove();
}

let toastTimer = 0;
/** @param {string} msg */
export function toast(msg) {
  const t = $("toast");
  text(t, msg);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 2500);
}

/**
 * copyText puts text on the clipboard and says so.
 * @param {string} t
 * @param {string} what
 */
export async function copyText(t, what) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(t);
    ok = true;
  } catch {
    const back = /** @type {HTMLElement | null} */ (document.activeElement);
    const ta = /** @type {HTMLTextAreaElement} */ (h("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" }));
    ta.value = t;
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
  toast(ok ? `Copied ${what}` : "Copy failed: select the text and copy it by hand");
}
