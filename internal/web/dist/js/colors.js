// @ts-check
// colors.js: one colour per session, the same in the dashboard and in
// mpm-monitor, on every load: palette index = FNV-1a 32-bit hash of the full
// session id (its UTF-8 bytes) mod 6. Palette order: blue, green,
// yellow/amber, magenta, cyan, bright blue. No red (red reads as an error).
// The CSS colours for each index are in style.css ([data-c="0"] … [data-c="5"]).

export const PALETTE = ["blue", "green", "amber", "magenta", "cyan", "bright blue"];

/**
 * fnv1a32 hashes a string's UTF-8 bytes (FNV-1a, 32 bit).
 * @param {string} s
 * @returns {number} an unsigned 32-bit integer
 */
export function fnv1a32(s) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const cache = new Map();

/**
 * sessionColor is the palette index (0–5) of a session id.
 * @param {string} id
 * @returns {number}
 */
export function sessionColor(id) {
  let c = cache.get(id);
  if (c === undefined) {
    c = fnv1a32(id || "") % PALETTE.length;
    cache.set(id, c);
  }
  return c;
}
