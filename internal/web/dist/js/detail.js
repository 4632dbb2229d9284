// @ts-check
// detail.js: the detail view of one event and its tool call — what it was
// asked to do and what came back, rendered per tool (tools.js) — with the
// raw event JSON one click away. Every string goes in as text.

import { h, text, clear, $ } from "./dom.js";
import { S } from "./state.js";
import { callState, agentOf, agentTypeOf } from "./model.js";
import { describeCall, describeEvent, treeLines } from "./tools.js";
import { clock, plural, cleanText } from "./format.js";
import { sessionColor } from "./colors.js";
import { callTitle, callLabel, waitingNow } from "./rows.js";
import { copyText } from "./status.js";

/** @typedef {import("./types.js").Rec} Rec */
/** @typedef {import("./tools.js").Block} Block */

// Long texts show their first lines; "show all" renders the rest on demand.
const FOLD_LINES = 200;
const FOLD_CHARS = 40000;

/** @type {{onAgent: (id: string) => void, onJump: (r: Rec) => void, onClose: () => void}} */
const hooks = { onAgent: () => {}, onJump: () => {}, onClose: () => {} };

/** @param {typeof hooks} h */
export function setDetailHooks(h) {
  Object.assign(hooks, h);
}

/**
 * openDetail shows record r (and its call) in the detail view.
 * @param {Rec} r
 */
export function openDetail(r) {
  if (!r.ev) return;
  S.openKey = r.key;
  renderDetail();
  const pane = $("detail");
  pane.hidden = false;
  document.body.dataset.detail = "1";
  S.list.refresh();
}

export function closeDetail() {
  if (S.openKey === null) return;
  S.openKey = null;
  $("detail").hidden = true;
  delete document.body.dataset.detail;
  S.list.refresh();
  hooks.onClose();
}

/** openRecord is the record the detail view shows, if still loaded. */
export function openRecord() {
  if (S.openKey === null) return null;
  const i = S.list.pos.get(S.openKey);
  if (i !== undefined) return S.list.items[i];
  for (let j = S.model.records.length - 1; j >= 0; j--) if (S.model.records[j].key === S.openKey) return S.model.records[j];
  return null;
}

// renderDetail redraws the open view (its call may have finished since).
export function renderDetail() {
  const r = openRecord();
  if (!r || !r.ev) return;
  const ev = r.ev;
  const call = r.call || null;
  const pre = call && call.pre ? call.pre.ev : ev.event === "PreToolUse" ? ev : null;
  const post = call && call.post ? call.post.ev : ev.event === "PostToolUse" || ev.event === "PostToolUseFailure" ? ev : null;
  const d = call || ev.event === "PreToolUse" || ev.event.startsWith("PostToolUse") ? describeCall(ev.tool || (call && call.tool) || "", pre, post) : describeEvent(ev);
  const body = $("detail-body");
  const scroll = body.scrollTop;
  const keep = r.key === body.dataset.key;
  body.dataset.key = r.key;
  text($("detail-title"), d.title);
  const meta = $("detail-meta");
  clear(meta);
  meta.append(h("span", { class: "sess", dataset: { c: String(sessionColor(ev.session_id)) }, title: ev.session_id }, ev.session_id.slice(0, 8)));
  const agent = agentOf(ev);
  if (agent) meta.append(h("button", { type: "button", class: "agent", title: `show the events of subagent ${agent}`, onclick: () => hooks.onAgent(agent) }, agentTypeOf(ev) || agent.slice(0, 8)));
  meta.append(h("span", { class: "muted", title: ev.received }, clock(r.t)));
  const st = callState(call, Date.now(), S.model.endedSessions);
  if (st) {
    if (st.state === "running" && st.asked !== undefined && !waitingNow(ev.session_id)) st.waited = null;
    meta.append(h("span", { class: "call", dataset: { state: st.state }, title: callTitle(st) }, callLabel(st)));
  }
  for (const x of [call && call.pre, call && call.asked, call && call.post]) {
    if (!x || !x.ev) continue;
    meta.append(h("button", { type: "button", class: "jump" + (x === r ? " here" : ""), title: `go to #${x.ev.seq} in the list`, onclick: () => hooks.onJump(x) }, `#${x.ev.seq} ${x.ev.event}`));
  }
  if (st) meta.append(h("span", { class: "muted why" }, callTitle(st)));

  // Redrawing the same record (its call finished, or the 1 s tick of a
  // running one) keeps what the reader opened: the raw JSON, folded parts.
  const opened = keep ? new Set([...body.querySelectorAll("details[open]")].map(detailsKey)) : null;
  clear(body);
  // A running Agent/Task call links to its subagent as soon as it started.
  if (call && call.agent && !d.blocks.some((b) => b.kind === "agent")) d.blocks.push({ kind: "agent", text: "show this subagent's events", agent_id: call.agent, agent_type: "" });
  for (const b of d.blocks) body.append(renderBlock(b));
  // The raw events, one click away, each with its copy button.
  /** @type {import("./types.js").WireEvent[]} */
  const raws = [];
  for (const x of call ? [call.pre, call.asked, call.post] : [r]) if (x && x.ev && !raws.includes(x.ev)) raws.push(x.ev);
  const raw = h("details", { class: "raw" }, h("summary", null, raws.length > 1 ? `Raw JSON (${raws.length} events)` : "Raw JSON"));
  for (const e of raws) {
    const json = JSON.stringify(e, null, 2);
    raw.append(
      h("div", { class: "blockhead" }, h("span", null, `#${e.seq || "probe"} ${e.event}`), h("span", { class: "grow" }),
        h("button", { type: "button", class: "copy", onclick: () => copyText(JSON.stringify(e.payload ?? null, null, 2), `the payload of #${e.seq}`) }, "Copy payload"),
        h("button", { type: "button", class: "copy", onclick: () => copyText(json, `event #${e.seq || "probe"} as JSON`) }, "Copy event")),
      // Shown cleaned (bidi controls as marks, as everywhere on the page);
      // "Copy event" copies the JSON as it is.
      foldedPre(cleanText(json), "json", json.length),
    );
  }
  body.append(raw);
  if (opened && opened.size) for (const el of body.querySelectorAll("details")) if (opened.has(detailsKey(el))) el.setAttribute("open", "");
  if (keep) body.scrollTop = scroll;
}

