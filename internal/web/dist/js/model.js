// @ts-check
// model.js: the events the page holds, their tool-call pairing (with the
// permission prompt a call waited on, and the subagent a Task started), the
// filters, and the figures the charts draw. Pure: no DOM.

/** @typedef {import("./types.js").WireEvent} WireEvent */
/** @typedef {import("./types.js").Rec} Rec */
/** @typedef {import("./types.js").ToolCall} ToolCall */

// MAX_RECORDS bounds memory: past it the oldest records are dropped (they
// can be loaded again with "load older" while the daemon still has them).
// (A test may lower it: globalThis.__mpmMaxRecords, set before the page loads.)
export const MAX_RECORDS = /** @type {any} */ (globalThis).__mpmMaxRecords || 50000;

// QUIET_TYPES are events the daemon journals for other machines, not for a
// person watching: a fleet edge's usage snapshots (MpmUsage, up to one per
// session every 5 s). They stay in the model (and its type counts, so the
// type filter can name them) but are listed, and counted in "events
// loaded", only while the type filter names them.
export const QUIET_TYPES = new Set(["MpmUsage"]);

// Record wraps one wire event (ev, untouched) with what the page derives.
//   key     unique in the page: "<epoch>:<seq>" (probes: "<epoch>:p<n>")
//   epoch   bumps when a daemon without journal restarted (seq began again)
//   t       daemon receive time, ms since the epoch
//   call    the ToolCall it belongs to, if any
//   divider text, for the marker rows between epochs (ev is null)
export class Model {
  constructor() {
    /** @type {Rec[]} */
    this.records = [];
    this.epoch = 0;
    this.calls = new Map(); // tool_use_id → ToolCall
    this.types = new Map(); // event name → count
    this.tools = new Map(); // tool name → count
    this.origins = new Map(); // fleet origin → count (events without one are not counted)
    this.probes = 0;
    this.trimmed = 0; // records dropped by MAX_RECORDS
    this.endedSessions = new Set();
    this.agents = new Map(); // agent_id → events inside it
    this.agentCall = new Map(); // agent_id → the Task/Agent call that started it
    /** @type {ToolCall[]} */
    this.recentCalls = []; // the newest calls, to find the one a permission prompt is about
    this.n = 0; // records that are events (not dividers), quiet ones not counted
    this.quiet = 0; // records held whose type is quiet (QUIET_TYPES)
    this.version = 0; // changes whenever the records (or their calls) change
    // tool → durations (ms) of the calls held with their PreToolUse and
    // result, for toolStats: sorted, and those added and removed since
    // (applied when asked for: durations()).
    /** @type {Map<string, {sorted: number[], add: number[], del: number[]}>} */
    this.done = new Map();
  }

  clear() {
    this.version++;
    this.records = [];
    this.calls.clear();
    this.types.clear();
    this.tools.clear();
    this.origins.clear();
    this.agents.clear();
    this.agentCall.clear();
    this.recentCalls = [];
    this.trimmed = 0;
    this.n = 0;
    this.quiet = 0;
    this.done.clear();
  }

  // reset marks a daemon restart that lost history: what is shown stays,
  // under a divider, and the new daemon's seq numbers begin a new epoch.
  /** @param {string} text */
  reset(text) {
    this.version++;
    this.epoch++;
    /** @type {Rec} */
    const r = { key: `${this.epoch}:divider`, epoch: this.epoch, divider: text, ev: null, t: Date.now() };
    this.records.push(r);
    return r;
  }

  /**
   * @param {WireEvent} ev
   * @returns {Rec}
   */
  makeRecord(ev) {
    const key = ev.seq ? `${this.epoch}:${ev.seq}` : `${this.epoch}:p${++this.probes}`;
    const t = Date.parse(ev.received) || Date.now();
    /** @type {Rec} */
    const r = { key, epoch: this.epoch, ev, t, call: null };
    if (QUIET_TYPES.has(ev.event)) this.quiet++;
    else this.n++;
    this.index(r);
    return r;
  }

