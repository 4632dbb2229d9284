// @ts-check
// toolbar.js: the filters (event type, tool, origin, subagent, search),
// follow/pause, and "load older".

import { h, text, clear, $ } from "./dom.js";
import { S } from "./state.js";
import { originURL } from "./params.js";
import { updateStatus, notice } from "./status.js";
import { searchAll, closeHits } from "./search.js";
import { refilter } from "./view.js";
import { QUIET_TYPES } from "./model.js";

/** @type {{onOlder: (recs: import("./types.js").Rec[]) => void}} */
const hooks = { onOlder: () => {} };

/** @param {typeof hooks} h */
export function setToolbarHooks(h) {
  Object.assign(hooks, h);
}

// rebuildView filters the held events into the list again (view.js: in
// animation frames, in slices when there are many; then calls then).
/** @param {() => void} [then] */
export function rebuildView(then) {
  refilter(then);
}

/** @type {Map<string, HTMLElement>} */
const typeEls = new Map();
let toolsKnown = "";
export function updateFilters() {
  const types = [...S.model.types.keys()].sort();
  for (const t of S.filter.types) if (!types.includes(t)) types.push(t);
  const box = $("types");
  for (const t of types) {
    let b = typeEls.get(t);
    if (!b) {
      const quiet = QUIET_TYPES.has(t);
      b = h("button", { type: "button", class: quiet ? "chip quiet" : "chip", dataset: { type: t }, "aria-pressed": "false", title: quiet ? `${t}: not listed unless picked here (what a fleet edge journals for its hub, not for you)` : null, onclick: () => toggleType(t) }, h("span", { class: "cname" }, t), h("span", { class: "ccount" }));
      typeEls.set(t, b);
      const after = [...typeEls.keys()].sort().indexOf(t);
      box.insertBefore(b, box.children[after] || null);
    }
    text(b.querySelector(".ccount"), (S.model.types.get(t) || 0).toLocaleString("en-US"));
    b.setAttribute("aria-pressed", String(S.filter.types.has(t)));
  }
  const tools = [...S.model.tools.keys()].sort();
  if (S.filter.tool && !tools.includes(S.filter.tool)) tools.push(S.filter.tool);
  const sig = tools.join("\n");
  if (sig !== toolsKnown) {
    toolsKnown = sig;
    const sel = /** @type {HTMLSelectElement} */ ($("tool-filter"));
    clear(sel);
    sel.append(h("option", { value: "" }, "all tools"));
    for (const t of tools) sel.append(h("option", { value: t }, t));
    sel.value = S.filter.tool;
  }
  const ag = $("agent-filter");
  ag.hidden = !S.filter.agent;
  text(ag.querySelector(".cname"), S.filter.agent ? `subagent ${S.filter.agent.slice(0, 8)}` : "");
  updateOriginFilter();
}

// updateOriginFilter shows the origin column and select once an event with
// an origin (a fleet hub's) arrived; a single machine's page never changes.
let originsKnown = "";
function updateOriginFilter() {
  if (!S.fleet && !S.model.origins.size && !S.filter.origin) return; // a URL ?origin= shows the select too, to clear it
  if (!S.fleet) {
    S.fleet = true;
    document.body.dataset.fleet = "1";
    $("origin-filter").hidden = false;
  }
  const origins = [...S.model.origins.keys()].sort();
  if (S.filter.origin && !origins.includes(S.filter.origin)) origins.push(S.filter.origin);
  const sig = origins.join("\n");
  if (sig === originsKnown) return;
  originsKnown = sig;
  const sel = /** @type {HTMLSelectElement} */ ($("origin-filter"));
  clear(sel);
  sel.append(h("option", { value: "" }, "all origins"));
  for (const o of origins) sel.append(h("option", { value: o }, o));
  sel.value = S.filter.origin;
}

/** @param {string} t */
function toggleType(t) {
  if (S.filter.types.has(t)) S.filter.types.delete(t);
  else S.filter.types.add(t);
  updateFilters();
  rebuildView();
}

/**
 * setOriginFilter applies an origin choice and keeps it in the URL.
 * @param {string} origin
 */
function setOriginFilter(origin) {
  S.filter.origin = origin;
  history.replaceState(null, "", originURL(location, origin));
  rebuildView();
}

/**
 * setAgentFilter shows only the events inside one subagent ("" = all).
 * @param {string} id
 */
export function setAgentFilter(id) {
  S.filter.agent = id;
  updateFilters();
  rebuildView();
}

