package wsd

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/hub"
	"github.com/mpm-dev/mpm/internal/notify"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/usage"
)

// sessionFrameInterval is the least time between two "session" frames of
// one session: changes within it are coalesced into the next frame.
const sessionFrameInterval = 250 * time.Millisecond

// caster sends "session" frames when a session's live view changes
// (coalesced per session), and when a working session turns stale or
// fresh again. The ingest loop only marks sessions; the frames are built
// and published from the caster's own goroutine, so ingest never waits.
type caster struct {
	tracker    *sessions.Tracker
	hub        *hub.Hub
	notifier   *notify.Notifier
	staleAfter time.Duration
	log        hclog.Logger
	// usage returns a session's usage (nil: none known) and its
	// subagents' by agent id; set before run.
	usage func(id string) (*protocol.Usage, map[string]*protocol.Usage)
	// budgets marks the sessions over budget; set before run (nil: none).
	budgets *budgets
	// mu guards pending and order.
	mu      sync.Mutex
	pending map[string]bool
	order   []string
	// wake is signalled (without blocking) when something is pending.
	wake chan struct{}
}

func newCaster(tr *sessions.Tracker, h *hub.Hub, n *notify.Notifier, staleAfter time.Duration, log hclog.Logger) *caster {
	return &caster{
		tracker: tr, hub: h, notifier: n, staleAfter: staleAfter, log: log,
		pending: map[string]bool{}, wake: make(chan struct{}, 1),
	}
}

// changed is called by the ingest loop with what a commit changed. It
// never blocks.
func (c *caster) changed(ch sessions.Changes) {
	now := time.Now()
	for k := range ch.Attention {
		c.notifier.Notify(ch.Attention[k].Wire(now, c.staleAfter))
	}
	if len(ch.Sessions) == 0 {
		return
	}
	c.mu.Lock()
	for _, id := range ch.Sessions {
		if !c.pending[id] {
			c.pending[id] = true
			c.order = append(c.order, id)
		}
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// usageChanged is called by the usage reader with the sessions whose
// usage changed: their frames go out like any other change.
func (c *caster) usageChanged(ids []string) {
	reframe, crossed := c.budgets.observe(ids, func(id string) *protocol.Usage {
		u, _ := c.usage(id)
		return u
	}, c.tracker.Get)
	c.changed(sessions.Changes{Sessions: append(ids[:len(ids):len(ids)], reframe...)})
	now := time.Now()
	for _, id := range crossed {
		if in, ok := c.tracker.Get(id); ok {
			c.notifier.NotifyOverBudget(c.wire(&in, now))
		}
	}
}

// wire is in's summary on the wire, with its usage.
func (c *caster) wire(in *sessions.Info, now time.Time) protocol.Session {
	s := in.Wire(now, c.staleAfter)
	if c.usage != nil {
		var agents map[string]*protocol.Usage
		if in.Origin != "" {
			// Another machine's session (fleet hub): the usage its edge
			// forwarded; its transcript is never opened here.
			s.Usage, agents = usage.FromSnapshot(in.Usage)
		} else {
			s.Usage, agents = c.usage(in.SessionID)
		}
		for k := range s.Agents {
			s.Agents[k].Usage = agents[s.Agents[k].AgentID]
		}
	}
	if ob := c.budgets.wire(in); ob != nil {
		s.OverBudget = ob
		s.MarkAttention()
	}
	return s
}

// frame encodes the "session" frame of s.
func frame(s protocol.Session) []byte {
	return codec.Encode(protocol.SessionFrame{Type: protocol.TypeSession, Session: s})
}

// frames returns the frames of the current summaries of the sessions
// listed (all: none listed), for a subscription (hub.Config.SessionFrames).
func (c *caster) frames(ids []string) [][]byte {
	now := time.Now()
	var out [][]byte
	if len(ids) == 0 {
		for _, in := range c.tracker.List() {
			out = append(out, frame(c.wire(&in, now)))
		}
		return out
	}
	for _, id := range ids {
		if in, ok := c.tracker.Get(id); ok {
			out = append(out, frame(c.wire(&in, now)))
		}
	}
	return out
}

// staleEvery is how often the caster looks for sessions that turned stale.
func (c *caster) staleEvery() time.Duration {
	return min(max(c.staleAfter/20, time.Second), 30*time.Second)
}

// run publishes frames until ctx ends.
func (c *caster) run(ctx context.Context) error {
	sent := map[string]time.Time{} // when each session's last frame went out
	stale := map[string]bool{}     // sessions last published as stale
	var timer *time.Timer
	var timerC <-chan time.Time
	sweep := time.NewTicker(c.staleEvery())
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		case <-timerC:
			timerC = nil
		case <-sweep.C:
			c.sweepStale(stale, sent)
			if ids := c.budgets.newDay(); len(ids) > 0 {
				c.changed(sessions.Changes{Sessions: ids})
			}
			continue
		}
		now := time.Now()
		var next time.Duration
		c.mu.Lock()
		ids := c.order
		c.order = nil
		var later []string
		var due []string
		for _, id := range ids {
			if wait := sessionFrameInterval - now.Sub(sent[id]); wait > 0 {
				later = append(later, id)
				if next == 0 || wait < next {
					next = wait
				}
				continue
			}
			delete(c.pending, id)
			due = append(due, id)
		}
		c.order = append(later, c.order...)
		c.mu.Unlock()
		for _, id := range due {
			in, ok := c.tracker.Get(id)
			if !ok {
				continue
			}
			s := c.wire(&in, now)
			stale[id] = s.Stale
			c.hub.PublishSession(id, frame(s))
			sent[id] = now
		}
		for id, t := range sent { // forget what can no longer hold a frame back
			if now.Sub(t) >= sessionFrameInterval {
				delete(sent, id)
			}
		}
		if next > 0 && timerC == nil {
			if timer == nil {
				timer = time.NewTimer(next)
			} else {
				timer.Reset(next)
			}
			timerC = timer.C
		}
	}
}

// sweepStale publishes a frame for every session whose stale flag changed
// since it was last published.
func (c *caster) sweepStale(stale map[string]bool, sent map[string]time.Time) {
	now := time.Now()
	for _, in := range c.tracker.List() {
		st := in.Stale(now, c.staleAfter)
		if st == stale[in.SessionID] {
			continue
		}
		if st {
			stale[in.SessionID] = true
		} else {
			delete(stale, in.SessionID)
		}
		c.hub.PublishSession(in.SessionID, frame(c.wire(&in, now)))
		sent[in.SessionID] = now
	}
}
