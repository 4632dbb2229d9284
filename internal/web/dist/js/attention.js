// @ts-check
// attention.js: what tells the person that a session needs them while the
// tab is in the background — the tab title "(2) mpm", a badge on the
// favicon, and browser notifications (only after the person turns them on
// with the button; the page never asks on load).

import { $, text } from "./dom.js";
import { S } from "./state.js";
import { badge, project, needsYou } from "./sessions.js";
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
    ? "A desktop notification when a session needs permission or waits for input. Click to turn off."
    : Notification.permission === "denied"
      ? "The browser blocks notifications for this page: allow them in its site settings."
      : "Get a desktop notification when a session needs permission or waits for input.";
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

/** @type {Map<string, string>} session → the state last notified or seen */
const last = new Map();

/**
 * sessionChanged notifies when a session enters an attention state (not for
 * the states the page found on load).
 * @param {import("./sessions.js").Session} s
 */
export function sessionChanged(s) {
  const st = s.state || "";
  const was = last.get(s.session_id);
  last.set(s.session_id, st);
  if (!S.settled || was === st || !enabled()) return;
  // The person's move: a session needs them, or (when asked for) a turn is over.
  const turnOver = st === "idle" && was === "working" && turns();
  if (!needsYou(s) && !turnOver) return;
  const b = badge(s, Date.now());
  const name = cleanText(project(s) || s.session_id.slice(0, 8));
  try {
    const n = new Notification(turnOver ? `${name}: the turn is over` : `${name}: ${b.text}`, { body: oneLine(s.state_message || s.last_prompt || "", 200), tag: "mpm-" + s.session_id });
    n.onclick = () => {
      window.focus();
      hooks.onFocusSession(s.session_id);
      n.close();
    };
  } catch { /* some browsers want a service worker for notifications */ }
}
