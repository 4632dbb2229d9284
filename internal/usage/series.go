package usage

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// SlotDur is the resolution of the usage time series: tokens are kept by
// the quarter hour they were used in (the assistant record's timestamp).
// Every time zone's offset is a whole number of quarter hours, so any
// zone's hours and days are made of whole slots.
const SlotDur = 15 * time.Minute

const slotSecs = int64(SlotDur / time.Second)

// slotKey is a quarter hour (Unix seconds / 900) and a model.
type slotKey struct {
	slot  int64
	model string
}

// slotOf is the quarter hour of a record's timestamp; a record without one
// counts at the previous record's time, or (the first) when it is read.
func (t *tally) slotOf(ts time.Time) int64 {
	if ts.IsZero() {
		if t.hasSlot {
			return t.lastSlot
		}
		ts = time.Now()
	}
	s := ts.Unix()
	slot := s / slotSecs
	if s < 0 && s%slotSecs != 0 {
		slot--
	}
	t.lastSlot, t.hasSlot = slot, true
	return slot
}

// addSlot adds tok (negative to take away) to a quarter hour's model.
func (t *tally) addSlot(slot int64, model string, tok Tokens) {
	k := slotKey{slot, model}
	n := t.slots[k].add(tok)
	if n == (Tokens{}) {
		delete(t.slots, k)
		return
	}
	t.slots[k] = n
}

// Cell is what a session used in one quarter hour with one model.
type Cell struct {
	Slot  int64
	Model string
	Tokens
	USD float64
}

// series is a session's usage by quarter hour and model, summing to what
// combine says of it. Without a cost-state record: the tokens of the
// session's and its subagents' messages, each cell priced with the table.
// With one (Claude Code's figures, authoritative): each of its models'
// cost is spread over the quarter hours in proportion to that model's
// estimated cost in each, and each kind of token in proportion to the
// messages' tokens of that kind (whole tokens, largest remainder); a model
// the messages never name is spread like the session's whole estimate; a
// session with no message at all counts at the cost-state record's time.
// What totalCostUSD holds beyond its models' sum is spread over the cells
// by cost.
func series(main *tally, agents []*tally, table *Prices) []Cell {
	prices := &memo{p: table}
	msgs := make(map[slotKey]Tokens, len(main.slots))
	for _, t := range append([]*tally{main}, agents...) {
		for k, tok := range t.slots {
			msgs[k] = msgs[k].add(tok)
		}
	}
	if main.cost == nil {
		out := make([]Cell, 0, len(msgs))
		for k, tok := range msgs {
			out = append(out, Cell{Slot: k.slot, Model: k.model, Tokens: tok, USD: prices.cost(k.model, tok)})
		}
		sortCells(out)
		return out
	}
	// The session's quarter hours, with their estimated cost and tokens.
	type slotSum struct {
		usd float64
		tok Tokens
	}
	bySlot := map[int64]*slotSum{}
	byModel := map[string][]int64{}
	for k, tok := range msgs {
		s := bySlot[k.slot]
		if s == nil {
			s = &slotSum{}
			bySlot[k.slot] = s
		}
		s.usd += prices.cost(k.model, tok)
		s.tok = s.tok.add(tok)
		byModel[k.model] = append(byModel[k.model], k.slot)
	}
	all := make([]int64, 0, len(bySlot))
	for s := range bySlot {
		all = append(all, s)
	}
	slices.Sort(all)
	if len(all) == 0 {
		all = []int64{main.costSlot}
		bySlot[main.costSlot] = &slotSum{}
	}
	cells := map[slotKey]*Cell{}
	cell := func(k slotKey) *Cell {
		c := cells[k]
		if c == nil {
			c = &Cell{Slot: k.slot, Model: k.model}
			cells[k] = c
		}
		return c
	}
	names := make([]string, 0, len(main.cost.Models))
	for name := range main.cost.Models {
		names = append(names, name)
	}
	slices.Sort(names)
	var modelsUSD float64
	for _, name := range names {
		mc := main.cost.Models[name]
		modelsUSD += mc.USD
		slots := byModel[name]
		slices.Sort(slots)
		wUSD := make([]float64, 0, len(all))
		kind := [4][]float64{}
		if len(slots) > 0 {
			for _, s := range slots {
				tok := msgs[slotKey{s, name}]
				wUSD = append(wUSD, prices.cost(name, tok))
				for i, n := range tok.kinds() {
					kind[i] = append(kind[i], float64(n))
				}
			}
		} else {
			slots = all
			for _, s := range slots {
				wUSD = append(wUSD, bySlot[s].usd)
				for i, n := range bySlot[s].tok.kinds() {
					kind[i] = append(kind[i], float64(n))
				}
			}
		}
		usd := spread(mc.USD, wUSD, kind[0], kind[1])
		want := mc.Tokens.kinds()
		var toks [4][]int64
		for i := range toks {
			toks[i] = spreadInt(want[i], kind[i], wUSD)
		}
		for j, s := range slots {
			c := cell(slotKey{s, name})
			c.USD += usd[j]
			c.Tokens = c.Tokens.add(Tokens{toks[0][j], toks[1][j], toks[2][j], toks[3][j]})
		}
	}
	if rest := main.cost.TotalUSD - modelsUSD; math.Abs(rest) > 1e-12 {
		if len(cells) == 0 {
			// No model named: the cost spread like the estimate, on the
			// messages' models.
			for k := range msgs {
				cell(k)
			}
			if len(cells) == 0 {
				cell(slotKey{main.costSlot, ""})
			}
		}
		keys := make([]slotKey, 0, len(cells))
		for k := range cells {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, cmpKey)
		w := make([]float64, len(keys))
		alt := make([]float64, len(keys))
		for i, k := range keys {
			w[i] = cells[k].USD
			alt[i] = prices.cost(k.model, msgs[k])
		}
		for i, v := range spread(rest, w, alt) {
			cells[keys[i]].USD += v
		}
	}
	out := make([]Cell, 0, len(cells))
	for _, c := range cells {
		out = append(out, *c)
	}
	sortCells(out)
	return out
}

