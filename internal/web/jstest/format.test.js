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
