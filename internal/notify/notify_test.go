package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// hit is one request the receiver got.
type hit struct {
	body   string
	header http.Header
}

// recv is an httptest receiver answering codes in turn (then 200).
type recv struct {
	mu    sync.Mutex
	hits  []hit
	codes []int
	got   chan hit
	block chan struct{} // when set, handlers wait on it
}

func newRecv(t *testing.T, codes ...int) (*recv, string) {
	r := &recv{codes: codes, got: make(chan hit, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.block != nil {
			<-r.block
		}
		b, _ := io.ReadAll(req.Body)
		h := hit{string(b), req.Header.Clone()}
		r.mu.Lock()
		r.hits = append(r.hits, h)
		code := 200
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(code)
		r.got <- h
	}))
	t.Cleanup(func() {
		if r.block != nil {
			close(r.block)
		}
		srv.Close()
	})
	return r, srv.URL
}

func (r *recv) wait(t *testing.T) hit {
	t.Helper()
	select {
	case h := <-r.got:
		return h
	case <-time.After(30 * time.Second):
		t.Fatal("no request")
	}
	return hit{}
}

func session(id, state string, since int) protocol.Session {
	return protocol.Session{SessionID: id, Cwd: "/home/dev/my proj", State: state, StateSince: time.Unix(int64(since), 0).UTC(),
		StateMessage: "Claude needs your permission to use Bash", NotificationType: "permission_prompt"}
}

func newNotifier(t *testing.T, cfg Config) (*Notifier, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n, reg
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, h hit)
	}{
		{"json", func(t *testing.T, h hit) {
			var m Message
			if err := json.Unmarshal([]byte(h.body), &m); err != nil {
				t.Fatal(err)
			}
			if m.SessionID != "s1" || m.Project != "my proj" || m.State != "needs_permission" || m.NotificationType != "permission_prompt" ||
				m.URL != "http://127.0.0.1:8765/?session=s1" || !strings.Contains(m.Text, "my proj needs permission: Claude needs") {
				t.Errorf("json %+v", m)
			}
		}},
		{"slack", func(t *testing.T, h hit) {
			var m map[string]string
			json.Unmarshal([]byte(h.body), &m)
			if !strings.HasPrefix(m["text"], "Claude Code in my proj needs permission") || !strings.HasSuffix(m["text"], "<http://127.0.0.1:8765/?session=s1|open in mpm>") {
				t.Errorf("slack %q", h.body)
			}
		}},
		{"ntfy", func(t *testing.T, h hit) {
			if !strings.HasPrefix(h.body, "Claude Code in my proj needs permission") || h.header.Get("Click") != "http://127.0.0.1:8765/?session=s1" ||
				h.header.Get("Title") != "mpm: my proj needs permission" || h.header.Get("Priority") != "high" {
				t.Errorf("ntfy %q %v", h.body, h.header)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r, u := newRecv(t)
			// A token in the dashboard URL's fragment or query never goes out.
			n, _ := newNotifier(t, Config{URLs: []string{u}, Format: tc.format, DashboardURL: "http://127.0.0.1:8765/?token=abc#token=abc"})
			n.Notify(session("s1", protocol.StateNeedsPermission, 1))
			h := r.wait(t)
			if strings.Contains(h.body, "abc") {
				t.Errorf("token leaked: %q", h.body)
			}
			tc.check(t, h)
		})
	}
}

// TestDedupAndRetry: one POST per state change; 500 and 429 are retried
// with backoff, 400 is not; outcomes are counted.
func TestDedupAndRetry(t *testing.T) {
	r, u := newRecv(t, 500, 429, 200, 400)
	n, reg := newNotifier(t, Config{URLs: []string{u}, Attempts: 4})
	s := session("s1", protocol.StateNeedsPermission, 1)
	n.Notify(s)
	n.Notify(s) // the same state change: nothing
	n.Notify(session("s1", protocol.StateWorking, 2))
	for k := 0; k < 3; k++ {
		r.wait(t)
	}
	n.Notify(session("s1", protocol.StateWaitingInput, 3)) // answered 400: given up at once
	r.wait(t)
	deadline := time.Now().Add(30 * time.Second)
	for val(n.m.failed) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := [4]float64{val(n.m.sent), val(n.m.retries), val(n.m.failed), val(n.m.dropped)}; got != [4]float64{1, 2, 1, 0} {
		t.Errorf("sent, retries, failed, dropped = %v, want [1 2 1 0]", got)
	}
	r.mu.Lock()
	if len(r.hits) != 4 {
		t.Errorf("%d requests, want 4", len(r.hits))
	}
	r.mu.Unlock()
	mfs, err := reg.Gather()
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, name := range []string{"mpm_notify_sent_total", "mpm_notify_failed_total", "mpm_notify_dropped_total", "mpm_notify_retries_total"} {
		if err != nil || !names[name] {
			t.Errorf("%s not registered (%v)", name, err)
		}
	}
}

