// @ts-check
// usage.js: the usage panel — cost and tokens today and this week, per
// project and per model, and cost over time, from GET /v1/usage
// (docs/protocol.md, "Usage over time") — and the subagents' share shown on
// a session card. The pure functions come first (jstest/usage.test.js).

import { h, text, clear, $ } from "./dom.js";
import { S } from "./state.js";
import { usd, compact, plural } from "./format.js";
import { drawCostSeries } from "./charts.js";

/** @typedef {import("./types.js").TokenCounts} TokenCounts */
/**
 * @typedef {TokenCounts & {sessions?: number, cost_source?: string}} UsageTotal
 * @typedef {{since: string, until: string, bucket: string, tz: string, total: UsageTotal,
 *   projects: (UsageTotal & {cwd: string})[], models: (TokenCounts & {model: string})[],
 *   series: (TokenCounts & {start: string})[]}} UsageReport
 */

/** The panel's periods: the local day, and the week from Monday. */
export const PERIODS = /** @type {const} */ (["today", "week"]);

/**
 * periodRange is the period holding now, in the page's time zone: today
 * from midnight to midnight by the hour, or this week (Monday first) by the
 * day.
 * @param {"today" | "week"} period
 * @param {number} now ms
 */
export function periodRange(period, now) {
  const d = new Date(now);
  let start = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  let days = 1;
  if (period === "week") {
    start = new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7));
    days = 7;
  }
  const end = new Date(start.getFullYear(), start.getMonth(), start.getDate() + days);
  return { since: start.toISOString(), until: end.toISOString(), bucket: period === "week" ? "day" : "hour" };
}

/**
 * usageQuery is the query string of GET /v1/usage for a period; tz (the
 * page's IANA zone) makes the daemon's hours and days the page's.
 * @param {"today" | "week"} period
 * @param {number} now
 * @param {string} [tz]
 */
export function usageQuery(period, now, tz) {
  const q = new URLSearchParams(periodRange(period, now));
  if (tz) q.set("tz", tz);
  return q.toString();
}

/** @param {unknown} v */
const num = (v) => (typeof v === "number" && isFinite(v) && v > 0 ? v : 0);

/**
 * tokensOf sums the four kinds of tokens.
 * @param {TokenCounts | undefined} t
 */
export function tokensOf(t) {
  if (!t) return 0;
  return num(t.input_tokens) + num(t.output_tokens) + num(t.cache_read_input_tokens) + num(t.cache_creation_input_tokens);
}

/**
 * costText is a cost as the page shows it: "~" before what is (partly)
 * estimated.
 * @param {{cost_usd?: number}} t
 * @param {string | undefined} source "claude", "estimate", "mixed"
 */
export function costText(t, source) {
  return (source && source !== "claude" ? "~" : "") + usd(num(t && t.cost_usd));
}

/**
 * tokenTitle spells the kinds out.
 * @param {TokenCounts} t
 */
function tokenTitle(t) {
  const f = (/** @type {unknown} */ v) => num(v).toLocaleString("en-US");
  return `${f(t.input_tokens)} input, ${f(t.output_tokens)} output, ${f(t.cache_read_input_tokens)} cache read, ${f(t.cache_creation_input_tokens)} cache write`;
}

const SOURCE_WORDS = /** @type {Record<string, string>} */ ({
  claude: "as Claude Code reports it",
  estimate: "estimated from token counts and a price table",
  mixed: "partly estimated from token counts and a price table",
});

/**
 * reportRows turns a report into the panel's table rows: per project (the
 * cwd's last element; the whole cwd in the title) and per model, costliest
 * first (the daemon's order).
 * @param {UsageReport | null} rep
 */
