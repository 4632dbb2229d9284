// tree.test.js: the session panel's tree kept up to date (growTree) is
// exactly the tree walked from all records (sessionTree), after incoming
// batches, trims past MAX_RECORDS, records loaded before, a clear, a
// session switch and a change of the session's agents; the charts' tool
// durations kept by the model (Model.done) are those gathered from all
// calls.
import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.__mpmMaxRecords = 60; // trims come often
const { Model, MAX_RECORDS, toolStats } = await import("../dist/js/model.js");
const { growTree, sessionTree } = await import("../dist/js/sessions.js");

const A = "aaaa1111-2222-3333-4444-555566667777";
const B = "bbbb1111-2222-3333-4444-555566667777";

// A small deterministic random source (mulberry32).
function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stream of events of two sessions: calls of the main agent and of subagents, their results (some before others', some never), permission prompts, subagents starting and stopping, a call whose PreToolUse is never seen. */
function stream(rand, n, from) {
  let seq = from;
  const open = [];
  const agents = { [A]: [""], [B]: [""] };
  let calls = 0;
  const out = [];
  const ev = (session, event, payload, extra = {}) => {
    seq++;
    out.push({ seq, received: new Date(Date.UTC(2026, 11, 1, 0, 0, 0, seq * 10)).toISOString(), session_id: session, event, tool: payload.tool_name, tool_use_id: payload.tool_use_id, payload: { session_id: session, ...payload }, ...extra });
  };
  while (out.length < n) {
    const session = rand() < 0.75 ? A : B;
    const x = rand();
    const ags = agents[session];
    if (x < 0.4) {
      const agent = ags[Math.floor(rand() * ags.length)];
      const id = `c${from}-${++calls}`;
      const tool = ["Bash", "Read", "Grep"][Math.floor(rand() * 3)];
      ev(session, "PreToolUse", { tool_name: tool, tool_use_id: id, agent_id: agent || undefined, tool_input: { command: id } });
      open.push({ session, agent, id, tool });
    } else if (x < 0.75 && open.length) {
      // mostly one of the newest, now and then the oldest (its PreToolUse may have left the front)
      const c = open.splice(rand() < 0.2 ? 0 : Math.max(0, open.length - 1 - Math.floor(rand() * 3)), 1)[0];
      ev(c.session, rand() < 0.9 ? "PostToolUse" : "PostToolUseFailure", { tool_name: c.tool, tool_use_id: c.id, agent_id: c.agent || undefined, tool_input: { command: c.id } });
    } else if (x < 0.8 && open.length) {
      const c = open[open.length - 1];
      if (rand() < 0.5) ev(c.session, "PermissionRequest", { tool_name: c.tool, tool_use_id: c.id, tool_input: {} });
      else ev(c.session, "Notification", { notification_type: "permission_prompt", message: "may I" });
    } else if (x < 0.82) {
      // the agent the session's listing names too (s.agents below)
      if (!ags.includes("sa1")) ags.push("sa1");
      ev(session, rand() < 0.5 ? "SubagentStart" : "SubagentStop", { agent_id: "sa1", agent_type: "Plan" });
    } else if (x < 0.85) {
      const id = `ag${from}-${++calls}`;
      ags.push(id);
      ev(session, "SubagentStart", { agent_id: id, agent_type: "Explore" });
    } else if (x < 0.9 && ags.length > 1) {
      ev(session, "SubagentStop", { agent_id: ags[ags.length - 1], agent_type: "Explore" });
    } else if (x < 0.93) {
      const id = `orphan${from}-${++calls}`;
      ev(session, "PostToolUse", { tool_name: "Bash", tool_use_id: id, tool_input: { command: id } });
    } else ev(session, "UserPromptSubmit", { prompt: "go on" });
  }
  return out;
}

const shape = (/** @type {any[]} */ nodes) => nodes.map((n) => [n.agent_id, n.agent_type, n.state, n.started, n.calls.map((r) => r.key).join(" ")]);

test("growTree equals sessionTree after batches, trims, load older, clear, switches", () => {
  assert.equal(MAX_RECORDS, 60);
  let incremental = 0, walks = 0, trimsTaken = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rand = rng(seed);
    const m = new Model();
    let memo = null;
    let seq = 1000;
    let id = A;
    /** @type {any} */
    let s = seed % 2 ? undefined : { session_id: A, agents: [{ agent_id: "sa1", agent_type: "Plan", state: "running", started: "2026-12-01T00:00:00Z" }] };
    for (let round = 0; round < 120; round++) {
      const x = rand();
      if (x < 0.8) {
        const batch = stream(rand, 1 + Math.floor(rand() * 12), seq);
        seq = batch[batch.length - 1].seq;
        m.add(batch);
      } else if (x < 0.85) {
        // load older: events before the first held
        const first = m.firstSeq();
        if (first && first > 5) m.prepend(stream(rand, 3, first - 5).filter((e) => e.seq < first));
      } else if (x < 0.9) id = id === A ? B : A;
      else if (x < 0.92) s = { session_id: id, agents: rand() < 0.5 ? [] : [{ agent_id: "sa1", agent_type: "Plan", state: rand() < 0.5 ? "running" : "done", started: "2026-12-01T00:00:00Z" }] };
      else if (x < 0.97) {
        m.clear();
        seq += 10;
      }
      const before = memo;
      const gen = memo && memo.gen, trimmed = memo && memo.trimmed;
      memo = growTree(memo, m.records, m.trimmed, s, id);
      if (before && memo.gen === gen) {
        incremental++;
        if (memo.trimmed !== trimmed) trimsTaken++;
      } else walks++;
      assert.deepEqual(shape([...memo.nodes.values()]), shape(sessionTree(m.records, s, id)), `seed ${seed} round ${round}`);
      // The entries name each listed call once, in its node.
      let listed = 0;
      for (const n of memo.nodes.values()) listed += n.calls.length;
      assert.equal(memo.entries.size, listed, `seed ${seed} round ${round}`);
    }
  }
  // Most updates must be incremental, trims included, or this proves little.
  assert.ok(incremental > walks, `incremental ${incremental}, walks ${walks}`);
  assert.ok(trimsTaken > 500, `trims taken in incrementally: ${trimsTaken}`);
});

