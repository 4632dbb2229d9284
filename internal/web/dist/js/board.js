// @ts-check
// board.js: the sessions board — one card per session, the ones that need
// the person first — and the session panel (the latest TodoWrite list and
// the tree: main agent → subagents → tool calls).

import { h, text, clear, $, title } from "./dom.js";
import { S } from "./state.js";
import { badge, project, todoSummary, growTree, usageSummary, overBudget } from "./sessions.js";
import { subagentsLine } from "./usage.js";
import { callState } from "./model.js";
import { inputGist, checklist } from "./tools.js";
import { ago, formatMs, oneLine, plural } from "./format.js";
import { sessionColor } from "./colors.js";
import { renderBlock } from "./detail.js";
import { callLabel } from "./rows.js";

/** @typedef {import("./sessions.js").Session} Session */

/** @type {{onPick: (id: string, on: boolean) => void, onOnly: (id: string) => void, onOpen: (r: import("./types.js").Rec) => void, onAgent: (id: string) => void}} */
const hooks = { onPick: () => {}, onOnly: () => {}, onOpen: () => {}, onAgent: () => {} };

/** @param {typeof hooks} h */
export function setBoardHooks(h) {
  Object.assign(hooks, h);
}

/** @type {Map<string, HTMLElement>} */
const cards = new Map();

