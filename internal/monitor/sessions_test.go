package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

func sess(id, state string, since, last int, stale bool) protocol.Session {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return protocol.Session{SessionID: id, State: state, StateSince: t0.Add(time.Duration(since) * time.Second),
		LastSeen: t0.Add(time.Duration(last) * time.Second), Attention: protocol.Attention(state), Stale: stale}
}

func TestStatusLine(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)
	for _, tc := range []struct {
		ss   []protocol.Session
		want string
	}{
		{nil, "no sessions"},
		{[]protocol.Session{sess("a", "ended", 0, 0, false)}, "no sessions"},
		{[]protocol.Session{
			sess("a", "needs_permission", 0, 0, false), sess("b", "waiting_input", 0, 0, false),
			sess("c", "working", 0, 0, false), sess("d", "compacting", 0, 0, false), sess("e", "working", 0, 0, false),
			sess("f", "idle", 0, 0, false), sess("g", "ended", 0, 0, false),
		}, "2 need you · 3 working · 1 idle"},
		{[]protocol.Session{sess("a", "working", 0, 0, true), sess("b", "some_new_state", 0, 0, false)}, "1 stale · 1 idle"},
	} {
		if got := StatusLine(tc.ss, now, time.Hour); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.ss, got, tc.want)
		}
	}
	old := sess("a", "idle", 0, 0, false)
	if got := StatusLine([]protocol.Session{old}, now.Add(25*time.Hour), StatusRecent); got != "no sessions" {
		t.Errorf("a session quiet for a day counted: %q", got)
	}
}

func TestSortBoard(t *testing.T) {
	ss := []protocol.Session{
		sess("ended", "ended", 0, 100, false),
		sess("idle", "idle", 0, 50, false),
		sess("work-old", "working", 0, 10, false),
		sess("work-new", "working", 0, 60, false),
		sess("perm-late", "needs_permission", 90, 90, false),
		sess("wait-early", "waiting_input", 30, 30, false),
	}
	SortBoard(ss)
	var got []string
	for _, s := range ss {
		got = append(got, s.SessionID)
	}
	if strings.Join(got, " ") != "wait-early perm-late work-new work-old idle ended" {
		t.Fatalf("order %v", got)
	}
	b := string(Board(ss, time.Date(2026, 1, 1, 0, 2, 10, 0, time.UTC), 60, false))
	if !strings.Contains(b, "? waiting for input · 1 m 40 s") {
		t.Errorf("board:\n%s", b)
	}
	for _, l := range strings.Split(strings.TrimSpace(b), "\n") {
		if n := len([]rune(l)); n > 60 {
			t.Errorf("%d runes in a 60-column board: %q", n, l)
		}
	}
}

func TestBoardUsage(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := []protocol.Session{
		{SessionID: "aaaaaaaa1", State: protocol.StateIdle, StateSince: now, Usage: &protocol.Usage{CostUSD: 1.234, CostSource: protocol.CostClaude, ContextTokens: 50000, ContextWindow: 200000}},
		{SessionID: "bbbbbbbb2", State: protocol.StateIdle, StateSince: now, Usage: &protocol.Usage{CostUSD: 0.05, CostSource: protocol.CostEstimate, ContextTokens: 1, ContextWindow: 200000}},
		{SessionID: "cccccccc3", State: protocol.StateIdle, StateSince: now},
	}
	b := string(Board(ss, now, 0, false))
	for _, want := range []string{"COST", "CTX", "$1.23    25%", "~$0.05   0%", "-        -"} {
		if !strings.Contains(b, want) {
			t.Errorf("board lacks %q:\n%s", want, b)
		}
	}
	if b := string(Board(ss[2:], now, 0, false)); strings.Contains(b, "COST") {
		t.Errorf("a board without usage has a COST column:\n%s", b)
	}
}

// TestBoardOverBudget: a session in the inbox for its budget comes with
// those that need you (in order of when it passed it), says so in its
// state column and what it passed in the last; its cost ends in "!" while
// it is over a budget, seen to or not; the status line counts it.
func TestBoardOverBudget(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	over := func(id string, passed int, attention bool) protocol.Session {
		s := sess(id, protocol.StateWorking, 0, 100, false)
		s.Usage = &protocol.Usage{CostUSD: 1.5, CostSource: protocol.CostClaude}
		s.OverBudget = &protocol.OverBudget{Budget: protocol.BudgetSession, LimitUSD: 1, SpentUSD: 1.25, Since: t0.Add(time.Duration(passed) * time.Second), Attention: attention}
		s.MarkAttention()
		return s
	}
	ss := []protocol.Session{
		sess("working", protocol.StateWorking, 0, 120, false),
		over("seen-to", 10, false),
		sess("perm", protocol.StateNeedsPermission, 60, 60, false),
		over("budget", 30, true),
	}
	SortBoard(ss)
	var got []string
	for _, s := range ss {
		got = append(got, s.SessionID)
	}
	if strings.Join(got, " ") != "budget perm working seen-to" {
		t.Fatalf("order %v", got)
	}
	b := string(Board(ss, t0.Add(90*time.Second), 0, false))
	lines := strings.Split(b, "\n")
	if !strings.HasPrefix(lines[1], "$ over budget · 1 m 0 s") || !strings.Contains(lines[1], "$1.50!") || !strings.HasSuffix(lines[1], "over its session budget: $1.25 of $1.00") {
		t.Errorf("the over-budget row: %q", lines[1])
	}
	if !strings.HasPrefix(lines[4], "● working") || !strings.Contains(lines[4], "$1.50!") || strings.Contains(lines[4], "over its") {
		t.Errorf("the row seen to: %q", lines[4])
	}
	if got := StatusLine(ss, t0.Add(90*time.Second), 0); got != "2 need you · 2 working" {
		t.Errorf("status line %q", got)
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{-time.Second: "0 s", 45 * time.Second: "45 s", 130 * time.Second: "2 m 10 s", 3*time.Hour + 5*time.Minute: "3 h 5 m", 50 * time.Hour: "2 d"} {
		if got := Ago(d); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
}
