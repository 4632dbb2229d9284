import { test } from "node:test";
import assert from "node:assert/strict";
import { Model, callState, matches, perMinute, toolStats, agentOf, MAX_RECORDS, QUIET_TYPES } from "../dist/js/model.js";
import { wire } from "./fixtures.js";

const S1 = "aaaa1111-2222-3333-4444-555566667777";
const at = (ev, ms) => ({ ...ev, received: new Date(Date.UTC(2026, 10, 30, 12, 0, 0) + ms).toISOString() });

test("tool calls pair by tool_use_id, with their duration and outcome", () => {
  const m = new Model();
  m.add([
    at(wire("PreToolUse", { tool_name: "Bash", tool_use_id: "t1", tool_input: { command: "ls" } }), 0),
    at(wire("PreToolUse", { tool_name: "Read", tool_use_id: "t2", tool_input: { file_path: "/x" } }), 100),
    at(wire("PostToolUse", { tool_name: "Bash", tool_use_id: "t1", tool_response: { stdout: "" } }), 1300),
    at(wire("PostToolUseFailure", { tool_name: "Bash", tool_use_id: "t3", error: "boom" }), 1400),
  ]);
  const now = Date.UTC(2026, 10, 30, 12, 0, 5);
  assert.deepEqual(callState(m.calls.get("t1"), now, m.endedSessions), { state: "ok", ms: 1300 });
  assert.deepEqual(callState(m.calls.get("t2"), now, m.endedSessions), { state: "running", ms: 4900 });
  assert.deepEqual(callState(m.calls.get("t3"), now, m.endedSessions), { state: "failed", ms: null });
  assert.equal(m.running(), 1);
  m.add([wire("SessionEnd", { reason: "exit" })]);
  assert.deepEqual(callState(m.calls.get("t2"), now, m.endedSessions), { state: "unfinished", ms: null });
  const stats = toolStats(m.calls, now, m.endedSessions);
  assert.equal(stats[0].tool, "Bash");
  assert.equal(stats[0].count, 2);
  assert.equal(stats[0].failed, 1);
});

test("a call that asked for permission: waited and ran when the tool says how long it ran", () => {
  const m = new Model();
  m.add([
    at(wire("PreToolUse", { tool_name: "WebFetch", tool_use_id: "w1", tool_input: { url: "https://x" } }), 0),
    at(wire("PermissionRequest", { tool_name: "WebFetch", tool_input: { url: "https://x" } }), 200),
    at(wire("Notification", { message: "Claude needs your permission to use WebFetch", notification_type: "permission_prompt" }), 6200),
    at(wire("PostToolUse", { tool_name: "WebFetch", tool_use_id: "w1", tool_response: { durationMs: 1200, code: 200 } }), 32200),
    at(wire("PreToolUse", { tool_name: "Bash", tool_use_id: "b1", tool_input: { command: "rm x" } }), 40000),
    at(wire("Notification", { message: "Claude needs your permission to use Bash", notification_type: "permission_prompt" }), 41000),
    at(wire("PostToolUse", { tool_name: "Bash", tool_use_id: "b1", tool_response: { stdout: "" } }), 50000),
  ]);
  const w = callState(m.calls.get("w1"), 0, m.endedSessions);
  assert.deepEqual(w, { state: "ok", ms: 32200, asked: 200, waited: 31000, ran: 1200 });
  assert.equal(m.calls.get("w1").asked.ev.event, "PermissionRequest");
  // Bash does not say how long it ran: the wait stays inside the total.
  const b = callState(m.calls.get("b1"), 0, m.endedSessions);
  assert.deepEqual(b, { state: "ok", ms: 10000, asked: 1000, waited: null, ran: null });
});

test("subagents: events carry their agent, a Task call knows the agent it started, the filter picks one agent", () => {
  const m = new Model();
  const { added } = m.add([
    wire("PreToolUse", { tool_name: "Task", tool_use_id: "task1", tool_input: { subagent_type: "Explore" } }),
    wire("SubagentStart", { agent_id: "ag1", agent_type: "Explore" }),
    wire("PreToolUse", { tool_name: "Grep", tool_use_id: "g1", tool_input: { pattern: "x" } }, { agent_id: "ag1", agent_type: "Explore" }),
    wire("PreToolUse", { tool_name: "Read", tool_use_id: "r1", agent_id: "ag1", tool_input: { file_path: "/y" } }),
    wire("SubagentStop", { agent_id: "ag1", agent_type: "Explore" }),
    wire("PreToolUse", { tool_name: "Bash", tool_use_id: "b1", tool_input: { command: "ls" } }),
  ]);
  assert.equal(m.calls.get("task1").agent, "ag1");
  assert.deepEqual(added.map((r) => agentOf(r.ev)), ["", "", "ag1", "ag1", "", ""]);
  const f = { types: new Set(), tool: "", origin: "", agent: "ag1", search: "" };
  assert.deepEqual(added.filter((r) => matches(r, f)).map((r) => r.ev.event + (r.ev.tool || "")), ["SubagentStart", "PreToolUseGrep", "PreToolUseRead", "SubagentStop"]);
});

