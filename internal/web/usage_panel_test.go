package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// panelLine is an assistant record as Claude Code 2.1 writes it, with its
// timestamp.
func panelLine(ts time.Time, id, model string, in, out int64) string {
	return fmt.Sprintf(`{"parentUuid":null,"isSidechain":false,"message":{"content":[{"text":"x","type":"text"}],"id":%q,"model":%q,"role":"assistant","type":"message","usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%d}},"requestId":"req_%s","type":"assistant","uuid":"u-%s","timestamp":%q,"sessionId":"s"}`+"\n",
		id, model, in, out, id, id, ts.UTC().Format(time.RFC3339Nano))
}

func writeAll(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDashboardUsagePanel: the Usage button (and the u key) opens the usage
// panel, which reads GET /v1/usage in the page's time zone (here Kolkata,
// half an hour off UTC): today's and this week's cost and tokens, per
// project and per model, and the cost per hour, from transcripts with
// known timestamps and token counts. "shop" began yesterday (a sonnet
// message at 23:50, $0.45) and went on today (haiku, $0.30, and its
// subagent's haiku, $0.01): today counts only what it used today, its
// subagent inside it; "blog" has Claude Code's cost-state record ($0.50).
func TestDashboardUsagePanel(t *testing.T) {
	configDir := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", configDir)
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skipf("no time zone data for Asia/Kolkata: %v", err)
	}
	now := time.Now().In(ist)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, ist)
	mid := midnight.Add(now.Sub(midnight) / 2) // today, before now
	const sonnet, haiku = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"
	shop := filepath.Join(configDir, "projects", "-home-dev-shop", "shop.jsonl")
	blog := filepath.Join(configDir, "projects", "-home-dev-blog", "blog.jsonl")
	writeAll(t, shop, panelLine(midnight.Add(-10*time.Minute), "m1", sonnet, 100_000, 10_000)+ // $0.30 + $0.15, yesterday
		panelLine(midnight.Add(-10*time.Minute+time.Second), "m1", sonnet, 100_000, 10_000)+ // the same message's second line
		panelLine(mid, "m2", haiku, 200_000, 20_000)) // $0.20 + $0.10
	writeAll(t, filepath.Join(configDir, "projects", "-home-dev-shop", "shop", "subagents", "agent-ag1.jsonl"),
		panelLine(mid, "m3", haiku, 10_000, 0)) // $0.01
	writeAll(t, blog, panelLine(mid, "m4", sonnet, 1000, 100)+
		`{"type":"cost-state","totalCostUSD":0.5,"modelUsage":{"`+sonnet+`":{"inputTokens":1000,"outputTokens":100,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":0.5}},"sessionId":"s"}`+"\n")

	d := testutil.StartDaemon(t)
	tok := d.Token()
	post(t, d, tok, map[string]any{"session_id": sessA, "hook_event_name": "UserPromptSubmit", "prompt": "hi", "cwd": "/home/dev/shop", "transcript_path": shop})
	post(t, d, tok, map[string]any{"session_id": sessA, "hook_event_name": "SubagentStop", "agent_id": "ag1", "agent_type": "Explore", "cwd": "/home/dev/shop", "transcript_path": shop})
	post(t, d, tok, map[string]any{"session_id": sessB, "hook_event_name": "Stop", "cwd": "/home/dev/blog", "transcript_path": blog})

	p := newPage(t, d)
	if err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"})
		return err
	})); err != nil {
		t.Fatalf("emulate the time zone: %v", err)
	}
	p.navigate(dashURL(d, "", tok))
	card := `document.querySelector('#sessions li.session[data-id="` + sessA + `"] .usage')`
	p.waitFor("the shop card with its subagent's share", card+` && `+card+`.querySelector(".subs")?.textContent === "incl. 1 subagent ~$0.01"`, 15*time.Second)
	if got := eval[string](p, card+`.title`); !strings.Contains(got, "incl. 1 subagent ~$0.01 (their cost is inside this session's)") {
		t.Errorf("the card's title does not say the subagent's cost is inside: %q", got)
	}

	if eval[bool](p, `!document.getElementById("usage").hidden`) {
		t.Fatal("the usage panel is open before it was asked for")
	}
	p.press("u", "KeyU", 85)
	p.waitFor("today's figures", `!document.getElementById("usage").hidden && document.getElementById("usage-btn").getAttribute("aria-pressed") === "true" && document.querySelector("#usage-today .ucost").textContent === "~$0.81"`, 15*time.Second)
	if got := eval[string](p, `document.activeElement.id`); got != "usage-today" {
		t.Errorf("the focus is on %q after opening, want the panel's Today button", got)
	}
	if got := eval[string](p, `document.querySelector("#usage-today .urest").textContent`); got != "231k tokens · 2 sessions" {
		t.Errorf("today: %q, want 231k tokens (shop's 220k + its subagent's 10k + blog's 1.1k) · 2 sessions", got)
	}
	rows := func(table string) string {
		return eval[string](p, `[...document.querySelectorAll("#`+table+` tbody tr")].map(r => [...r.children].map(c => c.textContent).join(",")).join(" | ")`)
	}
	if got, want := rows("usage-projects"), "blog,$0.50,1.1k,1 | shop,~$0.31,230k,1"; got != want {
		t.Errorf("today by project: %q, want %q", got, want)
	}
	if got, want := rows("usage-models"), sonnet+",~$0.50,1.1k | "+haiku+",~$0.31,230k"; got != want {
		t.Errorf("today by model: %q, want %q", got, want)
	}
	hour := fmt.Sprintf("%02d", mid.Hour())
	bars := eval[string](p, `(() => { const b = [...document.querySelectorAll("#usage-chart svg rect.ubar")]; return b.length + " " + b.filter(r => +r.dataset.usd > 0).map(r => r.dataset.label + "=" + (+r.dataset.usd).toFixed(4)).join(",") })()`)
	if want := "24 " + hour + "=0.8100"; bars != want {
		t.Errorf("cost per hour: %q, want 24 bars, today's $0.81 in %s's", bars, hour)
	}
	shotAt(t, p, 1400, 900, "usage-panel-1400")
	shotAt(t, p, 400, 800, "usage-panel-400")
	chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, 800))

	// This week: yesterday's sonnet message too, unless today is Monday.
	weekCost, weekTok, weekBars := "~$1.26", "341k tokens · 2 sessions", 7
	if now.Weekday() == time.Monday {
		weekCost, weekTok = "~$0.81", "231k tokens · 2 sessions"
	}
	p.click("#usage-week")
	p.waitFor("this week's figures", `document.getElementById("usage-week").getAttribute("aria-pressed") === "true" && document.querySelectorAll("#usage-chart svg rect.ubar").length === `+fmt.Sprint(weekBars), 10*time.Second)
	if got := eval[string](p, `document.querySelector("#usage-week .ucost").textContent + " " + document.querySelector("#usage-week .urest").textContent`); got != weekCost+" "+weekTok {
		t.Errorf("this week: %q, want %q", got, weekCost+" "+weekTok)
	}
	if got := eval[string](p, `document.getElementById("usage-chart-h").textContent`); got != "Cost per day" {
		t.Errorf("week chart heading %q", got)
	}
	// Keyboard: Esc in the panel closes it and gives the focus back to its button.
	if got := eval[string](p, `document.activeElement.id`); got != "usage-week" {
		t.Errorf("the focus is on %q after the click, want This week", got)
	}
	p.press("Escape", "Escape", 27)
	p.waitFor("the panel closed", `document.getElementById("usage").hidden && document.activeElement.id === "usage-btn" && document.getElementById("usage-btn").getAttribute("aria-pressed") === "false"`, 5*time.Second)
}
