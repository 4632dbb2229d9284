package wsd

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// budgetWorld is the sessions and costs a budgets test feeds observe.
type budgetWorld struct {
	cost  map[string]float64
	infos map[string]*sessions.Info
}

func (w *budgetWorld) usage(id string) *protocol.Usage {
	c, ok := w.cost[id]
	if !ok {
		return nil
	}
	return &protocol.Usage{CostUSD: c}
}

func (w *budgetWorld) get(id string) (sessions.Info, bool) {
	in, ok := w.infos[id]
	if !ok {
		return sessions.Info{}, false
	}
	return *in, true
}

func (w *budgetWorld) add(id string, lastSeen time.Time) *sessions.Info {
	in := &sessions.Info{SessionID: id, LastSeen: lastSeen, Events: map[string]uint64{"UserPromptSubmit": 1}}
	w.infos[id] = in
	return in
}

// TestBudgetsDay: the day's total counts what sessions spent since local
// midnight (a session last active yesterday counts nothing at its first
// reading, a cost that drops counts down); passing the day budget marks
// every running session that spent that day, once; local midnight forgets
// the day's marks (and says which sessions changed) and starts from 0;
// a session that then passes its own budget is marked anew.
func TestBudgetsDay(t *testing.T) {
	loc := time.FixedZone("UTC+5", 5*3600)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, loc)
	reg := prometheus.NewRegistry()
	b := newBudgets(1, 0.5, reg)
	b.now = func() time.Time { return now }
	w := &budgetWorld{cost: map[string]float64{}, infos: map[string]*sessions.Info{}}
	w.add("old", now.Add(-24*time.Hour)) // yesterday: its cost is not today's
	w.cost["old"] = 3
	w.add("a", now)
	w.cost["a"] = 0.2
	w.add("ended", now).Ended = true
	w.cost["ended"] = 0.1
	w.add("idle", now) // spent nothing today
	w.cost["idle"] = 0
	re, notify := b.observe([]string{"old", "a", "ended", "idle"}, w.usage, w.get)
	if len(re) != 0 || !slices.Equal(notify, []string{"old"}) { // old passed its session budget
		t.Fatalf("first: reframe %v notify %v", re, notify)
	}
	if math.Abs(b.dayUSD-0.3) > 1e-9 {
		t.Fatalf("day %v, want 0.3", b.dayUSD)
	}
	// a spends: the day passes 0.5; a and the ended session spent, only a
	// runs.
	w.cost["a"] = 0.45
	re, notify = b.observe([]string{"a"}, w.usage, w.get)
	if len(re) != 0 || !slices.Equal(notify, []string{"a"}) {
		t.Fatalf("crossing: reframe %v notify %v", re, notify)
	}
	ob := b.wire(w.infos["a"])
	if ob == nil || ob.Budget != protocol.BudgetDay || ob.Day != "2026-12-01" || ob.SpentUSD != 0.55 || !ob.Attention {
		t.Fatalf("a: %+v", ob)
	}
	if b.wire(w.infos["ended"]) != nil || b.wire(w.infos["idle"]) != nil {
		t.Fatal("an ended session, or one that spent nothing, marked over the day's budget")
	}
	// idle now spends: marked too (a reframe: its usage change is its own
	// frame already), once.
	w.cost["idle"] = 0.01
	re, notify = b.observe([]string{"idle"}, w.usage, w.get)
	if len(re) != 0 || !slices.Equal(notify, []string{"idle"}) {
		t.Fatalf("later spender: reframe %v notify %v", re, notify)
	}
	w.cost["idle"] = 0.02
	if re, notify = b.observe([]string{"idle"}, w.usage, w.get); len(re)+len(notify) != 0 {
		t.Fatalf("again: reframe %v notify %v", re, notify)
	}
	if got := counterValue(b.exceeded.WithLabelValues(protocol.BudgetDay)); got != 2 {
		t.Errorf("day crossings counted %v, want 2", got)
	}
	// A prompt to a: seen to.
	w.infos["a"].Events["UserPromptSubmit"]++
	if ob := b.wire(w.infos["a"]); ob == nil || ob.Attention {
		t.Errorf("after a prompt: %+v", ob)
	}
	// Local midnight (UTC+5): the day's marks go, the total restarts.
	now = time.Date(2026, 12, 2, 0, 0, 1, 0, loc)
	if b.wire(w.infos["a"]) != nil {
		t.Error("yesterday's day mark still served")
	}
	if re := b.newDay(); !slices.Equal(sorted(re), []string{"a", "idle"}) {
		t.Errorf("new day: %v, want a and idle", re)
	}
	if b.dayUSD != 0 || b.wire(w.infos["old"]) == nil {
		t.Errorf("new day: total %v, old's session mark %+v", b.dayUSD, b.wire(w.infos["old"]))
	}
	// a passes its own budget today; a cost that drops counts down.
	w.cost["a"] = 1.2
	w.cost["idle"] = 0
	re, notify = b.observe([]string{"a", "idle"}, w.usage, w.get)
	if !slices.Equal(notify, []string{"a"}) || math.Abs(b.dayUSD-0.73) > 1e-9 { // 0.75 by a, -0.02 by idle
		t.Fatalf("session crossing: reframe %v notify %v day %v", re, notify, b.dayUSD)
	}
	if ob := b.wire(w.infos["a"]); ob == nil || ob.Budget != protocol.BudgetSession || ob.SpentUSD != 1.2 || !ob.Attention {
		t.Errorf("a: %+v", ob)
	}
	// The day is past its budget again, but a, the only one that spent
	// today, is marked for its own budget already.
	if got := counterValue(b.exceeded.WithLabelValues(protocol.BudgetDay)); got != 2 {
		t.Errorf("day crossings counted %v, want still 2", got)
	}
}

