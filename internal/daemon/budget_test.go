package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/notify"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// fixtureCost is Claude Code's cost in the usage package's handwritten
// transcript (its cost-state record).
const fixtureCost = 0.0421875

// transcript writes the usage package's handwritten transcript (with
// Claude Code's cost-state record: $0.0421875) under configDir's
// projects/, where the daemon may read it, and returns its path.
func transcript(t *testing.T, configDir, name string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "usage", "testdata", "handwritten-cost-state.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(configDir, "projects", "-home-dev-shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// appendCost appends a cost-state record saying the session cost usd.
func appendCost(t *testing.T, path string, usd float64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, `{"type":"cost-state","totalCostUSD":%v,"modelUsage":{"claude-sonnet-4-5-20250929":{"inputTokens":1,"outputTokens":1,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":%v}}}`+"\n", usd, usd)
}

// hooks is a webhook receiver that keeps what it got, in order.
type hooks struct {
	mu   sync.Mutex
	got  []notify.Message
	seen chan notify.Message
	url  string
}

func newHooks(t *testing.T) *hooks {
	h := &hooks{seen: make(chan notify.Message, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		h.mu.Lock()
		h.got = append(h.got, m)
		h.mu.Unlock()
		h.seen <- m
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// next is the next webhook message.
func (h *hooks) next(t *testing.T, ctx context.Context) notify.Message {
	t.Helper()
	select {
	case m := <-h.seen:
		return m
	case <-ctx.Done():
		t.Fatal("no webhook POST")
	}
	return notify.Message{}
}

// budgetRig is a daemon with a Claude config dir, a webhook receiver, a
// client and a live stream of session frames.
type budgetRig struct {
	t         *testing.T
	ctx       context.Context
	configDir string
	d         *testutil.Daemon
	c         *client.Client
	hooks     *hooks
	frames    chan protocol.Session
}

func newBudgetRig(t *testing.T, args ...string) *budgetRig {
	t.Helper()
	r := &budgetRig{t: t, configDir: t.TempDir(), hooks: newHooks(t), frames: make(chan protocol.Session, 1000)}
	t.Setenv("CLAUDE_CONFIG_DIR", r.configDir)
	r.d = testutil.StartDaemon(t, append([]string{"--notify-webhook", r.hooks.url}, args...)...)
	var err error
	r.c, err = client.New(client.Config{Addr: r.d.Addr, Token: r.d.Token()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	r.ctx = ctx
	connected := make(chan struct{}, 10)
	go r.c.Stream(ctx, client.Subscription{}, client.Handlers{
		Event:   func(protocol.Event) error { return nil },
		Session: func(s protocol.Session) error { r.frames <- s; return nil },
		State: func(st client.State) error {
			if st.Kind == client.StateConnected {
				connected <- struct{}{}
			}
			return nil
		},
	})
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("the stream did not connect")
	}
	return r
}

// post sends a hook event of session id, with its transcript.
func (r *budgetRig) post(id, name, transcript string, extra map[string]any) {
	r.t.Helper()
	m := map[string]any{"session_id": id, "hook_event_name": name, "cwd": "/home/dev/shop", "transcript_path": transcript}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	if _, err := r.c.Post(r.ctx, b, client.PostOptions{}); err != nil {
		r.t.Fatal(err)
	}
}

// session polls /v1/sessions until ok holds for session id.
func (r *budgetRig) session(id, what string, ok func(s protocol.Session) bool) protocol.Session {
	r.t.Helper()
	for {
		ss, err := r.c.Sessions(r.ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, s := range ss {
			if s.SessionID == id && ok(s) {
				return s
			}
		}
		select {
		case <-r.ctx.Done():
			r.t.Fatalf("session %s never %s: %+v", id, what, ss)
		case <-time.After(20 * time.Millisecond): // polling, not ordering
		}
	}
}

// frame waits for a session frame of id for which ok holds.
func (r *budgetRig) frame(id, what string, ok func(s protocol.Session) bool) protocol.Session {
	r.t.Helper()
	for {
		select {
		case s := <-r.frames:
			if s.SessionID == id && ok(s) {
				return s
			}
		case <-r.ctx.Done():
			r.t.Fatalf("no frame of %s %s", id, what)
		}
	}
}

// metric is the value of one /metrics line ("" when absent).
func (r *budgetRig) metric(name string) string {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.d.URL("/metrics"), nil)
	req.Header.Set("Authorization", "Bearer "+r.d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return ""
}

// costIs: the session's usage says usd.
func costIs(usd float64) func(s protocol.Session) bool {
	return func(s protocol.Session) bool { return s.Usage != nil && s.Usage.CostUSD == usd }
}

// sentinel posts a permission request for a session of its own and
// returns the next webhook message, which must be the sentinel's: nothing
// was notified before it.
func (r *budgetRig) sentinel(id string) {
	r.t.Helper()
	r.post(id, "PermissionRequest", "", map[string]any{"tool_name": "Bash", "tool_input": map[string]any{"command": "true"}})
	if m := r.hooks.next(r.t, r.ctx); m.SessionID != id || m.Reason != protocol.StateNeedsPermission {
		r.t.Errorf("webhook %+v, want only the sentinel %s's needs_permission", m, id)
	}
}

// TestBudgetSession: a session whose cost passes --budget-session-usd
// enters the inbox (attention, reason over_budget, in a frame and in
// /v1/sessions), is notified and counted once however its cost grows
// after, leaves the inbox at its next prompt (still marked over budget),
// and after a restart is shown over budget without being notified,
// counted or put in the inbox again.
func TestBudgetSession(t *testing.T) {
	r := newBudgetRig(t, "--budget-session-usd", "0.03")
	p := transcript(t, r.configDir, "s1.jsonl")
	r.post("s1", "UserPromptSubmit", p, map[string]any{"prompt": "hi"})

	f := r.frame("s1", "in the inbox over budget", func(s protocol.Session) bool { return s.Attention && s.OverBudget != nil })
	ob := f.OverBudget
	if f.State != protocol.StateWorking || f.AttentionReason != protocol.ReasonOverBudget || ob.Budget != protocol.BudgetSession ||
		ob.LimitUSD != 0.03 || ob.SpentUSD != fixtureCost || !ob.Attention || ob.Since.IsZero() || ob.Day != "" {
		t.Errorf("frame %+v, over budget %+v", f, ob)
	}
	s := r.session("s1", "over budget", func(s protocol.Session) bool { return s.OverBudget != nil })
	if !s.Attention || s.AttentionReason != protocol.ReasonOverBudget || *s.OverBudget != *ob {
		t.Errorf("/v1/sessions %+v, over budget %+v; want the frame's %+v", s, s.OverBudget, ob)
	}
	m := r.hooks.next(t, r.ctx)
	if m.SessionID != "s1" || m.Reason != protocol.ReasonOverBudget || m.OverBudget == nil || m.OverBudget.SpentUSD != fixtureCost ||
		m.Text != "Claude Code in shop is over its session budget: $0.04 of $0.03" {
		t.Errorf("webhook %+v", m)
	}
	if v := r.metric(`mpm_budget_exceeded_total{budget="session"}`); v != "1" {
		t.Errorf("mpm_budget_exceeded_total{budget=session} %q, want 1", v)
	}

	// The cost grows twice: no second crossing. (Each read follows the
	// last one's budget check: waiting for the second's figure means the
	// first's check is done.)
	for _, usd := range []float64{0.05, 0.07} {
		appendCost(t, p, usd)
		r.post("s1", "PreToolUse", p, map[string]any{"tool_name": "Read", "tool_use_id": fmt.Sprint(usd), "tool_input": map[string]any{"file_path": "/x"}})
		r.session("s1", fmt.Sprintf("at $%v", usd), costIs(usd))
	}
	r.sentinel("s2")
	if v := r.metric(`mpm_budget_exceeded_total{budget="session"}`); v != "1" {
		t.Errorf("after the cost grew, mpm_budget_exceeded_total{budget=session} %q, want 1", v)
	}
	if s := r.session("s1", "", costIs(0.07)); !s.Attention || s.OverBudget.Since != ob.Since || s.OverBudget.SpentUSD != fixtureCost {
		t.Errorf("after the cost grew: %+v %+v; want the first crossing still", s, s.OverBudget)
	}

	// The next prompt: out of the inbox, still over budget.
	r.post("s1", "UserPromptSubmit", p, map[string]any{"prompt": "go on"})
	f = r.frame("s1", "seen to", func(s protocol.Session) bool { return s.LastPrompt == "go on" })
	if f.Attention || f.AttentionReason != "" || f.OverBudget == nil || f.OverBudget.Attention {
		t.Errorf("after the prompt: %+v %+v", f, f.OverBudget)
	}

	// A restart: shown over budget, not in the inbox, not notified, not counted.
	r.d.Stop()
	r.d.Start()
	s = r.session("s1", "over budget after the restart", func(s protocol.Session) bool { return s.OverBudget != nil })
	if s.Attention || s.OverBudget.Attention || s.OverBudget.SpentUSD != 0.07 {
		t.Errorf("after a restart: %+v %+v", s, s.OverBudget)
	}
	appendCost(t, p, 0.08) // a second read: the first one's budget check is done
	r.post("s1", "Stop", p, nil)
	r.session("s1", "at $0.08", costIs(0.08))
	if v := r.metric(`mpm_budget_exceeded_total{budget="session"}`); v != "0" {
		t.Errorf("after a restart, mpm_budget_exceeded_total{budget=session} %q, want 0", v)
	}
	r.sentinel("s3")
}

// noonZone is a fixed zone where it is about noon now, so that the
// daemon's local day does not change during the test.
func noonZone() string {
	n := 12 - time.Now().UTC().Hour() // the zone is UTC+n
	switch {
	case n > 0:
		return fmt.Sprintf("Etc/GMT-%d", n)
	case n < 0:
		return fmt.Sprintf("Etc/GMT+%d", -n)
	}
	return "Etc/GMT"
}

// TestBudgetDay: the day's cost across sessions passes --budget-day-usd
// only with the second session's; then both (they spent today) enter the
// inbox, each notified and counted once, with the local day; the day's
// total is in /metrics.
func TestBudgetDay(t *testing.T) {
	zone := noonZone()
	t.Setenv("TZ", zone)
	today := time.Now().UTC().Format("2006-01-02")
	if loc, err := time.LoadLocation(zone); err == nil {
		today = time.Now().In(loc).Format("2006-01-02")
	}
	r := newBudgetRig(t, "--budget-day-usd", "0.06")
	pa := transcript(t, r.configDir, "a.jsonl")
	r.post("a", "UserPromptSubmit", pa, map[string]any{"prompt": "hi"})
	r.session("a", "read", costIs(fixtureCost))
	if v := r.metric("mpm_budget_day_spent_usd"); v != "0.0421875" {
		t.Errorf("the day's cost after one session: %q", v)
	}

	pb := transcript(t, r.configDir, "b.jsonl")
	r.post("b", "UserPromptSubmit", pb, map[string]any{"prompt": "hi"})
	frames := map[string]protocol.Session{} // the first frame of each over budget
	for len(frames) < 2 {
		select {
		case f := <-r.frames:
			if _, ok := frames[f.SessionID]; !ok && f.OverBudget != nil {
				frames[f.SessionID] = f
			}
		case <-r.ctx.Done():
			t.Fatalf("frames over budget: %v, want a and b", frames)
		}
	}
	for _, id := range []string{"a", "b"} {
		f := frames[id]
		ob := f.OverBudget
		if ob == nil || !f.Attention || f.AttentionReason != protocol.ReasonOverBudget || ob.Budget != protocol.BudgetDay || ob.Day != today ||
			ob.LimitUSD != 0.06 || ob.SpentUSD != 2*fixtureCost || !ob.Attention {
			t.Errorf("frame of %s: %+v %+v (want the day %s)", id, f, ob, today)
		}
	}
	got := map[string]bool{}
	for range 2 {
		m := r.hooks.next(t, r.ctx)
		got[m.SessionID] = true
		if m.Reason != protocol.ReasonOverBudget || !strings.Contains(m.Text, "over the day's budget: $0.08 of $0.06 on "+today) {
			t.Errorf("webhook %+v", m)
		}
	}
	if !got["a"] || !got["b"] {
		t.Errorf("webhooks for %v, want a and b", got)
	}
	if v := r.metric(`mpm_budget_exceeded_total{budget="day"}`); v != "2" {
		t.Errorf(`mpm_budget_exceeded_total{budget="day"} %q, want 2`, v)
	}
	if v := r.metric("mpm_budget_day_spent_usd"); v != "0.084375" {
		t.Errorf("the day's cost after two sessions: %q", v)
	}
	// More spending today: no second crossing.
	appendCost(t, pa, 0.05)
	r.post("a", "Stop", pa, nil)
	r.session("a", "at $0.05", costIs(0.05))
	appendCost(t, pa, 0.06)
	r.post("a", "Stop", pa, nil)
	r.session("a", "at $0.06", costIs(0.06))
	r.sentinel("c")
	if v := r.metric(`mpm_budget_exceeded_total{budget="day"}`); v != "2" {
		t.Errorf(`after more spending, mpm_budget_exceeded_total{budget="day"} %q, want 2`, v)
	}
}

// TestBudgetOff: without budgets (the default) a session that spends is
// never over budget, notified nor counted.
func TestBudgetOff(t *testing.T) {
	r := newBudgetRig(t)
	p := transcript(t, r.configDir, "s1.jsonl")
	r.post("s1", "UserPromptSubmit", p, map[string]any{"prompt": "hi"})
	r.session("s1", "read", costIs(fixtureCost))
	appendCost(t, p, 1000)
	r.post("s1", "Stop", p, nil)
	s := r.session("s1", "at $1000", costIs(1000))
	if s.OverBudget != nil || s.Attention || s.AttentionReason != "" {
		t.Errorf("without budgets: %+v %+v", s, s.OverBudget)
	}
	r.sentinel("s2")
	if v := r.metric(`mpm_budget_exceeded_total{budget="session"}`); v != "0" {
		t.Errorf("mpm_budget_exceeded_total{budget=session} %q, want 0", v)
	}
	if v := r.metric("mpm_budget_day_spent_usd"); v != "" {
		t.Errorf("mpm_budget_day_spent_usd %q without a day budget", v)
	}
}
