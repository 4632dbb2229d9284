// @ts-check
// approvals.js: permission requests answered from the dashboard
// (mpm-hook install --approvals; docs/protocol.md "Permission requests
// answered from mpm"). Each pending request is a card at the top of the
// page: the tool and what it would do, where, the session, a countdown to
// its expiry, and Allow / Deny (with an optional message) / Always allow
// (one of Claude Code's permission suggestions). y and n answer the first
// card. The daemon sends {"type":"approval"} when a request appears and
// {"type":"approval_resolved"} when it goes; after an answer the card says
// what happened and by whom, then goes away. Nothing is ever allowed
// without a click or a key press here. On a fleet hub, other machines'
// requests (read_only) are shown without buttons: they are answered on
// their machine.

import { $, h, text } from "./dom.js";
import { S } from "./state.js";
import { inputGist, describeCall } from "./tools.js";
import { renderBlock } from "./detail.js";
import { oneLine } from "./format.js";

/**
 * @typedef {object} Approval
 * @property {string} id
 * @property {number} seq
 * @property {string} session_id
 * @property {string} [cwd]
 * @property {string} tool_name
 * @property {any} [tool_input]
 * @property {any[]} [permission_suggestions]
 * @property {string} requested_at
 * @property {string} expires_at
 * @property {string} [origin] the machine it came from (fleet hub)
 * @property {boolean} [read_only] another machine's request on a fleet hub: answered there, never here
 */

/**
 * @typedef {object} Resolved
 * @property {string} id
 * @property {string} outcome
 * @property {string} [by]
 * @property {string} [message]
 */

/** How long a resolved card stays, saying what happened. */
const LINGER_MS = 5000;

/** @type {Map<string, {a: Approval, card: HTMLElement, done: boolean}>} */
const cards = new Map();

const WORDS = /** @type {Record<string, string>} */ ({
  allow: "Allowed",
  deny: "Denied",
  expired: "Expired: Claude Code asks in the terminal",
  answered_elsewhere: "Answered elsewhere",
});

function section() {
  return $("approvals");
}

function show() {
  const open = [...cards.values()].filter((c) => !c.done).length;
  section().hidden = cards.size === 0;
  document.body.dataset.approvals = String(open);
  text($("appr-count"), open ? `${open} waiting` : "");
}

/**
 * suggestionLabel describes one of Claude Code's permission suggestions.
 * @param {any} s
 */
export function suggestionLabel(s) {
  if (!s || typeof s !== "object") return "Always allow";
  switch (s.type) {
    case "addRules": {
      const rules = Array.isArray(s.rules) ? s.rules : [];
      const r = rules.map((/** @type {any} */ x) => `${x.toolName || ""}${x.ruleContent ? `(${x.ruleContent})` : ""}`).join(", ");
      return `Always allow ${r}${s.destination ? ` (${s.destination})` : ""}`;
    }
    case "addDirectories":
      return `Always allow in ${(Array.isArray(s.directories) ? s.directories : []).join(", ")}`;
    case "setMode":
      return `Allow and switch to ${s.mode} mode`;
    default:
      return `Always allow (${s.type || "rule"})`;
  }
}

/** @param {Approval} a */
function what(a) {
  const i = a.tool_input && typeof a.tool_input === "object" ? a.tool_input : {};
  if (a.tool_name === "Bash" && typeof i.command === "string") return i.command;
  const json = JSON.stringify(i, null, 2) || "";
  return json.length > 4000 ? json.slice(0, 4000) + "…" : json;
}

/**
 * renderWhat shows the call as the event detail does (a Bash command, an
 * Edit's diff, ...), or its input as text when that fails.
 * @param {Approval} a
 */
function renderWhat(a) {
  try {
    const pre = /** @type {any} */ ({ event: "PreToolUse", tool: a.tool_name, session_id: a.session_id, seq: a.seq, payload: { tool_name: a.tool_name, tool_input: a.tool_input } });
    const d = describeCall(a.tool_name, pre, null);
    const nodes = d.blocks.map(renderBlock);
    if (nodes.length) return nodes;
  } catch { /* fall back to the raw input */ }
  return h("pre", null, what(a));
}