  /** @param {Rec} r */
  index(r) {
    const ev = /** @type {WireEvent} */ (r.ev);
    this.types.set(ev.event, (this.types.get(ev.event) || 0) + 1);
    if (ev.tool) this.tools.set(ev.tool, (this.tools.get(ev.tool) || 0) + 1);
    if (ev.origin) this.origins.set(ev.origin, (this.origins.get(ev.origin) || 0) + 1);
    const agent = agentOf(ev);
    if (agent) this.agents.set(agent, (this.agents.get(agent) || 0) + 1);
    if (ev.event === "SessionEnd") this.endedSessions.add(ev.session_id);
    const p = ev.payload && typeof ev.payload === "object" ? ev.payload : {};
    if (ev.event === "PermissionRequest" || (ev.event === "Notification" && p.notification_type === "permission_prompt")) {
      // The call that waits: the newest running one of that session (and
      // tool, when the request names it) not yet marked.
      const tool = ev.tool || p.tool_name;
      for (let i = this.recentCalls.length - 1; i >= 0; i--) {
        const c = this.recentCalls[i];
        if (c.session !== ev.session_id || c.post || !c.pre) continue;
        if (tool && c.tool !== tool) continue;
        if (!c.asked) c.asked = r;
        break;
      }
    }
    if (ev.event === "SubagentStart" && typeof p.agent_id === "string") {
      // The Task/Agent call that started it: the newest running one of the session.
      for (let i = this.recentCalls.length - 1; i >= 0; i--) {
        const c = this.recentCalls[i];
        if (c.session !== ev.session_id || c.post || !(c.tool === "Task" || c.tool === "Agent") || c.agent) continue;
        c.agent = p.agent_id;
        this.agentCall.set(p.agent_id, c);
        break;
      }
    }
    const id = ev.tool_use_id;
    if (!id) return;
    let call = this.calls.get(id);
    if (!call) {
      call = { id, tool: ev.tool || "", session: ev.session_id, pre: null, post: null, ok: null, asked: null, counted: "", countedMs: 0 };
      this.calls.set(id, call);
      this.recentCalls.push(call);
      if (this.recentCalls.length > 256) this.recentCalls.splice(0, 128);
    }
    if (ev.event === "PreToolUse") call.pre = r;
    else if (ev.event === "PostToolUse" || ev.event === "PostToolUseFailure") {
      call.post = r;
      call.ok = ev.event === "PostToolUse";
      // An Agent/Task result names the subagent it ran.
      const resp = p.tool_response && typeof p.tool_response === "object" ? p.tool_response : {};
      if (typeof resp.agentId === "string" && resp.agentId) {
        call.agent = resp.agentId;
        this.agentCall.set(resp.agentId, call);
      }
    } else if (ev.event === "PermissionRequest" && !call.asked) call.asked = r;
    if (!call.tool && ev.tool) call.tool = ev.tool;
    this.countDone(call, false);
    r.call = call;
  }

  // add appends live or replayed events (ascending seq, already deduplicated).
  /** @param {WireEvent[]} evs */
  add(evs) {
    this.version++;
    const out = evs.map((ev) => this.makeRecord(ev));
    for (const r of out) this.records.push(r);
    let trimmed = 0;
    if (this.records.length > MAX_RECORDS) {
      trimmed = this.records.length - MAX_RECORDS;
      for (const r of this.records.splice(0, trimmed)) this.drop(r);
      this.trimmed += trimmed;
    }
    return { added: out, trimmed };
  }

  // drop forgets a record past MAX_RECORDS: it is marked (the list drops it
  // from its front), and a call whose records are all gone is forgotten, so
  // that it holds no memory and the tool figures stay those of the page.
  /** @param {Rec} r */
  drop(r) {
    r.dropped = true;
    if (!r.ev) return;
    if (QUIET_TYPES.has(r.ev.event)) this.quiet--;
    else this.n--;
    const c = r.call;
    if (c && (!c.pre || c.pre.dropped) && (!c.post || c.post.dropped) && this.calls.get(c.id) === c) {
      this.calls.delete(c.id);
      this.countDone(c, true);
    }
  }

  // countDone keeps this.done true for one call (gone: it was forgotten),
  // so that toolStats need not gather and sort every call's duration each
  // time the charts are drawn (~2 ms at 25,000 calls). It only notes the
  // change: a load of 50,000 events must not pay for sorted inserts.
  /**
   * @param {ToolCall} call
   * @param {boolean} gone
   */
  countDone(call, gone) {
    const tool = call.tool || "?";
    const ms = !gone && call.pre && call.post ? call.post.t - call.pre.t : null;
    if (call.counted && ms !== null && call.counted === tool && call.countedMs === ms) return;
    if (call.counted) {
      /** @type {{sorted: number[], add: number[], del: number[]}} */ (this.done.get(call.counted)).del.push(call.countedMs);
      call.counted = "";
    }
    if (ms === null) return;
    let d = this.done.get(tool);
    if (!d) this.done.set(tool, (d = { sorted: [], add: [], del: [] }));
    d.add.push(ms);
    call.counted = tool;
    call.countedMs = ms;
  }

