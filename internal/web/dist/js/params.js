// @ts-check
// params.js: what the page's URL asks for. Pure: it reads a location-like
// object and a storage-like object, and touches nothing else.
//
//   http://127.0.0.1:8765/?session=ID#token=…       (current form; ID may be
//                                                    the 8-character prefix)
//   http://127.0.0.1:8765/#seq=123                  (opens event 123 and its call)
//   http://127.0.0.1:8765/#token=…&seq=123
//   http://127.0.0.1:8765/?origin=laptop-a          (a fleet hub: one origin's events)
//   http://127.0.0.1:8765/?port=8765&session=ID     (old form; port ignored)
//
// The token travels in the fragment so it is never sent to the server in a
// URL (nor logged, nor in a Referer). It is moved into sessionStorage and
// removed from the visible URL, so a reload keeps working and a screenshot
// or a copied address does not leak it.

const TOKEN_KEY = "mpm.token";
export const DEFAULT_TAIL = 2000;

/** @typedef {{search: string, hash: string, pathname: string, port: string, protocol: string, host: string}} Loc */
/** @typedef {{getItem(k: string): string | null, setItem(k: string, v: string): void}} Store */

/**
 * readParams parses loc (window.location-like) and storage (sessionStorage-
 * like). cleanURL is the address to show instead (no token), or null to
 * keep it. seq is the event a #seq= deep link opens (0 = none).
 * @param {Loc} loc
 * @param {Store} storage
 * @returns {{token: string, tokenSource: string, sessions: string[], origin: string, tail: number, seq: number, portNote: string, cleanURL: string | null}}
 */
export function readParams(loc, storage) {
  const q = new URLSearchParams(loc.search);
  const frag = new URLSearchParams(loc.hash.replace(/^#/, ""));
  let token = frag.get("token") || q.get("token") || "";
  let tokenSource = token ? "url" : "";
  token = token.trim();
  let stripped = false;
  if (frag.has("token")) {
    frag.delete("token");
    stripped = true;
  }
  if (q.has("token")) {
    q.delete("token");
    stripped = true;
  }
  if (token) {
    try { storage.setItem(TOKEN_KEY, token); } catch { /* storage disabled: token lives for this page only */ }
  } else {
    try { token = (storage.getItem(TOKEN_KEY) || "").trim(); } catch { token = ""; }
    if (token) tokenSource = "storage";
  }

  /** @type {string[]} */
  const sessions = [];
  for (const v of q.getAll("session")) {
    for (const p of v.split(",")) {
      const id = p.trim();
      if (id && !sessions.includes(id)) sessions.push(id);
    }
  }

  const origin = (q.get("origin") || "").trim();
  const seq = readSeq(loc.hash);

  let tail = DEFAULT_TAIL;
  if (q.has("tail")) {
    const n = Number(q.get("tail"));
    if (Number.isInteger(n) && n >= 0) tail = n;
  }

  // The old form named the daemon's port; the page always talks to the
  // daemon that served it, so a different port is only worth a note.
  let portNote = "";
  if (q.has("port")) {
    const p = q.get("port");
    const own = loc.port || (loc.protocol === "https:" ? "443" : "80");
    if (p !== own) portNote = `The URL names port ${p}, but this page always uses the daemon that served it (${loc.host}).`;
  }

  let cleanURL = null;
  if (stripped) {
    const qs = q.toString();
    const fs = frag.toString();
    cleanURL = loc.pathname + (qs ? "?" + qs : "") + (fs ? "#" + fs : "");
  }
  return { token, tokenSource, sessions, origin, tail, seq, portNote, cleanURL };
}

/**
 * readSeq is the seq of a #seq=N fragment (0 when there is none).
 * @param {string} hash
 */
export function readSeq(hash) {
  const v = new URLSearchParams(String(hash || "").replace(/^#/, "")).get("seq");
  const n = Number(v);
  return v && Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * seqURL is the page's address with #seq=N (0 removes it), for a deep link
 * to the open event.
 * @param {Loc} loc
 * @param {number} seq
 */
export function seqURL(loc, seq) {
  const frag = new URLSearchParams(loc.hash.replace(/^#/, ""));
  frag.delete("token");
  frag.delete("seq");
  if (seq > 0) frag.set("seq", String(seq));
  const fs = frag.toString();
  return loc.pathname + loc.search + (fs ? "#" + fs : "");
}

/**
 * saveToken stores a token typed by the user.
 * @param {Store} storage
 * @param {string} token
 */
export function saveToken(storage, token) {
  try { storage.setItem(TOKEN_KEY, token); } catch { /* ignore */ }
}

/**
 * sessionsURL returns the page's address with the session selection in it
 * (so a reload or a bookmark keeps the choice). sessions null = all.
 * @param {Loc} loc
 * @param {string[] | null} sessions
 */
export function sessionsURL(loc, sessions) {
  const q = new URLSearchParams(loc.search);
  q.delete("session");
  q.delete("port");
  q.delete("token");
  for (const id of sessions || []) q.append("session", id);
  const qs = q.toString();
  return loc.pathname + (qs ? "?" + qs : "") + loc.hash;
}

/**
 * originURL returns the page's address with the origin filter in it ("" =
 * all origins), so that a reload or a bookmark keeps it.
 * @param {Loc} loc
 * @param {string} origin
 */
export function originURL(loc, origin) {
  const q = new URLSearchParams(loc.search);
  q.delete("origin");
  q.delete("token");
  if (origin) q.set("origin", origin);
  const qs = q.toString();
  return loc.pathname + (qs ? "?" + qs : "") + loc.hash;
}
