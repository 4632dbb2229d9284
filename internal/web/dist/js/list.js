// list.js: a virtualised list. Only the rows in (or near) the viewport are in
// the DOM, so 10,000 or 50,000 events scroll like 50. Rows have one fixed
// height; an expanded row is taller, by an amount measured after it renders.
// The list is a listbox: focus stays on a row element, arrow keys move it,
// Enter expands, and the focused row is never recycled while focused.

const OVERSCAN = 8;

export class VirtualList {
  // el: the scrolling element. opts: rowHeight, renderRow(record, {expanded,
  // active}) → element, onFollowChange(follow), onKey(e, record) → handled.
  constructor(el, opts) {
    this.el = el;
    this.opts = opts;
    this.rowH = opts.rowHeight;
    this.items = [];
    this.pos = new Map(); // key → index in items
    this.expanded = new Set(); // keys
    this.extra = new Map(); // key → measured extra height of an expanded row
    this.rendered = new Map(); // key → element
    this.active = -1;
    this.follow = true;
    this.pending = false;
    this.busy = false; // a replay is streaming in
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    el.append(this.spacer);
    el.addEventListener("scroll", () => this.onScroll(), { passive: true });
    el.addEventListener("keydown", (e) => this.onKeyDown(e));
    el.addEventListener("click", (e) => this.onClick(e));
    new ResizeObserver(() => this.schedule()).observe(el);
  }

  setItems(items) {
    const activeKey = this.activeKey();
    this.items = items;
    this.pos = new Map();
    items.forEach((r, i) => this.pos.set(r.key, i));
    this.active = activeKey !== null && this.pos.has(activeKey) ? this.pos.get(activeKey) : -1;
    for (const k of this.rendered.keys()) if (!this.pos.has(k)) this.drop(k);
    this.relayout();
  }

  append(recs) {
    for (const r of recs) {
      this.pos.set(r.key, this.items.length);
      this.items.push(r);
    }
    this.relayout();
  }

  activeKey() {
    return this.active >= 0 && this.items[this.active] ? this.items[this.active].key : null;
  }

  // expandedBefore lists expanded rows as [index, extra], ascending.
  expandedRows() {
    const out = [];
    for (const k of this.expanded) {
      const i = this.pos.get(k);
      if (i !== undefined) out.push([i, this.extra.get(k) ?? 200]);
    }
    out.sort((a, b) => a[0] - b[0]);
    return out;
  }

  offsetOf(i, exp) {
    let y = i * this.rowH;
    for (const [j, x] of exp) {
      if (j >= i) break;
      y += x;
    }
    return y;
  }

  indexAt(y, exp) {
    let acc = 0;
    for (const [j, x] of exp) {
      const top = j * this.rowH + acc;
      if (y < top) break;
      if (y < top + this.rowH + x) return j;
      acc += x;
    }
    return Math.max(0, Math.min(this.items.length - 1, Math.floor((y - acc) / this.rowH)));
  }

  totalHeight(exp) {
    let t = this.items.length * this.rowH;
    for (const [, x] of exp) t += x;
    return t;
  }

  relayout() {
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    const run = () => {
      this.pending = false;
      this.render();
    };
    // While a big replay streams in, draw a few times a second instead of
    // every frame: the rows on screen change completely each time anyway.
    if (this.busy) setTimeout(() => requestAnimationFrame(run), 150);
    else requestAnimationFrame(run);
  }