/** @param {Approval} a */
function left(a) {
  const ms = Date.parse(a.expires_at) - Date.now();
  if (!(ms > 0)) return "expiring";
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s left` : `${s} s left`;
}

/**
 * decide sends a decision for request id.
 * @param {string} id
 * @param {{decision: "allow" | "deny", message?: string, suggestion?: number}} body
 */
async function decide(id, body) {
  const c = cards.get(id);
  if (!c || c.done || c.a.read_only) return;
  c.card.dataset.busy = "1";
  let msg = "";
  try {
    const r = await fetch(`/v1/approvals/${encodeURIComponent(id)}`, {
      method: "POST",
      headers: { ...S.conn.headers, "Content-Type": "application/json", "Mpm-Client": "dashboard" },
      body: JSON.stringify(body),
    });
    const j = await r.json().catch(() => ({}));
    if (r.ok || r.status === 409) {
      resolved({ id, outcome: j.outcome || body.decision, by: j.by, message: body.message });
      return;
    }
    msg = `The daemon refused the answer (${r.status}).`;
  } catch (e) {
    msg = `Could not reach the daemon: ${e instanceof Error ? e.message : e}`;
  }
  delete c.card.dataset.busy;
  text(c.card.querySelector(".appr-err"), msg);
}

/** @param {Approval} a */
function render(a) {
  const suggestions = Array.isArray(a.permission_suggestions) ? a.permission_suggestions : [];
  const message = /** @type {HTMLInputElement} */ (h("input", {
    class: "appr-msg", type: "text", placeholder: "message to Claude (optional)", "aria-label": "message to Claude when denying", spellcheck: "false",
    onkeydown: (/** @type {KeyboardEvent} */ e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        decide(a.id, { decision: "deny", message: message.value.trim() });
      }
    },
  }));
  const always = suggestions.length
    ? h("select", { class: "appr-always", "aria-label": "always allow" },
      h("option", { value: "" }, "Always allow…"),
      suggestions.map((s, i) => h("option", { value: String(i) }, suggestionLabel(s))))
    : null;
  if (always) {
    always.addEventListener("change", () => {
      const v = /** @type {HTMLSelectElement} */ (always).value;
      if (v !== "") decide(a.id, { decision: "allow", suggestion: Number(v) });
    });
  }
  const sess = a.session_id.slice(0, 8);
  const actions = a.read_only
    ? h("div", { class: "appr-actions appr-readonly" },
      h("span", { class: "muted" }, `Answer it on ${a.origin || "its machine"}: shown here read-only.`))
    : h("div", { class: "appr-actions" },
      h("button", { type: "button", class: "appr-allow", title: "Allow this call (y)", onclick: () => decide(a.id, { decision: "allow" }) }, "Allow"),
      h("button", { type: "button", class: "appr-deny", title: "Deny this call (n); Claude gets the message", onclick: () => decide(a.id, { decision: "deny", message: message.value.trim() }) }, "Deny"),
      message,
      always);
  const card = h("article", { class: "appr-card", dataset: { id: a.id, session: a.session_id, readOnly: a.read_only ? "1" : undefined, origin: a.origin || undefined }, "aria-label": `permission request ${a.tool_name}${a.origin ? ` on ${a.origin}` : ""}` },
    h("div", { class: "appr-head" },
      h("strong", { class: "appr-tool" }, a.tool_name || "tool"),
      h("span", { class: "muted" }, " wants to run · "),
      a.origin ? h("span", { class: "appr-origin" }, `${a.origin} · `) : null,
      h("span", { class: "appr-where", title: a.cwd || "" }, a.cwd || ""),
      h("span", { class: "muted" }, ` · session ${sess}`),
      h("span", { class: "grow" }),
      h("span", { class: "appr-left muted" }, left(a))),
    h("div", { class: "appr-what", title: oneLine(inputGist(a.tool_name, a.tool_input), 300) }, renderWhat(a)),
    actions,
    h("p", { class: "appr-outcome", role: "status" }),
    h("p", { class: "appr-err", role: "alert" }));
  return card;
}

/** @param {Approval} a */
export function approvalAdded(a) {
  if (!a || !a.id || cards.has(a.id)) return;
  const card = render(a);
  cards.set(a.id, { a, card, done: false });
  $("appr-list").append(card);
  show();
}

/** @param {Resolved} r */
export function resolved(r) {
  const c = cards.get(r.id);
  if (!c || c.done) return;
  c.done = true;
  delete c.card.dataset.busy;
  c.card.dataset.outcome = r.outcome;
  for (const el of c.card.querySelectorAll("button, input, select")) /** @type {HTMLInputElement} */ (el).disabled = true;
  const by = r.by ? ` by ${r.by}` : "";
  const msg = r.outcome === "deny" && r.message ? ` — “${r.message}”` : "";
  text(c.card.querySelector(".appr-outcome"), `${WORDS[r.outcome] || r.outcome}${by}${msg}`);
  show();
  setTimeout(() => {
    c.card.remove();
    if (cards.get(r.id) === c) cards.delete(r.id);
    show();
  }, LINGER_MS);
}

// approvalsResubscribed forgets the pending cards: the daemon sends the
// current ones again right after "subscribed".
export function approvalsResubscribed() {
  for (const [id, c] of cards) {
    if (c.done) continue;
    c.card.remove();
    cards.delete(id);
  }
  show();
}

async function loadMode() {
  try {
    const r = await fetch("/v1/approvals/mode", { headers: S.conn.headers, cache: "no-store" });
    if (!r.ok) return;
    const j = await r.json();
    /** @type {HTMLInputElement} */ ($("appr-mode")).checked = !!j.enabled;
  } catch { /* daemon away: the connection state says so */ }
}

export function wireApprovals() {
  const mode = /** @type {HTMLInputElement} */ ($("appr-mode"));
  mode.addEventListener("change", async () => {
    try {
      const r = await fetch("/v1/approvals/mode", {
        method: "PUT",
        headers: { ...S.conn.headers, "Content-Type": "application/json", "Mpm-Client": "dashboard" },
        body: JSON.stringify({ enabled: mode.checked }),
      });
      if (r.ok) mode.checked = !!(await r.json()).enabled;
    } catch { /* shown by the connection state */ }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "y" && e.key !== "n") return;
    const t = /** @type {HTMLElement} */ (e.target);
    if ((t.closest && t.closest("input, textarea, select")) || e.altKey || e.ctrlKey || e.metaKey) return;
    const help = /** @type {HTMLDialogElement} */ ($("help"));
    if (help.open) return;
    const first = [...cards.values()].find((c) => !c.done && !c.card.dataset.busy && !c.a.read_only);
    if (!first) return;
    e.preventDefault();
    if (e.key === "y") decide(first.a.id, { decision: "allow" });
    else {
      const m = /** @type {HTMLInputElement | null} */ (first.card.querySelector(".appr-msg"));
      decide(first.a.id, { decision: "deny", message: m ? m.value.trim() : "" });
    }
  });
  setInterval(() => {
    for (const c of cards.values()) if (!c.done) text(c.card.querySelector(".appr-left"), left(c.a));
  }, 1000);
  show();
}

// approvalsConnected refreshes the switch on every (re)connection.
export function approvalsConnected() {
  loadMode();
}
