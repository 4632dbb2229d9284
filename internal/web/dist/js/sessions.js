// @ts-check
// sessions.js: the page's sessions — as the daemon lists them (/v1/sessions,
// {"type":"session"} frames, which carry the state the daemon derives) and
// as the loaded events add to them — and how the board orders and labels
// them. Pure: no DOM.

import { formatMs, oneLine, compact, usd, plural } from "./format.js";
import { todoCounts } from "./tools.js";
import { agentOf } from "./model.js";

/** @typedef {import("./types.js").WireSession} WireSession */
/** @typedef {import("./types.js").WireEvent} WireEvent */
/** @typedef {import("./types.js").Rec} Rec */
/** @typedef {import("./types.js").Usage} Usage */
/** @typedef {import("./types.js").OverBudget} OverBudget */

/**
 * A session as the page holds it: the wire fields, plus what the page
 * derives: last (ms of the newest activity), todos (the latest TodoWrite
 * list) and todosSeq.
 * @typedef {WireSession & {last: number, todos?: any[], todosSeq?: number}} Session
 */

/** The states, with the icon and words the board shows (never colour alone). */
export const STATES = {
  needs_permission: { icon: "▲", words: "needs permission", rank: 0 },
  waiting_input: { icon: "?", words: "waiting for input", rank: 0 },
  working: { icon: "●", words: "working", rank: 1 },
  compacting: { icon: "◐", words: "compacting", rank: 1 },
  idle: { icon: "○", words: "idle", rank: 2 },
  ended: { icon: "■", words: "ended", rank: 3 },
};

export class Sessions {
  constructor() {
    /** @type {Map<string, Session>} */
    this.map = new Map();
  }

  clear() {
    this.map.clear();
  }

  /**
   * merge takes sessions from the daemon (a listing or a session frame).
   * @param {WireSession[]} list
   * @returns {boolean} a session was new
   */
  merge(list) {
    let fresh = false;
    for (const s of list) {
      if (!s || typeof s.session_id !== "string") continue;
      const had = this.map.get(s.session_id);
      if (!had) fresh = true;
      /** @type {Session} */
      const next = { ...(had || {}), ...s, origin: s.origin || (had && had.origin) || "", last: Math.max(Date.parse(s.last_seen || "") || 0, had ? had.last : 0) };
      if (had && had.todos) {
        next.todos = had.todos;
        next.todosSeq = had.todosSeq;
      }
      this.map.set(s.session_id, next);
    }
    return fresh;
  }

  /**
   * track counts one loaded event into its session (for daemons that do
   * not send session frames, and for the TodoWrite list).
   * @param {WireEvent} ev
   * @returns {boolean} the session was new
   */
  track(ev) {
    let s = this.map.get(ev.session_id);
    const isNew = !s;
    if (!s) {
      s = { session_id: ev.session_id, origin: "", cwd: "", total: 0, events: {}, ended: false, last_seq: 0, last: 0 };
      this.map.set(ev.session_id, s);
    }
    if (ev.origin) s.origin = ev.origin;
    const p = ev.payload && typeof ev.payload === "object" ? ev.payload : {};
    if (ev.event === "PreToolUse" && ev.tool === "TodoWrite" && p.tool_input && Array.isArray(p.tool_input.todos) && ev.seq >= (s.todosSeq || 0)) {
      s.todos = p.tool_input.todos;
      s.todosSeq = ev.seq;
    }
    if (ev.seq > (s.last_seq || 0)) {
      s.last_seq = ev.seq;
      s.total = (s.total || 0) + 1;
      s.events = s.events || {};
      s.events[ev.event] = (s.events[ev.event] || 0) + 1;
      s.last = Math.max(s.last || 0, Date.parse(ev.received) || 0);
      if (typeof p.cwd === "string" && p.cwd) s.cwd = p.cwd;
      if (ev.event === "SessionEnd") {
        s.ended = true;
        if (typeof p.reason === "string") s.end_reason = p.reason;
      }
    }
    return isNew;
  }

