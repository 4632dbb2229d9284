package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// writeTranscript copies the usage package's handwritten transcript into
// the Claude config dir's projects/ (the only place the daemon reads
// transcripts from), keeping its first keep lines (0 = all), and returns
// its path.
func writeTranscript(t *testing.T, configDir, name string, keep int) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "usage", "testdata", "handwritten-cost-state.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimRight(string(src), "\n"), "\n")
	if keep > 0 {
		lines = lines[:keep]
	}
	dir := filepath.Join(configDir, "projects", "-home-dev-shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// appendCostState appends the handwritten transcript's cost-state record
// ($0.0421875) to the transcript at path.
func appendCostState(t *testing.T, path string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "usage", "testdata", "handwritten-cost-state.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(src), "\n"), "\n")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines[len(lines)-1] + "\n"); err != nil {
		t.Fatal(err)
	}
}

// TestDashboardUsage: a session whose transcript has Claude Code's
// cost-state record shows its cost exactly, one without it shows the
// estimate with "~", both with their total tokens and a context gauge whose
// percentage is in words; a session whose transcript the daemon may not
// read (outside the config dir) shows no usage line. With
// --budget-session-usd 0.03 the first ($0.04) is in the inbox: first on the
// board, highlighted, counted in the title, "over its budget" in words;
// the second, once it passes the budget too, gets a browser notification.
func TestDashboardUsage(t *testing.T) {
	configDir := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", configDir)
	exact := writeTranscript(t, configDir, "exact.jsonl", 0)
	estimate := writeTranscript(t, configDir, "estimate.jsonl", 7) // without the cost-state record
	d := testutil.StartDaemon(t, "--budget-session-usd", "0.03")
	tok := d.Token()
	for _, s := range []struct{ id, path string }{{sessA, exact}, {sessB, estimate}, {sessC, filepath.Join(t.TempDir(), "outside.jsonl")}} {
		post(t, d, tok, hookEvent(s.id, "UserPromptSubmit", map[string]any{"prompt": "hi", "transcript_path": s.path}))
		post(t, d, tok, hookEvent(s.id, "Stop", map[string]any{"transcript_path": s.path}))
	}

	p := newPage(t, d)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("three cards", `document.body.dataset.live === "1" && document.querySelectorAll("#sessions li.session").length === 3`, 15*time.Second)
	card := func(id string) string {
		return `document.querySelector('#sessions li.session[data-id="` + id + `"] .usage')`
	}
	// 1200+150+10000+3000 + 400+30+2000 = 16,780 tokens; Claude Code's cost 0.0421875.
	p.waitFor("the exact cost", card(sessA)+`.hidden === false && `+card(sessA)+`.querySelector(".cost").textContent === "$0.04" && `+card(sessA)+`.querySelector(".tokens").textContent === "16.8k tokens"`, 10*time.Second)
	p.waitFor("the estimate", card(sessB)+`.hidden === false && `+card(sessB)+`.querySelector(".cost").textContent.startsWith("~$") && `+card(sessB)+`.querySelector(".tokens").textContent === "16.8k tokens"`, 10*time.Second)
	for _, id := range []string{sessA, sessB} {
		got := eval[string](p, `(() => { const u = `+card(id)+`; const g = u.querySelector(".gauge"); return [u.querySelector(".ctx").hidden, g.getAttribute("role"), g.getAttribute("aria-valuenow"), u.querySelector(".ctxtext").textContent, u.title.includes("cost")].join("|") })()`)
		parts := strings.Split(got, "|")
		if len(parts) != 5 || parts[0] != "false" || parts[1] != "meter" || parts[3] != "context "+parts[2]+"%" || parts[4] != "true" {
			t.Errorf("session %s context gauge: %q; want visible, role meter, its percentage in words, a title", id[:8], got)
		}
	}
	if est := eval[string](p, card(sessB)+`.title`); !strings.Contains(est, "estimated") {
		t.Errorf("the estimate's title does not say so: %q", est)
	}
	if hidden := eval[bool](p, card(sessC)+`.hidden`); !hidden {
		t.Errorf("a session without usage shows a usage line")
	}
	// The budget: A in the inbox, B (~$0.02) and C not.
	p.waitFor("A over budget, first, in the inbox", `(() => { const l = document.querySelector("#sessions li.session"); const o = l.querySelector(".usage .over");
		return l.dataset.id === `+js(sessA)+` && l.dataset.attention === "1" && !o.hidden && o.textContent === "over its budget $0.04 of $0.03" && o.title.includes("--budget-session-usd") })()`, 10*time.Second)
	p.waitFor("one session needs you", `document.title === "(1) mpm"`, 5*time.Second)
	if got := eval[string](p, `[`+card(sessB)+`.querySelector(".over").hidden, document.querySelector('#sessions li.session[data-id="`+sessB+`"]').dataset.attention].join(" ")`); got != "true 0" {
		t.Errorf("B under its budget: .over hidden, attention = %q, want true 0", got)
	}
	// 400 first: a first shot after the resize from 1280 can miss the list's rows (as in board_test).
	shotAt(t, p, 400, 800, "usage-400")
	shotAt(t, p, 1400, 900, "usage-1400")

	// B passes its budget (its transcript gets the cost-state record) with
	// notifications on: one browser notification, and both in the inbox.
	// (The prompt first: a crossing waits for the person's next prompt.)
	grantNotifications(t, p, d)
	post(t, d, tok, hookEvent(sessB, "UserPromptSubmit", map[string]any{"prompt": "more", "transcript_path": estimate}))
	appendCostState(t, estimate)
	post(t, d, tok, hookEvent(sessB, "PreToolUse", map[string]any{"tool_name": "Read", "tool_use_id": "toolu_more", "tool_input": map[string]any{"file_path": "/x"}, "transcript_path": estimate}))
	p.waitFor("a notification for B over budget", `window.__notes.length === 1 && window.__notes[0] === "bbbb: over its budget $0.04 of $0.03 | more"`, 10*time.Second)
	p.waitFor("two sessions need you", `document.title === "(2) mpm"`, 5*time.Second)
	// A prompt to A: A has been seen to, out of the inbox, still over budget.
	post(t, d, tok, hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": "go on", "transcript_path": exact}))
	p.waitFor("A seen to", `document.title === "(1) mpm" && document.querySelector('#sessions li.session[data-id="`+sessA+`"]').dataset.attention === "0" && !`+card(sessA)+`.querySelector(".over").hidden`, 10*time.Second)
	if n := eval[int](p, `window.__notes.length`); n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}
}

