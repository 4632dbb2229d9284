// @ts-check
// diff.js: a line diff (Myers' O(ND) algorithm) and unified hunks. Pure: no DOM.

/** @typedef {{op: " " | "-" | "+", text: string, a?: number, b?: number}} DiffLine */
/** @typedef {{oldStart: number, oldLines: number, newStart: number, newLines: number, lines: DiffLine[]}} Hunk */

// Past this many lines × edit distance the diff gives up on finding the
// shortest script and shows the old lines removed and the new added: the
// page never freezes on a huge edit.
const MAX_WORK = 4_000_000;

/**
 * diffLines compares two texts line by line.
 * @param {string} a
 * @param {string} b
 * @returns {DiffLine[]} every line of a and b, in order, marked " ", "-" or "+"
 */
export function diffLines(a, b) {
  const A = splitLines(a);
  const B = splitLines(b);
  // Common prefix and suffix first: most edits touch a few lines.
  let pre = 0;
  while (pre < A.length && pre < B.length && A[pre] === B[pre]) pre++;
  let suf = 0;
  while (suf < A.length - pre && suf < B.length - pre && A[A.length - 1 - suf] === B[B.length - 1 - suf]) suf++;
  const a2 = A.slice(pre, A.length - suf);
  const b2 = B.slice(pre, B.length - suf);
  /** @type {DiffLine[]} */
  const out = [];
  for (let i = 0; i < pre; i++) out.push({ op: " ", text: A[i], a: i + 1, b: i + 1 });
  for (const l of middle(a2, b2)) {
    out.push({ op: l.op, text: l.text, a: l.a === undefined ? undefined : l.a + pre + 1, b: l.b === undefined ? undefined : l.b + pre + 1 });
  }
  for (let i = suf; i > 0; i--) {
    const ai = A.length - i;
    const bi = B.length - i;
    out.push({ op: " ", text: A[ai], a: ai + 1, b: bi + 1 });
  }
  return out;
}

/**
 * @param {string} s
 * @returns {string[]}
 */
export function splitLines(s) {
  if (!s) return [];
  const l = s.split(/\r?\n/);
  if (l.length > 1 && l[l.length - 1] === "") l.pop();
  return l;
}

/**
 * middle runs Myers' greedy algorithm on what is left between the common
 * prefix and suffix. Indexes in the result are 0-based within a and b.
 * @param {string[]} a
 * @param {string[]} b
 * @returns {{op: " " | "-" | "+", text: string, a?: number, b?: number}[]}
 */
function middle(a, b) {
  const n = a.length;
  const m = b.length;
  if (!n) return b.map((text, i) => ({ op: /** @type {"+"} */ ("+"), text, b: i }));
  if (!m) return a.map((text, i) => ({ op: /** @type {"-"} */ ("-"), text, a: i }));
  const max = n + m;
  const off = max;
  let v = new Int32Array(2 * max + 2);
  /** @type {Int32Array[]} */
  const trace = [];
  let work = 0;
  let found = -1;
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x;
      if (k === -d || (k !== d && v[off + k - 1] < v[off + k + 1])) x = v[off + k + 1];
      else x = v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
    work += 2 * d + 1 + (n + m) / 8;
    if (work > MAX_WORK) return [...a.map((text, i) => ({ op: /** @type {"-"} */ ("-"), text, a: i })), ...b.map((text, i) => ({ op: /** @type {"+"} */ ("+"), text, b: i }))];
  }
  // Walk back through the trace.
  /** @type {{op: " " | "-" | "+", text: string, a?: number, b?: number}[]} */
  const rev = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[off + k - 1] < vd[off + k + 1]) ? k + 1 : k - 1;
    const px = vd[off + prevK];
    const py = px - prevK;
    while (x > px && y > py) {
      x--;
      y--;
      rev.push({ op: " ", text: a[x], a: x, b: y });
    }
    if (x === px) {
      y--;
      rev.push({ op: "+", text: b[y], b: y });
    } else {
      x--;
      rev.push({ op: "-", text: a[x], a: x });
    }
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    rev.push({ op: " ", text: a[x], a: x, b: y });
  }
  return rev.reverse();
}

/**
 * hunks groups a diff into unified hunks with `context` lines around each change.
 * @param {DiffLine[]} lines
 * @param {number} [context]
 * @returns {Hunk[]}
 */
export function hunks(lines, context = 3) {
  /** @type {Hunk[]} */
  const out = [];
  /** @type {number[]} */
  const changed = [];
  lines.forEach((l, i) => {
    if (l.op !== " ") changed.push(i);
  });
  if (!changed.length) return out;
  let i = 0;
  while (i < changed.length) {
    let start = Math.max(0, changed[i] - context);
    let end = Math.min(lines.length - 1, changed[i] + context);
    while (i + 1 < changed.length && changed[i + 1] - context <= end + 1) {
      i++;
      end = Math.min(lines.length - 1, changed[i] + context);
    }
    i++;
    const part = lines.slice(start, end + 1);
    let oldStart = 0, newStart = 0;
    // The first line's numbers, counting from the lines before it.
    let ao = 0, bo = 0;
    for (let j = 0; j < start; j++) {
      if (lines[j].op !== "+") ao++;
      if (lines[j].op !== "-") bo++;
    }
    oldStart = ao + 1;
    newStart = bo + 1;
    const oldLines = part.filter((l) => l.op !== "+").length;
    const newLines = part.filter((l) => l.op !== "-").length;
    out.push({ oldStart: oldLines ? oldStart : oldStart - 1, oldLines, newStart: newLines ? newStart : newStart - 1, newLines, lines: part });
  }
  return out;
}

/**
 * counts returns how many lines a diff adds and removes.
 * @param {DiffLine[]} lines
 */
export function counts(lines) {
  let added = 0, removed = 0;
  for (const l of lines) {
    if (l.op === "+") added++;
    else if (l.op === "-") removed++;
  }
  return { added, removed };
}

/**
 * unifiedText renders hunks as the text of a unified diff (no file header).
 * @param {Hunk[]} hs
 */
export function unifiedText(hs) {
  const out = [];
  for (const h of hs) {
    out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    for (const l of h.lines) out.push(l.op + l.text);
  }
  return out.join("\n");
}
