package fleet

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/approvals"
	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/usage"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// Usage and approvals across the fleet (docs/protocol.md, "Fleet: usage
// and permission requests").
//
// An edge reads its own transcripts and journals, as events of the
// session, what the hub needs beyond the hook events: the session's usage
// when it changed (MpmUsage, a usage.Snapshot) and each permission request
// that turns pending (MpmApprovalRequest); the request's end is the
// MpmApprovalDecision the edge journals anyway. Being journal events, they
// go out through the outbox like any other: in order, each once (a
// snapshot replaces the previous one, so neither a resumed publish nor a
// redelivery can add anything twice), waiting in the journal while NATS is
// down. The hub folds them like any event (sessions.Info.Usage), so its
// journal keeps them across restarts, and never opens a file a remote
// event names.

// forwarder journals an edge's MpmUsage and MpmApprovalRequest events.
type forwarder struct {
	s     *wsd.Server
	log   hclog.Logger
	every time.Duration
	// mu guards dirty and reqs.
	mu sync.Mutex
	// dirty are the sessions whose usage changed since the last round.
	dirty map[string]bool
	// reqs are the requests that turned pending, not journaled yet.
	reqs []protocol.Approval
	// wakeUsage and wakeReqs are signalled (without blocking) when dirty
	// or reqs gain something.
	wakeUsage, wakeReqs chan struct{}
	// snapshots counts the usage snapshots by result: journaled, or
	// unchanged (equal to the one journaled last: not journaled again).
	snapshots *prometheus.CounterVec
}

func newForwarder(s *wsd.Server, every time.Duration, log hclog.Logger) *forwarder {
	return &forwarder{s: s, log: log, every: every, dirty: map[string]bool{},
		wakeUsage: make(chan struct{}, 1), wakeReqs: make(chan struct{}, 1),
		snapshots: snapshotMetric(s.Registry())}
}

// snapshotMetric registers mpm_fleet_usage_snapshots_total on reg once.
func snapshotMetric(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_fleet_usage_snapshots_total",
		Help: "Usage snapshots of changed sessions an edge looked at for the hub, by result: journaled (and so published), or unchanged (equal to the one journaled last, e.g. after a restart: not journaled again)."},
		[]string{"result"})
	c.WithLabelValues("journaled")
	c.WithLabelValues("unchanged")
	if reg != nil {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if have, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					return have
				}
			}
		}
	}
	return c
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// run journals until ctx ends. It watches first, then takes every known
// session and pending request, so that nothing that changed before it
// started is missed (what is already journaled is not journaled again).
func (f *forwarder) run(ctx context.Context) {
	f.s.WatchUsage(func(ids []string) {
		f.mu.Lock()
		for _, id := range ids {
			f.dirty[id] = true
		}
		f.mu.Unlock()
		signal(f.wakeUsage)
	})
	f.s.WatchApprovals(func(a protocol.Approval) {
		f.mu.Lock()
		f.reqs = append(f.reqs, a)
		f.mu.Unlock()
		signal(f.wakeReqs)
	})
	f.mu.Lock()
	for _, in := range f.s.SessionList() {
		if in.Origin == "" {
			f.dirty[in.SessionID] = true
		}
	}
	for _, a := range f.s.Approvals().Pending() {
		if !a.ReadOnly {
			f.reqs = append(f.reqs, a)
		}
	}
	f.mu.Unlock()
	signal(f.wakeUsage)
	signal(f.wakeReqs)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f.usageLoop(ctx) }()
	go func() { defer wg.Done(); f.requestLoop(ctx) }()
	wg.Wait()
}

// usageLoop journals a round of snapshots at most every f.every.
func (f *forwarder) usageLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wakeUsage:
		}
		f.mu.Lock()
		ids := make([]string, 0, len(f.dirty))
		for id := range f.dirty {
			ids = append(ids, id)
		}
		clear(f.dirty)
		f.mu.Unlock()
		slices.Sort(ids)
		var failed []string
		for _, id := range ids {
			if !f.s.UsageSettled(id) {
				// Partial figures (a long transcript read in turns, e.g.
				// after a restart): wait for the whole.
				failed = append(failed, id)
				continue
			}
			if err := f.snapshot(ctx, id); err != nil {
				if ctx.Err() != nil {
					return
				}
				failed = append(failed, id)
				f.log.Warn("could not journal a usage snapshot for the fleet hub; retried in the next round", "session_id", id, "error", err)
			}
		}
		if len(failed) > 0 {
			f.mu.Lock()
			for _, id := range failed {
				f.dirty[id] = true
			}
			f.mu.Unlock()
			signal(f.wakeUsage)
		}
		if sleep(ctx, f.every, nil) != nil {
			return
		}
	}
}

// snapshot journals session id's usage when it differs from the snapshot
// journaled last (sessions.Info.Usage, which the journal keeps).
func (f *forwarder) snapshot(ctx context.Context, id string) error {
	u, agents := f.s.Usage(id)
	if u == nil {
		return nil // nothing read (yet): "unknown" is not news
	}
	in, ok := f.s.Session(id)
	if !ok || in.Origin != "" {
		return nil
	}
	b := usage.Snapshot(id, u, agents)
	if bytes.Equal(b, in.Usage) {
		f.snapshots.WithLabelValues("unchanged").Inc()
		return nil
	}
	if err := f.ingest(ctx, b, ""); err != nil {
		return err
	}
	f.snapshots.WithLabelValues("journaled").Inc()
	return nil
}

