// @ts-check
// perf.js: performance marks for the browser benchmarks (perf_bench_test.go).
// Off unless the page was opened with globalThis.__mpmPerf set (the tests set
// it before the page's scripts run): then each measure is a
// performance.measure entry ("mpm:batch", "mpm:render", "mpm:filter", …) the
// test reads back. Off, a measure costs one branch.

export const perfOn = !!(/** @type {any} */ (globalThis).__mpmPerf);

/** @returns {number} performance.now() when measuring, else 0 */
export function mark() {
  return perfOn ? performance.now() : 0;
}

/**
 * measure records name from start (a mark()) to now.
 * @param {string} name
 * @param {number} start
 */
export function measure(name, start) {
  if (perfOn) performance.measure(name, { start, end: performance.now() });
}
