package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestDashboardLinks: #seq= deep links (with and without the token, to an
// event inside the loaded tail and to an older one), ?session= with the
// 8-character prefix the page and mpm-monitor show, and an id that matches
// nothing, which says so instead of showing an empty page.
func TestDashboardLinks(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	post(t, d, tok, hookEvent(sessA, "SessionStart", map[string]any{"source": "startup"}))                                                                                 // 1
	post(t, d, tok, hookEvent(sessA, "PreToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_l1", "tool_input": map[string]any{"command": "make build"}})) // 2
	post(t, d, tok, hookEvent(sessA, "PostToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_l1", "tool_response": map[string]any{"stdout": "built"}}))   // 3
	post(t, d, tok, hookEvent(sessB, "SessionStart", map[string]any{"source": "startup"}))                                                                                 // 4
	for i := 0; i < 6; i++ {
		post(t, d, tok, hookEvent(sessB, "Notification", map[string]any{"message": "tick"})) // 5..10
	}

	p := newPage(t, d)
	// With the token: #token=…&seq=2 opens event 2 and its call.
	p.navigate(d.URL("/") + "#token=" + tok + "&seq=2")
	p.waitFor("event 2 open with its call", `!document.getElementById("detail").hidden && document.querySelector("#detail-body [data-label=command] pre")?.textContent === "make build" && document.querySelector("#detail-body [data-label=stdout] pre")?.textContent === "built"`, 15*time.Second)
	if h := eval[string](p, `location.hash`); strings.Contains(h, "token") || h != "#seq=2" {
		t.Errorf("address after a deep link: %q, want #seq=2 and no token", h)
	}
	if a := eval[string](p, `document.querySelector("#list .row.active")?.dataset.key || ""`); !strings.HasSuffix(a, ":2") {
		t.Errorf("the linked row is not selected in the list: %q", a)
	}
	// A new fragment in the same tab (a link from a notification).
	eval[bool](p, `(() => { location.hash = "#seq=4"; return true })()`)
	p.waitFor("event 4 open", `document.getElementById("detail-title").textContent === "SessionStart" && document.querySelector("#list .row.active")?.dataset.key.endsWith(":4")`, 5*time.Second)

	// An event older than the loaded tail is fetched and opened.
	q := newPage(t, d)
	q.navigate(dashURL(d, "tail=3", tok))
	q.waitFor("the last 3", `document.body.dataset.count === "3" && document.body.dataset.live === "1"`, 15*time.Second)
	eval[bool](q, `(() => { location.hash = "#seq=2"; return true })()`)
	q.waitFor("older event 2 loaded and open", `document.querySelector("#detail-body [data-label=command] pre")?.textContent === "make build"`, 10*time.Second)

	// ?session= with the 8-character prefix selects that session.
	r := newPage(t, d)
	r.navigate(dashURL(d, "session="+sessA[:8], tok))
	r.waitFor("session A's 3 events", `document.body.dataset.live === "1" && document.body.dataset.count === "3" && document.querySelector('#sessions li[data-id="`+sessA+`"] input.pick')?.checked`, 15*time.Second)
	if s := eval[string](r, `location.search`); !strings.Contains(s, "session="+sessA) {
		t.Errorf("the prefix was not resolved to the full id in the URL: %q", s)
	}
	// An id that matches nothing says so.
	r.navigate(dashURL(d, "session=nosuch", ""))
	r.waitFor("no session matches", `document.body.dataset.nosession === "1" && document.getElementById("notices").textContent.includes('No session matches "nosuch"') && document.body.dataset.live === "1" && document.body.dataset.count === "0"`, 15*time.Second)
	if e := eval[string](r, `document.getElementById("list-empty").textContent`); e != `No session matches "nosuch": pick one on the board, or All.` {
		t.Errorf("the empty list says %q", e)
	}
	r.shot("no-session")
	r.click("#sess-all")
	r.waitFor("all sessions after the notice", `document.body.dataset.count === "10" && !document.body.dataset.nosession`, 10*time.Second)
}

// TestDashboardText: what a newcomer reads — no "start Claude Code" advice
// beside a token problem, "1 event" (not "1 events"), no "Load older" when
// the page holds everything, the daemon's instance and seq in a tooltip,
// not in the header.
func TestDashboardText(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	p := newPage(t, d)
	p.navigate(dashURL(d, "", ""))
	p.waitFor("token missing", `document.body.dataset.conn === "auth"`, 10*time.Second)
	if s := eval[string](p, `document.getElementById("sessions").textContent`); strings.Contains(s, "No sessions yet") {
		t.Errorf("beside a missing token the sessions panel says %q", s)
	}
	p.navigate(dashURL(d, "", tok))
	p.waitFor("connected, no sessions", `document.body.dataset.conn === "connected" && document.body.dataset.live === "1"`, 10*time.Second)
	p.waitFor("the advice once connected", `document.getElementById("sessions").textContent.includes("No sessions yet")`, 5*time.Second)

	post(t, d, tok, hookEvent(sessA, "SessionStart", map[string]any{"source": "startup"}))
	p.waitFor("one event", `document.body.dataset.count === "1"`, 5*time.Second)
	p.waitFor("the session card", `document.querySelector("#sessions li.session .counts")?.textContent.startsWith("1 event ")`, 5*time.Second)
	if s := eval[string](p, `document.getElementById("status").textContent`); !strings.HasPrefix(s, "1 event loaded") {
		t.Errorf("status line says %q", s)
	}
	post(t, d, tok, hookEvent(sessA, "Notification", map[string]any{"message": "second"}))
	p.navigate(dashURL(d, "", ""))
	p.waitFor("reloaded with both", `document.body.dataset.count === "2" && document.body.dataset.live === "1"`, 10*time.Second)
	if hidden := eval[bool](p, `document.getElementById("older").hidden`); !hidden {
		t.Errorf("'Load older' shown although the page holds every event: %q", eval[string](p, `document.getElementById("older").textContent`))
	}
	// A session selected: the other session's #1 and #2 are not "older" for it.
	post(t, d, tok, hookEvent(sessB, "SessionStart", nil))
	p.navigate(dashURL(d, "session="+sessB[:8], ""))
	p.waitFor("session B only", `document.body.dataset.count === "1" && document.body.dataset.live === "1" && document.querySelector("#list .row")?.dataset.key.endsWith(":3")`, 10*time.Second)
	if hidden := eval[bool](p, `document.getElementById("older").hidden`); !hidden {
		t.Error("'Load older' shown for a session whose events are all loaded")
	}
	header := eval[string](p, `document.querySelector("header.top").textContent`)
	if strings.Contains(header, "instance") || strings.Contains(header, "seq") {
		t.Errorf("the header still shows daemon internals: %q", header)
	}
	if tip := eval[string](p, `document.getElementById("conn").title`); !strings.Contains(tip, "instance") {
		t.Errorf("the connection badge's tooltip lacks the daemon's details: %q", tip)
	}
	// ? shows the keys.
	p.click("#status")
	p.press("?", "Slash", 191)
	p.waitFor("the help", `document.getElementById("help").open`, 5*time.Second)
	help := eval[string](p, `document.getElementById("help").textContent`)
	for _, w := range []string{"move between events", "open the event and its tool call", "close it", "search the loaded events", "#seq=123", "instance"} {
		if !strings.Contains(help, w) {
			t.Errorf("the help lacks %q", w)
		}
	}
	p.shot("help")
}
