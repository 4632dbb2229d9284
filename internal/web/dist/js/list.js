// @ts-check
// list.js: a virtualised list. Only the rows in (or near) the viewport are in
// the DOM, so 10,000 or 50,000 events scroll like 50. Rows have one fixed
// height, read from the list's CSS (--row-h: taller cards on small screens).
// The list is a listbox: focus stays on a row element, arrow keys or j/k
// move it, Enter opens it (the detail view), and the focused row is never
// recycled while focused.

/** @typedef {import("./types.js").Rec} Rec */

import { mark, measure } from "./perf.js";

const OVERSCAN = 8;
// IMMEDIATE: batches of up to this many rows may be drawn without waiting
// for a frame; FRAME_MS: at most one such render per frame.
const IMMEDIATE = 8;
const FRAME_MS = 16;

/**
 * sameRow: a rebuilt row shows exactly what the element on screen shows.
 * @param {HTMLElement} el
 * @param {HTMLElement} nel
 */
function sameRow(el, nel) {
  if (el.className.replace(/\s*\bactive\b/, "") !== nel.className || el.dataset.call !== nel.dataset.call || el.dataset.agent !== nel.dataset.agent) return false;
  if (el.childNodes.length !== nel.childNodes.length) return false;
  for (let i = 0; i < el.childNodes.length; i++) if (!el.childNodes[i].isEqualNode(nel.childNodes[i])) return false;
  return true;
}

/**
 * @typedef {object} ListOpts
 * @property {(r: Rec) => HTMLElement} renderRow
 * @property {(follow: boolean) => void} onFollowChange
 * @property {(r: Rec) => void} onOpen          Enter, or a click on a row
 * @property {(r: Rec) => void} [onMove]        the active row changed by the keyboard
 * @property {(e: KeyboardEvent, r: Rec) => boolean} onKey  other keys; true = handled
 * @property {() => void} [onDrawn]   the rows of a new list (setItems) are drawn
 */

export class VirtualList {
  /**
   * @param {HTMLElement} el the scrolling element
   * @param {ListOpts} opts
   */
  constructor(el, opts) {
    this.el = el;
    this.opts = opts;
    this.rowH = 28;
    /** @type {Rec[]} */
    this.items = [];
    // Positions: key → index + this.base, built only when asked for (a
    // filter change over 50,000 records then costs no map), kept up to date
    // by append and dropFront (base counts the rows dropped from the front).
    /** @type {Map<string, number> | null} */
    this.keyPos = null;
    this.base = 0;
    /** pos looks a key up: its index in items, or undefined. */
    this.pos = {
      /** @param {string} k */
      get: (k) => {
        const i = this.positions().get(k);
        return i === undefined ? undefined : i - this.base;
      },
      /** @param {string} k */
      has: (k) => this.positions().has(k),
    };
    /** @type {Map<string, HTMLElement>} */
    this.rendered = new Map();
    /** @type {Map<string, Rec>} the records of the rendered rows */
    this.renderedRecs = new Map();
    this.active = -1;
    this.follow = true;
    this.pending = false; // a frame is asked for
    this.dirty = false; // something to draw
    this.lastRender = -Infinity; // performance.now() of the last render
    this.busy = false; // a replay is streaming in
    this.fresh = false; // another list (setItems): the next render draws the view alone
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    el.append(this.spacer);
    el.addEventListener("scroll", () => this.onScroll(), { passive: true });
    el.addEventListener("keydown", (e) => this.onKeyDown(e));
    // A row opens on pointer up over the row it went down on, by key: rows
    // are rebuilt when their content changes (a session frame, a running
    // call's clock), and a rebuilt row between press and release would
    // swallow a plain click.
    /** @type {{key: string, x: number, y: number} | null} */
    this.down = null;
    el.addEventListener("pointerdown", (e) => {
      const i = e.button === 0 ? this.rowOf(e.target) : -1;
      this.down = i >= 0 && !(e.target instanceof Element && e.target.closest("button, a, input, select, textarea")) ? { key: this.items[i].key, x: e.clientX, y: e.clientY } : null;
    });
    el.addEventListener("pointerup", (e) => this.onRelease(e));
    // A click without a pointer (element.click(), assistive technology).
    this.releasedAt = -1;
    el.addEventListener("click", (e) => {
      if (this.releasedAt >= 0 && e.timeStamp - this.releasedAt < 1000) return; // the pointer already did it
      if (e.target instanceof Element && e.target.closest("button, a, input, select, textarea")) return;
      const i = this.rowOf(e.target);
      if (i < 0) return;
      this.setActive(i, true);
      if (this.items[i].ev) this.opts.onOpen(this.items[i]);
    });
    new ResizeObserver(() => {
      this.measure();
      this.schedule();
    }).observe(el);
    this.measure();
    // setItems once now, on the empty list: its first call assigns items,
    // keyPos and fresh again, which V8 records as those fields changing
    // (const → mutable) and which throws away code optimized on them
    // (append's, --trace-deopt); made at start-up, that costs nothing, made
    // by the first filter change it came inside the scan's frame at 50,000.
    this.setItems([]);
  }