test("filters", () => {
  const m = new Model();
  const { added } = m.add([
    wire("PreToolUse", { tool_name: "Bash", tool_use_id: "t1", tool_input: { command: "make" } }),
    wire("UserPromptSubmit", { prompt: "Hello World" }),
    { ...wire("Notification", { message: "x" }), origin: "laptop-a" },
  ]);
  const f = (o) => added.filter((r) => matches(r, { types: new Set(), tool: "", origin: "", agent: "", search: "", ...o })).length;
  assert.equal(f({}), 3);
  assert.equal(f({ types: new Set(["PreToolUse"]) }), 1);
  assert.equal(f({ tool: "Bash" }), 1);
  assert.equal(f({ origin: "laptop-a" }), 1);
  assert.equal(f({ search: "hello world" }), 1);
});

test("MpmUsage is quiet: not listed nor counted unless the type filter names it; MpmApprovalDecision is listed", () => {
  assert.ok(QUIET_TYPES.has("MpmUsage"));
  const m = new Model();
  const usage = (n) => ({ ...wire("MpmUsage", { usage: { cost_usd: n, input_tokens: 10 * n, output_tokens: n } }), origin: "laptop-a" });
  const { added } = m.add([
    wire("UserPromptSubmit", { prompt: "run the tests" }),
    usage(1),
    wire("MpmApprovalDecision", { outcome: "allow", by: "dashboard 127.0.0.1:5000" }),
    { ...wire("MpmApprovalRequest", { approval: { tool_name: "Bash" } }), origin: "laptop-a" },
    usage(2),
  ]);
  const f = (o) => added.filter((r) => matches(r, { types: new Set(), tool: "", origin: "", agent: "", search: "", ...o })).map((r) => r.ev.event);
  assert.deepEqual(f({}), ["UserPromptSubmit", "MpmApprovalDecision", "MpmApprovalRequest"]);
  assert.deepEqual(f({ search: "cost_usd" }), []); // a search alone does not bring them back
  assert.deepEqual(f({ origin: "laptop-a" }), ["MpmApprovalRequest"]);
  assert.deepEqual(f({ types: new Set(["MpmUsage"]) }), ["MpmUsage", "MpmUsage"]);
  assert.deepEqual(f({ types: new Set(["MpmUsage", "UserPromptSubmit"]), search: "cost_usd\":2" }), ["MpmUsage"]);
  // Counts: "events loaded" leaves them out; the type chip still counts them.
  assert.equal(m.count(), 3);
  assert.equal(m.listable(), 3);
  assert.equal(m.types.get("MpmUsage"), 2);
  // Dropped at the cap or cleared, the counts follow.
  m.drop(added[1]);
  assert.equal(m.count(), 3);
  assert.equal(m.quiet, 1);
  m.clear();
  assert.equal(m.quiet, 0);
  assert.equal(m.listable(), 0);
});

test("the page holds at most MAX_RECORDS; older events prepend before the first", () => {
  const m = new Model();
  const evs = [];
  for (let i = 0; i < MAX_RECORDS + 10; i++) evs.push({ seq: i + 100, received: new Date(0).toISOString(), session_id: S1, event: "Stop", payload: {} });
  const { trimmed } = m.add(evs);
  assert.equal(trimmed, 10);
  assert.equal(m.count(), MAX_RECORDS);
  assert.equal(m.firstSeq(), 110);
  m.prepend([{ seq: 105, received: new Date(0).toISOString(), session_id: S1, event: "Stop", payload: {} }, { seq: 200, received: "", session_id: S1, event: "Stop" }]);
  assert.equal(m.firstSeq(), 105);
  assert.equal(m.count(), MAX_RECORDS + 1);
});

test("records dropped at MAX_RECORDS are marked, and calls whose records are all gone are forgotten", () => {
  const m = new Model();
  const ev = (seq, event, id) => ({ seq, received: new Date(0).toISOString(), session_id: S1, event, tool: "Bash", tool_use_id: id, payload: {} });
  // Call a: both records will be dropped; call b: only its PreToolUse.
  const first = m.add([ev(1, "PreToolUse", "a"), ev(2, "PostToolUse", "a"), ev(3, "PreToolUse", "b")]).added;
  const fill = [];
  for (let i = 0; i < MAX_RECORDS - 3; i++) fill.push({ seq: i + 10, received: new Date(0).toISOString(), session_id: S1, event: "Stop", payload: {} });
  m.add(fill);
  assert.equal(m.calls.size, 2);
  const { trimmed } = m.add([ev(MAX_RECORDS + 100, "PostToolUse", "b"), ev(MAX_RECORDS + 101, "Stop"), ev(MAX_RECORDS + 102, "Stop")]);
  assert.equal(trimmed, 3);
  assert.deepEqual(first.map((r) => !!r.dropped), [true, true, true]);
  assert.equal(m.records.some((r) => r.dropped), false);
  assert.equal(m.calls.has("a"), false, "a call with every record dropped is forgotten");
  assert.equal(m.calls.has("b"), true, "a call with a record still held stays");
  assert.equal(m.count(), MAX_RECORDS);
});

test("perMinute counts per session per minute", () => {
  const m = new Model();
  m.add([at(wire("Stop", {}), 0), at(wire("Stop", {}), 1000), at(wire("Stop", {}), 61000)]);
  const pm = perMinute(m.records, Date.UTC(2026, 10, 30, 12, 1, 30), 3);
  assert.equal(pm.series.length, 1);
  assert.deepEqual(pm.series[0].counts, [0, 2, 1]);
  assert.equal(pm.max, 2);
});
