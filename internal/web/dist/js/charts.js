// @ts-check
// charts.js: events per minute per session (stacked SVG bars built with DOM
// APIs), per-tool durations (count, p50, p95, max as bars), and cost over
// time (the usage panel's bars).

import { h, s, clear } from "./dom.js";
import { formatMs, usd } from "./format.js";
import { sessionColor } from "./colors.js";

const W = 280;
const H = 90;
const PAD_L = 30;
const PAD_B = 14;

// drawPerMinute renders pm (model.perMinute) into the element el.
/**
 * @param {HTMLElement} el
 * @param {ReturnType<typeof import("./model.js").perMinute>} pm
 */
export function drawPerMinute(el, pm) {
  clear(el);
  const plotW = W - PAD_L - 2;
  const plotH = H - PAD_B - 4;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": `events per minute, last ${pm.minutes} minutes` });
  const max = Math.max(1, pm.max);
  const bw = plotW / pm.minutes;
  svg.append(
    s("line", { x1: PAD_L, y1: 4, x2: PAD_L, y2: 4 + plotH, class: "axis" }),
    s("line", { x1: PAD_L, y1: 4 + plotH, x2: W - 2, y2: 4 + plotH, class: "axis" }),
    s("text", { x: PAD_L - 3, y: 10, class: "tick", "text-anchor": "end" }, compact(max)),
    s("text", { x: PAD_L - 3, y: 4 + plotH, class: "tick", "text-anchor": "end" }, "0"),
    s("text", { x: PAD_L, y: H - 2, class: "tick" }, `-${pm.minutes}m`),
    s("text", { x: W - 2, y: H - 2, class: "tick", "text-anchor": "end" }, "now"),
  );
  const base = new Array(pm.minutes).fill(0);
  for (const { session, counts } of pm.series) {
    const g = s("g", { class: "series" });
    g.dataset.c = String(sessionColor(session));
    g.append(s("title", null, session));
    counts.forEach((/** @type {number} */ n, /** @type {number} */ i) => {
      if (!n) return;
      base[i] += n;
      const bh = (n / max) * plotH;
      const y = 4 + plotH - (base[i] / max) * plotH;
      const rect = s("rect", { x: (PAD_L + 1 + i * bw).toFixed(1), y: y.toFixed(1), width: Math.max(1, bw - 1).toFixed(1), height: Math.max(0.5, bh).toFixed(1) });
      rect.append(s("title", null, `${session.slice(0, 8)}: ${n} event${n === 1 ? "" : "s"} (minute ${i - pm.minutes + 1})`));
      g.append(rect);
    });
    svg.append(g);
  }
  el.append(svg);
}

// drawToolStats renders per-tool rows: name, count, and bars for p50 and
// max on a shared scale, plus running and failed counts.
/**
 * @param {HTMLElement} el
 * @param {ReturnType<typeof import("./model.js").toolStats>} stats
 */
export function drawToolStats(el, stats) {
  clear(el);
  if (!stats.length) {
    el.append(h("p", { class: "empty" }, "No tool calls loaded."));
    return;
  }
  let scale = 1;
  for (const t of stats) if (t.max) scale = Math.max(scale, t.max);
  const table = h("div", { class: "tstats", role: "table", "aria-label": "tool durations" });
  table.append(
    h("div", { class: "trow thead", role: "row" },
      h("span", { role: "columnheader" }, "tool"),
      h("span", { role: "columnheader" }, "n"),
      h("span", { role: "columnheader" }, "p50 / max"),
    ),
  );
  for (const t of stats.slice(0, 12)) {
    const bar = h("span", { class: "bars", role: "cell" });
    const bmax = h("span", { class: "bar bmax" });
    const bp50 = h("span", { class: "bar bp50" });
    bmax.style.width = t.max ? `${Math.max(1, (Math.log1p(t.max) / Math.log1p(scale)) * 100)}%` : "0";
    bp50.style.width = t.p50 !== null ? `${Math.max(1, (Math.log1p(t.p50) / Math.log1p(scale)) * 100)}%` : "0";
    bar.append(bmax, bp50, h("span", { class: "blabel" }, t.p50 !== null ? `${formatMs(t.p50)} / ${formatMs(t.max)}` : "—"));
    const extra = [];
    if (t.running) extra.push(`${t.running} running`);
    if (t.failed) extra.push(`${t.failed} failed`);
    table.append(
      h("div", { class: "trow", role: "row", title: `${t.tool}: ${t.count} calls, p50 ${formatMs(t.p50)}, p95 ${formatMs(t.p95)}, max ${formatMs(t.max)}${extra.length ? ", " + extra.join(", ") : ""}` },
        h("span", { class: "tname", role: "cell" }, t.tool, extra.length ? h("small", null, " " + extra.join(", ")) : null),
        h("span", { class: "tcount", role: "cell" }, String(t.count)),
        bar,
      ),
    );
  }
  el.append(table, h("p", { class: "hint" }, "bars on a log scale"));
}

// drawCostSeries renders one bar per bucket (usage.js seriesPoints): its
// cost, with the bucket and its figures in the bar's title and data-usd
// (the chart's summary is its aria-label; the tables beside it carry the
// same figures as text).
/**
 * @param {HTMLElement} el
 * @param {{label: string, usd: number, title: string}[]} points
 * @param {string} what
 */
export function drawCostSeries(el, points, what) {
  clear(el);
  if (!points.length) {
    el.append(h("p", { class: "empty" }, "No figures yet."));
    return;
  }
  const w = 420, ht = 110, padL = 44, padB = 14;
  const plotW = w - padL - 2;
  const plotH = ht - padB - 4;
  let max = 0, total = 0;
  for (const p of points) {
    max = Math.max(max, p.usd);
    total += p.usd;
  }
  const svg = s("svg", { viewBox: `0 0 ${w} ${ht}`, class: "chart ucost-chart", role: "img", "aria-label": `${what}: ${usd(total)} in all, at most ${usd(max)} in one` });
  svg.append(
    s("line", { x1: padL, y1: 4, x2: padL, y2: 4 + plotH, class: "axis" }),
    s("line", { x1: padL, y1: 4 + plotH, x2: w - 2, y2: 4 + plotH, class: "axis" }),
    s("text", { x: padL - 3, y: 10, class: "tick", "text-anchor": "end" }, usd(max)),
    s("text", { x: padL - 3, y: 4 + plotH, class: "tick", "text-anchor": "end" }, "0"),
  );
  const bw = plotW / points.length;
  const every = points.length > 12 ? 6 : 1; // hours: 00, 06, 12, 18
  points.forEach((p, i) => {
    const x = padL + 1 + i * bw;
    if (i % every === 0) svg.append(s("text", { x: (x + bw / 2).toFixed(1), y: ht - 2, class: "tick", "text-anchor": "middle" }, p.label));
    const bh = max > 0 ? (p.usd / max) * plotH : 0;
    const rect = s("rect", { class: "ubar", x: x.toFixed(1), y: (4 + plotH - bh).toFixed(1), width: Math.max(1, bw - 2).toFixed(1), height: (p.usd > 0 ? Math.max(0.5, bh) : 0).toFixed(1), dataset: { usd: String(p.usd), label: p.label } });
    rect.append(s("title", null, p.title));
    svg.append(rect);
  });
  el.append(svg);
}

/** @param {number} n */
function compact(n) {
  if (n >= 10000) return Math.round(n / 1000) + "k";
  if (n >= 1000) return (n / 1000).toFixed(1) + "k";
  return String(n);
}
