import { test } from "node:test";
import assert from "node:assert/strict";
import { formatMs, plural, cleanText, oneLine, firstLine, bytes } from "../dist/js/format.js";
import { fnv1a32, sessionColor, PALETTE } from "../dist/js/colors.js";

test("formatMs", () => {
  for (const [ms, want] of [[null, ""], [0, "0 ms"], [999, "999 ms"], [1200, "1.2 s"], [31000, "31 s"], [130000, "2 m 10 s"], [3700000, "1 h 1 m"]]) {
    assert.equal(formatMs(ms), want, String(ms));
  }
});

test("plural and bytes", () => {
  assert.equal(plural(1, "event"), "1 event");
  assert.equal(plural(2, "event"), "2 events");
  assert.equal(plural(2314, "line"), "2,314 lines");
  assert.equal(plural(3, "match", "matches"), "3 matches");
  assert.equal(bytes(812), "812 B");
  assert.equal(bytes(12300), "12.3 KB");
});

test("cleanText drops terminal escapes and shows bidi and control characters", () => {
  assert.equal(cleanText("\x1b[31mred\x1b[0m"), "red");
  assert.equal(cleanText("a\x1b]0;title\x07b"), "ab");
  assert.equal(cleanText("abc\u202eevil"), "abc⟨U+202E⟩evil");
  assert.equal(cleanText("x\u2066y\u2069"), "x⟨U+2066⟩y⟨U+2069⟩");
  assert.equal(cleanText("bell\x07 nul\x00"), "bell␇ nul␀");
  assert.equal(cleanText("line\r\nnext\ttab"), "line\nnext\ttab");
  assert.equal(cleanText("<script>x</script>"), "<script>x</script>"); // markup stays text: the DOM layer sets textContent
  assert.equal(oneLine("  a\n b  ", 300), "a b");
  assert.equal(oneLine("x".repeat(10), 4), "xxxx…");
  assert.equal(firstLine("\n\n  first\nsecond"), "first");
});

test("session colours: FNV-1a 32 of the UTF-8 bytes, mod 6, stable", () => {
  // Reference values of FNV-1a 32 (the published test vectors).
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
  // UTF-8, not UTF-16 ("é" is two bytes); the values are Go's hash/fnv
  // New32a, which mpm-monitor uses: both pick the same colour.
  assert.equal(fnv1a32("é"), 513665217);
  for (const [id, h, c] of [
    ["aaaa1111-2222-3333-4444-555566667777", 2525159981, 5],
    ["bbbb1111-2222-3333-4444-555566667777", 1614410937, 3],
    ["4f1c2b3a-0000-4000-8000-000000000000", 3826098075, 3],
  ]) {
    assert.equal(fnv1a32(id), h, id);
    assert.equal(sessionColor(id), c, id);
  }
  const id = "aaaa1111-2222-3333-4444-555566667777";
  assert.equal(sessionColor(id), fnv1a32(id) % 6);
  assert.equal(sessionColor(id), sessionColor(id));
  assert.equal(PALETTE.length, 6);
  assert.ok(!PALETTE.includes("red"));
  // Well spread over many ids.
  const n = new Array(6).fill(0);
  for (let i = 0; i < 6000; i++) n[sessionColor(`session-${i}`)]++;
  for (const c of n) assert.ok(c > 800 && c < 1200, `uneven palette use: ${n}`);
});

test("compact and usd", async () => {
  const { compact, usd } = await import("../dist/js/format.js");
  for (const [n, want] of [[0, "0"], [812, "812"], [1000, "1k"], [12345, "12.3k"], [123456, "123k"], [4100000, "4.1M"], [2e9, "2B"], [-5, "0"], [NaN, "0"]]) {
    assert.equal(compact(n), want, String(n));
  }
  assert.equal(usd(0), "$0.00");
  assert.equal(usd(0.0042), "$0.0042");
  assert.equal(usd(1.234), "$1.23");
  assert.equal(usd(1234.5), "$1,234.50");
});

test("usageSummary", async () => {
  const { usageSummary } = await import("../dist/js/sessions.js");
  assert.equal(usageSummary(undefined), null);
  const est = usageSummary({ input_tokens: 10000, output_tokens: 2000, cache_read_input_tokens: 300, cache_creation_input_tokens: 45, cost_usd: 0.5, cost_source: "estimate", context_tokens: 84000, context_window: 200000, models: { "claude-sonnet-4-5": { input_tokens: 10000, output_tokens: 2000, cost_usd: 0.5 } } });
  assert.ok(est);
  assert.equal(est.cost, "~$0.50");
  assert.equal(est.tokens, "12.3k");
  assert.equal(est.pct, 42);
  assert.equal(est.text, "~$0.50 · 12.3k tokens · context 42%");
  assert.match(est.title, /estimated/);
  assert.match(est.title, /claude-sonnet-4-5: \$0\.50, 12k tokens/);
  const exact = usageSummary({ input_tokens: 5, output_tokens: 7, cost_usd: 1.5, cost_source: "claude", context_tokens: 250000, context_window: 200000 });
  assert.ok(exact);
  assert.equal(exact.cost, "$1.50");
  assert.equal(exact.pct, 100, "capped at 100");
  const noWin = usageSummary({ output_tokens: 3, cost_source: "claude" });
  assert.ok(noWin);
  assert.equal(noWin.pct, -1);
  assert.equal(noWin.text, "$0.00 · 3 tokens");
});