export function reportRows(rep) {
  const projects = ((rep && rep.projects) || []).map((p) => ({
    name: p.cwd ? p.cwd.replace(/[/\\]+$/, "").replace(/^.*[/\\]/, "") || p.cwd : "(no cwd)",
    title: `${p.cwd || "sessions whose events named no cwd"}\ncost ${SOURCE_WORDS[p.cost_source || ""] || ""}\n${tokenTitle(p)}`,
    cost: costText(p, p.cost_source),
    tokens: compact(tokensOf(p)),
    sessions: String(num(p.sessions)),
  }));
  const source = rep && rep.total ? rep.total.cost_source : "";
  const models = ((rep && rep.models) || []).map((m) => ({
    name: m.model || "(unknown)",
    title: `${m.model}\n${tokenTitle(m)}`,
    cost: costText(m, source),
    tokens: compact(tokensOf(m)),
  }));
  return { projects, models };
}

/**
 * totalText is a period's figures in one line: "~$1.23 · 45.6k tokens · 3 sessions".
 * @param {UsageReport | null} rep
 */
export function totalText(rep) {
  if (!rep || !rep.total) return { cost: "…", rest: "" };
  const t = rep.total;
  return { cost: costText(t, t.cost_source), rest: `${compact(tokensOf(t))} tokens · ${plural(num(t.sessions), "session")}` };
}

/**
 * seriesPoints are the chart's bars: each bucket's cost, labelled with its
 * hour ("09") or weekday ("Mon") in the page's time zone.
 * @param {UsageReport | null} rep
 */
export function seriesPoints(rep) {
  if (!rep || !Array.isArray(rep.series)) return [];
  const daily = rep.bucket === "day";
  return rep.series.map((b) => {
    const d = new Date(b.start);
    const label = daily ? d.toLocaleDateString("en-US", { weekday: "short" }) : String(d.getHours()).padStart(2, "0");
    const when = daily ? d.toLocaleDateString("en-US", { weekday: "long", month: "short", day: "numeric" }) : `${label}:00–${String((d.getHours() + 1) % 24).padStart(2, "0")}:00`;
    return { label, usd: num(b.cost_usd), tokens: tokensOf(b), title: `${when}: ${usd(num(b.cost_usd))}, ${compact(tokensOf(b))} tokens` };
  });
}

/**
 * subagentsLine says how much of a session's cost its subagents used (it
 * is inside the session's): "incl. 2 subagents ~$0.01"; "" without any.
 * @param {{agents?: {usage?: {cost_usd?: number, cost_source?: string}}[]}} s
 */
export function subagentsLine(s) {
  const withUsage = ((s && s.agents) || []).filter((a) => a && a.usage);
  if (!withUsage.length) return "";
  let cost = 0;
  let est = false;
  for (const a of withUsage) {
    cost += num(a.usage && a.usage.cost_usd);
    est = est || !a.usage || a.usage.cost_source !== "claude";
  }
  return `incl. ${plural(withUsage.length, "subagent")} ${est ? "~" : ""}${usd(cost)}`;
}

// ---- the panel -----------------------------------------------------------

/** @type {"today" | "week"} */
let period = "today";
/** @type {Record<string, UsageReport | null>} */
const reports = { today: null, week: null };
let timer = 0;
let asked = 0; // the latest refresh: older answers are dropped
let noTZ = false; // the daemon did not know the page's zone: use its own

const REFRESH_MS = 30000;

/** isUsageOpen: the panel is shown. */
export function isUsageOpen() {
  return !$("usage").hidden;
}

/**
 * toggleUsage shows or hides the panel; shown, it is refreshed every 30 s.
 * @param {boolean} [show]
 */
export function toggleUsage(show) {
  const on = show === undefined ? !isUsageOpen() : show;
  $("usage").hidden = !on;
  $("usage-btn").setAttribute("aria-pressed", String(on));
  clearInterval(timer);
  if (!on) return;
  timer = setInterval(() => {
    if (document.visibilityState === "visible") refreshUsage();
  }, REFRESH_MS);
  last = Date.now();
  refreshUsage();
  $("usage-" + period).focus(); // into the panel: Tab goes on to its figures, Esc closes it
}

