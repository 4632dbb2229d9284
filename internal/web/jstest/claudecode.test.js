// The payloads captured from a real Claude Code run (the state helper's
// harness: internal/testutil/claudecode, fixture in internal/sessions/
// testdata/claudecode/session.jsonl) through the page's model and renderers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Model, callState, agentOf } from "../dist/js/model.js";
import { summary, describeCall, describeEvent } from "../dist/js/tools.js";
import { sessionTree } from "../dist/js/sessions.js";
import { blocksText } from "./fixtures.js";

const path = new URL("../../sessions/testdata/claudecode/session.jsonl", import.meta.url);
const lines = readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));

// As the daemon records them: one event per payload, 1 s apart, except the
// permission wait before the first Bash call's result (31 s).
function records() {
  let t = Date.UTC(2026, 10, 30, 12, 0, 0);
  let seq = 0;
  return lines.map((p) => {
    t += p.hook_event_name === "PostToolUse" && p.tool_name === "Bash" ? 31539 : 1000;
    return { seq: ++seq, received: new Date(t).toISOString(), session_id: p.session_id, event: p.hook_event_name, tool: p.tool_name, tool_use_id: p.tool_use_id, agent_id: p.agent_id, agent_type: p.agent_type, payload: p };
  });
}

test("a real session: summaries, waits, agents", () => {
  const m = new Model();
  const { added } = m.add(records());
  const sums = added.map((r) => `${r.ev.event} ${summary(r.ev, r.call)}`);
  for (const want of [
    "UserPromptSubmit Read x.txt, print 42, explore, then clean the build",
    "PreToolUse /home/dev/proj/x.txt",
    "PostToolUse /home/dev/proj/x.txt lines 1–2 of 2",
    "PermissionRequest asks to use Bash: python3 -c \"print(42)\"",
    "PostToolUse 42",
    "PreToolUse Explore: List the project",
    "SubagentStart Explore · a78510af",
    "Stop All done.",
    "SessionEnd other",
  ]) assert.ok(sums.includes(want), `${want} not in ${JSON.stringify(sums, null, 1)}`);

  // The Bash call that asked for permission: waited, then ran for the
  // payload's duration_ms (539 ms).
  const bash = m.calls.get("toolu_stub_2_0");
  const st = callState(bash, 0, m.endedSessions);
  assert.equal(st.ran, 539);
  assert.equal(st.waited, 32000); // from the PreToolUse to the run: 1 s before the prompt, 31 s after
  // The Agent call knows its subagent; the subagent's calls carry it.
  assert.equal(m.calls.get("toolu_stub_3_0").agent, "a78510aff3abfce40");
  assert.equal(agentOf(m.calls.get("toolu_stub_4_0").pre.ev), "a78510aff3abfce40");
  const tree = sessionTree(m.records, undefined, lines[0].session_id);
  assert.deepEqual(tree.map((n) => [n.agent_type, n.state, n.calls.map((r) => r.ev.tool).join(",")]), [["main agent", "", "Read,Bash,Agent,Bash"], ["Explore", "done", "Read"]]);

  // The detail views read well.
  const agent = m.calls.get("toolu_stub_3_0");
  const t = blocksText(describeCall("Agent", agent.pre.ev, agent.post.ev).blocks);
  for (const w of ["subagent: Explore", "model: claude-haiku-4-5-20251001", "SUBAGENT-7f3a: list the project", "The project has x.txt.", "show this subagent's events"]) assert.ok(t.includes(w), `${w} not in ${t}`);
  const stop = added.find((r) => r.ev.event === "SubagentStop");
  assert.ok(blocksText(describeEvent(stop.ev).blocks).includes("The project has x.txt."));
  const read = m.calls.get("toolu_stub_1_0");
  assert.ok(blocksText(describeCall("Read", read.pre.ev, read.post.ev).blocks).includes("got: lines 1–2 of 2"));
});
