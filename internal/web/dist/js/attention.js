// @ts-check
// attention.js: what tells the person that a session needs them while the
// tab is in the background — the tab title "(2) mpm", a badge on the
// favicon, and browser notifications (only after the person turns them on
// with the button; the page never asks on load).

import { $, text } from "./dom.js";
import { S } from "./state.js";
import { badge, project, stateNeedsYou, overBudget } from "./sessions.js";
import { oneLine, cleanText } from "./format.js";

const KEY = "mpm.notify";
const TURNS = "mpm.notify.turns";

/** @type {{onFocusSession: (id: string) => void}} */
const hooks = { onFocusSession: () => {} };

/** @param {typeof hooks} h */
export function setAttentionHooks(h) {
  Object.assign(hooks, h);
}

let shown = -1;
// updateAttention sets the title and the favicon from the sessions' state.
export function updateAttention() {
  const n = S.sessions.attention();
  if (n === shown) return;
  shown = n;
  document.title = n ? `(${n}) mpm` : "mpm";
  const icon = /** @type {HTMLLinkElement | null} */ (document.querySelector('link[rel="icon"]'));
  if (icon) icon.href = n ? "favicon-attention.svg" : "favicon.svg";
  document.body.dataset.attention = String(n);
}

function supported() {
  return typeof Notification !== "undefined";
}

function enabled() {
  try {
    return supported() && Notification.permission === "granted" && localStorage.getItem(KEY) === "1";
  } catch {
    return false;
  }
}

export function renderNotifyButton() {
  const b = $("notify-btn");
  if (!supported()) {
    b.hidden = true;
    return;
  }
  const on = enabled();
  b.setAttribute("aria-pressed", String(on));
  $("notify-turns-box").hidden = !on;
  /** @type {HTMLInputElement} */ ($("notify-turns")).checked = turns();
  text(b, on ? "Notifications on" : "Notify me");
  b.title = on
    ? "A desktop notification when a session needs permission, waits for input or passes its budget. Click to turn off."
    : Notification.permission === "denied"
      ? "The browser blocks notifications for this page: allow them in its site settings."
      : "Get a desktop notification when a session needs permission, waits for input or passes its budget.";
}

function turns() {
  try {
    return localStorage.getItem(TURNS) === "1";
  } catch {
    return false;
  }
}

export function wireNotify() {
  $("notify-turns").addEventListener("change", (e) => {
    try { localStorage.setItem(TURNS, /** @type {HTMLInputElement} */ (e.target).checked ? "1" : "0"); } catch { /* storage off */ }
  });
  $("notify-btn").addEventListener("click", async () => {
    if (!supported()) return;
    if (enabled()) {
      try { localStorage.setItem(KEY, "0"); } catch { /* storage off */ }
    } else {
      const p = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      if (p === "granted") {
        try { localStorage.setItem(KEY, "1"); } catch { /* storage off */ }
      }
    }
    renderNotifyButton();
  });
  renderNotifyButton();
}

/** @type {Map<string, {st: string, budget: string}>} session → the state and the budget crossing last notified or seen */
const last = new Map();

/**
 * sessionChanged notifies when a session enters an attention state or
 * passes a budget (not for what the page found on load): once each.
 * @param {import("./sessions.js").Session} s
 */
export function sessionChanged(s) {
  const st = s.state || "";
  const ob = s.over_budget && s.over_budget.attention ? s.over_budget : null;
  const budget = ob ? `${ob.budget} ${ob.since}` : "";
  const was = last.get(s.session_id);
  last.set(s.session_id, { st, budget });
  if (!S.settled || !enabled()) return;
  const name = cleanText(project(s) || s.session_id.slice(0, 8));
  /** @type {[string, string] | null} */
  let note = null;
  if (ob && (!was || was.budget !== budget)) {
    const o = overBudget(ob);
    note = [`${name}: ${o ? o.text : "over budget"}`, oneLine(s.last_prompt || "", 200)];
  } else if (!was || was.st !== st) {
    // The person's move: a session needs them, or (when asked for) a turn is over.
    const turnOver = st === "idle" && !!was && was.st === "working" && turns();
    if (stateNeedsYou(s) || turnOver) {
      note = [turnOver ? `${name}: the turn is over` : `${name}: ${badge(s, Date.now()).text}`, oneLine(s.state_message || s.last_prompt || "", 200)];
    }
  }
  if (!note) return;
  try {
    const n = new Notification(note[0], { body: note[1], tag: "mpm-" + s.session_id });
    n.onclick = () => {
      window.focus();
      hooks.onFocusSession(s.session_id);
      n.close();
    };
  } catch { /* some browsers want a service worker for notifications */ }
}
