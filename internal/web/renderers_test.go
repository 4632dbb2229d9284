package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// fixtureCall is one tool call of testdata/payloads.json (shared with jstest/).
type fixtureCall struct {
	Name         string         `json:"name"`
	ToolName     string         `json:"tool_name"`
	ToolInput    map[string]any `json:"tool_input"`
	ToolResponse any            `json:"tool_response"`
	Failure      map[string]any `json:"failure"`
}

type fixtures struct {
	Calls   []fixtureCall `json:"calls"`
	Hostile []string      `json:"hostile"`
}

func loadFixtures(t *testing.T) fixtures {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/payloads.json: %v", err)
	}
	return f
}

// postCall sends a fixture call's PreToolUse and its result; it returns
// how many events it sent.
func postCall(t *testing.T, d *testutil.Daemon, tok, session, id string, c fixtureCall) int {
	t.Helper()
	post(t, d, tok, hookEvent(session, "PreToolUse", map[string]any{"tool_name": c.ToolName, "tool_use_id": id, "tool_input": c.ToolInput}))
	switch {
	case c.Failure != nil:
		ev := map[string]any{"tool_name": c.ToolName, "tool_use_id": id, "tool_input": c.ToolInput}
		for k, v := range c.Failure {
			ev[k] = v
		}
		post(t, d, tok, hookEvent(session, "PostToolUseFailure", ev))
	case c.ToolResponse != nil:
		post(t, d, tok, hookEvent(session, "PostToolUse", map[string]any{"tool_name": c.ToolName, "tool_use_id": id, "tool_input": c.ToolInput, "tool_response": c.ToolResponse}))
	default:
		return 1
	}
	return 2
}

// hostileCopy puts s around every string in v.
func hostileCopy(v any, s string) any {
	switch x := v.(type) {
	case string:
		return s + x + s
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = hostileCopy(y, s)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, y := range x {
			out[k] = hostileCopy(y, s)
		}
		return out
	}
	return v
}

