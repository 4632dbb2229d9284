package web_test

import (
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// wsSpy records, before the page's scripts run, each WebSocket the page
// opens (its URL and what it sends), and in order: the socket's creation
// and the moment the session list's fetch resolved (always a later task
// than the one that called fetch).
const wsSpy = `(() => {
	const W = window.WebSocket;
	const spy = window.__ws = [];
	const order = window.__order = [];
	const f = window.fetch;
	window.fetch = (...a) => {
		const r = f(...a);
		if (String(a[0]).startsWith("/v1/sessions")) r.then(() => order.push("sessions in"), () => {});
		return r;
	};
	window.WebSocket = class extends W {
		constructor(url, ...a) {
			super(url, ...a);
			const me = { url: String(url), sent: [] };
			spy.push(me);
			order.push("ws");
			const send = this.send.bind(this);
			this.send = (d) => { me.sent.push(String(d)); send(d); };
		}
	};
})()`

// TestDashboardConnectsInParallel: the page opens its WebSocket, its
// subscription in the URL, while the session list (its token check) is on
// its way, not after it. A ?session= prefix needs the list to become an
// id: that socket opens after the list, subscribed to the full id. Either
// way the events show.
func TestDashboardConnectsInParallel(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	post(t, d, tok, hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": "hello from A"}))
	post(t, d, tok, hookEvent(sessB, "UserPromptSubmit", map[string]any{"prompt": "hello from B"}))
	for _, tc := range []struct {
		name, query, count string
		order, urlSessions string
	}{
		{"all sessions", "", "2", "ws, sessions in", ""},
		{"full id", "session=" + sessA, "1", "ws, sessions in", sessA},
		{"prefix", "session=" + sessA[:8], "1", "sessions in, ws", sessA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPage(t, d)
			p.addScript(wsSpy)
			p.navigate(dashURL(d, tc.query, tok))
			p.waitFor("the events", `document.body.dataset.live === "1" && document.body.dataset.count === "`+tc.count+`" && document.querySelector("#list").textContent.includes("hello from A")`, 15*time.Second)
			got := eval[map[string]any](p, `(() => {
				const w = window.__ws[0];
				const u = new URL(w.url);
				return { sockets: window.__ws.length, order: window.__order.slice(0, 2).join(", "), urlSessions: u.searchParams.getAll("session").join(","), urlTail: u.searchParams.has("tail"), sent: w.sent.map((m) => JSON.parse(m)).filter((m) => m.type === "subscribe").length };
			})()`)
			want := map[string]any{"sockets": 1.0, "order": tc.order, "urlSessions": tc.urlSessions, "urlTail": true, "sent": 0.0}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
