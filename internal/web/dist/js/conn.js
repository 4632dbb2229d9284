// @ts-check
// conn.js: the connection to mpm-wsd. It owns the resume cursor (the highest
// seq processed), reconnects with backoff, resumes after the last seq shown
// (no gap, no duplicate), notices a silent daemon (2.5 × heartbeat_ms) and a
// restarted one (hello.instance changed), and tells a missing or wrong token
// apart from a daemon that is down.

import { mark, measure } from "./perf.js";

const MIN_DELAY = 250;
const MAX_DELAY = 10000;
const HANDSHAKE_TIMEOUT = 10000;

export class Connection {
  // opts: token, tail, sessions (array or null = all), and callbacks:
  //   onState({state, detail, attempt, delay}) state: connecting | connected |
  //     reconnecting | auth
  //   onSessions(list)         the /v1/sessions answer, on every (re)connect,
  //                            before any frame of the WebSocket is handled
  //   subscribeAfterSessions() true when the subscription depends on that
  //                            list (the caller changes this.sessions in
  //                            onSessions): the socket opens after it
//   onSession(session)       a {"type":"session"} frame: one session's
//                            state changed (daemons that derive it)
  //   onHello(hello, {restarted, reset})
  //   onReset()                history reset: the daemon restarted without its journal
  //   onSubscribed(msg)        the server took the current subscription
  //   onEvents(events)         new events, ascending seq, none seen before
  //   onLive(msg)              the replay is over
  //   onNotice(text)           something worth a line in the page
  //   onApproval(a), onApprovalResolved(r)  permission requests (approvals.js)
  /** @param {any} opts the options and callbacks above */
  constructor(opts) {
    this.opts = opts;
    this.token = opts.token || "";
    this.tail = opts.tail;
    this.sessions = opts.sessions && opts.sessions.length ? [...opts.sessions] : null;
    this.cursor = null; // highest seq processed; null = nothing yet (initial load uses tail)
    this.instance = null;
    this.heartbeatMs = 10000;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.lastHeard = 0;
    this.pendingSubs = 0; // subscribes sent and not yet answered: frames before the answer are stale
    this.live = false;
    this.dropped = 0; // events dropped as already seen (seq <= cursor), for diagnostics
    this.stopped = false;
    this.watchdog = setInterval(() => this.checkAlive(), 1000);
    window.addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.retryNow();
    });
  }

  get headers() {
    return { Authorization: "Bearer " + this.token };
  }

  /** @param {string} token */
  setToken(token) {
    this.token = token;
    this.attempt = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    this.connect();
  }

  start() {
    this.connect();
  }

  /**
   * @param {string} state
   * @param {Record<string, any>} [extra]
   */
  state(state, extra) {
    this.opts.onState({ state, ...extra });
  }

  // connect checks the token with a plain fetch (a refused WebSocket
  // handshake tells the page nothing) and opens the WebSocket at the same
  // time: no frame is handled before the session list (onSessions), and a
  // failed check closes the socket.
  async connect() {
    if (this.connecting) return;
    this.connecting = true;
    try {
      await this.dial();
    } finally {
      this.connecting = false;
    }
  }

  async dial() {
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    this.state(this.attempt === 0 && this.instance === null ? "connecting" : "reconnecting", { attempt: this.attempt });
    if (!this.token) {
      this.state("auth", { detail: "missing" });
      return;
    }
    const fetched = fetch("/v1/sessions", { headers: this.headers, cache: "no-store", signal: AbortSignal.timeout(HANDSHAKE_TIMEOUT) });
    // The subscription rides in the socket's URL: the server answers it
    // (subscribed, replay, live) right after hello, its replay under way
    // while the handshake ends on this side. When it depends on the session
    // list (?session= prefixes to resolve) the socket opens after the list:
    // subscribing once it is open would put the server's replay after the
    // handshake instead of beside it (measured: ~70 ms later).
    const after = !!(this.opts.subscribeAfterSessions && this.opts.subscribeAfterSessions());
    let ws = after || this.ws || this.stopped ? null : this.open();
    /** @type {(ok: boolean) => void} */
    let settle = () => {};
    if (ws) this.chain = new Promise((res) => (settle = res)); // frames wait for the list (a failed one closed the socket: handle drops them)
    const fail = () => {
      settle(false);
      if (ws && this.ws === ws) {
        this.ws = null;
        try { ws.close(); } catch { /* already closing */ }
      }
    };
    let resp;
    try {
      resp = await fetched;
    } catch (e) {
      fail();
      this.retry(e && e.name === "TimeoutError" ? "daemon not answering" : "daemon unreachable");
      return;
    }
    if (resp.status === 401) {
      fail();
      this.state("auth", { detail: "wrong" });
      return;
    }
    if (!resp.ok) {
      fail();
      const body = (await resp.text().catch(() => "")).trim();
      this.retry(`daemon answered ${resp.status}${body ? ": " + body : ""}`);
      return;
    }
    try {
      const j = await resp.json();
      this.opts.onSessions(j.sessions || []);
    } catch {
      fail();
      this.retry("daemon sent an unreadable session list");
      return;
    }
    if (after) {
      if (this.ws || this.stopped) return;
      ws = this.open();
    }
    if (!ws) return;
    this.checked = ws;
    if (this.ws !== ws) {
      // The socket closed while the list was on its way.
      settle(false);
      if (!this.ws && !this.retryTimer) this.retry(this.closedWhy || "connection lost");
      return;
    }
    settle(true);
  }

  // open creates the WebSocket, its subscription in its URL.
  open() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams({ token: this.token });
    const sub = this.subscription();
    for (const id of sub.sessions) q.append("session", id);
    q.set("since", String(sub.since));
    q.set("tail", String(sub.tail));
    const ws = new WebSocket(`${proto}//${location.host}/v1/ws?${q}`);
    this.ws = ws;
    this.live = false;
    this.pendingSubs = 1;
    this.helloSeen = false;
    this.lastHeard = Date.now();
    this.checked = null; // the session list of this socket is not in yet
    this.closedWhy = "";
    this.chain = Promise.resolve();
    ws.onmessage = (m) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      let msg;
      const t0 = mark();
      try {
        msg = JSON.parse(m.data);
        measure("mpm:parse", t0);
      } catch {
        this.opts.onNotice("the daemon sent a frame that is not JSON; ignored");
        return;
      }
      // One message at a time, in order, even while a handler awaits.
      this.chain = this.chain.then(() => this.handle(msg, ws)).catch((/** @type {Error} */ e) => this.opts.onNotice("page error: " + e.message));
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      let why = `connection closed (${e.code}${e.reason ? " " + e.reason : ""})`;
      if (e.code === 1001) why = "daemon shutting down";
      else if (e.code === 4000) why = "dropped as a slow consumer";
      else if (e.code === 1008) why = "daemon refused: too many clients";
      else if (e.code === 1006) why = "connection lost";
      // Before the session list is in, its answer decides (a wrong token
      // is "token wrong", not a reconnect loop).
      if (this.checked !== ws) {
        this.closedWhy = why;
        return;
      }
      this.retry(why, e.code === 1008 ? 5 : 0);
    };
    return ws;
  }

  // retry schedules the next connect with exponential backoff and jitter.
  /**
   * @param {string} why
   * @param {number} [extraSteps]
   */
  retry(why, extraSteps = 0) {
    if (this.stopped) return;
    const step = Math.min(this.attempt + extraSteps, 10);
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** step);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.live = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.state("reconnecting", { detail: why, attempt: this.attempt, delay, at: Date.now() + delay });
  }

  // retryNow skips the wait (page visible again, network back, new token).
  retryNow() {
    if (this.ws || this.stopped) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = 0;
      this.connect();
    }
  }

  // checkAlive drops a connection that has been silent for 2.5 heartbeats.
  checkAlive() {
    const ws = this.ws;
    if (!ws) return;
    const limit = this.helloSeen ? 2.5 * this.heartbeatMs : HANDSHAKE_TIMEOUT;
    if (Date.now() - this.lastHeard > limit) {
      this.ws = null;
      try { ws.close(); } catch { /* already closing */ }
      this.retry(`no word from the daemon for ${Math.round(limit / 1000)} s`);
    }
  }

  /**
   * @param {import("./types.js").ServerFrame} msg
   * @param {WebSocket} ws
   */
  async handle(msg, ws) {
    if (this.ws !== ws) return;
    switch (msg.type) {
      case "hello":
        await this.onHello(msg, ws);
        break;
      case "subscribed":
        if (this.pendingSubs > 0) this.pendingSubs--;
        if (this.pendingSubs === 0) this.opts.onSubscribed(msg);
        break;
      case "events":
        if (this.pendingSubs > 0) return; // belongs to a subscription we replaced
        this.onEvents(msg.events || []);
        break;
      case "session":
        // Session summaries come before the replay and whenever a state
        // changes; they carry no seq and are never stale.
        if (msg.session && this.opts.onSession) this.opts.onSession(msg.session);
        break;
      case "approval":
        // A permission request waits for an answer (approvals.js).
        if (msg.approval && this.opts.onApproval) this.opts.onApproval(msg.approval);
        break;
      case "approval_resolved":
        if (this.opts.onApprovalResolved) this.opts.onApprovalResolved(msg);
        break;
      case "live":
        if (this.pendingSubs > 0) return;
        this.live = true;
        this.opts.onLive(msg);
        break;
      case "heartbeat":
      case "pong":
        break;
      case "error":
        this.opts.onNotice("daemon: " + msg.error);
        break;
      default:
        break; // newer daemons may send more; ignore what we do not know
    }
  }

  /**
   * @param {import("./types.js").Hello} hello
   * @param {WebSocket} ws
   */
  async onHello(hello, ws) {
    this.heartbeatMs = hello.heartbeat_ms > 0 ? hello.heartbeat_ms : 10000;
    this.helloSeen = true;
    const restarted = this.instance !== null && hello.instance !== this.instance;
    let reset = false;
    if (restarted && this.cursor !== null) {
      // With the journal seq continues across restarts and we resume as
      // usual. Without it the new daemon starts again at seq 1: our cursor
      // means nothing there. A last_seq below our cursor proves it; a
      // memory store proves it even when new events already passed it.
      reset = hello.last_seq < this.cursor || (await this.storeKind()) === "memory";
    }
    if (this.ws !== ws) return;
    this.instance = hello.instance;
    this.attempt = 0;
    this.opts.onHello(hello, { restarted, reset });
    if (reset) {
      // The URL's subscription asked for seq > our old cursor, which means
      // nothing here: replace it; its answer is ignored (pendingSubs).
      this.cursor = 0; // everything the new daemon has is new to us
      this.opts.onReset();
      this.sendSubscribe();
    }
    this.state("connected", { restarted, reset });
  }

  async storeKind() {
    try {
      const r = await fetch("/healthz", { cache: "no-store" });
      const j = await r.json();
      return j.store || "";
    } catch {
      return "";
    }
  }

  /** @param {import("./types.js").WireEvent[]} evs */
  onEvents(evs) {
    const fresh = [];
    for (const ev of evs) {
      if (ev.ephemeral || !ev.seq) {
        fresh.push(ev); // a probe: no seq, never replayed, never a duplicate
        continue;
      }
      if (this.cursor !== null && ev.seq <= this.cursor) {
        this.dropped++;
        continue;
      }
      this.cursor = ev.seq;
      fresh.push(ev);
    }
    if (fresh.length) this.opts.onEvents(fresh);
  }

  // resubscribe replaces the selection; the caller has cleared its list.
  /** @param {string[] | null} sessions */
  resubscribe(sessions) {
    this.sessions = sessions && sessions.length ? [...sessions] : null;
    this.cursor = null;
    this.sendSubscribe();
  }

  // subscription is what to ask for: everything after the cursor, or, with
  // nothing loaded yet, the last `tail` events.
  subscription() {
    /** @type {{type: "subscribe", sessions: string[], since?: number, tail?: number}} */
    const msg = { type: "subscribe", sessions: this.sessions || [] };
    if (this.cursor === null) {
      msg.since = 0;
      msg.tail = this.tail;
    } else {
      msg.since = this.cursor;
      msg.tail = 0;
    }
    return msg;
  }

  sendSubscribe() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    this.pendingSubs++;
    this.live = false;
    ws.send(JSON.stringify(this.subscription()));
  }

  // fetchHistory pages GET /v1/events.
  /**
   * @param {number} since
   * @param {number} limit
   */
  async fetchHistory(since, limit) {
    const q = new URLSearchParams({ since: String(since), limit: String(limit) });
    for (const id of this.sessions || []) q.append("session", id);
    const r = await fetch("/v1/events?" + q, { headers: this.headers, cache: "no-store" });
    if (r.status === 401) throw new Error("token missing or wrong");
    if (!r.ok) throw new Error(`daemon answered ${r.status}: ${(await r.text()).trim()}`);
    return r.json();
  }

  // fetchSearch asks GET /v1/search; a refusal (400 bad query, 501 no
  // journal) throws with the daemon's one-line reason.
  /**
   * @param {string} q
   * @param {number} limit
   */
  async fetchSearch(q, limit) {
    const r = await fetch("/v1/search?" + new URLSearchParams({ q, limit: String(limit) }), { headers: this.headers, cache: "no-store" });
    if (r.status === 401) throw new Error("token missing or wrong");
    if (!r.ok) throw new Error(`${r.status === 501 ? "Search is not available" : r.status === 400 ? "The query was not understood" : `The daemon answered ${r.status}`}: ${(await r.text()).trim()}`);
    return (await r.json()).hits || [];
  }

  async fetchSessions() {
    const r = await fetch("/v1/sessions", { headers: this.headers, cache: "no-store" });
    if (!r.ok) throw new Error(`daemon answered ${r.status}`);
    return (await r.json()).sessions || [];
  }
}