  // measure reads the row height from CSS (it changes with the screen).
  measure() {
    const h = parseFloat(getComputedStyle(this.el).getPropertyValue("--row-h"));
    if (h > 0 && h !== this.rowH) {
      const top = this.el.scrollTop / this.rowH;
      this.rowH = h;
      for (const el of this.rendered.values()) el.dataset.stale = "1";
      if (!this.follow) this.setScroll(top * h);
    }
  }

  positions() {
    if (!this.keyPos) {
      const m = new Map();
      const items = this.items;
      for (let i = 0; i < items.length; i++) m.set(items[i].key, i + this.base);
      this.keyPos = m;
    }
    return this.keyPos;
  }

  /**
   * setItems shows another list (a filter changed). The rows on screen are
   * drawn again (those still wanted keep their elements if unchanged).
   * @param {Rec[]} items
   */
  setItems(items) {
    const act = this.active >= 0 ? this.items[this.active] : null;
    this.items = items;
    this.keyPos = null;
    this.base = 0;
    this.active = act ? items.lastIndexOf(act) : -1;
    for (const el of this.rendered.values()) el.dataset.stale = "1";
    this.fresh = true;
    this.schedule();
  }

  /**
   * append adds rows at the end. A small batch on a page that has not drawn
   * within the last frame is drawn at once: a live event shows without
   * waiting for the next animation frame (up to 16 ms). Bursts wait for the
   * frame and share it.
   * @param {Rec[]} recs
   */
  append(recs) {
    if (!recs.length) return;
    const m = this.keyPos;
    for (const r of recs) {
      if (m) m.set(r.key, this.items.length + this.base);
      this.items.push(r);
    }
    this.schedule(recs.length <= IMMEDIATE || !this.rendered.size);
  }

  /**
   * dropFront removes the leading rows whose records the model dropped
   * (MAX_RECORDS): the view is a subsequence of the model's records, so
   * those are a prefix of it. Nothing else is filtered again.
   */
  dropFront() {
    let n = 0;
    while (n < this.items.length && this.items[n].dropped) n++;
    if (!n) return;
    const gone = this.items.splice(0, n);
    if (this.keyPos) for (const r of gone) this.keyPos.delete(r.key);
    this.base += n;
    this.active = this.active >= n ? this.active - n : -1;
    // The rows on screen stay where they are.
    if (!this.follow) this.setScroll(Math.max(0, this.el.scrollTop - n * this.rowH));
    this.schedule();
  }

  activeKey() {
    return this.active >= 0 && this.items[this.active] ? this.items[this.active].key : null;
  }

  /**
   * schedule asks for a render: in the next animation frame, or at once
   * when now is true and the list is idle (nothing drawn in the last frame,
   * no replay streaming; the first rows of a replay too).
   * @param {boolean} [now]
   */
  schedule(now) {
    this.dirty = true;
    if (now && (!this.busy || !this.rendered.size) && performance.now() - this.lastRender >= FRAME_MS) {
      this.render();
      return;
    }
    if (this.pending) return;
    this.pending = true;
    const run = () => {
      this.pending = false;
      if (this.dirty) this.render();
    };
    // While a big replay streams in, draw a few times a second instead of
    // every frame: the rows on screen change completely each time anyway.
    if (this.busy) setTimeout(() => requestAnimationFrame(run), 150);
    else requestAnimationFrame(run);
  }

  // render places the visible rows; call refresh() to rebuild them. After
  // setItems (every row new: a filter changed) it draws the rows in view
  // alone and the OVERSCAN rows around them in the next frame: a new set of
  // rows costs its style, layout and paint in the frame that draws it
  // (traced: 4–15 ms for ~40 rows at 1280×800 on a busy machine).
  render() {
    const t0 = mark();
    this.dirty = false;
    const over = this.fresh ? 0 : OVERSCAN;
    const fresh = this.fresh;
    if (fresh) {
      this.fresh = false;
      this.schedule(); // the overscan, next frame
    }
    this.lastRender = performance.now();
    const total = this.items.length * this.rowH;
    this.spacer.style.height = total + "px";
    const viewH = this.el.clientHeight;
    if (this.follow) this.setScroll(Math.max(0, total - viewH));
    const top = this.el.scrollTop;
    /** @type {Set<number>} */
    const want = new Set();
    if (this.items.length) {
      const first = Math.max(0, Math.floor(top / this.rowH) - over);
      const last = Math.min(this.items.length - 1, Math.floor((top + viewH) / this.rowH) + over);
      for (let i = first; i <= last; i++) want.add(i);
      if (this.active >= 0 && this.el.contains(document.activeElement) && document.activeElement !== this.el) want.add(this.active);
    }
    const wantKeys = new Set([...want].map((i) => this.items[i].key));
    for (const k of [...this.rendered.keys()]) if (!wantKeys.has(k)) this.drop(k);
    const firstWanted = want.values().next().value;
    for (const i of want) {
      const r = this.items[i];
      let el = this.rendered.get(r.key);
      const isActive = i === this.active;
      const nel = !el || el.dataset.stale ? this.opts.renderRow(r) : null;
      // Unchanged content: keep the element (and whatever the pointer is doing on it).
      if (el && nel && sameRow(el, nel)) delete el.dataset.stale;
      else if (nel) {
        const hadFocus = el && el === document.activeElement;
        nel.dataset.key = r.key;
        nel.setAttribute("role", "option");
        if (el) el.replaceWith(nel);
        else this.el.append(nel);
        this.rendered.set(r.key, nel);
        el = nel;
        if (hadFocus) el.focus({ preventScroll: true });
      }
      this.renderedRecs.set(r.key, r);
      el.tabIndex = isActive || (this.active < 0 && i === firstWanted) ? 0 : -1;
      el.classList.toggle("active", isActive);
      el.setAttribute("aria-selected", String(isActive));
      el.style.transform = `translateY(${i * this.rowH}px)`;
    }
    if (fresh && this.opts.onDrawn) this.opts.onDrawn();
    measure("mpm:render", t0);
  }