/**
 * detailsKey names a <details> of the detail view across redraws: the raw
 * JSON by its class (its summary counts the events, which a finished call
 * changes), the others by their summary's text.
 * @param {Element} el
 */
function detailsKey(el) {
  return el.classList.contains("raw") ? "raw" : el.querySelector("summary")?.textContent || "";
}

/**
 * @param {Block} b
 * @returns {HTMLElement}
 */
export function renderBlock(b) {
  switch (b.kind) {
    case "fields": {
      const dl = h("dl", { class: "fields" });
      for (const [k, v] of b.rows) dl.append(h("dt", null, k), h("dd", null, v));
      return dl;
    }
    case "note":
      return h("p", { class: "note", dataset: { tone: b.tone } }, b.text);
    case "text": {
      const head = h("div", { class: "blockhead" }, h("span", null, b.label), h("span", { class: "muted" }, lineInfo(b.text)), h("span", { class: "grow" }));
      if (b.copy) head.append(h("button", { type: "button", class: "copy", onclick: () => copyText(b.raw, b.label) }, `Copy ${b.label}`));
      return h("section", { class: "block", dataset: { label: b.label, tone: b.tone } }, head, foldedPre(b.text, "out", b.text.length, b.numbered));
    }
    case "diff": {
      const head = h("div", { class: "blockhead" }, h("span", null, b.label), h("span", { class: "added" }, `+${b.added}`), h("span", { class: "removed" }, `−${b.removed}`), h("span", { class: "grow" }),
        h("button", { type: "button", class: "copy", onclick: () => copyText(b.raw, "the diff") }, "Copy diff"));
      const pre = h("pre", { class: "diff", tabindex: "0" });
      /** @type {{op: string, text: string}[]} */
      const lines = [];
      for (const hk of b.hunks) {
        lines.push({ op: "@", text: `@@ -${hk.oldStart},${hk.oldLines} +${hk.newStart},${hk.newLines} @@` });
        for (const l of hk.lines) lines.push(l);
      }
      const show = (/** @type {number} */ n) => {
        clear(pre);
        for (const l of lines.slice(0, n)) {
          pre.append(h("span", { class: l.op === "+" ? "add" : l.op === "-" ? "del" : l.op === "@" ? "hunk" : "ctx" }, l.op === "@" ? l.text : l.op + l.text), "\n");
        }
      };
      show(FOLD_LINES * 2);
      const sec = h("section", { class: "block", dataset: { label: b.label } }, head, pre);
      if (lines.length > FOLD_LINES * 2) {
        const more = h("button", { type: "button", class: "more", onclick: () => { show(lines.length); more.remove(); } }, `show all ${plural(lines.length, "line")}`);
        sec.append(more);
      }
      if (!b.hunks.length) sec.append(h("p", { class: "note" }, "no change"));
      return sec;
    }
    case "checklist": {
      const ul = h("ul", { class: "checklist", "aria-label": b.label });
      for (const it of b.items) ul.append(h("li", { dataset: { status: it.status } }, h("span", { class: "box", "aria-hidden": "true" }, it.status === "completed" ? "☑" : it.status === "in_progress" ? "◐" : "☐"), h("span", { class: "todo" }, it.text), h("span", { class: "visually-hidden" }, ` (${it.status.replace("_", " ")})`)));
      return h("section", { class: "block", dataset: { label: b.label } }, h("div", { class: "blockhead" }, h("span", null, b.label)), ul);
    }
    case "tree": {
      const lines = treeLines(b.value);
      const ul = h("ul", { class: "tree" });
      for (const l of lines.slice(0, 1000)) {
        const li = h("li", { dataset: { kind: l.kind } }, l.key !== "" ? h("span", { class: "k" }, l.key + ":") : null, l.value !== "" ? h("span", { class: "v" }, " " + l.value) : null);
        li.style.setProperty("--d", String(Math.max(0, l.depth)));
        ul.append(li);
      }
      if (lines.length > 1000) ul.append(h("li", { class: "muted" }, `… ${plural(lines.length - 1000, "more line")} (see the raw JSON)`));
      const json = JSON.stringify(b.value, null, 2) ?? "null";
      return h("section", { class: "block", dataset: { label: b.label } },
        h("div", { class: "blockhead" }, h("span", null, b.label), h("span", { class: "grow" }), h("button", { type: "button", class: "copy", onclick: () => copyText(json, b.label) }, `Copy ${b.label}`)), ul);
    }
    case "list": {
      const ul = h("ul", { class: "plain" });
      for (const it of b.items) ul.append(h("li", null, it));
      if (b.more) ul.append(h("li", { class: "muted" }, `… and ${plural(b.more, "more")}`));
      return h("section", { class: "block", dataset: { label: b.label } }, h("div", { class: "blockhead" }, h("span", null, b.label), h("span", { class: "muted" }, String(b.items.length + b.more))), ul);
    }
    case "agent":
      return h("p", null, h("button", { type: "button", class: "agentlink", onclick: () => hooks.onAgent(b.agent_id) }, `${b.text} (${b.agent_type || b.agent_id.slice(0, 8)})`));
  }
  return h("div", null);
}