// TestDashboardRenderers: every tool's call opens in the detail view as a
// person reads it (what the browser shows, per tool), the raw JSON is one
// click away, long outputs fold, and hostile payloads — markup, ANSI
// escapes, bidi overrides — in every field of every renderer stay text.
func TestDashboardRenderers(t *testing.T) {
	f := loadFixtures(t)
	d := testutil.StartDaemon(t)
	tok := d.Token()
	post(t, d, tok, hookEvent(sessA, "SessionStart", map[string]any{"source": "startup"}))
	posted := 1
	for _, c := range f.Calls {
		posted += postCall(t, d, tok, sessA, "toolu_"+c.Name, c)
	}
	p := newPage(t, d)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("all calls loaded", `document.body.dataset.live === "1" && document.querySelectorAll("#list .row").length > 10`, 15*time.Second)

	// What each tool's detail view must show (the text a person reads).
	want := map[string][]string{
		"bash":         {"Run the tests", "go test ./internal/...", "ok  \tgithub.com/mpm-dev/mpm/internal/hub\t1.204s"},
		"bash-failure": {"the tool failed", "Exit code 1\nsomething went wrong"},
		"edit":         {"/home/dev/proj/main.go", "@@ -3,3 +3,4 @@", "-\tfmt.Println(\"hi\")", "+\tos.Exit(0)"},
		"multiedit":    {"-# Old title", "+# New title", "edit 2 (replace all)"},
		"write":        {"29 B, 3 lines", "created a new file", "1  line one"},
		"read":         {"lines 1–3 of 12", "1  module example.com/proj"},
		"notebookedit": {"cell-3", "import pandas as pd"},
		"grep":         {"func New", "*.go", "2 files", "internal/journal/journal.go"},
		"glob":         {"**/*_test.go", "3 files", "/home/dev/proj/b_test.go"},
		"webfetch":     {"https://example.com/docs", "200 OK", "It has three sections."},
		"websearch":    {"golang websocket close codes", "coder/websocket — https://github.com/coder/websocket"},
		"task":         {"Explore", "Look through internal/", "Found two", "42.1 s"},
		"todowrite":    {"☑Split app.js", "◐Rendering tool calls", "☐Write the tests", "1 done, 1 in progress, 1 pending"},
		"mcp":          {"create_issue (MCP server github)", "labels:", "good first issue", "Created issue #15"},
		"other":        {"plan:", "1. Split app.js\n2. Render tools", "isAgent:"},
	}
	for _, c := range f.Calls {
		search(p, `"tool_use_id":"toolu_`+c.Name+`"`)
		p.waitFor(c.Name+"'s rows", `document.body.dataset.shown === "`+fmt.Sprint(map[bool]int{true: 1, false: 2}[c.Failure == nil && c.ToolResponse == nil])+`" && document.querySelector("#list .row .type")`, 5*time.Second)
		eval[bool](p, `(() => { [...document.querySelectorAll("#list .row")].find(r => r.querySelector(".type").textContent === "PreToolUse").querySelector(".line").click(); return true })()`)
		p.waitFor(c.Name+" open", `document.getElementById("detail-body").dataset.key && !document.getElementById("detail").hidden && document.getElementById("detail-title").textContent.includes(`+js(strings.SplitN(c.ToolName, "__", 3)[len(strings.SplitN(c.ToolName, "__", 3))-1])+`)`, 5*time.Second)
		body := eval[string](p, `document.getElementById("detail").innerText`)
		for _, w := range want[c.Name] {
			if !strings.Contains(body, w) && !strings.Contains(eval[string](p, `document.getElementById("detail").textContent`), w) {
				t.Errorf("%s: the detail view lacks %q:\n%s", c.Name, w, body)
			}
		}
		if c.Name == "edit" {
			p.shot("detail-edit-1400")
		}
	}
	search(p, "")
	// The raw JSON and its copy buttons, one click away.
	p.click(`#detail-body details.raw summary`)
	p.waitFor("raw JSON", `document.querySelectorAll("#detail-body details.raw[open] pre.json").length === 2 && document.querySelectorAll("#detail-body details.raw .copy").length === 4`, 5*time.Second)

	// The row summaries say the telling thing.
	sums := eval[[]string](p, allSums, awaitPromise())
	for _, w := range []string{"func New in internal (*.go)", "/home/dev/proj/main.go +2 −1", "false → Exit code 1", "/home/dev/proj/go.mod (lines 1–3)", "3 todos: 1 done, 1 in progress, 1 pending"} {
		found := false
		for _, s := range sums {
			found = found || s == w
		}
		if !found {
			t.Errorf("no row says %q; rows: %q", w, sums)
		}
	}

	// A long output folds, and unfolds on request.
	long := make([]string, 2314)
	for i := range long {
		long[i] = fmt.Sprintf("output line %d", i+1)
	}
	posted += postCall(t, d, tok, sessA, "toolu_long", fixtureCall{ToolName: "Bash", ToolInput: map[string]any{"command": "seq 2314"}, ToolResponse: map[string]any{"stdout": strings.Join(long, "\n"), "stderr": ""}})
	p.waitFor("the long call", `[...document.querySelectorAll("#list .row .sum")].some(e => e.textContent === "seq 2314")`, 5*time.Second)
	eval[bool](p, `(() => { [...document.querySelectorAll("#list .row")].find(r => r.querySelector(".sum").textContent === "seq 2314").querySelector(".line").click(); return true })()`)
	p.waitFor("folded at 200 lines", `document.querySelector("#detail-body [data-label=stdout] pre")?.textContent.split("\n").length === 200 && document.querySelector("#detail-body [data-label=stdout] .more")?.textContent === "show all 2,314 lines"`, 5*time.Second)
	p.click(`#detail-body [data-label=stdout] .more`)
	p.waitFor("all 2,314 lines", `document.querySelector("#detail-body [data-label=stdout] pre")?.textContent.split("\n").length === 2314`, 5*time.Second)

	// Hostile payloads in every field of every renderer.
	n := 0
	for hi, h := range f.Hostile {
		sess := fmt.Sprintf("dddd%04d-2222-3333-4444-555566667777", hi)
		for _, c := range f.Calls {
			hc := c
			hc.ToolInput, _ = hostileCopy(c.ToolInput, h).(map[string]any)
			hc.ToolResponse = hostileCopy(c.ToolResponse, h)
			if c.Failure != nil {
				hc.Failure, _ = hostileCopy(c.Failure, h).(map[string]any)
			}
			posted += postCall(t, d, tok, sess, fmt.Sprintf("toolu_x%d_%s", hi, c.Name), hc)
			n++
		}
		post(t, d, tok, hookEvent(sess, "Notification", map[string]any{"message": h, "notification_type": h}))
		post(t, d, tok, hookEvent(sess, "SubagentStart", map[string]any{"agent_id": h, "agent_type": h}))
		post(t, d, tok, hookEvent(sess, "UserPromptSubmit", map[string]any{"prompt": h}))
		posted += 3
	}
	p.waitFor("every hostile event loaded", fmt.Sprintf(`document.body.dataset.count === "%d"`, posted), 15*time.Second)
	// Open every event's detail view in turn, from the first, by keyboard (j),
	// with its raw JSON open too.
	opened := eval[int](p, `new Promise(async (done) => {
		const list = document.getElementById("list");
		list.scrollTop = 0;
		await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
		document.querySelector("#list .row .line").click();
		const seen = new Set();
		let prev = null;
		for (let i = 0; i < +document.body.dataset.shown; i++) {
			// Until the focused row is a new one and the detail view shows it
			// (a busy machine takes more than a frame; 2 s at most).
			const t0 = performance.now();
			let key;
			do {
				await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
				key = document.activeElement?.closest?.(".row")?.dataset.key;
			} while ((key === prev || document.getElementById("detail-body").dataset.key !== key) && performance.now() - t0 < 2000);
			prev = key;
			const raw = document.querySelector("#detail-body details.raw");
			if (raw) raw.open = true;
			seen.add(document.getElementById("detail-body").dataset.key);
			if (window.__xss) break;
			if (document.querySelector("#detail img, #detail script, #list img, #list script, #sessions img, #sessions script, #focus img, #focus script")) { window.__xss = "element"; break; }
			document.activeElement.dispatchEvent(new KeyboardEvent("keydown", { key: "j", bubbles: true }));
		}
		done(seen.size);
	})`, awaitPromise())
	if opened < posted-1 {
		t.Errorf("opened %d events' detail views, want %d (all but the probe-free SessionStart's duplicates)", opened, posted)
	}
	t.Logf("opened %d detail views of %d events (%d hostile calls)", opened, posted, n)
	if v := eval[string](p, `String(window.__xss)`); v != "undefined" {
		t.Fatalf("window.__xss = %s: a payload ran or became an element", v)
	}
	// ANSI escapes never reach the page; bidi overrides show as marks.
	if bad := eval[string](p, `(() => { const t = document.body.innerText; const m = t.match(/[\u001b\u202a-\u202e\u2066-\u2069]/); return m ? JSON.stringify(t.slice(Math.max(0, m.index - 40), m.index + 40)) : "" })()`); bad != "" {
		t.Errorf("an escape or bidi control reached the page's text: %s", bad)
	}
	if !strings.Contains(eval[string](p, `document.body.textContent`), "⟨U+202E⟩") {
		t.Error("a bidi override is not shown as a visible mark")
	}

	// Screenshots: 1400×900 and a 400×800 phone, a call open in each.
	search(p, `"tool_use_id":"toolu_edit"`)
	eval[bool](p, `(() => { [...document.querySelectorAll("#list .row")].find(r => r.querySelector(".type").textContent === "PreToolUse").querySelector(".line").click(); return true })()`)
	search(p, "")
	p.waitFor("the edit open", `document.getElementById("detail-title").textContent.startsWith("Edit ")`, 5*time.Second)
	shotAt(t, p, 1400, 900, "renderers-1400x900")
	shotAt(t, p, 400, 800, "renderers-400x800-detail")
	p.press("Escape", "Escape", 27)
	p.waitFor("closed", `document.getElementById("detail").hidden`, 5*time.Second)
	shotAt(t, p, 400, 800, "renderers-400x800-list")
	if w := eval[int](p, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		t.Errorf("at 400 px the page scrolls sideways by %d px", w)
	}
}

