package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/mpm-dev/mpm/internal/testutil"
)

const (
	sessA = "aaaa1111-2222-3333-4444-555566667777"
	sessB = "bbbb1111-2222-3333-4444-555566667777"
	xss   = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`
)

// TestDashboardLive: the page connects with the token from the fragment,
// shows replayed and live events, pairs tool calls, renders hostile payloads
// as text, filters, picks sessions, works from the keyboard, and accepts
// the old ?port= URL form.
func TestDashboardLive(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	post(t, d, tok, hookEvent(sessA, "SessionStart", map[string]any{"source": "startup"}))
	post(t, d, tok, hookEvent(sessB, "SessionStart", map[string]any{"source": "resume"}))
	post(t, d, tok, hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": "hello world, list the files"}))

	p := newPage(t, d)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("connected with the 3 replayed events", `document.body.dataset.conn === "connected" && document.body.dataset.count === "3"`, 15*time.Second)

	// The token left the visible URL and lives in sessionStorage.
	if href := eval[string](p, `location.href`); strings.Contains(href, tok) || strings.Contains(href, "token") {
		t.Errorf("token still in the URL: %s", href)
	}
	if got := eval[string](p, `sessionStorage.getItem("mpm.token") || ""`); got != tok {
		t.Errorf("sessionStorage token = %q, want the daemon's", got)
	}

	// Live events, and a tool call paired by tool_use_id.
	pre1 := `document.querySelector('#list .row[data-key$=":4"]')`
	post(t, d, tok, hookEvent(sessA, "PreToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_1", "tool_input": map[string]any{"command": "ls -la"}}))
	p.waitFor("the PreToolUse row, running", pre1+`?.dataset.call === "running"`, 5*time.Second)
	if txt := eval[string](p, pre1+`.querySelector(".call").textContent`); !strings.HasPrefix(txt, "running") {
		t.Errorf("running call shows %q", txt)
	}
	post(t, d, tok, hookEvent(sessA, "PostToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_1", "tool_response": map[string]any{"stdout": "a\nb"}}))
	p.waitFor("the pair's duration on the PreToolUse row", pre1+`?.dataset.call === "ok" && /^✓ \d+(\.\d+)? (ms|s)$/.test(`+pre1+`.querySelector(".call").textContent)`, 5*time.Second)
	post(t, d, tok, hookEvent(sessA, "PreToolUse", map[string]any{"tool_name": "Read", "tool_use_id": "toolu_2", "tool_input": map[string]any{"file_path": "/etc/hosts"}}))
	post(t, d, tok, hookEvent(sessA, "PreToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_3", "tool_input": map[string]any{"command": "false"}}))
	post(t, d, tok, hookEvent(sessA, "PostToolUseFailure", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_3", "error": "exit status 1"}))
	p.waitFor("the failed call", `document.querySelector('#list .row[data-key$=":8"]')?.dataset.call === "failed" && document.querySelector('#list .row[data-key$=":6"]')?.dataset.call === "running"`, 5*time.Second)

	// A hostile payload is text: visible as characters, nothing runs.
	post(t, d, tok, hookEvent(sessB, "UserPromptSubmit", map[string]any{"prompt": xss}))
	xssRow := `document.querySelector('#list .row[data-key$=":9"]')`
	p.waitFor("the XSS row", xssRow+`?.querySelector(".sum").textContent === `+js(xss), 5*time.Second)
	p.click(`#list .row[data-key$=":9"] .line`)
	p.waitFor("the XSS row open in the detail view", `document.querySelector('#detail-body [data-label="prompt"] pre')?.textContent === `+js(xss), 5*time.Second)
	p.click(`#detail-body details.raw summary`)
	p.waitFor("its raw JSON one click away", `document.querySelector("#detail-body details.raw[open] pre.json")?.textContent.includes(`+js(`"prompt": `+jsonQuote(xss))+`)`, 5*time.Second)
	// A redraw of the same record (a running call's 1 s tick, its result
	// arriving) keeps the raw JSON open.
	if !eval[bool](p, `(async () => { const { renderDetail } = await import("/js/detail.js"); renderDetail(); return !!document.querySelector("#detail-body details.raw[open]"); })()`, awaitPromise()) {
		t.Errorf("redrawing the open record closed its raw JSON")
	}
	if h := eval[string](p, `location.hash`); h != "#seq=9" {
		t.Errorf("the open event is not in the address: %q", h)
	}
	if v := eval[string](p, `typeof window.__xss`); v != "undefined" {
		t.Errorf("window.__xss is %s: the payload ran", v)
	}
	if n := eval[int](p, `document.querySelectorAll("#list img, #list script, #sessions img, #detail img, #detail script").length`); n != 0 {
		t.Errorf("%d img/script elements made from event data", n)
	}
	p.colorScheme("light")
	p.shot("live-light")
	p.colorScheme("dark")
	p.shot("live-dark")
	p.colorScheme("light")
	p.press("Escape", "Escape", 27)
	p.waitFor("the detail view closed by Esc", `document.getElementById("detail").hidden && !location.hash.includes("seq")`, 5*time.Second)

	// The charts drew something.
	if n := eval[int](p, `document.querySelectorAll("#chart-pm svg rect").length`); n == 0 {
		p.waitFor("the per-minute chart", `document.querySelectorAll("#chart-pm svg rect").length > 0`, 5*time.Second)
	}
	p.waitFor("the tool-duration view", `[...document.querySelectorAll("#chart-tools .tname")].some(e => e.textContent.startsWith("Bash"))`, 5*time.Second)

	// Filters: event type, tool, text.
	p.click(`#types .chip[data-type="PreToolUse"]`)
	p.waitFor("only PreToolUse rows", `document.body.dataset.shown === "3" && [...document.querySelectorAll("#list .row .type")].every(e => e.textContent === "PreToolUse")`, 5*time.Second)
	p.click(`#types .chip[data-type="PreToolUse"]`)
	p.waitFor("type filter off", `document.body.dataset.shown === "9"`, 5*time.Second)
	eval[bool](p, `(() => { const s = document.getElementById("tool-filter"); s.value = "Bash"; s.dispatchEvent(new Event("change")); return true })()`)
	p.waitFor("only Bash rows", `document.body.dataset.shown === "4" && [...document.querySelectorAll("#list .row .tool")].every(e => e.textContent === "Bash")`, 5*time.Second)
	p.click("#clear-filters")
	p.waitFor("filters cleared", `document.body.dataset.shown === "9"`, 5*time.Second)

	// Keyboard: / focuses search; typing filters; Escape clears and goes to
	// the list; arrows move; Enter expands; c copies.
	p.click("#status") // focus away from inputs
	p.press("/", "Slash", 191)
	p.waitFor("search focused", `document.activeElement.id === "search"`, 2*time.Second)
	p.keys("hello world")
	p.waitFor("search matches one", `document.body.dataset.shown === "1"`, 5*time.Second)
	p.keys(kb.Escape)
	p.waitFor("search cleared, focus on a row", `document.body.dataset.shown === "9" && document.activeElement.matches("#list .row")`, 5*time.Second)
	p.keys(kb.ArrowUp)
	p.waitFor("focus moved up", `document.activeElement.dataset.key?.endsWith(":8")`, 2*time.Second)
	p.keys("\r")
	p.waitFor("opened by Enter", `!document.getElementById("detail").hidden && document.querySelector("#detail-body .block[data-label=error] pre")?.textContent === "exit status 1" && location.hash === "#seq=8"`, 2*time.Second)
	p.keys("k")
	p.waitFor("k moves up and the open view follows", `document.activeElement.dataset.key?.endsWith(":7") && document.querySelector("#detail-body .block[data-label=command] pre")?.textContent === "false"`, 2*time.Second)
	p.keys("j")
	p.waitFor("j moves down", `document.activeElement.dataset.key?.endsWith(":8")`, 2*time.Second)
	p.keys("c")
	p.waitFor("copied", `!document.getElementById("toast").hidden && document.getElementById("toast").textContent.startsWith("Copied event #8")`, 3*time.Second)

	// Session picking: the server filters on the registration.
	p.click(`#sessions li[data-id="` + sessB + `"] input.pick`)
	p.waitFor("only session B", `document.body.dataset.count === "2" && document.body.dataset.live === "1" && [...document.querySelectorAll("#list .row .sess")].every(e => e.title === `+js(sessB)+`)`, 10*time.Second)
	if s := eval[string](p, `location.search`); !strings.Contains(s, "session="+sessB) {
		t.Errorf("selection not in the URL: %q", s)
	}
	post(t, d, tok, hookEvent(sessA, "Notification", map[string]any{"message": "not for B"}))
	post(t, d, tok, hookEvent(sessB, "Notification", map[string]any{"message": "for B"}))
	p.waitFor("B's live event only", `document.body.dataset.count === "3"`, 5*time.Second)
	// A probe (mpm-verify) reaches a page that named its session.
	postWith(t, d, tok, hookEvent(sessB, "Notification", map[string]any{"message": "probe for B"}), map[string]string{"Mpm-Ephemeral": "1"})
	p.waitFor("the probe row", `document.body.dataset.count === "4" && [...document.querySelectorAll("#list .row .seq")].some(e => e.textContent === "probe")`, 5*time.Second)
	p.click(`#sessions li[data-id="` + sessA + `"] input.pick`)
	p.waitFor("A and B", `document.body.dataset.count === "11"`, 10*time.Second)
	p.click("#sess-all")
	p.waitFor("all sessions", `document.body.dataset.count === "11" && !location.search.includes("session=")`, 10*time.Second)
	if st := eval[string](p, `document.querySelector('#sessions li[data-id="`+sessA+`"]').dataset.ended`); st != "0" {
		t.Errorf("session A ended = %q, want 0", st)
	}
	post(t, d, tok, hookEvent(sessB, "SessionEnd", map[string]any{"reason": "exit"}))
	p.waitFor("session B ended", `document.querySelector('#sessions li[data-id="`+sessB+`"]').dataset.ended === "1"`, 5*time.Second)

	// The old URL form: ?port=PORT&session=ID, token from sessionStorage.
	port := d.Addr[strings.LastIndex(d.Addr, ":")+1:]
	p.navigate(dashURL(d, "port="+port+"&session="+sessA, ""))
	p.waitFor("old URL form connected to session A", `document.body.dataset.conn === "connected" && document.body.dataset.count === "8" && document.querySelector('#sessions li[data-id="`+sessA+`"] input.pick')?.checked`, 10*time.Second)
	if n := eval[string](p, `document.getElementById("notices").textContent`); strings.Contains(n, "names port") {
		t.Errorf("a port equal to the page's own was reported: %q", n)
	}
}

func jsonQuote(s string) string {
	// JSON.stringify(…, null, 2) escapes like encoding/json without HTML escaping.
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
