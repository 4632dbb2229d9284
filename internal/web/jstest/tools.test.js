import { test } from "node:test";
import assert from "node:assert/strict";
import { summary, describeCall, describeEvent, inputGist, mcpName, treeLines, editCounts, HUGE } from "../dist/js/tools.js";
import { data, wire, callEvents, blocksText } from "./fixtures.js";

const byName = Object.fromEntries(data.calls.map((c) => [c.name, c]));

test("row summaries say the most telling thing per tool", () => {
  const want = {
    bash: ["go test ./internal/...", "ok github.com/mpm-dev/mpm/internal/event 0.012s"],
    "bash-failure": ["false → Exit code 1", "Exit code 1"],
    edit: ["/home/dev/proj/main.go +2 −1", "/home/dev/proj/main.go +2 −1"],
    multiedit: ["/home/dev/proj/README.md +2 −2", null],
    write: ["/home/dev/proj/notes.txt +3 −0", "created /home/dev/proj/notes.txt +3 −0"],
    read: ["/home/dev/proj/go.mod (lines 1–3)", "/home/dev/proj/go.mod lines 1–3 of 12"],
    notebookedit: ["/home/dev/proj/analysis.ipynb cell cell-3", null],
    grep: ["func New in internal (*.go)", "func New in internal (*.go) → 2 files"],
    glob: ["**/*_test.go in /home/dev/proj", "**/*_test.go in /home/dev/proj → 3 files"],
    webfetch: ["https://example.com/docs", "https://example.com/docs → 200 OK, 12.8 KB"],
    websearch: ["golang websocket close codes", "golang websocket close codes"],
    task: ["Explore: Find the flaky test", "Explore: Find the flaky test"],
    todowrite: ["3 todos: 1 done, 1 in progress, 1 pending", "3 todos: 1 done, 1 in progress, 1 pending"],
    mcp: ["github · create_issue owner: mpm-dev, repo: mpm, title: Dashboard: readable tool calls", "github · create_issue owner: mpm-dev, repo: mpm, title: Dashboard: readable tool calls"],
    other: ["plan: 1. Split app.js 2. Render tools", "plan: 1. Split app.js 2. Render tools"],
  };
  for (const [name, [pre, post]] of Object.entries(want)) {
    const { pre: p, post: q } = callEvents(byName[name]);
    // A failed call's PreToolUse row says why it failed.
    const call = q && q.event === "PostToolUseFailure" ? { post: { ev: q }, ok: false } : null;
    const got = summary(p, call);
    if (pre instanceof RegExp) assert.match(got, pre, name);
    else assert.equal(got, pre, `${name} PreToolUse`);
    if (post !== null && q) {
      const g2 = summary(q);
      if (post instanceof RegExp) assert.match(g2, post, name);
      else assert.equal(g2, post, `${name} result`);
    }
  }
});

test("other events' summaries", () => {
  const cases = [
    [wire("Notification", { message: "Claude needs your permission to use Bash", notification_type: "permission_prompt" }), "Claude needs your permission to use Bash (permission_prompt)"],
    [wire("SubagentStart", { agent_id: "agent-123456789", agent_type: "Explore" }), "Explore · agent-12"],
    [wire("SubagentStop", { agent_id: "agent-123456789", agent_type: "Explore" }), "Explore · agent-12"],
    [wire("PermissionRequest", { tool_name: "Bash", tool_input: { command: "rm -rf build" } }), "asks to use Bash: rm -rf build"],
    [wire("UserPromptSubmit", { prompt: "fix\nthe   tests" }), "fix the tests"],
    [wire("SessionEnd", { reason: "logout" }), "logout"],
    [wire("MpmApprovalDecision", { outcome: "deny", by: "dashboard 127.0.0.1:5000", message: "not now" }), "deny by dashboard 127.0.0.1:5000 “not now”"],
    [wire("MpmApprovalDecision", { outcome: "answered_elsewhere", by: "terminal" }), "answered elsewhere by terminal"],
  ];
  for (const [ev, want] of cases) assert.equal(summary(ev), want, ev.event);
});

