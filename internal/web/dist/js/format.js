// @ts-check
// format.js: numbers, durations, clocks and plain-text cleaning. Pure: no DOM.

/**
 * formatMs renders a duration in milliseconds ("" for none).
 * @param {number | null | undefined} ms
 */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return "";
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  if (ms < 3600000) {
    const m = Math.floor(ms / 60000);
    return `${m} m ${Math.floor((ms % 60000) / 1000)} s`;
  }
  const h = Math.floor(ms / 3600000);
  return `${h} h ${Math.floor((ms % 3600000) / 60000)} m`;
}

/**
 * plural: "1 event", "2 events", "1,234 lines".
 * @param {number} n
 * @param {string} one
 * @param {string} [many]
 */
export function plural(n, one, many) {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many || one + "s"}`;
}

/**
 * bytes renders a size: "812 B", "12.3 KB", "4.0 MB".
 * @param {number} n
 */
export function bytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}

/**
 * clock renders a time of day with milliseconds, in local time.
 * @param {number} ms
 */
export function clock(ms) {
  const d = new Date(ms);
  const p = (/** @type {number} */ n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * ago renders how long ago something was.
 * @param {number} ms
 */
export function ago(ms) {
  if (ms < 5000) return "just now";
  if (ms < 60000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)} min ago`;
  if (ms < 86400000) return `${Math.floor(ms / 3600000)} h ago`;
  return `${Math.floor(ms / 86400000)} d ago`;
}

// Terminal escape sequences (colours, cursor moves, titles): dropped, as a
// terminal would not print them either.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
// Bidirectional overrides and isolates can make text read in another order
// than it is stored ("Trojan Source"): shown as visible marks instead.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
// Other control characters but tab and newline: shown as control pictures.
const CTRL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * cleanText makes outside text safe to read as plain text: ANSI escapes
 * removed, bidi controls and other control characters made visible.
 * (It is never markup either way: the page only ever sets textContent.)
 * @param {string} s
 */
export function cleanText(s) {
  if (typeof s !== "string") return "";
  return s
    .replace(ANSI, "")
    .replace(BIDI, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`)
    .replace(CTRL, (c) => (c === "\r" ? "" : String.fromCharCode(0x2400 + (c === "\x7f" ? 0x21 : c.charCodeAt(0)))));
}

/**
 * oneLine makes a one-line gist: cleaned, white space folded, cut at max.
 * @param {unknown} s
 * @param {number} [max]
 */
export function oneLine(s, max = 300) {
  if (s === undefined || s === null) return "";
  let t = typeof s === "string" ? s : JSON.stringify(s);
  t = cleanText(t).replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max) + "…" : t;
}

/**
 * firstLine is the first non-empty line of a text, cleaned and cut.
 * @param {unknown} s
 * @param {number} [max]
 */
export function firstLine(s, max = 200) {
  if (typeof s !== "string") return "";
  for (const l of s.split("\n")) {
    const t = oneLine(l, max);
    if (t) return t;
  }
  return "";
}

/**
 * compact renders a count in few characters: "812", "12.3k", "4.1M".
 * @param {number} n
 */
export function compact(n) {
  if (!isFinite(n) || n < 0) n = 0;
  if (n < 1000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e5 ? 1 : 0)}k`.replace(/\.0k$/, "k");
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}M`.replace(/\.0M$/, "M");
  return `${(n / 1e9).toFixed(1)}B`.replace(/\.0B$/, "B");
}

/**
 * usd renders a cost in dollars: "$0.0042" below a cent, else "$1.23".
 * @param {number} v
 */
export function usd(v) {
  if (!isFinite(v) || v <= 0) return "$0.00";
  if (v < 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