// requestLoop journals each request that turned pending.
func (f *forwarder) requestLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wakeReqs:
		}
		f.mu.Lock()
		reqs := f.reqs
		f.reqs = nil
		f.mu.Unlock()
		for _, a := range reqs {
			// The key makes the request's event once-only, also when a
			// restarted loop sees it pending again.
			if err := f.ingest(ctx, approvals.RequestEvent(a), "mpm-approval-request-"+a.ID); err != nil && ctx.Err() == nil {
				f.log.Warn("could not journal a pending permission request for the fleet hub: the hub will not list it", "id", a.ID, "session_id", a.SessionID, "error", err)
			}
		}
	}
}

// ingest journals payload as an event of its session.
func (f *forwarder) ingest(ctx context.Context, payload []byte, key string) error {
	ev, err := event.Parse(payload, 0)
	if err != nil {
		return err
	}
	ev.Key = key
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _, err = f.s.Ingest(ictx, ev)
	return err
}

// Hub side.

// recoverTail is how many of a session's last events a starting hub looks
// through for the requests still pending.
const recoverTail = 512

// recoverApprovals lists again, read-only, the other machines' requests
// still pending when the hub (re)starts: from the last events of each
// remote session active within approvals.MaxWait (a request waits at most
// that long), in order, as they were consumed.
func recoverApprovals(s *wsd.Server, log hclog.Logger) {
	cutoff := time.Now().Add(-approvals.MaxWait)
	st := s.Store()
	last := st.LastSeq()
	reg := s.Approvals()
	for _, in := range s.SessionList() {
		if in.Origin == "" || in.LastSeen.Before(cutoff) || (in.Events[protocol.EventApprovalRequest] == 0) {
			continue
		}
		evs, err := st.Tail(0, last, store.Filter{Sessions: []string{in.SessionID}}, recoverTail)
		if err != nil {
			log.Warn("could not read a session's last events to list its pending permission requests", "session_id", in.SessionID, "error", err)
			continue
		}
		for _, ev := range evs {
			reg.ObserveRemote(ev.Origin, ev.SessionID, ev.Name, ev.Payload)
		}
	}
}

// observeRemote applies a remote event that the hub stored to the
// approvals registry (MpmApprovalRequest, MpmApprovalDecision).
func observeRemote(s *wsd.Server, ev *event.Event) {
	switch ev.Name {
	case protocol.EventApprovalRequest, protocol.EventApprovalDecision:
		s.Approvals().ObserveRemote(ev.Origin, ev.SessionID, ev.Name, ev.Payload)
	}
}

// originUsage exports, on a hub, the usage of every other origin's
// sessions as their edges forwarded it, by origin and model: the same sums
// as each edge's mpm_tokens_total and mpm_cost_usd_total.
type originUsage struct{ s *wsd.Server }

var (
	descOriginTokens = prometheus.NewDesc("mpm_fleet_tokens_total", "Tokens used by the sessions of each origin, as its edge read them from its transcripts (hub), by model and kind (input, output, cache_read, cache_creation).", []string{"origin", "model", "kind"}, nil)
	descOriginCost   = prometheus.NewDesc("mpm_fleet_cost_usd_total", "Cost in USD of the sessions of each origin, as its edge read it (hub), by model.", []string{"origin", "model"}, nil)
)

func (c originUsage) Describe(ch chan<- *prometheus.Desc) {
	ch <- descOriginTokens
	ch <- descOriginCost
}

func (c originUsage) Collect(ch chan<- prometheus.Metric) {
	type key struct{ origin, model string }
	sums := map[key]*protocol.ModelUsage{}
	for _, in := range c.s.SessionList() {
		if in.Origin == "" {
			continue
		}
		u, _ := usage.FromSnapshot(in.Usage)
		if u == nil {
			continue
		}
		for name, m := range u.Models {
			k := key{in.Origin, name}
			s := sums[k]
			if s == nil {
				s = &protocol.ModelUsage{}
				sums[k] = s
			}
			s.InputTokens += m.InputTokens
			s.OutputTokens += m.OutputTokens
			s.CacheReadInputTokens += m.CacheReadInputTokens
			s.CacheCreationInputTokens += m.CacheCreationInputTokens
			s.CostUSD += m.CostUSD
		}
	}
	for k, s := range sums {
		for _, kv := range []struct {
			kind string
			n    int64
		}{{"input", s.InputTokens}, {"output", s.OutputTokens}, {"cache_read", s.CacheReadInputTokens}, {"cache_creation", s.CacheCreationInputTokens}} {
			ch <- prometheus.MustNewConstMetric(descOriginTokens, prometheus.CounterValue, float64(kv.n), k.origin, k.model, kv.kind)
		}
		ch <- prometheus.MustNewConstMetric(descOriginCost, prometheus.CounterValue, s.CostUSD, k.origin, k.model)
	}
}

// registerOriginUsage registers originUsage on reg once.
func registerOriginUsage(reg prometheus.Registerer, s *wsd.Server) {
	if reg == nil {
		return
	}
	if err := reg.Register(originUsage{s}); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			s.Logger().Warn("could not register the fleet usage metrics", "error", err)
		}
	}
}