export function renderBoard() {
  const ul = $("sessions");
  const sorted = S.sessions.ordered();
  const empty = ul.querySelector(".empty");
  if (!sorted.length) {
    // Say nothing about starting Claude Code while the page cannot even
    // reach the daemon: the connection badge and the token box say why.
    const msg = S.connState.state === "auth" ? "" : S.connState.state !== "connected" ? "Sessions appear once the page reaches the daemon." : S.unknownSessions.length ? "" : "No sessions yet. Start Claude Code with the mpm hook installed (README: the two commands).";
    if (!empty || empty.textContent !== msg) {
      clear(ul);
      cards.clear();
      if (msg) ul.append(h("li", { class: "empty" }, msg));
    }
  } else if (empty) empty.remove();
  const now = Date.now();
  for (const s of sorted) {
    let li = cards.get(s.session_id);
    if (!li) {
      const id = s.session_id;
      const cb = h("input", { type: "checkbox", class: "pick", "aria-label": "show session " + id, onchange: (/** @type {Event} */ e) => hooks.onPick(id, /** @type {HTMLInputElement} */ (e.target).checked) });
      li = h("li", { class: "session", dataset: { id, c: String(sessionColor(id)) } },
        h("div", { class: "ctop" }, cb,
          h("span", { class: "dot", "aria-hidden": "true" }),
          h("button", { type: "button", class: "proj", title: "show only this session", onclick: () => hooks.onOnly(id) }),
          h("span", { class: "sorigin" }),
          h("span", { class: "sid" }, id.slice(0, 8)),
        ),
        h("div", { class: "badge", role: "status" }, h("span", { class: "icon", "aria-hidden": "true" }), h("span", { class: "state" })),
        h("div", { class: "running" }),
        h("div", { class: "prompt" }),
        h("div", { class: "agents" }),
        h("div", { class: "todos" }),
        h("div", { class: "usage", hidden: true },
          h("span", { class: "cost" }),
          h("span", { class: "over", hidden: true }),
          h("span", { class: "tokens" }),
          h("span", { class: "ctx" },
            h("span", { class: "gauge", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": "context window used" }, h("span", { class: "fill" })),
            h("span", { class: "ctxtext" }))),
        h("div", { class: "smeta" }, h("span", { class: "ago" }), h("span", { class: "counts" })),
      );
      cards.set(id, li);
    }
    fillCard(li, s, now);
  }
  // Move nodes only when the order changed (moving a focused checkbox
  // would lose its focus).
  const want = sorted.map((s) => /** @type {HTMLElement} */ (cards.get(s.session_id)));
  const have = [...ul.querySelectorAll("li.session")];
  if (want.length !== have.length || want.some((el, i) => el !== have[i])) {
    const focused = /** @type {HTMLElement | null} */ (document.activeElement);
    ul.append(...want);
    if (focused && ul.contains(focused)) focused.focus();
  }
  text($("sess-sel"), S.unknownSessions.length ? `no match for ${S.unknownSessions.join(", ")}` : S.selection ? `${S.selection.size} selected` : `${plural(sorted.length, "session")}`);
  $("sess-all").setAttribute("aria-pressed", String(!S.selection));
  /** @type {HTMLButtonElement} */ ($("sess-all")).disabled = !S.selection;
}

/**
 * @param {HTMLElement} li
 * @param {Session} s
 * @param {number} now
 */
function fillCard(li, s, now) {
  const sel = !!(S.selection && S.selection.has(s.session_id));
  /** @type {HTMLInputElement} */ (li.querySelector(".pick")).checked = sel;
  li.classList.toggle("selected", sel);
  const b = badge(s, now);
  li.dataset.state = b.state;
  li.dataset.attention = b.attention ? "1" : "0";
  li.dataset.ended = b.state === "ended" || s.ended ? "1" : "0";
  if (b.stale) li.dataset.stale = "1";
  else delete li.dataset.stale;
  const badgeEl = /** @type {HTMLElement} */ (li.querySelector(".badge"));
  badgeEl.dataset.state = b.state;
  title(badgeEl, b.title);
  text(li.querySelector(".badge .icon"), b.icon);
  text(li.querySelector(".state"), b.text);
  const proj = /** @type {HTMLElement} */ (li.querySelector(".proj"));
  text(proj, project(s) || s.session_id.slice(0, 8));
  title(proj, (s.cwd ? s.cwd + "\n" : "") + "show only this session");
  const so = /** @type {HTMLElement} */ (li.querySelector(".sorigin"));
  text(so, s.origin || "");
  title(so, s.origin ? "origin " + s.origin : "");
  // The running tool(s): the daemon's list, or the calls loaded here.
  const run = /** @type {HTMLElement} */ (li.querySelector(".running"));
  const tools = s.current_tools || [];
  if (tools.length) {
    const t = tools[0];
    const since = Date.parse(t.started);
    text(run, `${t.tool}${t.summary ? ": " + oneLine(t.summary, 120) : ""}${isFinite(since) ? ` · ${formatMs(now - since)}` : ""}${tools.length > 1 ? ` (+${tools.length - 1})` : ""}`);
    title(run, tools.map((x) => `${x.tool}: ${oneLine(x.summary, 300)}`).join("\n"));
  } else text(run, "");
  const pr = /** @type {HTMLElement} */ (li.querySelector(".prompt"));
  text(pr, s.last_prompt ? `“${oneLine(s.last_prompt, 200)}”` : "");
  title(pr, s.last_prompt ? oneLine(s.last_prompt, 2000) : "");
  const agents = (s.agents || []).filter((a) => a.state === "running");
  text(li.querySelector(".agents"), agents.length ? `${plural(agents.length, "subagent")} running: ${agents.map((a) => a.agent_type || a.agent_id.slice(0, 8)).join(", ")}` : "");
  text(li.querySelector(".ago"), s.last ? ago(now - s.last) : "");
  const calls = (s.events && s.events.PreToolUse) || 0;
  text(li.querySelector(".counts"), `${plural(s.total || 0, "event")} · ${plural(calls, "tool call")}`);
  text(li.querySelector(".todos"), s.todos ? "todos: " + todoSummary(s.todos) : "");
  fillUsage(/** @type {HTMLElement} */ (li.querySelector(".usage")), s);
  title(li, `${s.origin ? s.origin + " / " : ""}${s.session_id}${s.cwd ? "\n" + s.cwd : ""}${s.model ? "\nmodel " + s.model : ""}${s.permission_mode ? "\npermission mode " + s.permission_mode : ""}`);
}

/**
 * fillUsage shows a session's cost, tokens and context fill (hidden when the
 * daemon has not read its transcript). The gauge has its percentage in words
 * beside it: never colour alone.
 * @param {HTMLElement} el
 * @param {Session} s
 */
function fillUsage(el, s) {
  const u = usageSummary(s.usage);
  el.hidden = !u;
  if (!u) return;
  text(el.querySelector(".cost"), u.cost);
  const ob = overBudget(s.over_budget);
  const over = /** @type {HTMLElement} */ (el.querySelector(".over"));
  over.hidden = !ob;
  text(over, ob ? ob.text : "");
  title(over, ob ? ob.title : "");
  if (ob && ob.attention) over.dataset.attention = "1";
  else delete over.dataset.attention;
  text(el.querySelector(".tokens"), `${u.tokens} tokens`);
  const ctx = /** @type {HTMLElement} */ (el.querySelector(".ctx"));
  ctx.hidden = u.pct < 0;
  const g = /** @type {HTMLElement} */ (el.querySelector(".gauge"));
  g.setAttribute("aria-valuenow", String(Math.max(0, u.pct)));
  g.dataset.level = u.pct >= 90 ? "high" : u.pct >= 70 ? "mid" : "low";
  /** @type {HTMLElement} */ (g.firstElementChild).style.width = `${Math.max(0, u.pct)}%`;
  text(el.querySelector(".ctxtext"), u.ctxText);
  // The subagents' share, inside the session's cost (usage.js).
  let subs = el.querySelector(".subs");
  if (!subs) el.insertBefore(subs = h("span", { class: "subs" }), el.querySelector(".ctx"));
  text(subs, subagentsLine(s));
  title(el, u.title + (subs.textContent ? `\n${subs.textContent} (their cost is inside this session's)` : ""));
}

// focusSession is the session the side panel shows: the one selected, or
// the only one there is.
function focusSession() {
  if (S.selection && S.selection.size === 1) {
    const id = [...S.selection][0];
    return S.sessions.map.has(id) ? id : "";
  }
  if (S.sessions.map.size === 1) return [...S.sessions.map.keys()][0];
  return "";
}

let panelSig = "";
// renderPanel draws the session panel: its latest TodoWrite list, and its
// tree of agents and tool calls (collapsible; open state kept across redraws).
// The tree is kept up to date (sessions.js growTree: the records appended
// since, not all 50,000 walked again), and a redraw reuses the rows of the
// calls it drew before (rowCache, by record key): making 300 rows again when
// a call came cost ~8 ms at 50,000 records.
/** @type {import("./sessions.js").TreeMemo | null} */
let treeMemo = null;
let treeVersion = -1;
/** @type {Map<string, {r: import("./types.js").Rec, li: HTMLElement, lab: HTMLElement, label: string, state: string}>} */
let rowCache = new Map();

export function renderPanel() {
  const id = focusSession();
  const box = $("focus");
  const head = $("focus-h");
  if (!id) {
    text(head, "Session");
    if (panelSig !== "none") {
      panelSig = "none";
      clear(box);
      rowCache = new Map();
      box.append(h("p", { class: "hint" }, "Pick one session (its name on the board) to see its todo list and its tree of agents and tool calls."));
    }
    return;
  }
  const s = S.sessions.map.get(id);
  if (!treeMemo || treeMemo.id !== id || treeVersion !== S.model.version || treeMemo.s !== s) {
    treeMemo = growTree(treeMemo, S.model.records, S.model.trimmed, s, id);
    treeMemo.s = s;
    treeVersion = S.model.version;
  }
  const tree = [...treeMemo.nodes.values()];
  const sig = `${id} ${s && s.todosSeq} ${treeMemo.gen} ${treeMemo.rev}`;
  const now = Date.now();
  text(head, `Session ${id.slice(0, 8)}${s && project(s) ? " · " + project(s) : ""}`);
  if (sig === panelSig) {
    // Only durations move: refresh the running calls' labels.
    for (const el of box.querySelectorAll("[data-running]")) {
      const r = S.model.calls.get(/** @type {HTMLElement} */ (el).dataset.running || "");
      if (r) text(el, callLabel(callState(r, now, S.model.endedSessions)));
    }
    return;
  }
  panelSig = sig;
  const open = new Set([...box.querySelectorAll("details[open]")].map((d) => /** @type {HTMLElement} */ (d).dataset.agent));
  const first = !box.querySelector("details");
  clear(box);
  if (s && s.todos) {
    const b = checklist(`todos: ${todoSummary(s.todos)}`, s.todos);
    box.append(renderBlock(b));
  } else box.append(h("p", { class: "hint" }, "No TodoWrite list in the loaded events."));
  const treeEl = h("div", { class: "stree", role: "tree", "aria-label": "agents and tool calls" });
  const rows = new Map();
  for (const n of tree) {
    if (n.agent_id && !n.calls.length && !n.state) continue;
    const d = h("details", { class: "agentnode", dataset: { agent: n.agent_id } });
    if (open.has(n.agent_id) || (first && n.agent_id === "")) d.setAttribute("open", "");
    const label = n.agent_id ? `${n.agent_type} · ${n.agent_id.slice(0, 8)}` : "main agent";
    d.append(h("summary", null, h("span", { class: "aname" }, label), h("span", { class: "muted" }, ` ${plural(n.calls.length, "call")}${n.state ? " · " + n.state : ""}`)));
    const ul = h("ul", { class: "calls" });
    if (n.calls.length > 300) ul.append(h("li", { class: "muted" }, `${n.calls.length - 300} earlier calls not listed`));
    for (let i = Math.max(0, n.calls.length - 300); i < n.calls.length; i++) {
      const r = n.calls[i];
      const st = callState(r.call, now, S.model.endedSessions);
      const label = callLabel(st), state = st ? st.state : "";
      let row = rowCache.get(r.key);
      if (row && row.r !== r) row = undefined; // the same key after a clear: another record
      if (row) {
        if (row.label !== label) text(row.lab, (row.label = label));
        if (row.state !== state) row.lab.dataset.state = row.state = state;
      } else {
        const ev = /** @type {import("./types.js").WireEvent} */ (r.ev);
        const lab = h("span", { class: "call", dataset: { state } }, label);
        const li = h("li", null, h("button", { type: "button", class: "calllink", title: `open #${ev.seq}`, onclick: () => hooks.onOpen(r) }, h("span", { class: "tool" }, ev.tool || "?"), " ", h("span", { class: "sum" }, inputGist(ev.tool || "", ev.payload && ev.payload.tool_input))), " ", lab);
        row = { r, li, lab, label, state };
      }
      if (state === "running" && r.call) row.lab.dataset.running = r.call.id;
      else delete row.lab.dataset.running;
      rows.set(r.key, row);
      ul.append(row.li);
    }
    d.append(ul);
    if (n.agent_id) d.append(h("button", { type: "button", class: "agentlink", onclick: () => hooks.onAgent(n.agent_id) }, "show only this subagent's events"));
    treeEl.append(d);
  }
  rowCache = rows;
  box.append(treeEl);
}

// resetPanel forgets the session panel's tree and rows, so that the next
// renderPanel builds both from all records (a test compares the two).
export function resetPanel() {
  treeMemo = null;
  treeVersion = -1;
  rowCache = new Map();
  panelSig = "";
}