// TestNeverBlocks: a receiver that does not answer fills the queue; Notify
// keeps returning and counts what it drops.
func TestNeverBlocks(t *testing.T) {
	r, u := newRecv(t)
	r.block = make(chan struct{})
	n, _ := newNotifier(t, Config{URLs: []string{u}, QueueSize: 2, Timeout: time.Hour})
	for k := 0; k < 10; k++ {
		n.Notify(session("s"+string(rune('a'+k)), protocol.StateWaitingInput, k))
	}
	// One in flight, two queued, the rest dropped.
	if d := val(n.m.dropped); d < 7 {
		t.Errorf("dropped %v, want at least 7", d)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{URLs: []string{"ftp://x"}},
		{URLs: []string{"http://"}},
		{URLs: []string{"http://h"}, Format: "xml"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (&Config{URLs: []string{"https://hooks.slack.com/x"}, Format: "slack"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestNotAttentionIgnored(t *testing.T) {
	r, u := newRecv(t)
	n, _ := newNotifier(t, Config{URLs: []string{u}})
	n.Notify(session("s", protocol.StateIdle, 1))
	n.Notify(session("s", protocol.StateWaitingInput, 2))
	if h := r.wait(t); !strings.Contains(h.body, `"waiting_input"`) {
		t.Fatalf("first POST %q, want the waiting_input one", h.body)
	}
}

// val is a counter's value, read the way /metrics reads it.
func val(c prometheus.Counter) float64 {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		panic(err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

// TestOverBudget: a budget crossing is notified once (offering it again,
// or the same session's state changes, do not repeat it), in every
// format, with reason over_budget and the figures; a crossing the person
// has seen to (attention false) is not notified.
func TestOverBudget(t *testing.T) {
	since := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	over := func(id string, attention bool) protocol.Session {
		s := session(id, protocol.StateWorking, 1)
		s.OverBudget = &protocol.OverBudget{Budget: protocol.BudgetSession, LimitUSD: 1, SpentUSD: 1.234, Since: since, Attention: attention}
		return s
	}
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, h hit)
	}{
		{"json", func(t *testing.T, h hit) {
			var m Message
			if err := json.Unmarshal([]byte(h.body), &m); err != nil {
				t.Fatal(err)
			}
			if m.Reason != protocol.ReasonOverBudget || m.State != protocol.StateWorking || m.OverBudget == nil || m.OverBudget.SpentUSD != 1.234 ||
				!m.Since.Equal(since) || m.Text != "Claude Code in my proj is over its session budget: $1.23 of $1.00" {
				t.Errorf("json %+v", m)
			}
		}},
		{"slack", func(t *testing.T, h hit) {
			if !strings.Contains(h.body, "my proj is over its session budget: $1.23 of $1.00") {
				t.Errorf("slack %q", h.body)
			}
		}},
		{"ntfy", func(t *testing.T, h hit) {
			if h.header.Get("Title") != "mpm: my proj over budget" || h.header.Get("Priority") != "" {
				t.Errorf("ntfy %q %v", h.body, h.header)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r, u := newRecv(t)
			n, _ := newNotifier(t, Config{URLs: []string{u}, Format: tc.format})
			n.NotifyOverBudget(over("seen", false)) // seen to: nothing
			n.NotifyOverBudget(over("s1", true))
			n.NotifyOverBudget(over("s1", true)) // the same crossing: nothing
			tc.check(t, r.wait(t))
			// A state change of the same session is its own notification;
			// a day crossing after it too.
			n.Notify(session("s1", protocol.StateWaitingInput, 2))
			if h := r.wait(t); !strings.Contains(h.body, "waiting for your input") && tc.format != "ntfy" {
				t.Errorf("after the crossing: %q", h.body)
			}
			day := over("s1", true)
			day.OverBudget.Budget, day.OverBudget.Since, day.OverBudget.Day = protocol.BudgetDay, since.Add(time.Hour), "2026-12-01"
			n.NotifyOverBudget(day)
			if h := r.wait(t); tc.format == "json" && !strings.Contains(h.body, "over the day's budget: $1.23 of $1.00 on 2026-12-01") {
				t.Errorf("day crossing: %q", h.body)
			}
			r.mu.Lock()
			if len(r.hits) != 3 {
				t.Errorf("%d POSTs, want 3", len(r.hits))
			}
			r.mu.Unlock()
		})
	}
}