// TestBudgetsRestored: a session known at start that is over its budget at
// its first reading is marked, out of the inbox, neither notified nor
// counted; its later crossing of the day budget is news.
func TestBudgetsRestored(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	b := newBudgets(1, 5, prometheus.NewRegistry())
	b.now = func() time.Time { return now }
	w := &budgetWorld{cost: map[string]float64{"r": 2, "new": 2}, infos: map[string]*sessions.Info{}}
	w.add("r", now)
	w.add("new", now)
	b.restore([]sessions.Info{*w.infos["r"]})
	_, notify := b.observe([]string{"r", "new"}, w.usage, w.get)
	if !slices.Equal(notify, []string{"new"}) {
		t.Fatalf("notify %v, want only new", notify)
	}
	if ob := b.wire(w.infos["r"]); ob == nil || ob.Attention {
		t.Errorf("restored: %+v", ob)
	}
	if got := counterValue(b.exceeded.WithLabelValues(protocol.BudgetSession)); got != 1 {
		t.Errorf("session crossings counted %v, want 1", got)
	}
}

// TestBudgetsOff: without budgets nothing is watched.
func TestBudgetsOff(t *testing.T) {
	b := newBudgets(0, 0, prometheus.NewRegistry())
	w := &budgetWorld{cost: map[string]float64{"s": 1e6}, infos: map[string]*sessions.Info{}}
	w.add("s", time.Now())
	if re, notify := b.observe([]string{"s"}, w.usage, w.get); re != nil || notify != nil || b.wire(w.infos["s"]) != nil || len(b.seen) != 0 {
		t.Errorf("off: %v %v %d", re, notify, len(b.seen))
	}
	var nilB *budgets
	if re, notify := nilB.observe([]string{"s"}, w.usage, w.get); re != nil || notify != nil || nilB.wire(w.infos["s"]) != nil || nilB.newDay() != nil {
		t.Error("a nil budgets watches something")
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// counterValue is a counter's value, read the way /metrics reads it.
func counterValue(c prometheus.Counter) float64 {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		panic(err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}