let soon = 0;
let last = 0;
// usageMayHaveChanged is called when a session's figures may have moved
// (a session frame): an open panel is refreshed, at most every 5 s.
export function usageMayHaveChanged() {
  if (!isUsageOpen() || soon) return;
  soon = setTimeout(() => {
    soon = 0;
    last = Date.now();
    refreshUsage();
  }, Math.max(0, last + 5000 - Date.now()));
}

/** @param {"today" | "week"} p */
function setPeriod(p) {
  period = p;
  render();
}

/** refreshUsage asks the daemon for today's and this week's figures. */
export async function refreshUsage() {
  const mine = ++asked;
  const status = $("usage-status");
  try {
    const now = Date.now();
    const tz = noTZ ? "" : Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    const got = await Promise.all(PERIODS.map((p) => fetchReport(p, now, tz)));
    if (mine !== asked) return;
    PERIODS.forEach((p, i) => (reports[p] = got[i]));
    delete status.dataset.error;
    const d = new Date(now);
    text(status, `updated ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}${S.fleet ? " · this daemon's own sessions" : ""}`);
    render();
  } catch (e) {
    if (mine !== asked) return;
    status.dataset.error = "1";
    text(status, `Could not read usage: ${/** @type {Error} */ (e).message}`);
  }
}

/**
 * @param {"today" | "week"} p
 * @param {number} now
 * @param {string} tz
 * @returns {Promise<UsageReport>}
 */
async function fetchReport(p, now, tz) {
  const r = await fetch("/v1/usage?" + usageQuery(p, now, tz), { headers: S.conn.headers, cache: "no-store" });
  if (r.status === 401) throw new Error("token missing or wrong");
  if (!r.ok) {
    const msg = (await r.text()).trim();
    if (r.status === 400 && tz && msg.startsWith("tz:")) {
      noTZ = true; // a daemon without this zone's data: its own zone
      return fetchReport(p, now, "");
    }
    throw new Error(msg || `HTTP ${r.status}`);
  }
  return r.json();
}

function render() {
  for (const p of PERIODS) {
    const tile = $("usage-" + p);
    tile.setAttribute("aria-pressed", String(p === period));
    const t = totalText(reports[p]);
    text(tile.querySelector(".ucost"), t.cost);
    text(tile.querySelector(".urest"), t.rest);
  }
  const rep = reports[period];
  const rows = reportRows(rep);
  fillTable($("usage-projects"), rows.projects, ["name", "cost", "tokens", "sessions"], "No usage in this period.");
  fillTable($("usage-models"), rows.models, ["name", "cost", "tokens"], "No usage in this period.");
  text($("usage-chart-h"), period === "week" ? "Cost per day" : "Cost per hour");
  drawCostSeries($("usage-chart"), seriesPoints(rep), period === "week" ? "cost per day this week" : "cost per hour today");
}

/**
 * fillTable replaces a table's body with rows (the first cell a row header).
 * @param {HTMLElement} table
 * @param {Record<string, string>[]} rows
 * @param {string[]} cols
 * @param {string} empty
 */
function fillTable(table, rows, cols, empty) {
  const body = /** @type {HTMLElement} */ (table.querySelector("tbody"));
  clear(body);
  if (!rows.length) {
    body.append(h("tr", null, h("td", { colspan: String(cols.length), class: "empty" }, empty)));
    return;
  }
  for (const r of rows) {
    body.append(h("tr", { title: r.title }, ...cols.map((c, i) => h(i ? "td" : "th", i ? null : { scope: "row" }, r[c]))));
  }
}

export function wireUsage() {
  $("usage-btn").addEventListener("click", () => toggleUsage());
  $("usage-close").addEventListener("click", () => {
    toggleUsage(false);
    $("usage-btn").focus();
  });
  for (const p of PERIODS) $("usage-" + p).addEventListener("click", () => setPeriod(p));
  $("usage").addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      toggleUsage(false);
      $("usage-btn").focus();
    }
  });
}