  // durations is each tool's sorted durations of the calls held with their
  // PreToolUse and result (what toolStats would gather and sort).
  durations() {
    /** @type {Map<string, number[]>} */
    const out = new Map();
    for (const [tool, d] of this.done) {
      if (d.add.length > 64) {
        d.sorted = Array.from(Float64Array.from(d.sorted.concat(d.add)).sort());
      } else for (const ms of d.add) d.sorted.splice(lowerBound(d.sorted, ms), 0, ms);
      d.add = [];
      for (const ms of d.del) {
        let i = lowerBound(d.sorted, ms);
        if (d.sorted[i] !== ms) i = d.sorted.indexOf(ms); // NaN: not found by order
        if (i >= 0) d.sorted.splice(i, 1);
      }
      d.del = [];
      out.set(tool, d.sorted);
    }
    return out;
  }

  // prepend inserts older events of the current epoch before its first one.
  /** @param {WireEvent[]} evs */
  prepend(evs) {
    this.version++;
    const firstSeq = this.firstSeq();
    const fresh = evs.filter((ev) => ev.seq && (firstSeq === null || ev.seq < firstSeq));
    const out = fresh.map((ev) => this.makeRecord(ev));
    let at = this.records.findIndex((r) => r.epoch === this.epoch && r.ev);
    if (at < 0) at = this.records.length;
    this.records.splice(at, 0, ...out);
    return out;
  }

  // firstSeq is the lowest seq held of the current epoch, or null.
  firstSeq() {
    for (const r of this.records) if (r.epoch === this.epoch && r.ev && r.ev.seq) return r.ev.seq;
    return null;
  }

  // count is the events held, quiet ones (QUIET_TYPES) not counted.
  count() {
    return this.n;
  }

  /**
   * listable is how many records a list without filters shows: all but the
   * quiet ones (the type filter names none).
   */
  listable() {
    return this.records.length - this.quiet;
  }

  // running counts tool calls still waiting for their result.
  running() {
    let n = 0;
    for (const c of this.calls.values()) if (c.pre && !c.post && !this.endedSessions.has(c.session)) n++;
    return n;
  }
}

/**
 * callState describes a tool call: state running|ok|failed|unfinished, ms
 * (the whole call, PreToolUse to its result), and for a call that asked
 * for permission: asked (ms from the start to the prompt), waited and ran
 * (when the tool's response says how long it ran) or null.
 * @param {ToolCall | null | undefined} call
 * @param {number} now
 * @param {Set<string>} endedSessions
 * @returns {null | {state: string, ms: number | null, asked?: number, waited?: number | null, ran?: number | null}}
 */
export function callState(call, now, endedSessions) {
  if (!call) return null;
  /** @type {{state: string, ms: number | null, asked?: number, waited?: number | null, ran?: number | null}} */
  let st;
  if (call.pre && call.post) st = { state: call.ok ? "ok" : "failed", ms: call.post.t - call.pre.t };
  else if (call.pre) {
    if (endedSessions.has(call.session)) return { state: "unfinished", ms: null };
    st = { state: "running", ms: now - call.pre.t };
  } else return { state: call.ok ? "ok" : "failed", ms: null }; // its PreToolUse is not loaded
  if (call.asked && call.pre) {
    st.asked = Math.max(0, call.asked.t - call.pre.t);
    st.waited = null;
    st.ran = null;
    const ran = call.post ? reportedRunMs(call.post.ev) : null;
    if (ran !== null && st.ms !== null && ran <= st.ms) {
      st.ran = ran;
      st.waited = st.ms - ran;
    } else if (st.state === "running") st.waited = now - call.asked.t;
  }
  return st;
}

/**
 * reportedRunMs is how long the tool itself says it ran, if it says.
 * @param {WireEvent | null} ev
 */
export function reportedRunMs(ev) {
  const p = ev && ev.payload && typeof ev.payload === "object" ? ev.payload : {};
  // Claude Code's own measure of the tool's run, on PostToolUse payloads.
  if (typeof p.duration_ms === "number") return p.duration_ms;
  const r = p.tool_response && typeof p.tool_response === "object" ? p.tool_response : {};
  if (typeof r.durationMs === "number") return r.durationMs;
  if (typeof r.totalDurationMs === "number") return r.totalDurationMs;
  if (typeof r.durationSeconds === "number") return r.durationSeconds * 1000;
  return null;
}

/**
 * agentOf is the subagent an event happened inside, or "".
 * @param {WireEvent} ev
 */
export function agentOf(ev) {
  if (ev.event === "SubagentStart" || ev.event === "SubagentStop") return "";
  if (ev.agent_id) return ev.agent_id;
  const p = ev.payload && typeof ev.payload === "object" ? ev.payload : {};
  return typeof p.agent_id === "string" ? p.agent_id : "";
}

/**
 * agentTypeOf is the type of the subagent an event happened inside, or "".
 * @param {WireEvent} ev
 */