export function updateFollow() {
  const b = $("follow");
  if (S.list.follow) {
    text(b, "Pause scrolling");
    b.dataset.follow = "1";
  } else {
    text(b, S.newWhilePaused ? `Resume (${S.newWhilePaused.toLocaleString("en-US")} new)` : "Resume scrolling");
    b.dataset.follow = "0";
  }
}

export function focusList() {
  const i = S.list.active >= 0 ? S.list.active : S.list.items.length - 1;
  if (i >= 0) S.list.setActive(i, true);
  else $("list").focus();
}

export function wireToolbar() {
  const search = /** @type {HTMLInputElement} */ ($("search"));
  $("tool-filter").addEventListener("change", (e) => {
    S.filter.tool = /** @type {HTMLSelectElement} */ (e.target).value;
    rebuildView();
  });
  $("origin-filter").addEventListener("change", (e) => setOriginFilter(/** @type {HTMLSelectElement} */ (e.target).value));
  $("agent-filter").addEventListener("click", () => setAgentFilter(""));
  let searchTimer = 0;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      S.filter.search = search.value.trim().toLowerCase();
      rebuildView();
    }, 120);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      search.value = "";
      S.filter.search = "";
      closeHits();
      // Focus a row of the whole list once it is filtered again, in the
      // frame that draws it (not beside the scan's slice).
      rebuildView(() => requestAnimationFrame(focusList));
    } else if (e.key === "Enter" && search.value.trim()) {
      e.preventDefault();
      searchAll(search.value);
    } else if (e.key === "Enter" || e.key === "ArrowDown") {
      e.preventDefault();
      focusList();
    }
  });
  $("clear-filters").addEventListener("click", () => {
    S.filter.types.clear();
    S.filter.tool = "";
    S.filter.search = "";
    S.filter.agent = "";
    search.value = "";
    /** @type {HTMLSelectElement} */ ($("tool-filter")).value = "";
    /** @type {HTMLSelectElement} */ ($("origin-filter")).value = "";
    updateFilters();
    setOriginFilter("");
  });
  $("follow").addEventListener("click", () => {
    S.list.setFollow(!S.list.follow);
    if (S.list.follow) S.newWhilePaused = 0;
    updateFollow();
  });
  $("older").addEventListener("click", loadOlder);
}

// loadOlder pages GET /v1/events backwards in windows of seq numbers below
// the oldest event held: the API pages forwards only, and seq is global, so
// for a few sessions a window may hold fewer matches; it steps back until it
// has enough or reaches the daemon's oldest retained event.
export async function loadOlder() {
  if (S.loadingOlder) return;
  const first = S.model.firstSeq();
  if (first === null) return;
  S.loadingOlder = true;
  updateStatus();
  const epoch = S.model.epoch;
  const sel = S.selection;
  const conn = S.conn;
  const want = Math.max(500, Math.min(conn.tail || 2000, 5000));
  let hi = first;
  /** @type {import("./types.js").WireEvent[]} */
  let got = [];
  let requests = 0;
  try {
    while (got.length < want && hi > Math.max(1, S.oldestSeq) && requests < 25) {
      const lo = Math.max(Math.max(1, S.oldestSeq) - 1, hi - 1 - (want - got.length));
      let since = lo;
      const chunk = [];
      for (;;) {
        const limit = Math.min(10000, hi - 1 - since);
        if (limit <= 0) break;
        const page = await conn.fetchHistory(since, limit);
        requests++;
        if (page.oldest_seq) S.oldestSeq = page.oldest_seq;
        const evs = (page.events || []).filter((/** @type {any} */ e) => e.seq > since && e.seq < hi);
        chunk.push(...evs);
        const last = page.events.length ? page.events[page.events.length - 1].seq : 0;
        if (!page.events.length || page.events.length < limit || last >= hi - 1) break;
        since = page.next_since;
      }
      got = chunk.concat(got);
      hi = lo + 1;
    }
  } catch (e) {
    notice("Could not load older events: " + /** @type {Error} */ (e).message, "older");
  }
  S.loadingOlder = false;
  if (epoch !== S.model.epoch || sel !== S.selection) return; // the list started over meanwhile
  if (hi <= Math.max(1, S.oldestSeq)) S.olderDone = true;
  const recs = S.model.prepend(got);
  hooks.onOlder(recs);
  const shownBefore = S.list.items.length;
  rebuildView(() => S.list.shiftBy(S.list.items.length - shownBefore));
  updateFilters();
}