// shotAt resizes the viewport, waits for the page to lay out, and saves a
// screenshot; its path is logged.
func shotAt(t *testing.T, p *page, w, h int64, name string) {
	t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatal(err)
	}
	eval[bool](p, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, awaitPromise())
	t.Logf("screenshot %s", p.shot(name))
}

// search types into the search box (as a person would, through its input
// event) and waits for the list to filter.
func search(p *page, s string) {
	p.t.Helper()
	eval[bool](p, `(() => { const s = document.getElementById("search"); s.value = `+js(s)+`; s.dispatchEvent(new Event("input")); return true })()`)
	p.waitFor("the search applied", `document.querySelector("#list .row") !== null || document.body.dataset.shown === "0"`, 5*time.Second)
	eval[bool](p, `new Promise(r => setTimeout(() => requestAnimationFrame(() => r(true)), 200))`, awaitPromise())
}

// allSums scrolls the list from top to bottom and collects every row's summary.
const allSums = `new Promise(async (done) => {
	const list = document.getElementById("list");
	const got = new Set();
	for (let y = 0; ; y += list.clientHeight / 2) {
		list.scrollTop = y;
		await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
		for (const e of list.querySelectorAll(".row .sum")) got.add(e.textContent);
		if (y > list.scrollHeight) break;
	}
	done([...got]);
})`