  /**
   * resolve maps names given in a URL (full ids or 8-character prefixes, as
   * the dashboard and mpm-monitor show them) to the known session ids.
   * @param {string[]} names
   * @returns {{ids: string[], unknown: string[], ambiguous: string[]}}
   */
  resolve(names) {
    return resolveSessions(names, [...this.map.keys()]);
  }

  /** ordered is the board's order. */
  ordered() {
    return orderSessions([...this.map.values()]);
  }

  /** attention counts the sessions that need the person. */
  attention() {
    let n = 0;
    for (const s of this.map.values()) if (needsYou(s)) n++;
    return n;
  }
}

/**
 * resolveSessions matches each name to one session id: an exact id, or a
 * prefix that only one known id starts with.
 * @param {string[]} names
 * @param {string[]} known
 */
export function resolveSessions(names, known) {
  /** @type {string[]} */
  const ids = [];
  /** @type {string[]} */
  const unknown = [];
  /** @type {string[]} */
  const ambiguous = [];
  for (const n of names) {
    if (known.includes(n)) {
      if (!ids.includes(n)) ids.push(n);
      continue;
    }
    const hits = known.filter((k) => k.startsWith(n));
    if (hits.length === 1) {
      if (!ids.includes(hits[0])) ids.push(hits[0]);
    } else if (hits.length > 1) ambiguous.push(n);
    else unknown.push(n);
  }
  return { ids, unknown, ambiguous };
}

/**
 * stateOf is the session's state: the daemon's, or for a daemon that does
 * not derive it, "ended" or "" (unknown).
 * @param {Session} s
 */
export function stateOf(s) {
  if (s.state && s.state in STATES) return s.state;
  if (s.state) return s.state; // a state this page does not know: shown as it is
  return s.ended ? "ended" : "";
}

/**
 * needsYou: the session waits for the person.
 * @param {Session} s
 */
export function needsYou(s) {
  if (s.attention !== undefined) return !!s.attention;
  const st = stateOf(s);
  return st === "needs_permission" || st === "waiting_input";
}

/**
 * stateNeedsYou: the session's state waits for the person (not only its
 * budget).
 * @param {Session} s
 */
export function stateNeedsYou(s) {
  if (s.attention_reason) return s.attention_reason !== "over_budget";
  return needsYou(s);
}

/**
 * attentionSince is when the session started needing the person: when it
 * passed its budget, or entered its state.
 * @param {Session} s
 */
function attentionSince(s) {
  const t = s.attention_reason === "over_budget" && s.over_budget ? s.over_budget.since : s.state_since;
  return Date.parse(t || "") || 0;
}

/**
 * overBudget is what a card shows of a budget the session passed ("over
 * budget $0.04 of $0.03"), with a longer title; null when none.
 * @param {OverBudget | undefined} ob
 */
export function overBudget(ob) {
  if (!ob || typeof ob !== "object") return null;
  const day = ob.budget === "day";
  const figures = `${usd(Number(ob.spent_usd) || 0)} of ${usd(Number(ob.limit_usd) || 0)}`;
  const text = `over ${day ? "the day's" : "its"} budget ${figures}`;
  const title = [
    day ? `the day's cost across sessions${ob.day ? " on " + ob.day : ""} passed mpm-wsd's --budget-day-usd (${figures}) while this session spent` : `this session's cost passed mpm-wsd's --budget-session-usd (${figures})`,
    ob.attention ? "it needs you until you send it a prompt" : "",
  ].filter(Boolean).join("\n");
  return { text, title, attention: !!ob.attention };
}

/**
 * orderSessions: needs you first (longest waiting first), then working,
 * idle, and ended last; within a group, the latest activity first.
 * @param {Session[]} list
 */
