// @ts-check
// search.js: "search all history" — GET /v1/search over the daemon's whole
// journal (docs/protocol.md, "Searching history"), its hits listed in a
// panel; a hit opens its event through the #seq= deep-link path. The
// search box's instant filter of the loaded events stays in toolbar.js.

import { h, text, clear, $ } from "./dom.js";
import { S } from "./state.js";
import { clock, oneLine, plural, cleanText } from "./format.js";
import { sessionColor } from "./colors.js";

/** @typedef {{seq: number, session_id: string, event: string, tool?: string, received: string, snippet: string}} SearchHit */

/** @type {{onOpenSeq: (seq: number) => void}} */
const hooks = { onOpenSeq: () => {} };

/** @param {typeof hooks} x */
export function setSearchHooks(x) {
  Object.assign(hooks, x);
}

const ENTITIES = /** @type {Record<string, string>} */ ({ "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'", "&#34;": '"', "&apos;": "'" });

/**
 * unescapeHTML undoes the server's HTML escaping of a snippet (the result
 * only ever becomes a text node).
 * @param {string} s
 */
export function unescapeHTML(s) {
  return s.replace(/&(?:lt|gt|amp|quot|apos|#39|#34);/g, (m) => ENTITIES[m] || m);
}

/**
 * snippetParts splits a server snippet (HTML-escaped text with <mark>…</mark>
 * around the matches) into plain-text pieces, each marked or not. Nothing
 * else in it is markup: a stray "<b>" stays those characters.
 * @param {string} snippet
 * @returns {{text: string, mark: boolean}[]}
 */
export function snippetParts(snippet) {
  /** @type {{text: string, mark: boolean}[]} */
  const out = [];
  if (typeof snippet !== "string") return out;
  let mark = false;
  for (const piece of snippet.split(/(<mark>|<\/mark>)/)) {
    if (piece === "<mark>") mark = true;
    else if (piece === "</mark>") mark = false;
    else if (piece) out.push({ text: unescapeHTML(piece), mark });
  }
  return out;
}

let seqNo = 0; // the latest search asked: older answers are dropped

/**
 * searchAll asks the daemon for q and lists the hits.
 * @param {string} q
 */
export async function searchAll(q) {
  q = q.trim();
  if (!q) return;
  const my = ++seqNo;
  const panel = $("hits");
  panel.hidden = false;
  text($("hits-h"), `History: “${oneLine(q, 80)}”`);
  text($("hits-status"), "searching…");
  clear($("hits-list"));
  /** @type {SearchHit[]} */
  let hits;
  try {
    hits = await S.conn.fetchSearch(q, 50);
  } catch (e) {
    if (my !== seqNo) return;
    text($("hits-status"), /** @type {Error} */ (e).message);
    $("hits-status").dataset.error = "1";
    return;
  }
  if (my !== seqNo) return;
  delete $("hits-status").dataset.error;
  text($("hits-status"), hits.length ? `${plural(hits.length, "hit")}, newest first${hits.length >= 50 ? " (the first 50: narrow the query for more)" : ""}` : "No event in the daemon's history matches.");
  const ol = $("hits-list");
  for (const hit of hits) ol.append(hitItem(hit));
}

/** @param {SearchHit} hit */
function hitItem(hit) {
  const snip = h("span", { class: "snip" });
  for (const p of snippetParts(hit.snippet)) snip.append(p.mark ? h("mark", null, p.text.replace(/\s+/g, " ")) : document.createTextNode(cleanText(p.text).replace(/\s+/g, " ")));
  const t = Date.parse(hit.received);
  const sid = String(hit.session_id || "");
  const btn = h("button", { type: "button", class: "hit", title: `open event #${hit.seq}`, onclick: () => hooks.onOpenSeq(hit.seq) },
    h("span", { class: "hmeta" },
      h("span", { class: "seq" }, `#${hit.seq}`),
      h("span", { class: "time" }, isFinite(t) ? new Date(t).toLocaleDateString() + " " + clock(t).slice(0, 8) : ""),
      h("span", { class: "sess", dataset: { c: String(sessionColor(sid)) } }, sid.slice(0, 8)),
      h("span", { class: "type" }, hit.event || ""),
      h("span", { class: "tool" }, hit.tool || "")),
    snip);
  return h("li", { dataset: { seq: String(hit.seq) } }, btn);
}

export function closeHits() {
  seqNo++;
  $("hits").hidden = true;
  clear($("hits-list"));
}

export function wireSearch() {
  $("search-all").addEventListener("click", () => searchAll(/** @type {HTMLInputElement} */ ($("search")).value));
  $("hits-close").addEventListener("click", closeHits);
}
