// @ts-check
// rows.js: one row of the event list. On a wide screen a grid line; below
// ~700 px the same elements laid out as a two-line card (style.css).

import { h } from "./dom.js";
import { S } from "./state.js";
import { callState, agentOf, agentTypeOf } from "./model.js";
import { summary } from "./tools.js";
import { clock, formatMs } from "./format.js";
import { sessionColor } from "./colors.js";

/** @typedef {import("./types.js").Rec} Rec */

/**
 * @param {Rec} r
 * @returns {HTMLElement}
 */
export function renderRow(r) {
  if (!r.ev) {
    return h("div", { class: "row divider", tabindex: "-1" }, h("div", { class: "line" }, h("span", { class: "divtext" }, r.divider)));
  }
  const ev = r.ev;
  const st = callState(r.call, Date.now(), S.model.endedSessions);
  // A running call that asked for permission is waiting only while the
  // daemon says its session needs permission; after that it runs.
  if (st && st.state === "running" && st.asked !== undefined && !waitingNow(ev.session_id)) st.waited = null;
  // The summary is cached per record; a call's result changes a failed
  // PreToolUse row's summary, so the cache remembers which result it saw.
  const postKey = r.call && r.call.post ? r.call.post.key : "";
  if (r.sum === undefined || r.sumPost !== postKey) {
    r.sum = summary(ev, r.call);
    r.sumPost = postKey;
  }
  const agent = agentOf(ev);
  const sum = h("span", { class: "sum" });
  if (agent) sum.append(h("span", { class: "agent", title: `inside subagent ${agent}` }, agentTypeOf(ev) || agent.slice(0, 8)), " ");
  sum.append(r.sum);
  const line = h("div", { class: "line" },
    h("span", { class: "seq" }, ev.seq ? "#" + ev.seq : "probe"),
    h("span", { class: "time", title: ev.received }, clock(r.t)),
    h("span", { class: "origin", title: ev.origin ? `${ev.origin}, its seq #${ev.origin_seq}` : "" }, ev.origin || ""),
    h("span", { class: "sess", title: ev.session_id, dataset: { c: String(sessionColor(ev.session_id)) } }, ev.session_id.slice(0, 8)),
    h("span", { class: "type", dataset: { type: ev.event } }, ev.event),
    h("span", { class: "tool" }, ev.tool || ""),
    sum,
    callCell(st),
  );
  const row = h("div", { class: "row", tabindex: "-1", id: "row-" + r.key.replace(":", "-") }, line);
  if (st) row.dataset.call = st.state;
  if (agent) row.dataset.agent = agent;
  if (r.key === S.openKey || (r.call && S.openKey && ((r.call.pre && r.call.pre.key === S.openKey) || (r.call.post && r.call.post.key === S.openKey)))) row.classList.add("open");
  return row;
}

/**
 * callLabel: "running 3.2 s", "✓ 1.2 s", "✗ 0.4 s", "waited 31 s · ran 1.2 s".
 * @param {ReturnType<typeof callState>} st
 */
export function callLabel(st) {
  if (!st) return "";
  if (st.asked !== undefined) {
    if (st.state === "running") return st.waited !== null && st.waited !== undefined ? `waiting ${formatMs(st.waited)}` : `running ${formatMs(st.ms)}, asked`;
    if (st.waited !== null && st.waited !== undefined && st.ran !== null && st.ran !== undefined) return `${st.state === "failed" ? "✗ " : ""}waited ${formatMs(st.waited)} · ran ${formatMs(st.ran)}`;
    if (st.state === "ok" || st.state === "failed") return `${st.state === "failed" ? "✗" : "✓"} ${formatMs(st.ms)}, asked`;
  }
  switch (st.state) {
    case "running":
      return `running ${formatMs(st.ms)}`;
    case "ok":
      return st.ms === null ? "ok" : `✓ ${formatMs(st.ms)}`;
    case "failed":
      return st.ms === null ? "failed" : `✗ ${formatMs(st.ms)}`;
    default:
      return "no result";
  }
}

/**
 * callTitle says the same in words.
 * @param {ReturnType<typeof callState>} st
 */
export function callTitle(st) {
  if (!st) return "";
  const base = st.state === "unfinished" ? "the session ended before this call reported back" : st.state === "running" ? `running for ${formatMs(st.ms)}` : `${st.state === "ok" ? "succeeded" : "failed"}${st.ms !== null ? " after " + formatMs(st.ms) : ""}`;
  if (st.asked === undefined) return base;
  const ask = `asked for permission ${formatMs(st.asked)} after it started`;
  if (st.waited !== null && st.waited !== undefined && st.ran !== null && st.ran !== undefined) return `${base}: waited ${formatMs(st.waited)} for permission, then ran ${formatMs(st.ran)}`;
  if (st.state === "running") return st.waited !== null && st.waited !== undefined ? `${ask}; waiting for an answer for ${formatMs(st.waited)}` : `${ask}; running for ${formatMs(st.ms)} in all`;
  return `${base}; ${ask} (the tool does not say how long it ran, so the wait is inside the total)`;
}

/**
 * waitingNow: the daemon says the session waits for a permission answer.
 * @param {string} id
 */
export function waitingNow(id) {
  const s = S.sessions.map.get(id);
  return !!s && s.state === "needs_permission";
}

/** @param {ReturnType<typeof callState>} st */
function callCell(st) {
  if (!st) return h("span", { class: "call" });
  return h("span", { class: "call", dataset: { state: st.state, asked: st.asked !== undefined ? "1" : undefined }, title: callTitle(st) }, callLabel(st));
}