export function orderSessions(list) {
  /** @param {Session} s */
  const rank = (s) => {
    if (needsYou(s)) return 0;
    const st = stateOf(s);
    // @ts-ignore: indexing by a known state
    if (st in STATES) return STATES[st].rank;
    return s.ended ? 3 : 1.5;
  };
  return [...list].sort((a, b) => {
    const ra = rank(a), rb = rank(b);
    if (ra !== rb) return ra - rb;
    if (ra === 0) {
      const sa = attentionSince(a), sb = attentionSince(b);
      if (sa !== sb) return sa - sb;
    }
    return (b.last || 0) - (a.last || 0) || a.session_id.localeCompare(b.session_id);
  });
}

/**
 * badge is the state badge: icon, words and how long ("needs permission ·
 * 2 m 10 s"), and a longer title.
 * @param {Session} s
 * @param {number} now
 */
export function badge(s, now) {
  const st = stateOf(s);
  // @ts-ignore: indexing by a known state
  const known = STATES[st];
  const since = Date.parse(s.state_since || "");
  const dur = isFinite(since) ? formatMs(Math.max(0, now - since)) : "";
  let words = known ? known.words : st ? st.replace(/_/g, " ") : "live";
  if (st === "ended" && s.end_reason) words += ` (${oneLine(s.end_reason, 40)})`;
  const icon = known ? known.icon : "●";
  let text = dur && st !== "ended" ? `${words} · ${dur}` : words;
  if (s.stale) text += " · quiet";
  const title = [
    `${words}${dur ? ` for ${dur}` : ""}`,
    s.stale ? "no event for a while: it may have been interrupted (Esc fires no hook)" : "",
    s.state_message ? oneLine(s.state_message, 300) : "",
    s.notification_type && !s.state_message ? s.notification_type : "",
    s.over_budget ? overBudget(s.over_budget)?.title || "" : "",
  ].filter(Boolean).join("\n");
  return { state: st || "live", icon, text, title, attention: needsYou(s), stale: !!s.stale };
}

/**
 * project is a session's project name: the last element of its cwd.
 * @param {Session} s
 */
export function project(s) {
  return s.cwd ? s.cwd.replace(/[/\\]+$/, "").replace(/^.*[/\\]/, "") : "";
}

/**
 * todoSummary: "2 done · 1 in progress · 3 pending" for a session's latest TodoWrite.
 * @param {any[] | undefined} todos
 */
export function todoSummary(todos) {
  if (!todos) return "";
  const c = todoCounts(todos);
  return `${c.done} done · ${c.doing} in progress · ${c.pending} pending`;
}

/**
 * A node of a session's tree.
 * @typedef {{agent_id: string, agent_type: string, state: string, calls: Rec[], started?: number}} AgentNode
 */

/**
 * A session's tree as the panel keeps it between redraws (growTree): the
 * nodes, and what it needs to take the next records in without walking them
 * all again.
 * @typedef {{id: string, akey: string, nodes: Map<string, AgentNode>, entries: Map<string, {n: AgentNode, r: Rec}>, firsts: Map<string, Rec>, subs: Rec[], len: number, last: Rec | null, trimmed: number, gen: number, rev: number, s?: Session}} TreeMemo
 */

/**
 * sessionTree groups a session's loaded tool calls by agent: the main agent
 * first, then each subagent (from the session's `agents` and the Subagent
 * events), each with its tool calls (their PreToolUse records, or the
 * result when the PreToolUse is not loaded).
 * @param {Rec[]} records
 * @param {Session | undefined} s
 * @param {string} sessionId
 * @returns {AgentNode[]}
 */
export function sessionTree(records, s, sessionId) {
  return [...growTree(null, records, 0, s, sessionId).nodes.values()];
}

let treeGen = 0;

/** @param {Session | undefined} s */
function agentsKey(s) {
  return JSON.stringify(((s && s.agents) || []).map((a) => [a.agent_id, a.agent_type, a.state, a.started]));
}

