import { test } from "node:test";
import assert from "node:assert/strict";
import { diffLines, hunks, counts, unifiedText, splitLines } from "../dist/js/diff.js";

// apply rebuilds both sides from a diff: a diff is right when both match.
function sides(lines) {
  return {
    a: lines.filter((l) => l.op !== "+").map((l) => l.text),
    b: lines.filter((l) => l.op !== "-").map((l) => l.text),
  };
}

test("diffLines keeps every line of both sides, in order", () => {
  const cases = [
    ["", ""],
    ["a", ""],
    ["", "a"],
    ["a\nb\nc", "a\nb\nc"],
    ["a\nb\nc", "a\nx\nc"],
    ["a\nb\nc\nd\ne", "b\nc\nx\ne\nf"],
    ["x\ny\nz", "1\n2\n3\n4"],
    ["same\n".repeat(50) + "old\n" + "same\n".repeat(50), "same\n".repeat(50) + "new\n" + "same\n".repeat(50)],
  ];
  for (const [a, b] of cases) {
    const d = diffLines(a, b);
    const s = sides(d);
    assert.deepEqual(s.a, splitLines(a), `old side of ${JSON.stringify([a, b])}`);
    assert.deepEqual(s.b, splitLines(b), `new side of ${JSON.stringify([a, b])}`);
  }
});

test("diffLines finds the shortest edit", () => {
  const d = diffLines("a\nb\nc\nd", "a\nc\nd\ne");
  assert.deepEqual(counts(d), { added: 1, removed: 1 });
  assert.deepEqual(d.map((l) => l.op + l.text), [" a", "-b", " c", " d", "+e"]);
});

test("hunks and unified text", () => {
  const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n");
  const b = a.replace("line 10", "line ten");
  const hs = hunks(diffLines(a, b));
  assert.equal(hs.length, 1);
  assert.equal(unifiedText(hs).split("\n")[0], "@@ -7,7 +7,7 @@");
  assert.equal(hs[0].lines.length, 8);
  // Two changes far apart: two hunks.
  const c = b.replace("line 1\n", "line one\n");
  assert.equal(hunks(diffLines(a, c)).length, 2);
  // A pure insertion into an empty file.
  assert.equal(unifiedText(hunks(diffLines("", "x\ny"))).split("\n")[0], "@@ -0,0 +1,2 @@");
});

test("a huge diff ends quickly with a correct (if not shortest) script", () => {
  const a = Array.from({ length: 20000 }, (_, i) => `a${i}`).join("\n");
  const b = Array.from({ length: 20000 }, (_, i) => `b${i}`).join("\n");
  const t0 = Date.now();
  const d = diffLines(a, b);
  const s = sides(d);
  assert.equal(s.a.length, 20000);
  assert.equal(s.b.length, 20000);
  // No timing assertion (the machine may be loaded): print the figure.
  console.log(`# 20,000 × 20,000 different lines diffed in ${Date.now() - t0} ms`);
});