  // render places the visible rows; call refresh() to rebuild them.
  render() {
    const exp = this.expandedRows();
    const total = this.totalHeight(exp);
    this.spacer.style.height = total + "px";
    const viewH = this.el.clientHeight;
    if (this.follow) this.setScroll(Math.max(0, total - viewH));
    const top = this.el.scrollTop;
    const want = new Set();
    if (this.items.length) {
      const first = Math.max(0, this.indexAt(top, exp) - OVERSCAN);
      const last = Math.min(this.items.length - 1, this.indexAt(top + viewH, exp) + OVERSCAN);
      for (let i = first; i <= last; i++) want.add(i);
      if (this.active >= 0 && this.el.contains(document.activeElement) && document.activeElement !== this.el) want.add(this.active);
    }
    const wantKeys = new Set([...want].map((i) => this.items[i].key));
    for (const k of [...this.rendered.keys()]) if (!wantKeys.has(k)) this.drop(k);
    let remeasure = false;
    for (const i of want) {
      const r = this.items[i];
      let el = this.rendered.get(r.key);
      const isExp = this.expanded.has(r.key);
      const isActive = i === this.active;
      if (!el || el.dataset.stale || el.dataset.exp !== String(isExp)) {
        const hadFocus = el && el === document.activeElement;
        const nel = this.opts.renderRow(r, { expanded: isExp });
        nel.dataset.key = r.key;
        nel.dataset.exp = String(isExp);
        nel.setAttribute("role", "option");
        nel.setAttribute("aria-expanded", String(isExp));
        if (el) el.replaceWith(nel);
        else this.el.append(nel);
        this.rendered.set(r.key, nel);
        el = nel;
        if (hadFocus) el.focus({ preventScroll: true });
      }
      el.tabIndex = isActive || (this.active < 0 && i === want.values().next().value) ? 0 : -1;
      el.classList.toggle("active", isActive);
      el.setAttribute("aria-selected", String(isActive));
      el.style.transform = `translateY(${this.offsetOf(i, exp)}px)`;
      if (isExp) {
        const x = el.offsetHeight - this.rowH;
        if (this.extra.get(r.key) !== x) {
          this.extra.set(r.key, x);
          remeasure = true;
        }
      }
    }
    if (remeasure) this.schedule();
  }

  drop(k) {
    const el = this.rendered.get(k);
    if (el) el.remove();
    this.rendered.delete(k);
  }

  // refresh re-renders the rows on screen (a tool call finished, time passed).
  refresh(keys) {
    for (const [k, el] of this.rendered) if (!keys || keys.has(k)) el.dataset.stale = "1";
    this.schedule();
  }

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

  setFollow(f) {
    this.follow = f;
    this.opts.onFollowChange(f);
    this.schedule();
  }

  toggle(key) {
    if (this.expanded.has(key)) this.expanded.delete(key);
    else this.expanded.add(key);
    this.schedule();
  }

  // keepPosition shifts the scroll after rows were inserted above.
  shiftBy(rows) {
    if (this.follow) return;
    this.setScroll(this.el.scrollTop + rows * this.rowH);
  }

  setActive(i, focus) {
    if (!this.items.length) return;
    i = Math.max(0, Math.min(this.items.length - 1, i));
    this.active = i;
    const exp = this.expandedRows();
    const y = this.offsetOf(i, exp);
    const h = this.rowH + (this.expanded.has(this.items[i].key) ? this.extra.get(this.items[i].key) || 0 : 0);
    const top = this.el.scrollTop;
    const viewH = this.el.clientHeight;
    if (y < top) this.el.scrollTop = y;
    else if (y + Math.min(h, viewH) > top + viewH) this.el.scrollTop = y + Math.min(h, viewH) - viewH;
    this.render();
    if (focus) {
      const el = this.rendered.get(this.items[i].key);
      if (el) el.focus({ preventScroll: true });
    }
  }

  rowOf(target) {
    const row = target.closest("[data-key]");
    if (!row || !this.el.contains(row)) return -1;
    const i = this.pos.get(row.dataset.key);
    return i === undefined ? -1 : i;
  }

  onClick(e) {
    if (e.target.closest("button, a, input, select, textarea, .detail")) return;
    const i = this.rowOf(e.target);
    if (i < 0) return;
    this.setActive(i, true);
    if (this.items[i].ev) this.toggle(this.items[i].key);
  }

  onKeyDown(e) {
    if (e.target.closest("button, input, select, textarea")) return;
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
          this.toggle(this.items[i].key);
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
    }
  }
}
