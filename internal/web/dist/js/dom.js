// @ts-check
// dom.js: the only way this page makes DOM. Every piece of data becomes a
// text node (textContent / createTextNode), never markup: an event holding
// "<script>" or "<img onerror=…>" shows as those characters. Text and
// attribute values also pass through cleanText: terminal escapes dropped,
// bidi overrides and control characters shown as visible marks.

import { cleanText } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";

// h builds an element. attrs: class, dataset (object), on* handlers
// (functions), and plain attributes (set with setAttribute, never "style"
// or "on…" strings). children: nodes, strings (as text) or null.
/**
 * @param {string} tag
 * @param {Record<string, any> | null} attrs
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

// s builds an SVG element the same way.
/**
 * @param {string} tag
 * @param {Record<string, any> | null} attrs
 * @param {...any} children
 * @returns {SVGElement}
 */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * @param {HTMLElement | SVGElement} el
 * @param {Record<string, any> | null} attrs
 */
function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else if (k === "dataset") {
      for (const [dk, dv] of Object.entries(v)) if (dv !== undefined && dv !== null) el.dataset[dk] = String(dv);
    }
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "style" || k.startsWith("on")) throw new Error("dom.js: refusing attribute " + k);
    else el.setAttribute(k, v === true ? "" : k === "value" ? String(v) : cleanText(String(v)));
  }
}

/**
 * @param {Element} el
 * @param {any[]} children
 */
function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(cleanText(String(c))));
  }
}

// text replaces el's content with the text t.
/**
 * @param {Element | null} el
 * @param {unknown} t
 */
export function text(el, t) {
  if (!el) return;
  el.textContent = t === undefined || t === null ? "" : cleanText(String(t));
}

// clear removes every child of el.
/** @param {Element} el */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

/**
 * title sets an element's tooltip from data, cleaned.
 * @param {HTMLElement} el
 * @param {string} t
 */
export function title(el, t) {
  el.title = cleanText(t);
}

// $ finds one element by id.
/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  // The page's own elements: index.html holds every id the modules ask for.
  return /** @type {HTMLElement} */ (document.getElementById(id));
}