// TestDashboardSearchHistory: Enter in the search box asks the daemon's
// journal; the hits list shows the one matching event, older than the
// page's loaded tail, and a click opens it. A payload with markup shows as
// its characters in the hits list and never runs; a query the daemon cannot
// understand and a memory-only daemon show the daemon's reason.
func TestDashboardSearchHistory(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	target := post(t, d, tok, hookEvent(sessA, "PreToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_z", "tool_input": map[string]any{"command": "scp zanzibar.tar host:"}}))
	post(t, d, tok, hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": `look at <img src=x onerror="window.__xss=1"> xsswidget <script>window.__xss=2</script>`}))
	for i := 0; i < 5; i++ {
		post(t, d, tok, hookEvent(sessB, "UserPromptSubmit", map[string]any{"prompt": "filler"}))
	}

	p := newPage(t, d)
	p.navigate(dashURL(d, "tail=3", tok)) // the target is not among the loaded events
	p.waitFor("live with the tail", `document.body.dataset.live === "1"`, 15*time.Second)
	if n := eval[string](p, `document.body.dataset.count`); n != "3" {
		t.Fatalf("%s events loaded, want the tail of 3: the test would not show that a hit loads an older event", n)
	}
	ask := func(q string) {
		t.Helper()
		eval[bool](p, `(() => { const s = document.getElementById("search"); s.value = `+js(q)+`; s.dispatchEvent(new Event("input")); s.focus(); return true })()`)
		p.press("Enter", "Enter", 13)
	}
	ask("zanzibar")
	p.waitFor("one hit", `!document.getElementById("hits").hidden && document.querySelectorAll("#hits-list li").length === 1 && document.querySelector("#hits-list li").dataset.seq === `+js(target), 10*time.Second)
	if m := eval[string](p, `document.querySelector("#hits-list mark")?.textContent || ""`); !strings.Contains(strings.ToLower(m), "zanzibar") {
		t.Errorf("the hit's match is not marked: %q", m)
	}
	if snip := eval[string](p, `document.querySelector("#hits-list .snip").textContent`); !strings.Contains(snip, "scp zanzibar") {
		t.Errorf("the snippet lost its spaces around the match: %q", snip)
	}
	shotAt(t, p, 1400, 900, "search-1400")
	shotAt(t, p, 400, 800, "search-400")
	p.click("#hits-list li button.hit")
	p.waitFor("the hit opened", `!document.getElementById("detail").hidden && location.hash === "#seq=`+target+`" && document.getElementById("detail").textContent.includes("zanzibar")`, 10*time.Second)

	ask("xsswidget")
	p.waitFor("the markup hit", `document.querySelectorAll("#hits-list li").length === 1 && document.querySelector("#hits-list .snip").textContent.includes("<img src=x onerror=")`, 10*time.Second)
	if got := eval[string](p, `[document.querySelectorAll("#hits-list img, #hits-list script").length, typeof window.__xss, [...document.querySelectorAll("#hits-list .snip *")].every(e => e.tagName === "MARK")].join(" ")`); got != "0 undefined true" {
		t.Errorf("hits list with markup: %q; want no element but <mark>, nothing run", got)
	}
	shotAt(t, p, 1400, 900, "search-xss-1400")

	ask(`"unbalanced`)
	p.waitFor("the daemon's reason for a bad query", `document.getElementById("hits-status").dataset.error === "1" && document.getElementById("hits-status").textContent.startsWith("The query was not understood: ") && document.querySelectorAll("#hits-list li").length === 0`, 10*time.Second)

	mem := testutil.StartDaemon(t, "--journal=false")
	post(t, mem, mem.Token(), hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": "hi"}))
	p2 := newPage(t, mem)
	p2.navigate(dashURL(mem, "", mem.Token()))
	p2.waitFor("live", `document.body.dataset.live === "1"`, 15*time.Second)
	eval[bool](p2, `(() => { document.getElementById("search").value = "hi"; return true })()`)
	p2.click("#search-all")
	p2.waitFor("the daemon's reason for no journal", `document.getElementById("hits-status").textContent.includes("--journal=false")`, 10*time.Second)
}
