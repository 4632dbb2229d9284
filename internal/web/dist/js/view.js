// @ts-check
// view.js: which of the held records the list shows (the filters). New
// events are filtered as they come and appended (app.js); records the model
// drops at MAX_RECORDS leave the front of the list (VirtualList.dropFront);
// only a filter change (or older events loaded) scans everything again,
// here: in slices of a few milliseconds, one per animation frame, so that
// the page keeps drawing and answering input while 50,000 records are scanned.
// Every slice runs in an animation frame callback, the first too: a slice
// run in the input's own task (a keystroke, the search box's timer) came at
// any moment of a frame and the next frame's slice followed it at once, two
// slices (16 ms) between two frames: the frames of 20–28 ms a text search
// made (a Chrome trace, MPM_BENCH_TRACE=1 in BenchmarkPageScale, showed
// it: script; no GC in those frames; their layout and paint 1–3 ms).
// A scan that fits one slice (most: a type or tool filter over 50,000
// records takes ~5 ms) shows its rows in that same frame when the slice left
// room for drawing them (RENDER_MS), else in the next.
//
// The text search looks in each record's search text (model.js,
// searchText): derived for 50,000 records it is ~180 ms of work and ~35 MB
// of strings, whose garbage collection made frames of 30–80 ms when the
// first search derived it. It is derived in idle time instead
// (requestIdleCallback, at most 4 ms at a time) as records arrive;
// a search before that derives what is missing within its slices, which
// read the clock after every 256 KiB derived (one event may be 1 MiB).

import { S } from "./state.js";
import { matches, searchText } from "./model.js";
import { updateStatus } from "./status.js";
import { mark, measure } from "./perf.js";

/** @typedef {import("./types.js").Rec} Rec */

// filtering per slice, counted from the frame's time (the animation frame
// callback's timestamp: work that ran before in the same frame shortens the
// slice), yet at least MIN_SLICE_MS from the slice's start (a test may set
// globalThis.__mpmSliceMs: 0 slices every STEP records). 6 ms, not 8: on the
// loaded 2-core machine slices of 8 ms still made a frame of 20–21 ms in 3
// of 10 searches, 6 ms in none of 6 (a search over 50,000 records then
// takes 5–8 frames instead of 4–6).
const SLICE_MS = /** @type {any} */ (globalThis).__mpmSliceMs ?? 6;
const MIN_SLICE_MS = Math.min(SLICE_MS, 2);
const STEP = 64; // records between clock reads
const TEXT_BYTES = 256 << 10; // search text derived between clock reads
// RENDER_MS: a scan that ends within this much of its frame's time draws
// its rows in that frame, else in the next: a new set of rows costs 2–3 ms
// of script, then style, layout and paint 4–15 ms (traced at 1280×800),
// too much beside a full slice. (A test may set globalThis.__mpmRenderMs:
// 0 draws the rows in the next frame always.)
const RENDER_MS = /** @type {any} */ (globalThis).__mpmRenderMs ?? 3;

/**
 * @typedef {object} Scan
 * @property {Rec[]} records  the model's array when the scan began
 * @property {number} i       next index in it
 * @property {number} trimmed the model's trimmed count at i
 * @property {Rec[]} out
 * @property {import("./model.js").Filter} f S.filter when the scan began (viewFilter)
 * @property {number} t0
 * @property {(() => void)[]} then
 */

/** @type {Scan | null} */
let scan = null;

let scanEnd = -Infinity; // performance.now() when the last scan ended
// SETTLE_MS: after a scan, the frames that draw its rows and the overscan.
const SETTLE_MS = 100;

/**
 * filterBusy: a filter change is being scanned, or its rows drawn (the
 * next SETTLE_MS): the periodic work waits for it (app.js, periodic).
 */
export function filterBusy() {
  return scanning() || performance.now() - scanEnd < SETTLE_MS;
}

// scanning: a scan is under way; new events wait for it (it reaches them).
export function scanning() {
  return scan !== null && scan.records === S.model.records;
}

/**
 * refilter shows the held records that match S.filter, then calls then.
 * A scan under way starts over (the filter changed again).
 * @param {() => void} [then]
 */
export function refilter(then) {
  const thens = scan && scan.records === S.model.records ? scan.then : [];
  if (then) thens.push(then);
  const sc = (scan = { records: S.model.records, i: 0, trimmed: S.model.trimmed, out: [], f: (shownFilter = copyFilter()), t0: mark(), then: thens });
  later((frame) => step(sc, frame));
}

/**
 * @param {Scan} sc
 * @param {number} [frame] the animation frame's time
 */