// kinds are the four counts in the order input, output, cache read, cache
// creation.
func (t Tokens) kinds() [4]int64 {
	return [4]int64{t.Input, t.Output, t.CacheRead, t.CacheCreation}
}

func cmpKey(a, b slotKey) int {
	return cmp.Or(cmp.Compare(a.slot, b.slot), cmp.Compare(a.model, b.model))
}

func sortCells(cs []Cell) {
	slices.SortFunc(cs, func(a, b Cell) int { return cmpKey(slotKey{a.Slot, a.Model}, slotKey{b.Slot, b.Model}) })
}

// weights returns the first of ws whose sum is positive, else equal
// weights.
func weights(n int, ws ...[]float64) ([]float64, float64) {
	for _, w := range ws {
		var sum float64
		for _, v := range w {
			if v > 0 {
				sum += v
			}
		}
		if sum > 0 {
			return w, sum
		}
	}
	eq := make([]float64, n)
	for i := range eq {
		eq[i] = 1
	}
	return eq, float64(n)
}

// spread divides total in proportion to the first usable weights; the
// last share is what the others leave, so the shares add up to total.
func spread(total float64, ws ...[]float64) []float64 {
	n := len(ws[0])
	out := make([]float64, n)
	if n == 0 {
		return out
	}
	w, sum := weights(n, ws...)
	var given float64
	for i := 0; i < n-1; i++ {
		out[i] = total * max(w[i], 0) / sum
		given += out[i]
	}
	out[n-1] = total - given
	return out
}