/** @param {string} t */
function lineInfo(t) {
  let n = 1;
  for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 10) n++;
  return plural(n, "line");
}

/**
 * foldedPre shows a text's first lines, with a button for the rest.
 * @param {string} t
 * @param {string} cls
 * @param {number} size
 * @param {number} [numbered] the first line's number, to number the lines
 */
function foldedPre(t, cls, size, numbered) {
  const pre = h("pre", { class: cls, tabindex: "0" });
  const all = t.split("\n");
  const number = (/** @type {string[]} */ ls) => {
    if (!numbered) return ls.join("\n");
    const w = String(numbered + all.length - 1).length;
    return ls.map((l, i) => String(numbered + i).padStart(w, " ") + "  " + l).join("\n");
  };
  let shown = all;
  let folded = false;
  if (all.length > FOLD_LINES) {
    shown = all.slice(0, FOLD_LINES);
    folded = true;
  }
  let head = number(shown);
  if (head.length > FOLD_CHARS) {
    head = head.slice(0, FOLD_CHARS) + "…";
    folded = true;
  }
  pre.textContent = head;
  if (!folded) return pre;
  const box = h("div", { class: "fold" }, pre);
  const more = h("button", { type: "button", class: "more", onclick: () => {
    text(more, "rendering…");
    // Let the label paint, then set the whole text in one go.
    requestAnimationFrame(() => {
      pre.textContent = number(all);
      more.remove();
    });
  } }, `show all ${plural(all.length, "line")}${size > 1e6 ? ` (${(size / 1e6).toFixed(1)} MB)` : ""}`);
  box.append(more);
  return box;
}
