import { test } from "node:test";
import assert from "node:assert/strict";
import { Sessions, orderSessions, badge, resolveSessions, project, sessionTree, todoSummary, overBudget, stateNeedsYou } from "../dist/js/sessions.js";
import { Model } from "../dist/js/model.js";
import { wire } from "./fixtures.js";

const now = Date.UTC(2026, 10, 30, 12, 10, 0);
const iso = (msAgo) => new Date(now - msAgo).toISOString();

test("the board: needs you first (longest waiting first), then working, idle, ended", () => {
  const list = [
    { session_id: "ended", state: "ended", ended: true, last: now - 1000 },
    { session_id: "idle", state: "idle", last: now - 5000 },
    { session_id: "work-old", state: "working", last: now - 60000 },
    { session_id: "perm-new", state: "needs_permission", attention: true, state_since: iso(10000), last: now - 10000 },
    { session_id: "work-new", state: "working", last: now - 1000 },
    { session_id: "input-old", state: "waiting_input", attention: true, state_since: iso(130000), last: now - 130000 },
    { session_id: "old-daemon", ended: false, last: now },
  ];
  assert.deepEqual(orderSessions(list).map((s) => s.session_id), ["input-old", "perm-new", "work-new", "work-old", "old-daemon", "idle", "ended"]);
});

test("over budget: in the inbox, ordered by when it passed its budget, in words", () => {
  const ob = (budget, msAgo, attention) => ({ budget, limit_usd: 1, spent_usd: 1.234, since: iso(msAgo), day: budget === "day" ? "2026-11-30" : undefined, attention });
  const list = [
    { session_id: "perm", state: "needs_permission", attention: true, attention_reason: "needs_permission", state_since: iso(10000), last: now },
    { session_id: "budget-old", state: "working", attention: true, attention_reason: "over_budget", state_since: iso(1000), over_budget: ob("session", 60000, true), last: now },
    { session_id: "seen-to", state: "working", over_budget: ob("session", 90000, false), last: now - 5000 },
  ];
  assert.deepEqual(orderSessions(list).map((s) => s.session_id), ["budget-old", "perm", "seen-to"]);
  assert.equal(stateNeedsYou(list[0]), true);
  assert.equal(stateNeedsYou(list[1]), false);
  const o = overBudget(list[1].over_budget);
  assert.equal(o.text, "over its budget $1.23 of $1.00");
  assert.match(o.title, /--budget-session-usd/);
  assert.match(o.title, /until you send it a prompt/);
  const d = overBudget(ob("day", 0, false));
  assert.equal(d.text, "over the day's budget $1.23 of $1.00");
  assert.match(d.title, /on 2026-11-30/);
  assert.doesNotMatch(d.title, /until you send/);
  assert.equal(overBudget(undefined), null);
  assert.match(badge(list[1], now).title, /--budget-session-usd/);
  assert.equal(badge(list[1], now).attention, true);
});

test("badges: icon and words and how long, never colour alone", () => {
  const cases = [
    [{ session_id: "a", state: "needs_permission", attention: true, state_since: iso(130000) }, "▲", "needs permission · 2 m 10 s", true],
    [{ session_id: "a", state: "waiting_input", attention: true, state_since: iso(5000) }, "?", "waiting for input · 5.0 s", true],
    [{ session_id: "a", state: "working", state_since: iso(700000), stale: true }, "●", "working · 11 m 40 s · quiet", false],
    [{ session_id: "a", state: "idle", state_since: iso(1000) }, "○", "idle · 1.0 s", false],
    [{ session_id: "a", state: "ended", end_reason: "logout", state_since: iso(1000) }, "■", "ended (logout)", false],
    [{ session_id: "a" }, "●", "live", false],
    [{ session_id: "a", ended: true }, "■", "ended", false],
    [{ session_id: "a", state: "brand_new_state" }, "●", "brand new state", false],
  ];
  for (const [s, icon, text, att] of cases) {
    const b = badge(s, now);
    assert.equal(b.icon, icon, JSON.stringify(s));
    assert.equal(b.text, text, JSON.stringify(s));
    assert.equal(b.attention, att, JSON.stringify(s));
  }
});

test("session names: full ids and 8-character prefixes", () => {
  const known = ["aaaa1111-2222", "aaaa2222-3333", "bbbb1111-2222"];
  assert.deepEqual(resolveSessions(["bbbb1111", "aaaa2222-3333", "nosuch", "aaaa"], known), { ids: ["bbbb1111-2222", "aaaa2222-3333"], unknown: ["nosuch"], ambiguous: ["aaaa"] });
});

test("merge keeps what events taught; track counts and keeps the latest TodoWrite", () => {
  const s = new Sessions();
  const id = "aaaa1111-2222-3333-4444-555566667777";
  s.track(wire("PreToolUse", { tool_name: "TodoWrite", tool_input: { todos: [{ content: "a", status: "completed" }, { content: "b", status: "pending" }] } }));
  s.merge([{ session_id: id, state: "working", cwd: "/home/dev/proj/", last_seen: iso(0) }]);
  const got = s.map.get(id);
  assert.equal(got.state, "working");
  assert.equal(todoSummary(got.todos), "1 done · 0 in progress · 1 pending");
  assert.equal(project(got), "proj");
  s.merge([{ session_id: id, state: "needs_permission", attention: true }]);
  assert.equal(s.attention(), 1);
});

test("the session tree: main agent, subagents, their calls", () => {
  const m = new Model();
  m.add([
    wire("PreToolUse", { tool_name: "Task", tool_use_id: "task1", tool_input: { subagent_type: "Explore" } }),
    wire("SubagentStart", { agent_id: "ag1", agent_type: "Explore" }),
    wire("PreToolUse", { tool_name: "Grep", tool_use_id: "g1", agent_id: "ag1", agent_type: "Explore", tool_input: { pattern: "x" } }),
    wire("PostToolUse", { tool_name: "Grep", tool_use_id: "g1", agent_id: "ag1", agent_type: "Explore", tool_response: {} }),
    wire("SubagentStop", { agent_id: "ag1", agent_type: "Explore" }),
  ]);
  const t = sessionTree(m.records, undefined, "aaaa1111-2222-3333-4444-555566667777");
  assert.deepEqual(t.map((n) => [n.agent_id, n.agent_type, n.state, n.calls.map((r) => r.ev.tool).join(",")]), [["", "main agent", "", "Task"], ["ag1", "Explore", "done", "Grep"]]);
});