export function agentTypeOf(ev) {
  if (!agentOf(ev)) return "";
  if (ev.agent_type) return ev.agent_type;
  const p = ev.payload && typeof ev.payload === "object" ? ev.payload : {};
  return typeof p.agent_type === "string" ? p.agent_type : "";
}

/**
 * Filter is what the toolbar asks for. types: Set of event names (empty =
 * all); tool: "" = all; origin: a fleet hub's origin name, "" = all (an
 * event without an origin matches only ""); agent: a subagent's id, "" =
 * all; search: text, case-insensitive, over the whole event. With no type
 * named, QUIET_TYPES do not match: they show only when named.
 * @typedef {{types: Set<string>, tool: string, origin: string, agent: string, search: string}} Filter
 */

/**
 * @param {Rec} r
 * @param {Filter} f
 */
export function matches(r, f) {
  if (!r.ev) return true; // dividers always show
  const ev = r.ev;
  if (f.types.size ? !f.types.has(ev.event) : QUIET_TYPES.has(ev.event)) return false;
  if (f.tool && ev.tool !== f.tool) return false;
  if (f.origin && ev.origin !== f.origin) return false;
  if (f.agent && agentOf(ev) !== f.agent && !(ev.event.startsWith("Subagent") && ev.payload && ev.payload.agent_id === f.agent)) return false;
  if (f.search && !searchText(r).includes(f.search)) return false;
  return true;
}

/**
 * searchText is the text the search looks in: the whole event as JSON,
 * lower-cased, derived once per record (view.js derives it in idle time,
 * so that the first search finds it ready).
 * @param {Rec} r
 */
export function searchText(r) {
  if (r.text === undefined) r.text = r.ev ? JSON.stringify(r.ev).toLowerCase() : "";
  return r.text;
}

// perMinute counts events per session per minute over the `minutes` minutes
// ending at `end` (ms). Returns {start, minutes, series: [{session, counts}] , max}.
/**
 * @param {Rec[]} records
 * @param {number} end
 * @param {number} minutes
 */
export function perMinute(records, end, minutes) {
  const endMin = Math.floor(end / 60000);
  const startMin = endMin - minutes + 1;
  const by = new Map();
  let max = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (!r.ev) continue;
    const m = Math.floor(r.t / 60000);
    if (m < startMin) break; // records are in arrival order
    if (m > endMin) continue;
    let c = by.get(r.ev.session_id);
    if (!c) {
      c = new Array(minutes).fill(0);
      by.set(r.ev.session_id, c);
    }
    c[m - startMin]++;
  }
  const totals = new Array(minutes).fill(0);
  for (const c of by.values()) c.forEach((/** @type {number} */ n, /** @type {number} */ i) => (totals[i] += n));
  for (const n of totals) max = Math.max(max, n);
  return { start: startMin * 60000, minutes, series: [...by].map(([session, counts]) => ({ session, counts })), max };
}

// toolStats is per tool: count, failed, running, p50, p95, max (ms).
/**
 * @param {Map<string, ToolCall>} calls
 * @param {number} now
 * @param {Set<string>} endedSessions
 * @param {Map<string, number[]>} [done] the model's sorted durations (Model.durations()): then they are not gathered and sorted here
 */
export function toolStats(calls, now, endedSessions, done) {
  const by = new Map();
  for (const c of calls.values()) {
    const st = callState(c, now, endedSessions);
    const name = c.tool || "?";
    let t = by.get(name);
    if (!t) {
      t = { tool: name, count: 0, failed: 0, running: 0, durations: [] };
      by.set(name, t);
    }
    t.count++;
    if (st.state === "failed") t.failed++;
    if (st.state === "running") t.running++;
    if (!done && (st.state === "ok" || st.state === "failed") && st.ms !== null) t.durations.push(st.ms);
  }
  const out = [];
  for (const t of by.values()) {
    // A typed array sorts numbers without calling a comparator: at 25,000
    // calls this is most of the work.
    const d = done ? done.get(t.tool) || [] : Float64Array.from(t.durations).sort();
    t.durations = Array.from(d);
    t.p50 = d.length ? d[Math.floor((d.length - 1) * 0.5)] : null;
    t.p95 = d.length ? d[Math.floor((d.length - 1) * 0.95)] : null;
    t.max = d.length ? d[d.length - 1] : null;
    out.push(t);
  }
  out.sort((a, b) => b.count - a.count || a.tool.localeCompare(b.tool));
  return out;
}

/**
 * lowerBound is the first index of the sorted xs whose value is not below x.
 * @param {number[]} xs
 * @param {number} x
 */
function lowerBound(xs, x) {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