  /** @param {string} k */
  drop(k) {
    const el = this.rendered.get(k);
    if (el) el.remove();
    this.rendered.delete(k);
    this.renderedRecs.delete(k);
  }

  /**
   * refresh re-renders the rows on screen (a tool call finished, time passed).
   * @param {Set<string>} [keys]
   */
  refresh(keys) {
    for (const [k, el] of this.rendered) if (!keys || keys.has(k)) el.dataset.stale = "1";
    this.schedule();
  }

  /** @param {number} y */
  setScroll(y) {
    if (Math.abs(this.el.scrollTop - y) >= 1) this.el.scrollTop = y;
  }

  atBottom() {
    return this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - this.rowH / 2;
  }

  onScroll() {
    // Scrolled to the end: follow new events; scrolled up: stay put.
    const f = this.atBottom();
    if (f !== this.follow) {
      this.follow = f;
      this.opts.onFollowChange(f);
    }
    this.schedule();
  }

  /** @param {boolean} f */
  setFollow(f) {
    this.follow = f;
    this.opts.onFollowChange(f);
    this.schedule();
  }

  /**
   * shiftBy keeps the view still after rows were inserted above.
   * @param {number} rows
   */
  shiftBy(rows) {
    if (this.follow) return;
    this.setScroll(this.el.scrollTop + rows * this.rowH);
  }

  /**
   * @param {number} i
   * @param {boolean} focus
   */
  setActive(i, focus) {
    if (!this.items.length) return;
    i = Math.max(0, Math.min(this.items.length - 1, i));
    this.active = i;
    const y = i * this.rowH;
    const top = this.el.scrollTop;
    const viewH = this.el.clientHeight;
    if (y < top) this.el.scrollTop = y;
    else if (y + this.rowH > top + viewH) this.el.scrollTop = y + this.rowH - viewH;
    this.render();
    if (focus) {
      const el = this.rendered.get(this.items[i].key);
      if (el) el.focus({ preventScroll: true });
    }
  }

  /** @param {EventTarget | null} target */
  rowOf(target) {
    const row = target instanceof Element ? target.closest("[data-key]") : null;
    if (!(row instanceof HTMLElement) || !this.el.contains(row)) return -1;
    const i = this.pos.get(row.dataset.key || "");
    return i === undefined ? -1 : i;
  }

  /** @param {PointerEvent} e */
  onRelease(e) {
    const down = this.down;
    this.down = null;
    if (!down || Math.abs(e.clientX - down.x) > 6 || Math.abs(e.clientY - down.y) > 6) return; // a drag (selecting text), not a click
    const i = this.rowOf(e.target);
    if (i < 0 || this.items[i].key !== down.key) return;
    // Selecting text inside a row is not a click either.
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed && this.el.contains(sel.anchorNode)) return;
    this.releasedAt = e.timeStamp;
    this.setActive(i, true);
    if (this.items[i].ev) this.opts.onOpen(this.items[i]);
  }

  /** @param {KeyboardEvent} e */
  onKeyDown(e) {
    if (e.target instanceof Element && e.target.closest("button, input, select, textarea")) return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    let i = this.rowOf(e.target);
    if (i < 0) i = this.active;
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.rowH) - 1);
    let next = null;
    switch (e.key) {
      case "ArrowDown":
      case "j":
        next = i + 1;
        break;
      case "ArrowUp":
      case "k":
        next = i < 0 ? this.items.length - 1 : i - 1;
        break;
      case "PageDown":
        next = i + page;
        break;
      case "PageUp":
        next = i - page;
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = this.items.length - 1;
        break;
      case "Enter":
      case " ":
        if (i >= 0 && this.items[i].ev) {
          this.opts.onOpen(this.items[i]);
          e.preventDefault();
        }
        return;
      default:
        if (i >= 0 && this.opts.onKey(e, this.items[i])) e.preventDefault();
        return;
    }
    e.preventDefault();
    if (next !== null) {
      if (this.follow && next < this.items.length - 1) this.setFollow(false);
      this.setActive(next, true);
      if (this.opts.onMove && this.items[this.active]) this.opts.onMove(this.items[this.active]);
    }
  }
}