// spreadInt divides total in whole units in proportion to the first
// usable weights (largest remainder): the shares add up to total exactly.
func spreadInt(total int64, ws ...[]float64) []int64 {
	n := len(ws[0])
	out := make([]int64, n)
	if n == 0 || total == 0 {
		return out
	}
	w, sum := weights(n, ws...)
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, n)
	var given int64
	for i := range out {
		exact := float64(total) * max(w[i], 0) / sum
		out[i] = int64(math.Floor(exact))
		given += out[i]
		rems[i] = rem{i, exact - float64(out[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < total; k = (k + 1) % n {
		out[rems[k].i]++
		given++
	}
	for k := n - 1; given > total; k = (k + n - 1) % n { // float rounding the other way
		if out[k] > 0 {
			out[k]--
			given--
		}
	}
	return out
}

// MaxBuckets bounds the buckets of one Report.
const MaxBuckets = 2000

// Query asks Report for the usage between Since and Until (zero: now) in
// buckets of an hour or a day of Loc (default time.Local).
type Query struct {
	Since, Until time.Time
	Bucket       string
	Loc          *time.Location
	// Project names a session's project (its cwd); nil: none.
	Project func(id string) string
}

// ErrQuery is wrapped by the errors of a Query that cannot be answered.
var ErrQuery = errors.New("bad usage query")

// Report sums the sessions' usage by project, model and bucket. The series
// are recomputed from the transcripts (read again from the start after a
// restart), so nothing is counted twice.
func (m *Manager) Report(q Query) (*protocol.UsageReport, error) {
	if q.Loc == nil {
		q.Loc = time.Local
	}
	if q.Until.IsZero() {
		q.Until = time.Now()
	}
	starts, err := bucketStarts(q.Since, q.Until, q.Bucket, q.Loc)
	if err != nil {
		return nil, err
	}
	type sess struct {
		id     string
		source string
		cells  []Cell
	}
	m.readMu.Lock()
	list := make([]sess, 0, len(m.files))
	for id, sf := range m.files {
		if cells := m.cellsOf(sf); len(cells) > 0 {
			source := protocol.CostEstimate
			if sf.main.t.cost != nil {
				source = protocol.CostClaude
			}
			list = append(list, sess{id, source, cells}) // never changed once built: read outside the lock
		}
	}
	m.readMu.Unlock()
	slices.SortFunc(list, func(a, b sess) int { return cmp.Compare(a.id, b.id) })

	rep := &protocol.UsageReport{Since: starts[0], Until: q.Until, Bucket: q.Bucket, TZ: q.Loc.String(),
		Series: make([]protocol.UsageBucket, len(starts))}
	for i, s := range starts {
		rep.Series[i].Start = s
	}
	type sums struct {
		protocol.UsageTotal
		claude, estimate bool
	}
	projects := map[string]*sums{}
	models := map[string]*protocol.ModelUsage{}
	total := &sums{}
	from, to := starts[0].Unix(), q.Until.Unix()
	for _, s := range list {
		lo := sort.Search(len(s.cells), func(i int) bool { return s.cells[i].Slot*slotSecs >= from })
		used := false
		var p *sums
		b := 0 // the cells are in time order: the bucket only moves on
		for _, c := range s.cells[lo:] {
			at := c.Slot * slotSecs
			if at >= to {
				break
			}
			for b+1 < len(starts) && starts[b+1].Unix() <= at {
				b++
			}
			if !used {
				used = true
				name := ""
				if q.Project != nil {
					name = q.Project(s.id)
				}
				if p = projects[name]; p == nil {
					p = &sums{UsageTotal: protocol.UsageTotal{}}
					projects[name] = p
				}
				for _, x := range []*sums{total, p} {
					x.Sessions++
					x.claude = x.claude || s.source == protocol.CostClaude
					x.estimate = x.estimate || s.source != protocol.CostClaude
				}
			}
			addModel(&rep.Series[b].ModelUsage, c)
			addModel(&total.ModelUsage, c)
			addModel(&p.ModelUsage, c)
			mu := models[c.Model]
			if mu == nil {
				mu = &protocol.ModelUsage{}
				models[c.Model] = mu
			}
			addModel(mu, c)
		}
	}
	source := func(x *sums) string {
		switch {
		case x.claude && x.estimate:
			return protocol.CostMixed
		case x.claude:
			return protocol.CostClaude
		case x.estimate:
			return protocol.CostEstimate
		}
		return ""
	}
	rep.Total = total.UsageTotal
	rep.Total.CostSource = source(total)
	rep.Projects = make([]protocol.ProjectUsage, 0, len(projects))
	for cwd, p := range projects {
		p.CostSource = source(p)
		rep.Projects = append(rep.Projects, protocol.ProjectUsage{Cwd: cwd, UsageTotal: p.UsageTotal})
	}
	slices.SortFunc(rep.Projects, func(a, b protocol.ProjectUsage) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(a.Cwd, b.Cwd))
	})
	rep.Models = make([]protocol.ModelTotal, 0, len(models))
	for name, mu := range models {
		rep.Models = append(rep.Models, protocol.ModelTotal{Model: name, ModelUsage: *mu})
	}
	slices.SortFunc(rep.Models, func(a, b protocol.ModelTotal) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(a.Model, b.Model))
	})
	return rep, nil
}

func addModel(mu *protocol.ModelUsage, c Cell) {
	mu.InputTokens += c.Input
	mu.OutputTokens += c.Output
	mu.CacheReadInputTokens += c.CacheRead
	mu.CacheCreationInputTokens += c.CacheCreation
	mu.CostUSD += c.USD
}

// bucketStarts are the starts of the buckets from since (rounded down to
// its bucket) to until: hours or days of loc.
func bucketStarts(since, until time.Time, bucket string, loc *time.Location) ([]time.Time, error) {
	if !since.Before(until) {
		return nil, fmt.Errorf("%w: since (%s) must be before until (%s)", ErrQuery, since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	var start time.Time
	var next func(time.Time) time.Time
	switch bucket {
	case protocol.BucketHour:
		l := since.In(loc)
		// Back to the hour in loc's clock (also for a zone half an hour off UTC).
		start = l.Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond()))
		next = func(t time.Time) time.Time { return t.Add(time.Hour) }
	case protocol.BucketDay:
		l := since.In(loc)
		start = time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc) }
	default:
		return nil, fmt.Errorf("%w: bucket must be %q or %q", ErrQuery, protocol.BucketHour, protocol.BucketDay)
	}
	var out []time.Time
	for t := start; t.Before(until); t = next(t) {
		if len(out) == MaxBuckets {
			return nil, fmt.Errorf("%w: more than %d buckets: ask for a shorter range or bucket=day", ErrQuery, MaxBuckets)
		}
		out = append(out, t)
	}
	return out, nil
}