test("growTree's rev moves with a new call or a result, not with other sessions' events", () => {
  const m = new Model();
  m.add(stream(rng(7), 20, 0));
  let memo = growTree(null, m.records, m.trimmed, undefined, A);
  const rev = memo.rev, gen = memo.gen;
  m.add([{ seq: 5000, received: "2026-12-01T01:00:00Z", session_id: B, event: "PreToolUse", tool: "Bash", tool_use_id: "b1", payload: {} }]);
  memo = growTree(memo, m.records, m.trimmed, undefined, A);
  assert.equal(memo.gen, gen);
  assert.equal(memo.rev, rev);
  m.add([{ seq: 5001, received: "2026-12-01T01:00:00Z", session_id: A, event: "PreToolUse", tool: "Bash", tool_use_id: "a1", payload: {} }]);
  memo = growTree(memo, m.records, m.trimmed, undefined, A);
  assert.notEqual(memo.rev, rev);
  const rev2 = memo.rev;
  m.add([{ seq: 5002, received: "2026-12-01T01:00:01Z", session_id: A, event: "PostToolUse", tool: "Bash", tool_use_id: "a1", payload: {} }]);
  memo = growTree(memo, m.records, m.trimmed, undefined, A);
  assert.notEqual(memo.rev, rev2);
  assert.equal(memo.gen, gen);
});

test("Model.done gives toolStats what gathering every call's duration gives", () => {
  let checked = 0;
  let sorts = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const rand = rng(seed);
    const m = new Model();
    let seq = 1000;
    for (let round = 0; round < 600; round++) {
      const x = rand();
      if (x < 0.85) {
        const batch = stream(rand, 1 + Math.floor(rand() * 40), seq);
        seq = batch[batch.length - 1].seq;
        m.add(batch);
      } else if (x < 0.95) {
        const first = m.firstSeq();
        if (first && first > 5) m.prepend(stream(rand, 3, first - 5).filter((e) => e.seq < first));
      } else {
        m.clear();
        seq += 10;
      }
      // The charts ask now and then: the notes pile up (more than 64: one sort).
      if (rand() > 0.03) continue;
      for (const d of m.done.values()) if (d.add.length > 64) sorts++;
      const now = Date.UTC(2026, 11, 1, 0, 0, 30);
      const want = toolStats(m.calls, now, m.endedSessions);
      assert.deepEqual(toolStats(m.calls, now, m.endedSessions, m.durations()), want, `seed ${seed} round ${round}`);
      if (want.some((t) => t.durations.length)) checked++;
    }
  }
  assert.ok(checked > 300, `rounds with durations: ${checked}`);
  assert.ok(sorts > 20, `piles sorted at once: ${sorts}`);
});
