package wsd

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// dayLayout names a local calendar day.
const dayLayout = "2006-01-02"

// budgets watches the sessions' cost against --budget-session-usd and
// --budget-day-usd. A session that passes one is marked over budget (its
// protocol.OverBudget): in the attention inbox until its next prompt, and
// notified once. The day is the daemon machine's local calendar day; the
// day's cost is what the sessions' usage grew by during it (a session
// first read when its last event was today counts whole: after a restart,
// a session active today counts what it spent before midnight too).
type budgets struct {
	session, day float64
	// now is the clock (time.Now).
	now func() time.Time
	// exceeded counts the crossings, by budget.
	exceeded *prometheus.CounterVec

	// mu guards what follows.
	mu sync.Mutex
	// today is the local day dayUSD sums.
	today  string
	dayUSD float64
	// seen is each session's spending, by id.
	seen map[string]*spend
	// restored are the sessions known at start: a crossing seen at their
	// first reading after a restart happened before it, so it is shown but
	// neither put in the inbox, notified nor counted again.
	restored map[string]bool
}

// spend is what budgets knows of one session.
type spend struct {
	// cost is the session's cost last seen; today its share of the day.
	cost, today float64
	// over is the budget it passed, nil: none.
	over *protocol.OverBudget
	// prompts is its UserPromptSubmit count at the crossing: a later
	// prompt means the person has seen to it.
	prompts uint64
	// quiet: the crossing happened before a restart; it is shown, not
	// put in the inbox again.
	quiet bool
}

// newBudgets returns the budget watcher; with both budgets 0 it watches
// nothing. Its metrics go to reg.
func newBudgets(sessionUSD, dayUSD float64, reg prometheus.Registerer) *budgets {
	b := &budgets{
		session: sessionUSD, day: dayUSD, now: time.Now,
		exceeded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_budget_exceeded_total",
			Help: "Sessions that passed a budget (--budget-session-usd, --budget-day-usd), once per crossing, by budget (session, day)."}, []string{"budget"}),
		seen: map[string]*spend{}, restored: map[string]bool{},
	}
	b.exceeded.WithLabelValues(protocol.BudgetSession)
	b.exceeded.WithLabelValues(protocol.BudgetDay)
	reg.MustRegister(b.exceeded)
	if dayUSD > 0 {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mpm_budget_day_spent_usd",
			Help: "The local calendar day's cost across sessions, as --budget-day-usd counts it."}, func() float64 {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.today != b.now().Format(dayLayout) {
				return 0
			}
			return b.dayUSD
		}))
	}
	return b
}

// on reports whether any budget is set.
func (b *budgets) on() bool { return b != nil && (b.session > 0 || b.day > 0) }

// restore names the sessions known at start.
func (b *budgets) restore(infos []sessions.Info) {
	if !b.on() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range infos {
		b.restored[infos[k].SessionID] = true
	}
}

// observe takes the sessions whose usage changed (usage and get read a
// session's usage and summary) and returns the other sessions whose
// summary changed (marked over the day's budget, or unmarked at a new
// day) and the sessions to notify: those that just passed a budget and
// wait for the person.
func (b *budgets) observe(ids []string, usage func(id string) *protocol.Usage, get func(id string) (sessions.Info, bool)) (reframe, notify []string) {
	if !b.on() {
		return nil, nil
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	reframe = b.roll(now)
	today := b.today
	cross := func(id string, st *spend, in *sessions.Info, budget string, limit, spent float64, quiet bool) {
		st.over = &protocol.OverBudget{Budget: budget, LimitUSD: limit, SpentUSD: spent, Since: now}
		if budget == protocol.BudgetDay {
			st.over.Day = today
		}
		st.prompts, st.quiet = in.Events["UserPromptSubmit"], quiet
		if quiet {
			return
		}
		b.exceeded.WithLabelValues(budget).Inc()
		if !in.Ended {
			notify = append(notify, id)
		}
	}
	quiet := map[string]bool{} // restored sessions at their first reading
	for _, id := range ids {
		u := usage(id)
		in, ok := get(id)
		if u == nil || !ok {
			continue
		}
		st := b.seen[id]
		delta := u.CostUSD
		if st == nil {
			st = &spend{}
			b.seen[id] = st
			if in.LastSeen.In(now.Location()).Format(dayLayout) != today {
				delta = 0 // its spending was on an earlier day
			}
			if b.restored[id] {
				quiet[id] = true
				delete(b.restored, id)
			}
		} else {
			delta -= st.cost
		}
		st.cost = u.CostUSD
		st.today += delta
		b.dayUSD = max(0, b.dayUSD+delta)
		if b.session > 0 && u.CostUSD > b.session && (st.over == nil || st.over.Budget == protocol.BudgetDay) {
			cross(id, st, &in, protocol.BudgetSession, b.session, u.CostUSD, quiet[id])
		}
	}
	if b.day > 0 && b.dayUSD > b.day {
		// Every session that spent today and still runs passes it.
		for id, st := range b.seen {
			if st.over != nil || st.today <= 0 {
				continue
			}
			in, ok := get(id)
			if !ok || in.Ended {
				continue
			}
			cross(id, st, &in, protocol.BudgetDay, b.day, b.dayUSD, quiet[id])
			if !slices.Contains(ids, id) {
				reframe = append(reframe, id)
			}
		}
	}
	return reframe, notify
}

// roll starts a new day when the local calendar day changed since the last
// look: the day's cost starts from 0 and the day's crossings are
// forgotten. It returns the sessions that were over the day's budget.
// b.mu is held.
func (b *budgets) roll(now time.Time) (unmarked []string) {
	day := now.Format(dayLayout)
	if day == b.today {
		return nil
	}
	b.today, b.dayUSD = day, 0
	for id, st := range b.seen {
		st.today = 0
		if st.over != nil && st.over.Budget == protocol.BudgetDay {
			st.over = nil
			unmarked = append(unmarked, id)
		}
	}
	return unmarked
}

// newDay is roll for the caster's periodic sweep: the sessions whose
// day's crossing a new day forgot.
func (b *budgets) newDay() []string {
	if !b.on() || b.day <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.roll(b.now())
}

// wire is session in's budget crossing on the wire, nil: none.
func (b *budgets) wire(in *sessions.Info) *protocol.OverBudget {
	if !b.on() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.seen[in.SessionID]
	if st == nil || st.over == nil {
		return nil
	}
	if st.over.Budget == protocol.BudgetDay && st.over.Day != b.now().Format(dayLayout) {
		return nil // a past day's, until the sweep forgets it
	}
	ob := *st.over
	ob.Attention = !st.quiet && !in.Ended && in.Events["UserPromptSubmit"] <= st.prompts
	return &ob
}