/**
 * growTree is sessionTree kept up to date: given the tree it built before
 * (memo) and the records now held (model.records, with model.trimmed, the
 * count dropped from their front so far), it takes in only the records
 * appended since and drops the calls whose records left the front; it walks
 * every record again (a new memo, new gen) when that cannot give exactly
 * what sessionTree gives: another session, its agents changed, records
 * inserted before (load older) or cleared, or a dropped record that made an
 * agent's node or state. rev changes whenever the tree may have changed.
 * @param {TreeMemo | null} memo
 * @param {Rec[]} records
 * @param {number} trimmed
 * @param {Session | undefined} s
 * @param {string} sessionId
 * @returns {TreeMemo}
 */
export function growTree(memo, records, trimmed, s, sessionId) {
  const akey = agentsKey(s);
  if (memo && memo.id === sessionId && memo.akey === akey && memo.last) {
    const d = trimmed - memo.trimmed;
    const at = memo.len - 1 - d;
    if (d >= 0 && at >= 0 && at < records.length && records[at] === memo.last && (d === 0 || dropFront(memo))) {
      for (let i = at + 1; i < records.length; i++) step(memo, records[i]);
      memo.len = records.length;
      memo.last = records.length ? records[records.length - 1] : null;
      memo.trimmed = trimmed;
      return memo;
    }
  }
  /** @type {Map<string, AgentNode>} */
  const nodes = new Map();
  nodes.set("", { agent_id: "", agent_type: "main agent", state: "", calls: [] });
  for (const a of (s && s.agents) || []) {
    nodes.set(a.agent_id, { agent_id: a.agent_id, agent_type: a.agent_type || "subagent", state: a.state, calls: [], started: Date.parse(a.started) || 0 });
  }
  /** @type {TreeMemo} */
  const m = { id: sessionId, akey, nodes, entries: new Map(), firsts: new Map(), subs: [], len: records.length, last: records.length ? records[records.length - 1] : null, trimmed, gen: ++treeGen, rev: 0 };
  for (const r of records) step(m, r);
  return m;
}

/**
 * step takes one record into the tree.
 * @param {TreeMemo} m
 * @param {Rec} r
 */
function step(m, r) {
  const ev = r.ev;
  if (!ev || ev.session_id !== m.id) return;
  const p = ev.payload && typeof ev.payload === "object" ? ev.payload : {};
  if ((ev.event === "SubagentStart" || ev.event === "SubagentStop") && typeof p.agent_id === "string") {
    let n = m.nodes.get(p.agent_id);
    if (!n) {
      n = { agent_id: p.agent_id, agent_type: p.agent_type || "subagent", state: "running", calls: [], started: r.t };
      m.nodes.set(p.agent_id, n);
      m.firsts.set(p.agent_id, r);
    }
    if (ev.event === "SubagentStop") n.state = "done";
    else if (!n.state) n.state = "running";
    m.subs.push(r);
    m.rev++;
    return;
  }
  if (!r.call) return;
  m.rev++; // a new call, or one's result (its state)
  if (m.entries.has(r.call.id)) return;
  const a = agentOf(ev);
  let n = m.nodes.get(a);
  if (!n) {
    n = { agent_id: a, agent_type: ev.agent_type || (typeof p.agent_type === "string" ? p.agent_type : "subagent"), state: "", calls: [], started: r.t };
    m.nodes.set(a, n);
    m.firsts.set(a, r);
  }
  m.entries.set(r.call.id, { n, r });
  n.calls.push(r);
}

/**
 * order compares two records' places in model.records (epoch, then seq);
 * NaN when one has no seq (a probe): then the caller walks all again.
 * @param {Rec} a
 * @param {Rec} b
 */
function order(a, b) {
  const sa = a.ev && a.ev.seq, sb = b.ev && b.ev.seq;
  if (!sa || !sb) return NaN;
  return a.epoch - b.epoch || sa - sb;
}

/**
 * dropFront takes out of the tree what the records dropped from the front
 * of model.records (marked r.dropped) had put in: a call goes, or moves to
 * its first record still held (its result after its PreToolUse left). False
 * when only walking all records again gives sessionTree's answer.
 * @param {TreeMemo} m
 */
