// The usage panel's pure functions, in a zone half an hour off UTC (this
// file runs in a process of its own under node --test).
process.env.TZ = "Asia/Kolkata";

import { test } from "node:test";
import assert from "node:assert/strict";
import { periodRange, usageQuery, reportRows, totalText, seriesPoints, subagentsLine, costText, tokensOf } from "../dist/js/usage.js";

// Wednesday 2 Dec 2026, 01:30 in Kolkata (still Tuesday in UTC).
const now = Date.UTC(2026, 11, 1, 20, 0, 0);

test("periods: today by the hour and this week (Monday first) by the day, in the page's zone", () => {
  assert.deepEqual(periodRange("today", now), { since: "2026-12-01T18:30:00.000Z", until: "2026-12-02T18:30:00.000Z", bucket: "hour" });
  assert.deepEqual(periodRange("week", now), { since: "2026-11-29T18:30:00.000Z", until: "2026-12-06T18:30:00.000Z", bucket: "day" });
  // A Monday is its own week's first day; a Sunday its last.
  assert.equal(periodRange("week", Date.UTC(2026, 10, 30, 3, 0, 0)).since, "2026-11-29T18:30:00.000Z");
  assert.equal(periodRange("week", Date.UTC(2026, 11, 6, 3, 0, 0)).since, "2026-11-29T18:30:00.000Z");
  const q = new URLSearchParams(usageQuery("today", now, "Asia/Kolkata"));
  assert.equal(q.get("tz"), "Asia/Kolkata");
  assert.equal(q.get("bucket"), "hour");
  assert.equal(new URLSearchParams(usageQuery("week", now, "")).has("tz"), false);
});

const report = {
  since: "2026-12-01T18:30:00Z", until: "2026-12-02T18:30:00Z", bucket: "hour", tz: "Asia/Kolkata",
  total: { input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 30000, cache_creation_input_tokens: 0, cost_usd: 0.81, sessions: 2, cost_source: "mixed" },
  projects: [
    { cwd: "/home/dev/blog/", input_tokens: 100, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cost_usd: 0.5, sessions: 1, cost_source: "claude" },
    { cwd: "", input_tokens: 900, output_tokens: 200, cache_read_input_tokens: 30000, cache_creation_input_tokens: 0, cost_usd: 0.31, sessions: 1, cost_source: "estimate" },
  ],
  models: [{ model: "claude-sonnet-4-5", input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 30000, cache_creation_input_tokens: 0, cost_usd: 0.81 }],
  series: [
    { start: "2026-12-01T18:30:00Z", input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cost_usd: 0 },
    { start: "2026-12-01T19:30:00Z", input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 30000, cache_creation_input_tokens: 0, cost_usd: 0.81 },
  ],
};

test("the tables: project names, costs with ~ when estimated, compact tokens", () => {
  const rows = reportRows(report);
  assert.deepEqual(rows.projects.map((r) => [r.name, r.cost, r.tokens, r.sessions]), [["blog", "$0.50", "100", "1"], ["(no cwd)", "~$0.31", "31.1k", "1"]]);
  assert.match(rows.projects[0].title, /^\/home\/dev\/blog\/\ncost as Claude Code reports it\n100 input/);
  assert.deepEqual(rows.models.map((r) => [r.name, r.cost, r.tokens]), [["claude-sonnet-4-5", "~$0.81", "31.2k"]]);
  assert.deepEqual(totalText(report), { cost: "~$0.81", rest: "31.2k tokens · 2 sessions" });
  assert.deepEqual(totalText(null), { cost: "…", rest: "" });
  assert.deepEqual(reportRows(null), { projects: [], models: [] });
  assert.equal(costText({ cost_usd: 0.004 }, "claude"), "$0.0040");
  assert.equal(tokensOf({ input_tokens: 1, output_tokens: -5, cache_read_input_tokens: NaN }), 1);
});

test("the chart's bars: hours (or weekdays) of the page's zone", () => {
  const pts = seriesPoints(report);
  assert.deepEqual(pts.map((p) => [p.label, p.usd]), [["00", 0], ["01", 0.81]]);
  assert.equal(pts[1].title, "01:00–02:00: $0.81, 31.2k tokens");
  const week = seriesPoints({ ...report, bucket: "day", series: [{ start: "2026-11-29T18:30:00Z", cost_usd: 1.5 }] });
  assert.deepEqual(week.map((p) => [p.label, p.usd]), [["Mon", 1.5]]);
  assert.deepEqual(seriesPoints(null), []);
});

test("a card's subagents line: their share of the session's cost", () => {
  assert.equal(subagentsLine({ agents: [] }), "");
  assert.equal(subagentsLine({ agents: [{ usage: { cost_usd: 0.01, cost_source: "estimate" } }, {}] }), "incl. 1 subagent ~$0.01");
  assert.equal(subagentsLine({ agents: [{ usage: { cost_usd: 0.25, cost_source: "claude" } }, { usage: { cost_usd: 0.5, cost_source: "claude" } }] }), "incl. 2 subagents $0.75");
});
