// @ts-check
// state.js: the page's one state object. Every module reads and changes
// the page through it; nothing else is shared between modules.

import { Model } from "./model.js";
import { Sessions } from "./sessions.js";

/** @typedef {import("./model.js").Filter} Filter */
/** @typedef {import("./types.js").Hello} Hello */

export const S = {
  /** @type {ReturnType<typeof import("./params.js").readParams>} */
  params: /** @type {any} */ (null),
  model: new Model(),
  sessions: new Sessions(),
  /** @type {Filter} */
  filter: { types: new Set(), tool: "", origin: "", agent: "", search: "" },
  /** @type {Set<string> | null} the sessions the page registered for; null = all */
  selection: null,
  /** names from ?session= that matched no session */
  unknownSessions: /** @type {string[]} */ ([]),
  fleet: false, // an event with an origin was seen
  oldestSeq: 0, // the daemon's oldest retained seq (for "load older")
  olderDone: false, // nothing older matches the selection
  loadingOlder: false,
  /** @type {Hello | null} */
  hello: null,
  restartedAt: 0,
  newWhilePaused: 0,
  replaying: true,
  loadMs: 0, // from navigation start to the first "live"
  running: 0, // tool calls running
  /** @type {{state: string, detail?: string, at?: number, attempt?: number}} */
  connState: { state: "connecting" },
  /** @type {string | null} the record key the detail view shows */
  openKey: null,
  /** @type {number} a #seq= deep link still to open once loaded */
  pendingSeq: 0,
  /** @type {import("./list.js").VirtualList} */
  list: /** @type {any} */ (null),
  /** @type {import("./conn.js").Connection} */
  conn: /** @type {any} */ (null),
  /** the page has had its first live: state changes from now on are news */
  settled: false,
};