function dropFront(m) {
  if (m.subs.length && m.subs[0].dropped) return false; // an agent's state came from it
  for (const r of m.firsts.values()) if (r.dropped) return false; // a node's place and start
  const last = /** @type {Rec} */ (m.last);
  for (const n of m.nodes.values()) {
    let k = 0;
    while (k < n.calls.length && n.calls[k].dropped) k++;
    if (!k) continue;
    const gone = n.calls.splice(0, k);
    m.rev++;
    for (const r of gone) {
      const c = /** @type {import("./types.js").ToolCall} */ (r.call);
      m.entries.delete(c.id);
      // The call's first record still held: its PreToolUse, its
      // PermissionRequest, its result. Another record that names the call
      // but is not one of those (a second request) cannot be found here.
      if (c.asked && c.asked.call !== c && !c.asked.dropped) return false;
      /** @type {Rec | null} */
      let next = null;
      for (const x of [c.pre, c.asked && c.asked.call === c ? c.asked : null, c.post]) {
        if (!x || x.dropped || !x.ev || x.ev.session_id !== m.id) continue;
        const o = next ? order(x, next) : -1;
        if (isNaN(o)) return false;
        if (o < 0) next = x;
      }
      if (!next) continue;
      const past = order(next, last);
      if (isNaN(past)) return false;
      if (past > 0) continue; // not walked yet: growTree's walk takes it in
      const into = m.nodes.get(agentOf(next.ev));
      if (!into) return false;
      let i = 0;
      for (; i < into.calls.length; i++) {
        const o = order(into.calls[i], next);
        if (isNaN(o)) return false;
        if (o > 0) break;
      }
      into.calls.splice(i, 0, next);
      m.entries.set(c.id, { n: into, r: next });
    }
  }
  return true;
}

/**
 * usageSummary is what a session card shows of its usage: the cost ("~"
 * before an estimate), the total tokens, compact, and the context's fill
 * (pct, 0 to 100, or -1 when the window is unknown); null without usage.
 * @param {Usage | undefined} u
 */
export function usageSummary(u) {
  if (!u || typeof u !== "object") return null;
  const n = (/** @type {unknown} */ v) => (typeof v === "number" && isFinite(v) && v > 0 ? v : 0);
  const tokens = n(u.input_tokens) + n(u.output_tokens) + n(u.cache_read_input_tokens) + n(u.cache_creation_input_tokens);
  const estimate = u.cost_source !== "claude";
  const cost = (estimate ? "~" : "") + usd(n(u.cost_usd));
  const ctx = n(u.context_tokens), win = n(u.context_window);
  const pct = win ? Math.min(100, Math.round((ctx / win) * 100)) : -1;
  const ctxText = pct >= 0 ? `context ${pct}%` : "";
  const text = [cost, `${compact(tokens)} tokens`, ctxText].filter(Boolean).join(" · ");
  const models = Object.entries(u.models || {}).map(([m, c]) => `${m}: ${usd(n(c && c.cost_usd))}, ${compact(n(c && c.input_tokens) + n(c && c.output_tokens) + n(c && c.cache_read_input_tokens) + n(c && c.cache_creation_input_tokens))} tokens`);
  const title = [
    `cost ${usd(n(u.cost_usd))} (${estimate ? "estimated from token counts and a price table" : "as Claude Code reports it"})`,
    `${plural(tokens, "token")}: ${n(u.input_tokens).toLocaleString("en-US")} input, ${n(u.output_tokens).toLocaleString("en-US")} output, ${n(u.cache_read_input_tokens).toLocaleString("en-US")} cache read, ${n(u.cache_creation_input_tokens).toLocaleString("en-US")} cache write`,
    pct >= 0 ? `context ${ctx.toLocaleString("en-US")} of ${win.toLocaleString("en-US")} tokens (${pct}%)` : "",
    ...models,
  ].filter(Boolean).join("\n");
  return { cost, tokens: compact(tokens), pct, ctxText, text, title };
}
