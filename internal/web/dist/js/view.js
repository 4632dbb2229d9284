// @ts-check
// view.js: which of the held records the list shows (the filters). New
// events are filtered as they come and appended (app.js); records the model
// drops at MAX_RECORDS leave the front of the list (VirtualList.dropFront);
// only a filter change (or older events loaded) scans everything again,
// here: in slices of a few milliseconds, one per animation frame, so that
// the page keeps drawing and answering input while 50,000 records are scanned.
// A scan that fits one slice (most: a type or tool filter over 50,000
// records takes ~5 ms) ends before refilter returns.

import { S } from "./state.js";
import { matches } from "./model.js";
import { updateStatus } from "./status.js";
import { mark, measure } from "./perf.js";

/** @typedef {import("./types.js").Rec} Rec */

// filtering per slice (a test may set globalThis.__mpmSliceMs: 0 slices every STEP records)
const SLICE_MS = /** @type {any} */ (globalThis).__mpmSliceMs ?? 8;
const STEP = 64; // records between clock reads

/**
 * @typedef {object} Scan
 * @property {Rec[]} records  the model's array when the scan began
 * @property {number} i       next index in it
 * @property {number} trimmed the model's trimmed count at i
 * @property {Rec[]} out
 * @property {number} t0
 * @property {(() => void)[]} then
 */

/** @type {Scan | null} */
let scan = null;

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
  scan = { records: S.model.records, i: 0, trimmed: S.model.trimmed, out: [], t0: mark(), then: thens };
  step(scan);
}

/** @param {Scan} sc */
function step(sc) {
  if (sc !== scan) return; // replaced by a newer scan
  if (sc.records !== S.model.records) {
    scan = null; // the model started over (another selection): nothing to show from here
    return;
  }
  const t = performance.now();
  const recs = sc.records;
  // Records dropped at the front meanwhile moved the rest down.
  sc.i = Math.max(0, sc.i - (S.model.trimmed - sc.trimmed));
  sc.trimmed = S.model.trimmed;
  const f = S.filter;
  while (sc.i < recs.length) {
    const end = Math.min(recs.length, sc.i + STEP);
    for (let i = sc.i; i < end; i++) if (matches(recs[i], f)) sc.out.push(recs[i]);
    sc.i = end;
    if (performance.now() - t >= SLICE_MS) break;
  }
  measure("mpm:filter-chunk", t);
  if (sc.i < recs.length) {
    later(() => step(sc));
    return;
  }
  scan = null;
  let n = 0;
  while (n < sc.out.length && sc.out[n].dropped) n++;
  S.list.setItems(n ? sc.out.slice(n) : sc.out);
  updateStatus();
  measure("mpm:filter", sc.t0);
  for (const f of sc.then) f();
}

// later runs fn in the next animation frame: one slice a frame, so that
// the frame is drawn after each (a task yielded with setTimeout or
// scheduler.yield may run again before the browser draws: measured, frames
// of ~100 ms while a search scanned 50,000 records).
/** @param {() => void} fn */
function later(fn) {
  requestAnimationFrame(() => fn());
}