test("the detail view per tool", () => {
  const want = {
    bash: ["description: Run the tests", "[command]", "go test ./internal/...", "[stdout]", "ok  \tgithub.com/mpm-dev/mpm/internal/hub\t1.204s"],
    "bash-failure": ["the tool failed", "[error]", "Exit code 1\nsomething went wrong"],
    edit: ["file: /home/dev/proj/main.go", " func main() {", "-\tfmt.Println(\"hi\")", "+\tfmt.Println(\"hello\")", "+\tos.Exit(0)"],
    multiedit: ["edits: 2", "-# Old title", "+# New title", "-foo", "+bar"],
    write: ["size: 29 B, 3 lines", "result: created a new file", "[content]", "line one"],
    read: ["asked for: lines 1–3", "got: lines 1–3 of 12", "module example.com/proj"],
    notebookedit: ["cell: cell-3", "cell type: code", "import pandas as pd"],
    grep: ["pattern: func New", "glob: *.go", "files: 2 files", "internal/hub/hub.go"],
    glob: ["pattern: **/*_test.go", "files: 3 files", "/home/dev/proj/c_test.go"],
    webfetch: ["url: https://example.com/docs", "status: 200 OK", "The page explains the API."],
    websearch: ["query: golang websocket close codes", "RFC 6455 — https://www.rfc-editor.org/rfc/rfc6455"],
    task: ["subagent: Explore", "took: 42.1 s", "tool calls: 7", "Look through internal/", "Found two"],
    todowrite: ["completed Split app.js", "in_progress Rendering tool calls", "pending Write the tests"],
    mcp: ["server: github", "tool: create_issue", "\"good first issue\"", "Created issue #15"],
    other: ["\"plan\":\"1. Split app.js\\n2. Render tools\"", "\"isAgent\":false"],
  };
  for (const [name, parts] of Object.entries(want)) {
    const c = byName[name];
    const { pre, post } = callEvents(c);
    const d = describeCall(c.tool_name, pre, post);
    const t = blocksText(d.blocks);
    for (const p of parts) assert.ok(t.includes(p), `${name}: ${JSON.stringify(p)} not in:\n${t}`);
  }
  assert.match(describeCall("Edit", callEvents(byName.edit).pre, null).blocks.map((b) => b.kind).join(","), /diff/);
  assert.deepEqual(mcpName("mcp__my_server__do_it"), { server: "my_server", tool: "do_it" });
  assert.equal(mcpName("Bash"), null);
});

test("an edit with replace_all says so; its counts come from Claude's own patch when there is one", () => {
  const d = describeCall("Edit", wire("PreToolUse", { tool_name: "Edit", tool_input: { file_path: "/x", old_string: "a", new_string: "b", replace_all: true } }), null);
  assert.ok(blocksText(d.blocks).includes("replace all: every occurrence replaced"));
  const e = byName.edit;
  assert.deepEqual(editCounts("Edit", e.tool_input, e.tool_response), { added: 2, removed: 1 });
});

test("huge and binary values are shown as their size", () => {
  const big = "x".repeat(HUGE + 1);
  const d = describeCall("Bash", wire("PreToolUse", { tool_name: "Bash", tool_input: { command: "cat big" } }), wire("PostToolUse", { tool_name: "Bash", tool_response: { stdout: big, stderr: "\u0000\u0000\u0000\u0000bin" } }));
  const t = blocksText(d.blocks);
  assert.ok(t.includes("stdout: 2.0 MB, too large to show here"), t.slice(0, 300));
  assert.ok(t.includes("stderr: binary, 7 B"), t.slice(0, 300));
  assert.ok(t.length < 10000);
});

// Every string of every fixture replaced by each hostile string: no
// renderer lets an escape sequence or an invisible bidi control through
// (markup stays as text; the browser tests show it never becomes HTML).
test("hostile strings in every field of every renderer", () => {
  const bad = /[\u001b\u202a-\u202e\u2066-\u2069]/;
  const swap = (v, s) => {
    if (typeof v === "string") return s + v + s;
    if (Array.isArray(v)) return v.map((x) => swap(x, s));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x, s)]));
    return v;
  };
  let checked = 0;
  for (const h of data.hostile) {
    for (const c of data.calls) {
      const hc = { ...swap(c, h), name: c.name, tool_name: c.tool_name };
      const { pre, post } = callEvents(hc);
      const outs = [summary(pre), post ? summary(post) : "", inputGist(c.tool_name, hc.tool_input)];
      const d = describeCall(c.tool_name, pre, post);
      outs.push(d.title, blocksText(d.blocks.filter((b) => b.kind !== "tree")));
      for (const b of d.blocks) if (b.kind === "tree") outs.push(treeLines(b.value).map((l) => l.key + l.value).join("\n"));
      for (const o of outs) {
        assert.ok(!bad.test(o), `${c.name} with ${JSON.stringify(h)}: ${JSON.stringify(o.slice(0, 200))}`);
        checked++;
      }
      if (h.startsWith("<script>")) assert.ok(outs.join("").includes("<script>"), `${c.name}: markup should show as text`);
    }
    for (const ev of [wire("Notification", { message: h, notification_type: h }), wire("UserPromptSubmit", { prompt: h }), wire("SubagentStart", { agent_type: h, agent_id: h })]) {
      const d = describeEvent(ev);
      for (const o of [summary(ev), blocksText(d.blocks)]) assert.ok(!bad.test(o), `${ev.event}: ${JSON.stringify(o)}`);
    }
  }
  assert.ok(checked > 200);
});

test("treeLines", () => {
  const l = treeLines({ a: 1, b: { c: "x\u202ey" }, d: [true, null] });
  assert.deepEqual(l.map((x) => `${x.depth}:${x.key}=${x.value}`), ["0:a=1", "0:b=", "1:c=x⟨U+202E⟩y", "0:d=[2]", "1:0=true", "1:1=null"]);
});