function step(sc, frame) {
  if (sc !== scan) return; // replaced by a newer scan
  if (sc.records !== S.model.records) {
    scan = null; // the model started over (another selection): nothing to show from here
    return;
  }
  const t = performance.now();
  const from = frame !== undefined && frame < t ? frame : t;
  const until = Math.max(from + SLICE_MS, t + MIN_SLICE_MS);
  const recs = sc.records;
  // Records dropped at the front meanwhile moved the rest down.
  sc.i = Math.max(0, sc.i - (S.model.trimmed - sc.trimmed));
  sc.trimmed = S.model.trimmed;
  const f = sc.f;
  while (sc.i < recs.length) {
    let end = Math.min(recs.length, sc.i + STEP);
    let derived = 0;
    for (let i = sc.i; i < end; i++) {
      const r = recs[i];
      if (f.search && r.text === undefined && (derived += searchText(r).length) >= TEXT_BYTES) end = i + 1;
      if (matches(r, f)) sc.out.push(r);
    }
    sc.i = end;
    if (performance.now() >= until) break;
  }
  measure("mpm:filter-chunk", t);
  if (sc.i < recs.length) {
    later((frame) => step(sc, frame));
    return;
  }
  scan = null;
  scanEnd = performance.now();
  let n = 0;
  while (n < sc.out.length && sc.out[n].dropped) n++;
  S.list.setItems(n ? sc.out.slice(n) : sc.out);
  if (performance.now() - from < RENDER_MS) S.list.render();
  updateStatus();
  measure("mpm:filter", sc.t0);
  for (const f of sc.then) f();
}

// The filter the list shows: a copy of S.filter made by refilter (every
// change of S.filter starts a scan), read by the scan and by the incoming
// events (viewFilter). Not S.filter itself: V8 treats a field never assigned
// since its object was made as constant (its optimized code folds and
// hoists such loads) and throws that code away when one is assigned.
// S.filter's fields are first assigned when the filters change, and matches
// saw S.filter: the first clear of the filters threw the scan's step and
// matches away (--trace-deopt: "dependent field type constness changed" for
// both at toolbar.js's `S.filter.tool = ""`), so the 50,000-record scan that
// followed ran unoptimized and bailed out again while V8 optimized it anew
// (a Chrome trace: V8.DeoptimizeCode 4–6 ms in such a slice, a slice of
// 6 ms taking 18.6 ms, frames of 34–47 ms). A copy is never assigned
// to; its fields come in another order than S.filter's so that V8 gives it
// another hidden class (a field's constness is its hidden class's).
/** @typedef {import("./model.js").Filter} Filter */
/** @type {Filter | null} */
let shownFilter = null;

/** @returns {Filter} */
function copyFilter() {
  const f = S.filter;
  return { search: f.search, tool: f.tool, origin: f.origin, agent: f.agent, types: new Set(f.types) };
}

/** viewFilter is the filter the list shows (a copy of S.filter). */
export function viewFilter() {
  return (shownFilter ??= copyFilter());
}

// later runs fn in the next animation frame: one slice a frame, so that
// the frame is drawn after each (a task yielded with setTimeout or
// scheduler.yield may run again before the browser draws: measured, frames
// of ~100 ms while a search scanned 50,000 records). A hidden page draws no
// frames: there the scan goes on in tasks (nothing to draw meanwhile).
/** @param {(frame?: number) => void} fn */
function later(fn) {
  if (document.visibilityState === "hidden") setTimeout(() => fn(), 0);
  else requestAnimationFrame(fn);
}

// ---- search text in idle time ---------------------------------------------

const IDLE_STEP = 32; // records between clock reads
// IDLE_MS: at most this long at a time, whatever the deadline allows (up to
// 50 ms on an idle page): an event arriving meanwhile waits for it.
const IDLE_MS = 4;
/** @type {Rec[] | null} */
let textRecords = null; // the model's array textNext indexes
let textNext = 0; // records before it have their search text
let textTrimmed = 0; // the model's trimmed count at textNext
let idleAsked = false;

/**
 * deriveTextSoon derives the held records' search text in idle time (from
 * the first record again when older ones were inserted before: fromStart).
 * @param {boolean} [fromStart]
 */
export function deriveTextSoon(fromStart) {
  if (fromStart) textNext = 0;
  if (idleAsked || typeof requestIdleCallback !== "function") return;
  idleAsked = true;
  requestIdleCallback(deriveText);
}

/** @param {IdleDeadline} deadline */
function deriveText(deadline) {
  idleAsked = false;
  const t = mark();
  const t0 = performance.now();
  const m = S.model;
  if (textRecords !== m.records) {
    textRecords = m.records;
    textNext = 0;
  } else textNext = Math.max(0, textNext - (m.trimmed - textTrimmed));
  textTrimmed = m.trimmed;
  const recs = m.records;
  while (textNext < recs.length && deadline.timeRemaining() > 1 && performance.now() - t0 < IDLE_MS) {
    const end = Math.min(recs.length, textNext + IDLE_STEP);
    let derived = 0;
    for (; textNext < end && derived < TEXT_BYTES; textNext++) if (recs[textNext].text === undefined) derived += searchText(recs[textNext]).length;
  }
  measure("mpm:search-text", t);
  if (textNext < recs.length) deriveTextSoon();
}
