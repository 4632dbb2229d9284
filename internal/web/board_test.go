package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// realSession reads the payloads captured from a real Claude Code run (the
// state helper's harness, internal/testutil/claudecode).
func realSession(t *testing.T) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "sessions", "testdata", "claudecode", "session.jsonl"))
	if err != nil {
		t.Fatalf("the captured Claude Code session: %v", err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestDashboardBoard: of three sessions the one that needs permission shows
// first, with its badge (icon and words and how long), the tab title
// "(1) mpm" and the favicon badge; working and idle follow. Rows of a real
// Claude Code session show the permission wait apart from the run, the
// subagent's events carry its badge, and the session's tree lists the main
// agent and the subagent with their calls. A browser notification comes
// only after the button turned them on.
func TestDashboardBoard(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	real := realSession(t)
	realID, _ := real[0]["session_id"].(string)
	// The real session up to its second PermissionRequest (rm -rf build):
	// it waits for permission. Its first Bash call waited too, then ran.
	var posted int
	for _, p := range real {
		body, _ := json.Marshal(p)
		var ev map[string]any
		json.Unmarshal(body, &ev)
		if ev["hook_event_name"] == "PostToolUse" && ev["tool_name"] == "Bash" {
			time.Sleep(1200 * time.Millisecond) // a visible permission wait: the row shows it apart from the run (the figure, not the order, depends on it)
		}
		post(t, d, tok, ev)
		posted++
		if ev["hook_event_name"] == "PermissionRequest" && posted > 10 {
			break
		}
	}
	post(t, d, tok, hookEvent(sessB, "UserPromptSubmit", map[string]any{"prompt": "run the benchmarks"}))
	post(t, d, tok, hookEvent(sessB, "PreToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_bench", "tool_input": map[string]any{"command": "make bench"}}))
	post(t, d, tok, hookEvent(sessC, "SessionStart", map[string]any{"source": "startup"}))
	post(t, d, tok, hookEvent(sessC, "UserPromptSubmit", map[string]any{"prompt": "hi"}))
	post(t, d, tok, hookEvent(sessC, "Stop", map[string]any{"last_assistant_message": "Hello!"}))

	p := newPage(t, d)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("three cards", `document.body.dataset.live === "1" && document.querySelectorAll("#sessions li.session").length === 3`, 15*time.Second)
	order := `[...document.querySelectorAll("#sessions li.session")].map(l => l.dataset.id + "=" + l.dataset.state).join(" ")`
	p.waitFor("needs-permission first, then working, then idle", order+` === `+js(realID+"=needs_permission "+sessB+"=working "+sessC+"=idle"), 5*time.Second)
	first := `document.querySelector("#sessions li.session")`
	if b := eval[string](p, first+`.querySelector(".badge").textContent`); !strings.HasPrefix(b, "▲needs permission · ") {
		t.Errorf("the first card's badge says %q", b)
	}
	if r := eval[string](p, first+`.querySelector(".running").textContent`); !strings.HasPrefix(r, "Bash: rm -rf build") {
		t.Errorf("the first card's running tool: %q", r)
	}
	if pr := eval[string](p, first+`.querySelector(".prompt").textContent`); pr != "“Read x.txt, print 42, explore, then clean the build”" {
		t.Errorf("the first card's last prompt: %q", pr)
	}
	p.waitFor("the title count and favicon badge", `document.title === "(1) mpm" && document.querySelector('link[rel="icon"]').getAttribute("href") === "favicon-attention.svg"`, 5*time.Second)

	// Rows: the wait apart from the run; the subagent's events badged; the
	// Subagent and PermissionRequest rows say what they are about.
	waited := `[...document.querySelectorAll("#list .row")].find(r => r.querySelector(".tool").textContent === "Bash" && r.querySelector(".type").textContent === "PreToolUse" && r.querySelector(".sum").textContent.startsWith("python3"))`
	p.waitFor("waited · ran on the Bash call that asked", waited+`?.querySelector(".call").textContent.match(/^waited \d+(\.\d+)? (ms|s) · ran 539 ms$/)`, 5*time.Second)
	p.waitFor("the subagent's badge", `[...document.querySelectorAll("#list .row[data-agent]")].length === 2 && [...document.querySelectorAll("#list .row[data-agent] .agent")].every(e => e.textContent === "Explore")`, 5*time.Second)
	p.waitFor("the Subagent rows", `[...document.querySelectorAll("#list .row")].filter(r => r.querySelector(".type").textContent.startsWith("Subagent") && r.querySelector(".sum").textContent === "Explore · a78510af").length === 2`, 5*time.Second)
	shotAt(t, p, 1400, 900, "board-1400x900")
	p.colorScheme("dark")
	shotAt(t, p, 1400, 900, "board-1400x900-dark")
	p.colorScheme("light")
	shotAt(t, p, 400, 800, "board-400x800")
	shotAt(t, p, 1400, 900, "board-1400x900")

	// The session's tree: click its name; main agent and the subagent.
	p.click(`#sessions li[data-id="` + realID + `"] .proj`)
	p.waitFor("only that session, and its tree", `document.body.dataset.live === "1" && document.querySelectorAll("#focus details.agentnode").length === 2`, 10*time.Second)
	tree := eval[string](p, `[...document.querySelectorAll("#focus details.agentnode")].map(d => d.querySelector("summary").textContent + ":" + [...d.querySelectorAll(".calllink .tool")].map(e => e.textContent).join(",")).join(" | ")`)
	if tree != "main agent 4 calls:Read,Bash,Agent,Bash | Explore · a78510af 1 call · done:Read" {
		t.Errorf("the session tree: %q", tree)
	}
	p.click(`#focus details.agentnode[data-agent="a78510aff3abfce40"] summary`)
	p.waitFor("the subagent opened", `document.querySelector('#focus details.agentnode[data-agent="a78510aff3abfce40"]').open`, 5*time.Second)
	p.click(`#focus details.agentnode[data-agent="a78510aff3abfce40"] .calllink`)
	p.waitFor("its call open in the detail view", `document.getElementById("detail-title").textContent === "Read /home/dev/proj/x.txt" && document.querySelector("#detail-meta .agent")?.textContent === "Explore"`, 5*time.Second)
	p.click(`#focus details.agentnode[data-agent="a78510aff3abfce40"] .agentlink`)
	p.waitFor("only the subagent's events", `document.body.dataset.shown === "4" && !document.getElementById("agent-filter").hidden`, 5*time.Second)
	shotAt(t, p, 1400, 900, "board-tree-1400x900")
	p.colorScheme("dark")
	shotAt(t, p, 1400, 900, "board-tree-1400x900-dark")
	p.colorScheme("light")
	p.click("#agent-filter")
	p.click("#sess-all")
	p.waitFor("all sessions again", `document.body.dataset.live === "1" && document.querySelectorAll("#sessions li.session.selected").length === 0`, 10*time.Second)

	// Notifications: off until the button turns them on; then one when a
	// session enters needs_permission.
	if on := eval[string](p, `localStorage.getItem("mpm.notify") || ""`); on != "" {
		t.Errorf("notifications on before anyone asked: %q", on)
	}
	grantNotifications(t, p, d)
	post(t, d, tok, hookEvent(sessC, "Notification", map[string]any{"message": "Claude needs your permission to use Bash", "notification_type": "permission_prompt"}))
	p.waitFor("a notification for session C", `window.__notes.length === 1 && window.__notes[0].startsWith("cccc: needs permission") && window.__notes[0].endsWith(" | Claude needs your permission to use Bash")`, 10*time.Second)
	p.waitFor("two sessions need you", `document.title === "(2) mpm"`, 5*time.Second)
	// Optionally, when a turn ends too.
	p.click("#notify-turns")
	post(t, d, tok, hookEvent(sessB, "Stop", map[string]any{"last_assistant_message": "Benchmarks done."}))
	p.waitFor("a notification for B's turn", `window.__notes.length === 2 && window.__notes[1].startsWith("bbbb: the turn is over")`, 10*time.Second)
	p.waitFor("C second (it waits less long)", `[...document.querySelectorAll("#sessions li.session")].map(l => l.dataset.id).slice(0, 2).join(" ") === `+js(realID+" "+sessC), 5*time.Second)
}

// grantNotifications lets the page show notifications, records them in
// window.__notes ("title | body") and turns them on with the button.
func grantNotifications(t *testing.T, p *page, d *testutil.Daemon) {
	t.Helper()
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"},
			Setting:    cdpbrowser.PermissionSettingGranted,
			Origin:     strings.TrimSuffix(d.URL("/"), "/"),
		})
		return err
	}))
	if err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
	eval[bool](p, `(() => { const N = window.Notification; window.__notes = []; window.Notification = class extends N { constructor(t, o) { super(t, o); window.__notes.push(t + " | " + (o && o.body)); } }; return true })()`)
	p.click("#notify-btn")
	p.waitFor("notifications on", `document.getElementById("notify-btn").getAttribute("aria-pressed") === "true"`, 5*time.Second)
}
